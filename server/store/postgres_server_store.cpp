#include "server/store/postgres_server_store.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <chrono>
#include <thread>

#include "server/store/store_rows.h"
#include "shared/embedded.h"

namespace ocop::server {

using pg::P;

namespace {

// Advisory lock keys (any two fixed 64-bit numbers; "OCOP" in ASCII + 1, 2).
constexpr int64_t kWriteLock = 0x4f434f5001;
constexpr int64_t kMigrateLock = 0x4f434f5002;
constexpr int kWriteAttempts = 5;

const char* kNow = "to_char(now(), 'YYYY-MM-DD HH24:MI:SS')";  // sessions run in UTC: as SQLite's datetime('now')

// One row of a result, readable by the row readers in store_rows.h.
struct Row {
  const pg::Result& r;
  int i;
  std::string Text(int col) const { return r.Text(i, col); }
  int64_t Int(int col) const { return r.Int(i, col); }
};

bool Retryable(const pg::Conn& c, const Status& s) {
  if (s.ok()) return false;
  if (c.Broken()) return true;
  const std::string& st = c.last_state();
  return st == "40001" || st == "40P01" || st == "23505" || st.rfind("08", 0) == 0;
}

Status ReadRecords(const pg::Result& res, std::vector<StoredRecord>* out) {
  out->clear();
  out->reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i) {
    StoredRecord r;
    ReadRecordRow(Row{res, i}, &r);
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

Status ReadConflicts(const pg::Result& res, std::vector<ConflictRow>* out) {
  out->clear();
  for (int i = 0; i < res.rows(); ++i) {
    ConflictRow c;
    ReadConflictRow(Row{res, i}, &c);
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

Status SelectRecord(pg::Conn* c, const std::string& id, StoredRecord* out, bool* found) {
  pg::Result res;
  Status s = c->Exec(std::string("SELECT ") + kRecordColumns + " FROM records WHERE id = $1", {P(id)}, &res);
  if (!s.ok()) return s;
  *found = res.rows() > 0;
  if (*found) ReadRecordRow(Row{res, 0}, out);
  return Status::Ok();
}

Status SelectOpenConflicts(pg::Conn* c, const std::string& record_id, std::vector<ConflictRow>* out) {
  pg::Result res;
  Status s = c->Exec(std::string("SELECT ") + kConflictColumns +
                         " FROM conflicts WHERE record_id = $1 AND resolved_at IS NULL ORDER BY created_at, id",
                     {P(record_id)}, &res);
  if (!s.ok()) return s;
  return ReadConflicts(res, out);
}

Status ReadAudit(pg::Conn* c, const std::string& record_id, std::vector<AuditRow>* out) {
  pg::Result res;
  Status s = c->Exec("SELECT record_id, change_id, fields, author, device, hlc, at, kind FROM audit "
                     "WHERE record_id = $1 ORDER BY id",
                     {P(record_id)}, &res);
  if (!s.ok()) return s;
  out->clear();
  for (int i = 0; i < res.rows(); ++i) {
    AuditRow base{res.Text(i, 0), res.Text(i, 1), "", "", "", res.Text(i, 3), res.Text(i, 4), res.Text(i, 5),
                  res.Text(i, 6), res.Text(i, 7)};
    s = AppendAuditRows(res.Text(i, 2), base, out);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Rows of one table waiting to be inserted together.
struct PendingRows {
  const char* insert;  // "INSERT INTO t(a, b)"
  int columns;
  const char* on_conflict;  // appended after VALUES (may be "")
  std::vector<pg::Param> values;
  int rows() const { return static_cast<int>(values.size()) / columns; }
};

// Rows held before they are written: enough to take most round trips away,
// few enough that a big change set does not hold megabytes of copies (the
// protocol would allow 65,535 parameters a statement).
constexpr int kRowsPerStatement = 200;

// Multi-row INSERT of the pending rows.
Status FlushRows(pg::Conn* c, PendingRows* p) {
  for (int first = 0; first < p->rows(); first += kRowsPerStatement) {
    int n = std::min(kRowsPerStatement, p->rows() - first);
    std::string sql = std::string(p->insert) + " VALUES ";
    int param = 1;
    for (int r = 0; r < n; ++r) {
      sql += r ? ",(" : "(";
      for (int col = 0; col < p->columns; ++col) sql += (col ? ",$" : "$") + std::to_string(param++);
      sql += ")";
    }
    sql += p->on_conflict;
    auto begin = p->values.begin() + static_cast<std::ptrdiff_t>(first) * p->columns;
    std::vector<pg::Param> chunk(begin, begin + static_cast<std::ptrdiff_t>(n) * p->columns);
    Status s = c->ExecOnce(sql, chunk);
    if (!s.ok()) return s;
  }
  p->values.clear();
  return Status::Ok();
}

// The write transaction. Every statement to PostgreSQL is a round trip, so
// the rows a change set writes (records, audit entries, change outcomes) are
// held and inserted together, many rows a statement, before anything reads
// those tables and at commit (Flush). Reads therefore always see this
// transaction's own writes, as the interface promises.
class PostgresWriteTxn final : public WriteTxn {
 public:
  explicit PostgresWriteTxn(pg::Conn* c) : c_(c) {}

  // Writes every held row; RunWrite calls it before COMMIT.
  Status Flush() {
    Status s = FlushRecords();
    if (s.ok()) s = FlushRows(c_, &audit_);
    if (s.ok()) s = FlushRows(c_, &changes_);
    if (s.ok()) pending_changes_.clear();
    return s;
  }

  Status FindChangeSet(const std::string& id, std::string* response, bool* found) override {
    pg::Result res;
    Status s = c_->Exec("SELECT response FROM changesets WHERE id = $1", {P(id)}, &res);
    if (!s.ok()) return s;
    *found = res.rows() > 0;
    if (*found) *response = res.Text(0, 0);
    return Status::Ok();
  }
  Status SaveChangeSet(const std::string& id, const std::string& user, const std::string& device,
                       const std::string& response) override {
    return c_->Exec(std::string("INSERT INTO changesets(id, \"user\", device, response, received_at) VALUES ($1,$2,$3,$4,") +
                        kNow + ")",
                    {P(id), P(user), P(device), P(response)});
  }
  Status FindChange(const std::string& change_id, std::string* result, int64_t* version, bool* found) override {
    auto held = pending_changes_.find(change_id);
    if (held != pending_changes_.end()) {
      *found = true;
      *result = held->second.first;
      *version = held->second.second;
      return Status::Ok();
    }
    pg::Result res;
    Status s = c_->Exec("SELECT result, version FROM changes WHERE change_id = $1", {P(change_id)}, &res);
    if (!s.ok()) return s;
    *found = res.rows() > 0;
    if (*found) *result = res.Text(0, 0), *version = res.Int(0, 1);
    return Status::Ok();
  }
  Status SaveChange(const std::string& change_id, const std::string& changeset_id, const std::string& record_id,
                    const std::string& result, int64_t version) override {
    if (!pending_changes_.emplace(change_id, std::make_pair(result, version)).second)
      return Status(Code::kAlreadyExists, "change " + change_id + " saved twice");
    for (auto& v : {P(change_id), P(changeset_id), P(record_id), P(result), P(version)}) changes_.values.push_back(v);
    if (changes_.rows() < kRowsPerStatement) return Status::Ok();
    Status s = FlushRows(c_, &changes_);
    if (s.ok()) pending_changes_.clear();  // written: FindChange reads them from the table now
    return s;
  }
  Status GetRecord(const std::string& id, StoredRecord* out, bool* found) override {
    auto held = records_.find(id);
    if (held != records_.end()) {
      *out = held->second;
      *found = true;
      return Status::Ok();
    }
    return SelectRecord(c_, id, out, found);
  }
  Status ListRecords(const std::string& unit_path, const std::string& form, std::vector<StoredRecord>* out) override {
    Status s = FlushRecords();
    if (!s.ok()) return s;
    pg::Result res;
    s = c_->Exec(std::string("SELECT ") + kRecordColumns +
                     " FROM records WHERE unit_path = $1 AND form = $2 AND deleted = 0 ORDER BY seq",
                 {P(unit_path), P(form)}, &res);
    if (!s.ok()) return s;
    return ReadRecords(res, out);
  }
  Status PutRecord(StoredRecord* r) override {
    if (next_seq_ == 0) {
      pg::Result res;
      Status s = c_->Exec("SELECT COALESCE(MAX(seq), 0) FROM records", {}, &res);
      if (!s.ok()) return s;
      next_seq_ = res.Int(0, 0) + 1;
    }
    StampForWrite(r, next_seq_++);
    records_[r->id] = *r;  // a second write of one record in this transaction replaces the first
    return static_cast<int>(records_.size()) < kRowsPerStatement ? Status::Ok() : FlushRecords();
  }
  Status RecordPlaces(std::vector<std::pair<std::string, std::string>>* out) override {
    Status s = FlushRecords();
    if (!s.ok()) return s;
    pg::Result res;
    s = c_->Exec("SELECT DISTINCT unit, unit_path FROM records", {}, &res);
    if (!s.ok()) return s;
    out->clear();
    for (int i = 0; i < res.rows(); ++i) out->emplace_back(res.Text(i, 0), res.Text(i, 1));
    return Status::Ok();
  }
  Status RecordIdsAt(const std::string& unit, const std::string& unit_path, std::vector<std::string>* out) override {
    Status s = FlushRecords();
    if (!s.ok()) return s;
    pg::Result res;
    s = c_->Exec("SELECT id FROM records WHERE unit = $1 AND unit_path = $2 ORDER BY seq", {P(unit), P(unit_path)}, &res);
    if (!s.ok()) return s;
    out->clear();
    for (int i = 0; i < res.rows(); ++i) out->push_back(res.Text(i, 0));
    return Status::Ok();
  }
  Status AddAudit(const AuditChange& a) override {
    for (auto& v : {P(a.record_id), P(a.change_id), P(EncodeAuditFields(a.fields)), P(a.author), P(a.device), P(a.hlc),
                    P(a.at), P(a.kind)})
      audit_.values.push_back(v);
    return audit_.rows() < kRowsPerStatement ? Status::Ok() : FlushRows(c_, &audit_);
  }
  Status LastAuthor(const std::string& record_id, const std::string& field, AuditRow* out, bool* found) override {
    Status s = FlushRows(c_, &audit_);  // in order: ids follow insertion
    if (!s.ok()) return s;
    std::vector<AuditRow> rows;
    s = ReadAudit(c_, record_id, &rows);
    if (!s.ok()) return s;
    *found = FindLastAuthor(rows, field, out);
    return Status::Ok();
  }
  Status AddConflict(const ConflictRow& c) override {
    return c_->Exec(
        "INSERT INTO conflicts(id, record_id, field, base_value, current_value, incoming_value, current_author, "
        "current_device, current_change_id, incoming_author, incoming_device, incoming_change_id, incoming_hlc, "
        "created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        {P(c.id), P(c.record_id), P(c.field), P(c.base_value), P(c.current_value), P(c.incoming_value),
         P(c.current_author), P(c.current_device), P(c.current_change_id), P(c.incoming_author), P(c.incoming_device),
         P(c.incoming_change_id), P(c.incoming_hlc), P(c.created_at)});
  }
  Status OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) override {
    return SelectOpenConflicts(c_, record_id, out);
  }
  Status ResolveConflict(const std::string& id, const std::string& by, const std::string& at,
                         const std::string& resolution) override {
    return c_->Exec("UPDATE conflicts SET resolved_at = $1, resolved_by = $2, resolution = $3 WHERE id = $4",
                    {P(at), P(by), P(resolution), P(id)});
  }
  Status ReserveReceipts(const std::string& scope, int year, int count, int64_t floor, int64_t* first,
                         int64_t* last) override {
    // One statement: the counter's row lock alone keeps blocks apart, even
    // without the write lock around it.
    pg::Result res;
    Status s = c_->Exec(
        "INSERT INTO receipt_counters(commune, year, next) VALUES ($1, $2, GREATEST($4::bigint, 1) + $3::bigint) "
        "ON CONFLICT (commune, year) DO UPDATE SET next = GREATEST(receipt_counters.next, $4::bigint) + $3::bigint "
        "RETURNING next",
        {P(scope), P(year), P(count), P(floor)}, &res);
    if (!s.ok()) return s;
    if (res.rows() != 1) return Status::Internal("receipt counter missing");
    *last = res.Int(0, 0) - 1;
    *first = *last - count + 1;
    return Status::Ok();
  }
  Status PeekReceiptCounter(const std::string& scope, int year, int64_t* next) override {
    pg::Result res;
    Status s = c_->Exec("SELECT next FROM receipt_counters WHERE commune = $1 AND year = $2", {P(scope), P(year)}, &res);
    if (!s.ok()) return s;
    *next = res.rows() ? res.Int(0, 0) : 0;
    return Status::Ok();
  }

 private:
  Status FlushRecords() {
    PendingRows rows{"INSERT INTO records(id, form, unit, unit_path, fields, deleted, conflict, version, seq, "
                     "updated_hlc, updated_by, created_at, updated_at, updated_device, echo_applied, created_seq, "
                     "created_version, field_versions)",
                     18,
                     " ON CONFLICT (id) DO UPDATE SET unit_path = excluded.unit_path, "
                     "fields = excluded.fields, deleted = excluded.deleted, conflict = excluded.conflict, "
                     "version = excluded.version, seq = excluded.seq, updated_hlc = excluded.updated_hlc, "
                     "updated_by = excluded.updated_by, updated_at = excluded.updated_at, "
                     "updated_device = excluded.updated_device, echo_applied = excluded.echo_applied, "
                     "created_seq = excluded.created_seq, created_version = excluded.created_version, "
                     "field_versions = excluded.field_versions",
                     {}};
    rows.values.reserve(records_.size() * 18);
    for (const auto& [id, r] : records_)
      for (auto& v : {P(r.id), P(r.form), P(r.unit), P(r.unit_path), P(r.fields), P(r.deleted), P(r.conflict),
                      P(r.version), P(r.seq), P(r.updated_hlc), P(r.updated_by), P(r.created_at), P(r.updated_at),
                      P(r.updated_device), P(r.echo_applied), P(r.created_seq), P(r.created_version),
                      P(r.field_versions)})
        rows.values.push_back(v);
    Status s = FlushRows(c_, &rows);
    if (s.ok()) records_.clear();
    return s;
  }

  pg::Conn* c_;
  int64_t next_seq_ = 0;
  std::map<std::string, StoredRecord> records_;  // by id: one row each, the latest write
  PendingRows audit_{"INSERT INTO audit(record_id, change_id, fields, author, device, hlc, at, kind)", 8, "", {}};
  PendingRows changes_{"INSERT INTO changes(change_id, changeset_id, record_id, result, version)", 5, "", {}};
  std::unordered_map<std::string, std::pair<std::string, int64_t>> pending_changes_;
};

}  // namespace

class PostgresServerStore::Lease {
 public:
  explicit Lease(PostgresServerStore* store) : store_(store) { c_ = store->Acquire(&status_); }
  ~Lease() {
    if (c_) store_->Release(std::move(c_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  pg::Conn* operator->() { return c_.get(); }
  pg::Conn* get() { return c_.get(); }
  const Status& status() const { return status_; }

 private:
  PostgresServerStore* store_;
  std::unique_ptr<pg::Conn> c_;
  Status status_;
};

std::unique_ptr<pg::Conn> PostgresServerStore::Acquire(Status* s) {
  std::unique_lock<std::mutex> lock(mu_);
  // Bounded wait: a request that cannot get a connection in 30 s is answered
  // "unavailable" (the device retries later) instead of holding its thread.
  if (!freed_.wait_for(lock, std::chrono::seconds(30), [&] { return !idle_.empty() || open_ < options_.pool_size; })) {
    *s = Status::Unavailable("all " + std::to_string(options_.pool_size) + " database connections are busy");
    return nullptr;
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  std::unique_ptr<pg::Conn> c;
  *s = pg::Conn::Connect(options_.conninfo, &c);
  if (!s->ok()) {
    std::lock_guard<std::mutex> relock(mu_);
    --open_;
    freed_.notify_one();
    return nullptr;
  }
  return c;
}

void PostgresServerStore::Release(std::unique_ptr<pg::Conn> c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (c->Broken())
    --open_;  // dropped; the next Acquire connects afresh (the database may have restarted)
  else
    idle_.push_back(std::move(c));
  freed_.notify_one();
}

int64_t PostgresServerStore::write_retries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retries_;
}

Status PostgresServerStore::Open(const PostgresOptions& options, std::unique_ptr<PostgresServerStore>* out) {
  if (options.conninfo.empty()) return Status::Invalid("store.postgresql is empty: give a PostgreSQL connection string");
  if (options.pool_size < 1 || options.pool_size > 256)
    return Status::Invalid("store.pool_size must be between 1 and 256");
  std::unique_ptr<PostgresServerStore> store(new PostgresServerStore);
  store->options_ = options;
  Lease c(store.get());
  if (!c.status().ok()) return c.status();
  // Migrations: numbered files under sql/postgresql/, each in its own
  // transaction, recorded in ocop_schema; a session lock makes replicas that
  // start together take turns.
  Status s = c->Exec("SELECT pg_advisory_lock($1)", {P(kMigrateLock)});
  if (!s.ok()) return s;
  s = c->Script("CREATE TABLE IF NOT EXISTS ocop_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  pg::Result res;
  if (s.ok()) s = c->Exec("SELECT COALESCE(MAX(version), 0) FROM ocop_schema", {}, &res);
  if (s.ok()) {
    int64_t version = res.Int(0, 0);
    for (const auto& [n, file] : embedded::Numbered("sql/postgresql/")) {
      if (n <= version) continue;
      pg::Txn tx(c.get());
      s = tx.status();
      if (s.ok()) s = c->Script(file->content);
      if (!s.ok()) {
        s = Status::Internal("migration " + file->path + ": " + s.message());
        break;
      }
      s = c->Exec("INSERT INTO ocop_schema(version) VALUES ($1)", {P(n)});
      if (s.ok()) s = tx.Commit();
      if (!s.ok()) break;
    }
  }
  Status unlock = c->Exec("SELECT pg_advisory_unlock($1)", {P(kMigrateLock)});
  if (!s.ok()) return s;
  if (!unlock.ok()) return unlock;
  *out = std::move(store);
  return Status::Ok();
}

Status PostgresServerStore::CreateUser(const UserRow& u) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  Status s = c->Exec(std::string("INSERT INTO users(name, role, unit, password_hash, disabled, created_at) VALUES ($1,$2,$3,$4,$5,") +
                         kNow + ")",
                     {P(u.name), P(u.role), P(u.unit), P(u.password_hash), P(u.disabled)});
  if (s.code() == Code::kAlreadyExists) return Status(Code::kAlreadyExists, "user '" + u.name + "' already exists");
  return s;
}

Status PostgresServerStore::GetUser(const std::string& name, UserRow* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT name, role, unit, password_hash, disabled FROM users WHERE name = $1", {P(name)}, &res);
  if (!s.ok()) return s;
  if (res.rows() == 0) return Status::NotFound("no user '" + name + "'");
  *out = {res.Text(0, 0), res.Text(0, 1), res.Text(0, 2), res.Text(0, 3), res.Int(0, 4) != 0};
  return Status::Ok();
}

Status PostgresServerStore::ListUsers(std::vector<UserRow>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT name, role, unit, password_hash, disabled FROM users ORDER BY name", {}, &res);
  if (!s.ok()) return s;
  out->clear();
  for (int i = 0; i < res.rows(); ++i)
    out->push_back({res.Text(i, 0), res.Text(i, 1), res.Text(i, 2), res.Text(i, 3), res.Int(i, 4) != 0});
  return Status::Ok();
}

Status PostgresServerStore::UpdateUser(const UserRow& u) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("UPDATE users SET role = $1, unit = $2, password_hash = $3, disabled = $4 WHERE name = $5",
                     {P(u.role), P(u.unit), P(u.password_hash), P(u.disabled), P(u.name)}, &res);
  if (!s.ok()) return s;
  if (res.Affected() == 0) return Status::NotFound("no user '" + u.name + "'");
  return Status::Ok();
}

Status PostgresServerStore::RevokeUserTokens(const std::string& user) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return c->Exec("UPDATE tokens SET revoked = 1 WHERE \"user\" = $1 AND revoked = 0", {P(user)});
}

Status PostgresServerStore::SaveDeviceKey(const std::string& device, const std::string& user, const std::string& key) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  // Milliseconds: the latest registration of a device names its account, also within one second.
  return c->Exec(std::string("INSERT INTO device_keys(device, \"user\", key, updated_at) VALUES ($1,$2,$3,") +
                     "to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.MS')" +
                     ") ON CONFLICT (device, \"user\") DO UPDATE SET key = excluded.key, updated_at = excluded.updated_at",
                 {P(device), P(user), P(key)});
}

Status PostgresServerStore::PruneSessions(const std::string& user, int keep_tokens, int keep_devices) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  Status s = c->Exec(
      "UPDATE tokens SET revoked = 1 WHERE \"user\" = $1 AND revoked = 0 AND token_hash NOT IN "
      "(SELECT token_hash FROM tokens WHERE \"user\" = $1 AND revoked = 0 ORDER BY expires_ms DESC, created_at DESC "
      "LIMIT $2::int)",
      {P(user), P(std::to_string(keep_tokens))});
  if (!s.ok()) return s;
  return c->Exec(
      "DELETE FROM device_keys WHERE \"user\" = $1 AND device NOT IN "
      "(SELECT device FROM device_keys WHERE \"user\" = $1 ORDER BY updated_at DESC, device LIMIT $2::int)",
      {P(user), P(std::to_string(keep_devices))});
}

Status PostgresServerStore::GetDeviceKey(const std::string& device, std::string* user, std::string* key, bool* found) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT key, \"user\" FROM device_keys WHERE device = $1 AND (\"user\" = $2 OR $2 = '') "
                     "ORDER BY updated_at DESC LIMIT 1",
                     {P(device), P(*user)}, &res);
  if (!s.ok()) return s;
  *found = res.rows() > 0;
  if (*found) {
    *key = res.Text(0, 0);
    *user = res.Text(0, 1);
  }
  return Status::Ok();
}

Status PostgresServerStore::ChangeSetAnswers(const std::string& device, int limit, std::vector<std::string>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT response FROM changesets WHERE device = $1 ORDER BY received_at, id LIMIT $2",
                     {P(device), P(limit)}, &res);
  if (!s.ok()) return s;
  out->clear();
  for (int i = 0; i < res.rows(); ++i) out->push_back(res.Text(i, 0));
  return Status::Ok();
}

