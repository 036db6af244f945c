#include "shared/sqlite.h"

#include <algorithm>
#include <vector>

#include "shared/embedded.h"

namespace ocop::sql {

namespace {
// One sentence for a full disk, whichever statement met it (schemas/messages/catalogue.json has its Vietnamese).
constexpr const char* kDiskFull = "the server's disk is full; everything stays on the device: sync again later";
}  // namespace

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    status_ = o.status_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  if (stmt_) sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, int64_t v) {
  if (stmt_) sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  if (stmt_) sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view v) {
  if (stmt_) sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  if (stmt_) sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Stmt::Step() {
  if (!stmt_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    Code code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? Code::kUnavailable : Code::kInternal;
    if (rc == SQLITE_CONSTRAINT) code = Code::kAlreadyExists;
    // The disk is full: not a bug, nothing written; said as the catalogue says it.
    status_ = rc == SQLITE_FULL ? Status::Full(kDiskFull)
                                : Status(code, std::string("database: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  return false;
}

Status Stmt::Run() {
  if (!stmt_) return status_.ok() ? Status::Internal("statement not prepared") : status_;
  while (Step()) {
  }
  Status s = status_;
  Reset();
  return s;
}

void Stmt::Reset() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  status_ = Status::Ok();
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(n)) : std::string();
}
std::string Stmt::Blob(int col) const {
  const void* b = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return b ? std::string(static_cast<const char*>(b), static_cast<size_t>(n)) : std::string();
}
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::Real(int col) const { return sqlite3_column_double(stmt_, col); }
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Db::~Db() { Close(); }

void Db::Close() {
  cache_.clear();  // finalize cached statements before closing
  if (db_) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Status Db::Open(const std::string& path) {
  Close();
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    Close();
    return Status::Internal("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  if (!s.ok()) return s;
  return Status::Ok();
}

Status Db::Exec(const std::string& sqltext) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sqltext.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc == SQLITE_FULL) return Status::Full(kDiskFull);
    return Status(rc == SQLITE_BUSY ? Code::kUnavailable : Code::kInternal, "database: " + msg);
  }
  return Status::Ok();
}

Stmt Db::Prepare(const std::string& sqltext) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sqltext.c_str(), static_cast<int>(sqltext.size()), &s, nullptr);
  Stmt stmt(this, rc == SQLITE_OK ? s : nullptr);
  if (rc != SQLITE_OK) stmt.status_ = Status::Internal(std::string("database: ") + sqlite3_errmsg(db_) + " in: " + sqltext);
  return stmt;
}

Stmt& Db::Cached(const std::string& sqltext) {
  auto it = cache_.find(sqltext);
  if (it == cache_.end()) it = cache_.emplace(sqltext, std::make_unique<Stmt>(Prepare(sqltext))).first;
  it->second->Reset();
  return *it->second;
}

Status Db::Migrate(const std::string& set) {
  const auto steps = embedded::Numbered("sql/" + set + "/");
  int64_t version = 0;
  {
    // Finished before the steps run: a statement still open keeps a step from dropping a table.
    auto q = Prepare("PRAGMA user_version");
    version = q.Step() ? q.Int(0) : 0;
  }
  for (const auto& [n, file] : steps) {
    if (n <= version) continue;
    Transaction tx(this);
    if (!tx.status().ok()) return tx.status();
    Status s = Exec(file->content);
    if (!s.ok()) return Status::Internal("migration " + file->path + ": " + s.message());
    s = Exec("PRAGMA user_version=" + std::to_string(n));
    if (!s.ok()) return s;
    s = tx.Commit();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Transaction::Transaction(Db* db) : db_(db) { begin_ = db_->Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_ && begin_.ok()) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (!begin_.ok()) return begin_;
  done_ = true;
  return db_->Exec("COMMIT");
}

}  // namespace ocop::sql
