#include "server/store/sqlite_server_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>

#include "server/store/store_rows.h"

namespace ocop::server {

namespace {

void ReadRecord(sql::Stmt& st, StoredRecord* r) { ReadRecordRow(st, r); }
void ReadConflict(sql::Stmt& st, ConflictRow* c) { ReadConflictRow(st, c); }

Status ReadConflicts(sql::Stmt& st, std::vector<ConflictRow>* out) {
  out->clear();
  while (st.Step()) {
    ConflictRow c;
    ReadConflict(st, &c);
    out->push_back(std::move(c));
  }
  return st.status();
}

Status SelectOpenConflicts(sql::Db* db, const std::string& record_id, std::vector<ConflictRow>* out) {
  auto& st = db->Cached(std::string("SELECT ") + kConflictColumns +
                        " FROM conflicts WHERE record_id = ? AND resolved_at IS NULL ORDER BY created_at, id");
  sql::ResetOnExit reset(st);
  st.Bind(1, record_id);
  return ReadConflicts(st, out);
}

Status SelectRecord(sql::Db* db, const std::string& id, StoredRecord* out, bool* found) {
  auto& st = db->Cached(std::string("SELECT ") + kRecordColumns + " FROM records WHERE id = ?");
  sql::ResetOnExit reset(st);
  st.Bind(1, id);
  *found = st.Step();
  if (*found) ReadRecord(st, out);
  return st.status();
}

Status ReadAudit(sql::Db* db, const std::string& record_id, std::vector<AuditRow>* out) {
  auto& st = db->Cached("SELECT record_id, change_id, fields, author, device, hlc, at, kind FROM audit "
                        "WHERE record_id = ? ORDER BY id");
  sql::ResetOnExit reset(st);
  st.Bind(1, record_id);
  out->clear();
  while (st.Step()) {
    AuditRow base{st.Text(0), st.Text(1), "", "", "", st.Text(3), st.Text(4), st.Text(5), st.Text(6), st.Text(7)};
    Status s = AppendAuditRows(st.Text(2), base, out);
    if (!s.ok()) return s;
  }
  return st.status();
}

class SqliteWriteTxn final : public WriteTxn {
 public:
  explicit SqliteWriteTxn(sql::Db* db) : db_(db) {}