Status PostgresServerStore::SaveToken(const TokenRow& t) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return c->Exec(std::string("INSERT INTO tokens(token_hash, \"user\", device, expires_ms, revoked, created_at) "
                             "VALUES ($1,$2,$3,$4,0,") + kNow + ")",
                 {P(t.token_hash), P(t.user), P(t.device), P(t.expires_ms)});
}

Status PostgresServerStore::GetToken(const std::string& token_hash, TokenRow* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT token_hash, \"user\", device, expires_ms, revoked FROM tokens WHERE token_hash = $1",
                     {P(token_hash)}, &res);
  if (!s.ok()) return s;
  if (res.rows() == 0) return Status::NotFound("no such token");
  *out = {res.Text(0, 0), res.Text(0, 1), res.Text(0, 2), res.Int(0, 3), res.Int(0, 4) != 0};
  return Status::Ok();
}

Status PostgresServerStore::RevokeToken(const std::string& token_hash) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return c->Exec("UPDATE tokens SET revoked = 1 WHERE token_hash = $1", {P(token_hash)});
}

Status PostgresServerStore::LoadUnits(UnitTree* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT code, name, level, parent, valid_from, valid_to, succeeded_by FROM units", {}, &res);
  if (!s.ok()) return s;
  UnitTree tree;
  for (int i = 0; i < res.rows(); ++i) {
    s = tree.Add({res.Text(i, 0), res.Text(i, 1), res.Text(i, 2), res.Text(i, 3), res.Text(i, 4), res.Text(i, 5),
                  res.Text(i, 6)});
    if (!s.ok()) return s;
  }
  *out = std::move(tree);
  return Status::Ok();
}

