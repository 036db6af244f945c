// A thin layer over libpq for the PostgreSQL engine (postgres_server_store.h).
// Parameters and results travel as text: every value the store keeps is text
// or a 64-bit integer, and text keeps this layer small and the SQL readable.
// Statements are prepared once per connection (named by their SQL) and reused.
// Thread-safety: a Conn is used by one thread at a time (the store's pool).
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "shared/status.h"

namespace ocop::pg {

// One parameter: text, or SQL NULL.
using Param = std::optional<std::string>;
inline Param P(const std::string& s) { return s; }
inline Param P(const char* s) { return std::string(s); }
inline Param P(int64_t v) { return std::to_string(v); }
inline Param P(int v) { return std::to_string(v); }
inline Param P(bool v) { return std::string(v ? "1" : "0"); }

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int columns() const { return r_ ? PQnfields(r_.get()) : 0; }
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // Rows a command changed (UPDATE/INSERT/DELETE).
  int64_t Affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

class Conn {
 public:
  ~Conn();
  // Connects; `conninfo` is libpq's ("host=/run/postgresql dbname=ocop" or a
  // postgresql:// URL). Every session runs in UTC with a bounded lock wait.
  static Status Connect(const std::string& conninfo, std::unique_ptr<Conn>* out);
  // Runs one statement (several, separated by ';', when there are no params
  // and `prepare` is false). Errors: unique violation -> kAlreadyExists;
  // serialization failure, deadlock, lost connection -> kUnavailable (the
  // caller may retry the whole transaction); anything else -> kInternal.
  Status Exec(const std::string& sql, const std::vector<Param>& params = {}, Result* out = nullptr);
  // Runs one statement unprepared (for statements whose text varies, such as
  // multi-row inserts: preparing each would fill the cache).
  Status ExecOnce(const std::string& sql, const std::vector<Param>& params);
  // Runs a script of several statements, unprepared and without parameters.
  Status Script(const std::string& sql);
  bool Broken() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }
  // The SQLSTATE of the last error ("" when none).
  const std::string& last_state() const { return last_state_; }

 private:
  Conn() = default;
  Status Check(PGresult* r, const std::string& sql, Result* out);
  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::string last_state_;
};

// Transaction control on one connection: ROLLBACK on destruction unless
// Commit() ran (and the connection is still there).
class Txn {
 public:
  Txn(Conn* c, const char* begin = "BEGIN") : c_(c) { begin_ = c_->Script(begin); }
  ~Txn() {
    if (!done_ && begin_.ok() && !c_->Broken()) (void)c_->Script("ROLLBACK");
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  const Status& status() const { return begin_; }
  Status Commit() {
    done_ = true;
    return c_->Script("COMMIT");
  }

 private:
  Conn* c_;
  Status begin_;
  bool done_ = false;
};

}  // namespace ocop::pg