  Status FindChangeSet(const std::string& id, std::string* response, bool* found) override {
    auto& st = db_->Cached("SELECT response FROM changesets WHERE id = ?");
    sql::ResetOnExit reset_st(st);
    st.Bind(1, id);
    *found = st.Step();
    if (*found) *response = st.Text(0);
    return st.status();
  }
  Status SaveChangeSet(const std::string& id, const std::string& user, const std::string& device,
                       const std::string& response) override {
    return db_->Cached("INSERT INTO changesets(id, user, device, response, received_at) VALUES (?,?,?,?,datetime('now'))")
        .Bind(1, id).Bind(2, user).Bind(3, device).Bind(4, response).Run();
  }
  Status FindChange(const std::string& change_id, std::string* result, int64_t* version, bool* found) override {
    auto& st = db_->Cached("SELECT result, version FROM changes WHERE change_id = ?");
    sql::ResetOnExit reset_st(st);
    st.Bind(1, change_id);
    *found = st.Step();
    if (*found) *result = st.Text(0), *version = st.Int(1);
    return st.status();
  }
  Status SaveChange(const std::string& change_id, const std::string& changeset_id, const std::string& record_id,
                    const std::string& result, int64_t version) override {
    return db_->Cached("INSERT INTO changes(change_id, changeset_id, record_id, result, version) VALUES (?,?,?,?,?)")
        .Bind(1, change_id).Bind(2, changeset_id).Bind(3, record_id).Bind(4, result).Bind(5, version).Run();
  }
  Status GetRecord(const std::string& id, StoredRecord* out, bool* found) override {
    return SelectRecord(db_, id, out, found);
  }
  Status ListRecords(const std::string& unit_path, const std::string& form, std::vector<StoredRecord>* out) override {
    auto& st = db_->Cached(std::string("SELECT ") + kRecordColumns +
                           " FROM records WHERE unit_path = ? AND form = ? AND deleted = 0 ORDER BY seq");
    sql::ResetOnExit reset(st);
    st.Bind(1, unit_path).Bind(2, form);
    out->clear();
    while (st.Step()) {
      StoredRecord r;
      ReadRecord(st, &r);
      out->push_back(std::move(r));
    }
    return st.status();
  }
  Status PutRecord(StoredRecord* r) override {
    if (next_seq_ == 0) {
      auto& st = db_->Cached("SELECT COALESCE(MAX(seq), 0) FROM records");
      sql::ResetOnExit reset_st(st);
      next_seq_ = st.Step() ? st.Int(0) + 1 : 1;
    }
    StampForWrite(r, next_seq_++);
    return db_->Cached(
               "INSERT INTO records(id, form, unit, unit_path, fields, deleted, conflict, version, seq, updated_hlc, "
               "updated_by, created_at, updated_at, updated_device, echo_applied, created_seq, created_version, "
               "field_versions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
               "ON CONFLICT(id) DO UPDATE SET unit_path = excluded.unit_path, "
               "fields = excluded.fields, deleted = excluded.deleted, conflict = excluded.conflict, "
               "version = excluded.version, seq = excluded.seq, updated_hlc = excluded.updated_hlc, "
               "updated_by = excluded.updated_by, updated_at = excluded.updated_at, "
               "updated_device = excluded.updated_device, echo_applied = excluded.echo_applied, "
               "created_seq = excluded.created_seq, created_version = excluded.created_version, "
               "field_versions = excluded.field_versions")
        .Bind(1, r->id).Bind(2, r->form).Bind(3, r->unit).Bind(4, r->unit_path).Bind(5, r->fields)
        .Bind(6, r->deleted ? 1 : 0).Bind(7, r->conflict ? 1 : 0).Bind(8, r->version).Bind(9, r->seq)
        .Bind(10, r->updated_hlc).Bind(11, r->updated_by).Bind(12, r->created_at).Bind(13, r->updated_at)
        .Bind(14, r->updated_device).Bind(15, r->echo_applied ? 1 : 0).Bind(16, r->created_seq)
        .Bind(17, r->created_version).Bind(18, r->field_versions)
        .Run();
  }
  Status RecordPlaces(std::vector<std::pair<std::string, std::string>>* out) override {
    auto st = db_->Prepare("SELECT DISTINCT unit, unit_path FROM records");
    out->clear();
    while (st.Step()) out->emplace_back(st.Text(0), st.Text(1));
    return st.status();
  }
  Status RecordIdsAt(const std::string& unit, const std::string& unit_path, std::vector<std::string>* out) override {
    auto st = db_->Prepare("SELECT id FROM records WHERE unit = ? AND unit_path = ? ORDER BY seq");
    st.Bind(1, unit).Bind(2, unit_path);
    out->clear();
    while (st.Step()) out->push_back(st.Text(0));
    return st.status();
  }
  Status AddAudit(const AuditChange& a) override {
    return db_->Cached(
               "INSERT INTO audit(record_id, change_id, fields, author, device, hlc, at, kind) VALUES (?,?,?,?,?,?,?,?)")
        .Bind(1, a.record_id).Bind(2, a.change_id).Bind(3, EncodeAuditFields(a.fields)).Bind(4, a.author)
        .Bind(5, a.device).Bind(6, a.hlc).Bind(7, a.at).Bind(8, a.kind)
        .Run();
  }
  Status LastAuthor(const std::string& record_id, const std::string& field, AuditRow* out, bool* found) override {
    std::vector<AuditRow> rows;
    Status s = ReadAudit(db_, record_id, &rows);
    if (!s.ok()) return s;
    *found = FindLastAuthor(rows, field, out);
    return Status::Ok();
  }
  Status AddConflict(const ConflictRow& c) override {
    return db_->Cached(
               "INSERT INTO conflicts(id, record_id, field, base_value, current_value, incoming_value, current_author, "
               "current_device, current_change_id, incoming_author, incoming_device, incoming_change_id, incoming_hlc, "
               "created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .Bind(1, c.id).Bind(2, c.record_id).Bind(3, c.field).Bind(4, c.base_value).Bind(5, c.current_value)
        .Bind(6, c.incoming_value).Bind(7, c.current_author).Bind(8, c.current_device).Bind(9, c.current_change_id)
        .Bind(10, c.incoming_author).Bind(11, c.incoming_device).Bind(12, c.incoming_change_id)
        .Bind(13, c.incoming_hlc).Bind(14, c.created_at)
        .Run();
  }
  Status OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) override {
    return SelectOpenConflicts(db_, record_id, out);
  }
  Status ResolveConflict(const std::string& id, const std::string& by, const std::string& at,
                         const std::string& resolution) override {
    return db_->Cached("UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?")
        .Bind(1, at).Bind(2, by).Bind(3, resolution).Bind(4, id).Run();
  }
  Status ReserveReceipts(const std::string& scope, int year, int count, int64_t floor, int64_t* first,
                         int64_t* last) override {
    Status s = db_->Cached("INSERT OR IGNORE INTO receipt_counters(commune, year, next) VALUES (?, ?, 1)")
                   .Bind(1, scope).Bind(2, year).Run();
    if (!s.ok()) return s;
    int64_t next = 0;
    s = PeekReceiptCounter(scope, year, &next);
    if (!s.ok()) return s;
    *first = std::max(next, floor);
    *last = *first + count - 1;
    return db_->Cached("UPDATE receipt_counters SET next = ? WHERE commune = ? AND year = ?")
        .Bind(1, *last + 1).Bind(2, scope).Bind(3, year).Run();
  }
  Status PeekReceiptCounter(const std::string& scope, int year, int64_t* next) override {
    auto& st = db_->Cached("SELECT next FROM receipt_counters WHERE commune = ? AND year = ?");
    sql::ResetOnExit reset_st(st);
    st.Bind(1, scope).Bind(2, year);
    *next = st.Step() ? st.Int(0) : 0;
    return st.status();
  }