Status PostgresServerStore::SaveUnits(const UnitTree& units) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Txn tx(c.get());
  if (!tx.status().ok()) return tx.status();
  for (const auto& [code, u] : units.all()) {
    Status s = c->Exec(
        "INSERT INTO units(code, name, level, parent, valid_from, valid_to, succeeded_by) VALUES ($1,$2,$3,$4,$5,$6,$7) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent, "
        "valid_from = excluded.valid_from, valid_to = excluded.valid_to, succeeded_by = excluded.succeeded_by",
        {P(u.code), P(u.name), P(u.level), P(u.parent), P(u.valid_from), P(u.valid_to), P(u.succeeded_by)});
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status PostgresServerStore::LoadDefinitions(const std::string& kind, std::vector<DefinitionRow>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT name, version::text, body, published_at, published_by FROM definitions WHERE kind = $1 "
                     "ORDER BY name, version", {P(kind)}, &res);
  if (!s.ok()) return s;
  out->clear();
  for (int i = 0; i < res.rows(); ++i)
    out->push_back({kind, res.Text(i, 0), std::stoi(res.Text(i, 1)), res.Text(i, 2), res.Text(i, 3), res.Text(i, 4)});
  return Status::Ok();
}

Status PostgresServerStore::SaveDefinition(const DefinitionRow& row) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("INSERT INTO definitions(kind, name, version, body, published_at, published_by) "
                     "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING RETURNING version",
                     {P(row.kind), P(row.name), P(static_cast<int64_t>(row.version)), P(row.body), P(row.published_at),
                      P(row.published_by)},
                     &res);
  if (!s.ok()) return s;
  if (res.rows() == 0)
    return Status(Code::kAlreadyExists, row.name + " version " + std::to_string(row.version) + " is published already");
  return Status::Ok();
}

