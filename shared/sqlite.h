// A thin RAII layer over SQLite for the client and server stores. Errors are
// returned as Status; statements are prepared once and reset after each use.
// Thread-safety: a Db is used by one thread at a time (SQLite's multi-thread mode).
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>

#include "shared/status.h"

namespace ocop::sql {

class Db;

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds by 1-based index. Return *this to chain.
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& BindNull(int i);
  Stmt& BindBlob(int i, std::string_view bytes);
  Stmt& Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }

  // Steps once: true if a row is available, false when done. Errors go to status().
  bool Step();
  // Runs to completion (for statements without rows).
  Status Run();
  Status status() const { return status_; }
  void Reset();

  std::string Text(int col) const;
  std::string Blob(int col) const;
  int64_t Int(int col) const;
  double Real(int col) const;
  bool IsNull(int col) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens (creating if needed) with WAL journaling, synchronous=FULL (a commit
  // survives a power cut once it returns), foreign keys on and a busy timeout.
  Status Open(const std::string& path);
  void Close();
  Status Exec(const std::string& sql);
  // Prepares; on failure the returned Stmt's status() carries the error.
  Stmt Prepare(const std::string& sql);
  // A statement prepared once per connection and kept: for hot paths. It comes
  // back reset, with no bindings. Valid until the Db is closed.
  Stmt& Cached(const std::string& sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }
  std::string Error() const { return db_ ? sqlite3_errmsg(db_) : "database not open"; }

  // Applies the embedded migrations "sql/<set>/NNN_*.sql" whose number is above
  // PRAGMA user_version, each in its own transaction.
  Status Migrate(const std::string& set);

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// Resets a (cached) statement when the scope ends, so that no read stays open
// on the connection after its rows were consumed.
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt& s) : s_(s) {}
  ~ResetOnExit() { s_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Stmt& s_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() ran.
class Transaction {
 public:
  explicit Transaction(Db* db);
  ~Transaction();
  Status status() const { return begin_; }
  Status Commit();

 private:
  Db* db_;
  Status begin_;
  bool done_ = false;
};

}  // namespace ocop::sql