 private:
  sql::Db* db_;
  int64_t next_seq_ = 0;
};

}  // namespace

Status SqliteServerStore::Open(const std::string& dir, std::unique_ptr<SqliteServerStore>* out) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Status::Internal("cannot create data directory " + dir);
  std::unique_ptr<SqliteServerStore> store(new SqliteServerStore);
  store->path_ = dir + "/ocopd.db";
  Status s = store->writer_.Open(store->path_);
  if (!s.ok()) return s;
  s = store->writer_.Migrate("server");
  if (!s.ok()) return s;
  *out = std::move(store);
  return Status::Ok();
}

std::unique_ptr<sql::Db> SqliteServerStore::AcquireReader(Status* s) {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return db;
    }
  }
  auto db = std::make_unique<sql::Db>();
  *s = db->Open(path_);
  // Up to 16 readers are kept: 1 MB of page cache each (SQLite's default is
  // 2 MB) keeps the server's memory in bounds under many clients at once;
  // reads are by index and the OS caches the file anyway.
  if (s->ok()) *s = db->Exec("PRAGMA cache_size=-256");
  return db;
}

void SqliteServerStore::ReleaseReader(std::unique_ptr<sql::Db> db) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (pool_.size() < 8) pool_.push_back(std::move(db));
}

class SqliteServerStore::Reader {
 public:
  explicit Reader(SqliteServerStore* store) : store_(store) { db_ = store->AcquireReader(&status_); }
  ~Reader() {
    if (status_.ok()) store_->ReleaseReader(std::move(db_));
  }
  sql::Db* operator->() { return db_.get(); }
  sql::Db* get() { return db_.get(); }
  const Status& status() const { return status_; }

 private:
  SqliteServerStore* store_;
  std::unique_ptr<sql::Db> db_;
  Status status_;
};

Status SqliteServerStore::CreateUser(const UserRow& u) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Status s = writer_.Prepare("INSERT INTO users(name, role, unit, password_hash, disabled, created_at) VALUES (?,?,?,?,?,datetime('now'))")
                 .Bind(1, u.name).Bind(2, u.role).Bind(3, u.unit).Bind(4, u.password_hash).Bind(5, u.disabled ? 1 : 0)
                 .Run();
  if (s.code() == Code::kAlreadyExists) return Status(Code::kAlreadyExists, "user '" + u.name + "' already exists");
  return s;
}