Status PostgresServerStore::RunWrite(const std::function<Status(WriteTxn&)>& fn) {
  Status s;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    if (attempt > 0) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++retries_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
    Lease c(this);
    if (!c.status().ok()) return c.status();
    {
      pg::Txn tx(c.get());
      s = tx.status();
      if (s.ok()) s = c->Exec("SELECT pg_advisory_xact_lock($1)", {P(kWriteLock)});
      if (s.ok()) {
        PostgresWriteTxn txn(c.get());
        s = fn(txn);
        if (s.ok()) s = txn.Flush();
      }
      if (s.ok()) s = tx.Commit();
    }
    // Retried only when the database undid the transaction for a reason that
    // may not recur; a refusal of the change set itself is final.
    if (!Retryable(*c.get(), s)) return s;
  }
  return s;
}

Status PostgresServerStore::ReadSince(const std::string& prefix, int64_t since, int limit, const std::string& skip_device,
                                      std::vector<StoredRecord>* out, int64_t* cursor, bool* more) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  // One snapshot for the page and the newest seq, so the cursor never passes
  // a record the page did not see.
  pg::Txn tx(c.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!tx.status().ok()) return tx.status();
  pg::Result res;
  Status s = c->Exec(std::string("SELECT ") + kRecordColumns +
                         " FROM records WHERE seq > $1 AND unit_path >= $2 AND unit_path < $3 "
                         "AND NOT (echo_applied = 1 AND updated_device = $4 AND updated_device != '') "
                         "ORDER BY seq LIMIT $5",
                     {P(since), P(prefix), P(PrefixEnd(prefix)), P(skip_device), P(static_cast<int64_t>(limit) + 1)},
                     &res);
  if (!s.ok()) return s;
  ReadRecords(res, out);
  *more = static_cast<int>(out->size()) > limit;
  if (*more) {
    out->pop_back();
    *cursor = out->back().seq;
    return tx.Commit();
  }
  pg::Result max;
  s = c->Exec("SELECT COALESCE(MAX(seq), 0) FROM records WHERE unit_path >= $1 AND unit_path < $2",
              {P(prefix), P(PrefixEnd(prefix))}, &max);
  if (!s.ok()) return s;
  *cursor = std::max(since, max.Int(0, 0));
  return tx.Commit();
}

