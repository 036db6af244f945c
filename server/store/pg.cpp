#include "server/store/pg.h"

#include <cstdlib>

namespace ocop::pg {

std::string Result::Text(int row, int col) const {
  if (!r_ || PQgetisnull(r_.get(), row, col)) return "";
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t Result::Int(int row, int col) const {
  if (!r_ || PQgetisnull(r_.get(), row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

int64_t Result::Affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Conn::~Conn() {
  if (conn_) PQfinish(conn_);
}

Status Conn::Connect(const std::string& conninfo, std::unique_ptr<Conn>* out) {
  std::unique_ptr<Conn> c(new Conn);
  c->conn_ = PQconnectdb(conninfo.c_str());
  if (!c->conn_ || PQstatus(c->conn_) != CONNECTION_OK) {
    std::string e = c->conn_ ? PQerrorMessage(c->conn_) : "out of memory";
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return Status::Unavailable("cannot connect to PostgreSQL: " + e);
  }
  // UTC, so that now() text is the same whichever replica writes it; a lock
  // wait or a statement that hangs fails instead of holding a request thread.
  // Notices ("relation already exists, skipping") are not for the operator's log.
  PQsetNoticeProcessor(c->conn_, [](void*, const char*) {}, nullptr);
  Status s = c->Script("SET TIME ZONE 'UTC'; SET lock_timeout = '30s'; SET statement_timeout = '120s'");
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::Ok();
}

Status Conn::Check(PGresult* r, const std::string& sql, Result* out) {
  Result res(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    last_state_.clear();
    if (out) *out = res;
    return Status::Ok();
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state ? state : "";
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (last_state_ == "23505") return Status(Code::kAlreadyExists, msg);
  // Class 53: disk full (53100), out of memory, too many connections: the
  // database cannot take more now; nothing was written.
  if (last_state_ == "53100") return Status::Full("PostgreSQL: " + msg);
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available,
  // class 08 connection exceptions, 57P01 admin shutdown: the transaction
  // did not happen and may be tried again.
  if (last_state_ == "40001" || last_state_ == "40P01" || last_state_ == "55P03" || last_state_.rfind("08", 0) == 0 ||
      last_state_.rfind("57P", 0) == 0 || Broken())
    return Status::Unavailable("PostgreSQL: " + msg);
  return Status::Internal("PostgreSQL: " + msg + " (in: " + sql.substr(0, 120) + ")");
}

Status Conn::Exec(const std::string& sql, const std::vector<Param>& params, Result* out) {
  if (Broken()) return Status::Unavailable("PostgreSQL connection lost");
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    Result prep;
    Status s = Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), sql, &prep);
    if (!s.ok()) return s;
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Check(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                              nullptr, 0),
               sql, out);
}

Status Conn::ExecOnce(const std::string& sql, const std::vector<Param>& params) {
  if (Broken()) return Status::Unavailable("PostgreSQL connection lost");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                            nullptr, 0),
               sql, nullptr);
}

Status Conn::Script(const std::string& sql) {
  if (Broken()) return Status::Unavailable("PostgreSQL connection lost");
  return Check(PQexec(conn_, sql.c_str()), sql, nullptr);
}

}  // namespace ocop::pg