Status SqliteServerStore::GetUser(const std::string& name, UserRow* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT name, role, unit, password_hash, disabled FROM users WHERE name = ?");
  st.Bind(1, name);
  if (!st.Step()) return st.status().ok() ? Status::NotFound("no user '" + name + "'") : st.status();
  *out = {st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4) != 0};
  return Status::Ok();
}

Status SqliteServerStore::ListUsers(std::vector<UserRow>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT name, role, unit, password_hash, disabled FROM users ORDER BY name");
  out->clear();
  while (st.Step()) out->push_back({st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4) != 0});
  return st.status();
}

Status SqliteServerStore::UpdateUser(const UserRow& u) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Status s = writer_.Prepare("UPDATE users SET role = ?, unit = ?, password_hash = ?, disabled = ? WHERE name = ?")
                 .Bind(1, u.role).Bind(2, u.unit).Bind(3, u.password_hash).Bind(4, u.disabled ? 1 : 0).Bind(5, u.name)
                 .Run();
  if (!s.ok()) return s;
  if (writer_.Changes() == 0) return Status::NotFound("no user '" + u.name + "'");
  return Status::Ok();
}

Status SqliteServerStore::RevokeUserTokens(const std::string& user) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_.Prepare("UPDATE tokens SET revoked = 1 WHERE user = ? AND revoked = 0").Bind(1, user).Run();
}

Status SqliteServerStore::SaveDeviceKey(const std::string& device, const std::string& user, const std::string& key) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_
      // Milliseconds: the latest registration of a device names its account, also within one second.
      .Prepare("INSERT INTO device_keys(device, user, key, updated_at) VALUES (?,?,?,strftime('%Y-%m-%d %H:%M:%f','now')) "
               "ON CONFLICT(device, user) DO UPDATE SET key = excluded.key, updated_at = excluded.updated_at")
      .Bind(1, device).Bind(2, user).Bind(3, key).Run();
}

Status SqliteServerStore::PruneSessions(const std::string& user, int keep_tokens, int keep_devices) {
  std::lock_guard<std::mutex> lock(write_mu_);
  sql::Transaction tx(&writer_);
  if (!tx.status().ok()) return tx.status();
  Status s = writer_
                 .Prepare("UPDATE tokens SET revoked = 1 WHERE user = ?1 AND revoked = 0 AND token_hash NOT IN "
                          "(SELECT token_hash FROM tokens WHERE user = ?1 AND revoked = 0 "
                          "ORDER BY expires_ms DESC, rowid DESC LIMIT ?2)")
                 .Bind(1, user).Bind(2, keep_tokens).Run();
  if (s.ok())
    s = writer_
            .Prepare("DELETE FROM device_keys WHERE user = ?1 AND device NOT IN "
                     "(SELECT device FROM device_keys WHERE user = ?1 ORDER BY updated_at DESC, rowid DESC LIMIT ?2)")
            .Bind(1, user).Bind(2, keep_devices).Run();
  return s.ok() ? tx.Commit() : s;
}

Status SqliteServerStore::GetDeviceKey(const std::string& device, std::string* user, std::string* key, bool* found) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare(
      "SELECT key, user FROM device_keys WHERE device = ? AND (user = ? OR ? = '') ORDER BY updated_at DESC LIMIT 1");
  st.Bind(1, device).Bind(2, *user).Bind(3, *user);
  *found = st.Step();
  if (*found) {
    *key = st.Text(0);
    *user = st.Text(1);
  }
  return st.status();
}

Status SqliteServerStore::ChangeSetAnswers(const std::string& device, int limit, std::vector<std::string>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT response FROM changesets WHERE device = ? ORDER BY received_at, id LIMIT ?");
  st.Bind(1, device).Bind(2, limit);
  out->clear();
  while (st.Step()) out->push_back(st.Text(0));
  return st.status();
}

Status SqliteServerStore::SaveToken(const TokenRow& t) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_.Prepare("INSERT INTO tokens(token_hash, user, device, expires_ms, revoked, created_at) VALUES (?,?,?,?,0,datetime('now'))")
      .Bind(1, t.token_hash).Bind(2, t.user).Bind(3, t.device).Bind(4, t.expires_ms).Run();
}