Status PostgresServerStore::GetRecord(const std::string& id, StoredRecord* out, bool* found) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return SelectRecord(c.get(), id, out, found);
}

Status PostgresServerStore::Audit(const std::string& record_id, std::vector<AuditRow>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return ReadAudit(c.get(), record_id, out);
}

Status PostgresServerStore::ListConflicts(const std::string& prefix, bool open_only, std::vector<ConflictRow>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  std::string q = std::string("SELECT ") + kConflictColumns +
                  " FROM conflicts c WHERE EXISTS (SELECT 1 FROM records r WHERE r.id = c.record_id AND "
                  "r.unit_path >= $1 AND r.unit_path < $2)";
  if (open_only) q += " AND resolved_at IS NULL";
  q += " ORDER BY created_at, id";
  pg::Result res;
  Status s = c->Exec(q, {P(prefix), P(PrefixEnd(prefix))}, &res);
  if (!s.ok()) return s;
  return ReadConflicts(res, out);
}

Status PostgresServerStore::OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return SelectOpenConflicts(c.get(), record_id, out);
}

Status PostgresServerStore::PutFile(const std::string& sha, const std::string& record_id, int64_t size) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  return c->Exec(std::string("INSERT INTO files(sha256, record_id, size, created_at) VALUES ($1,$2,$3,") + kNow +
                     ") ON CONFLICT (sha256) DO NOTHING",
                 {P(sha), P(record_id), P(size)});
}

Status PostgresServerStore::GetFile(const std::string& sha, std::string* record_id, int64_t* size, bool* found) {
  Lease c(this);
  if (!c.status().ok()) return c.status();
  pg::Result res;
  Status s = c->Exec("SELECT record_id, size FROM files WHERE sha256 = $1", {P(sha)}, &res);
  if (!s.ok()) return s;
  *found = res.rows() > 0;
  if (*found) *record_id = res.Text(0, 0), *size = res.Int(0, 1);
  return Status::Ok();
}

bool PostgresServerStore::Healthy() {
  // Every connection busy is a busy replica, not a broken one: the balancer's
  // check must not wait behind the requests (and take the replica out for
  // being loaded). Otherwise a real round trip to the database.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty() && open_ >= options_.pool_size) return true;
  }
  Lease c(this);
  if (!c.status().ok()) return false;
  pg::Result res;
  return c->Exec("SELECT 1", {}, &res).ok() && res.rows() == 1;
}

}  // namespace ocop::server