Status SqliteServerStore::GetToken(const std::string& token_hash, TokenRow* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT token_hash, user, device, expires_ms, revoked FROM tokens WHERE token_hash = ?");
  st.Bind(1, token_hash);
  if (!st.Step()) return st.status().ok() ? Status::NotFound("no such token") : st.status();
  *out = {st.Text(0), st.Text(1), st.Text(2), st.Int(3), st.Int(4) != 0};
  return Status::Ok();
}

Status SqliteServerStore::RevokeToken(const std::string& token_hash) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_.Prepare("UPDATE tokens SET revoked = 1 WHERE token_hash = ?").Bind(1, token_hash).Run();
}

Status SqliteServerStore::LoadUnits(UnitTree* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT code, name, level, parent, valid_from, valid_to, succeeded_by FROM units");
  UnitTree tree;
  while (st.Step()) {
    Status s = tree.Add({st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6)});
    if (!s.ok()) return s;
  }
  if (!st.status().ok()) return st.status();
  *out = std::move(tree);
  return Status::Ok();
}

Status SqliteServerStore::SaveUnits(const UnitTree& units) {
  std::lock_guard<std::mutex> lock(write_mu_);
  sql::Transaction tx(&writer_);
  if (!tx.status().ok()) return tx.status();
  auto st = writer_.Prepare(
      "INSERT INTO units(code, name, level, parent, valid_from, valid_to, succeeded_by) VALUES (?,?,?,?,?,?,?) "
      "ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent, "
      "valid_from = excluded.valid_from, valid_to = excluded.valid_to, succeeded_by = excluded.succeeded_by");
  for (const auto& [code, u] : units.all()) {
    Status s = st.Bind(1, u.code).Bind(2, u.name).Bind(3, u.level).Bind(4, u.parent).Bind(5, u.valid_from)
                   .Bind(6, u.valid_to).Bind(7, u.succeeded_by).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status SqliteServerStore::LoadDefinitions(const std::string& kind, std::vector<DefinitionRow>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT name, version, body, published_at, published_by FROM definitions WHERE kind = ? "
                        "ORDER BY name, version");
  st.Bind(1, kind);
  out->clear();
  while (st.Step()) out->push_back({kind, st.Text(0), static_cast<int>(st.Int(1)), st.Text(2), st.Text(3), st.Text(4)});
  return st.status();
}

Status SqliteServerStore::SaveDefinition(const DefinitionRow& row) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Status s = writer_.Prepare("INSERT INTO definitions(kind, name, version, body, published_at, published_by) "
                             "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING")
                 .Bind(1, row.kind).Bind(2, row.name).Bind(3, static_cast<int64_t>(row.version)).Bind(4, row.body)
                 .Bind(5, row.published_at).Bind(6, row.published_by).Run();
  if (!s.ok()) return s;
  if (writer_.Changes() == 0)
    return Status(Code::kAlreadyExists, row.name + " version " + std::to_string(row.version) + " is published already");
  return Status::Ok();
}

Status SqliteServerStore::RunWrite(const std::function<Status(WriteTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  sql::Transaction tx(&writer_);
  if (!tx.status().ok()) return tx.status();
  SqliteWriteTxn txn(&writer_);
  Status s = fn(txn);
  if (!s.ok()) return s;  // the Transaction rolls back
  return tx.Commit();
}

Status SqliteServerStore::ReadSince(const std::string& prefix, int64_t since, int limit, const std::string& skip_device,
                                    std::vector<StoredRecord>* out, int64_t* cursor, bool* more) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare(std::string("SELECT ") + kRecordColumns +
                        " FROM records WHERE seq > ? AND unit_path >= ? AND unit_path < ? "
                        "AND NOT (echo_applied = 1 AND updated_device = ? AND updated_device != '') ORDER BY seq LIMIT ?");
  st.Bind(1, since).Bind(2, prefix).Bind(3, PrefixEnd(prefix)).Bind(4, skip_device).Bind(5, static_cast<int64_t>(limit) + 1);
  out->clear();
  while (st.Step()) {
    StoredRecord r;
    ReadRecord(st, &r);
    out->push_back(std::move(r));
  }
  if (!st.status().ok()) return st.status();
  *more = static_cast<int>(out->size()) > limit;
  if (*more) {
    out->pop_back();
    *cursor = out->back().seq;
    return Status::Ok();
  }
  // Everything in scope up to the newest record was returned or skipped: resume after it.
  auto max = db->Prepare("SELECT COALESCE(MAX(seq), 0) FROM records WHERE unit_path >= ? AND unit_path < ?");
  max.Bind(1, prefix).Bind(2, PrefixEnd(prefix));
  int64_t newest = max.Step() ? max.Int(0) : 0;
  *cursor = std::max(since, newest);
  return max.status();
}

Status SqliteServerStore::GetRecord(const std::string& id, StoredRecord* out, bool* found) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  return SelectRecord(db.get(), id, out, found);
}

Status SqliteServerStore::Audit(const std::string& record_id, std::vector<AuditRow>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  return ReadAudit(db.get(), record_id, out);
}

Status SqliteServerStore::ListConflicts(const std::string& prefix, bool open_only, std::vector<ConflictRow>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  std::string q = std::string("SELECT ") + kConflictColumns +
                  " FROM conflicts c WHERE EXISTS (SELECT 1 FROM records r WHERE r.id = c.record_id AND "
                  "r.unit_path >= ? AND r.unit_path < ?)";
  if (open_only) q += " AND resolved_at IS NULL";
  q += " ORDER BY created_at, id";
  auto st = db->Prepare(q);
  st.Bind(1, prefix).Bind(2, PrefixEnd(prefix));
  return ReadConflicts(st, out);
}

Status SqliteServerStore::OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  return SelectOpenConflicts(db.get(), record_id, out);
}

Status SqliteServerStore::PutFile(const std::string& sha, const std::string& record_id, int64_t size) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_.Prepare("INSERT OR IGNORE INTO files(sha256, record_id, size, created_at) VALUES (?,?,?,datetime('now'))")
      .Bind(1, sha).Bind(2, record_id).Bind(3, size).Run();
}

Status SqliteServerStore::GetFile(const std::string& sha, std::string* record_id, int64_t* size, bool* found) {
  Reader db(this);
  if (!db.status().ok()) return db.status();
  auto st = db->Prepare("SELECT record_id, size FROM files WHERE sha256 = ?");
  st.Bind(1, sha);
  *found = st.Step();
  if (*found) *record_id = st.Text(0), *size = st.Int(1);
  return st.status();
}

bool SqliteServerStore::Healthy() {
  Reader db(this);
  if (!db.status().ok()) return false;
  auto st = db->Prepare("SELECT 1");
  return st.Step();
}

}  // namespace ocop::server

namespace ocop::server {

Status SqliteServerStore::Backup(const std::string& dir, const std::string& dest) {
  std::string src_path = dir + "/ocopd.db", tmp = dest + ".part";
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto close_all = [&] {
    if (src) sqlite3_close(src);
    if (dst) sqlite3_close(dst);
  };
  if (sqlite3_open_v2(src_path.c_str(), &src, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    close_all();
    return Status::NotFound("no store at " + src_path);
  }
  sqlite3_busy_timeout(src, 5000);
  std::remove(tmp.c_str());
  if (sqlite3_open(tmp.c_str(), &dst) != SQLITE_OK) {
    close_all();
    return Status::Internal("cannot create " + tmp);
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    std::string e = sqlite3_errmsg(dst);
    close_all();
    return Status::Internal("backup: " + e);
  }
  // Pages in steps, so a busy server is not held up; a write in between
  // restarts the copy (bounded: at most 10,000 steps).
  int rc = SQLITE_OK;
  for (int step = 0; step < 10000; ++step) {
    rc = sqlite3_backup_step(b, 1024);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    if (rc != SQLITE_OK) sqlite3_sleep(20);
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    std::string e = sqlite3_errstr(rc);
    close_all();
    std::remove(tmp.c_str());
    return Status::Internal("backup did not complete: " + e);
  }
  std::string check;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    check = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  close_all();
  if (check != "ok") {
    std::remove(tmp.c_str());
    return Status::Internal("the copy failed its integrity check: " + check);
  }
  if (std::rename(tmp.c_str(), dest.c_str()) != 0) return Status::Internal("cannot write " + dest);
  return Status::Ok();
}

}  // namespace ocop::server
