#include "client/local_store.h"

#include <Poco/SHA2Engine.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <map>

#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "sync/codec.h"
#include "sync/patch.h"
#include "sync/merge.h"

namespace ocop::client {

using json::Object;
using json::Var;

std::string Record::status() const { return fields.has("status") ? fields.getValue<std::string>("status") : ""; }

std::string LocalStore::DbPath(const std::string& home) { return home + "/ocop.db"; }

namespace {

Status MakeDirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
        return Status::Internal("cannot create directory " + cur);
    }
    if (i < path.size()) cur.push_back(path[i]);
  }
  return Status::Ok();
}

bool FileExists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

Object ParseFields(const std::string& text) {
  Object::Ptr o;
  if (!json::ParseObject(text, &o).ok() || !o) return Object();
  return *o;
}

const char* kRecordColumns =
    "SELECT r.id, r.form, r.unit, r.fields, r.deleted, r.conflict, r.server_version, r.created_at, "
    "r.updated_at, EXISTS(SELECT 1 FROM outbox o WHERE o.record_id = r.id) FROM records r ";

}  // namespace

json::Object::Ptr RecordToJson(const Record& r) {
  Object::Ptr o = new Object;
  o->set("id", r.id);
  o->set("form", r.form);
  o->set("unit", r.unit);
  o->set("status", r.status());
  Object::Ptr fields = new Object(r.fields);
  o->set("fields", fields);
  o->set("conflict", r.conflict);
  o->set("deleted", r.deleted);
  o->set("pending", r.pending);
  o->set("version", r.server_version);
  o->set("created_at", r.created_at);
  o->set("updated_at", r.updated_at);
  return o;
}

json::Object::Ptr HistoryEntryToJson(const HistoryEntry& e) {
  Object::Ptr o = new Object;
  o->set("change_id", e.change_id);
  o->set("field", e.field);
  o->set("old", e.old_value);
  o->set("new", e.new_value);
  o->set("author", e.author);
  o->set("device", e.device);
  o->set("at", e.at);
  o->set("origin", e.origin);
  return o;
}

Status LocalStore::Init(const std::string& home, const std::string& commune, const std::string& server_url,
                        const UnitTree& units, const Clock& clock) {
  const Unit* u = units.Find(commune);
  if (!u) return Status::Invalid("unknown commune code '" + commune + "' (see `ocop units`)");
  (void)u;  // a device may belong to a unit above communes (a coordinator's laptop)
  if (!server_url.empty() && server_url.rfind("http://", 0) != 0 && server_url.rfind("https://", 0) != 0)
    return Status::Invalid("server URL must start with http:// or https://");
  Status s = MakeDirs(home);
  if (!s.ok()) return s;
  if (FileExists(DbPath(home))) return Status(Code::kAlreadyExists, "a store already exists in " + home);
  sql::Db db;
  s = db.Open(DbPath(home));
  if (!s.ok()) return s;
  s = db.Migrate("client");
  if (!s.ok()) return s;
  sql::Transaction tx(&db);
  auto put = db.Prepare("INSERT INTO settings(key, value) VALUES (?, ?)");
  std::string now = dates::IsoTimestamp(clock.NowMillis());
  std::vector<std::pair<std::string, std::string>> settings = {
      {"device_id", ids::NewUuid()}, {"commune", commune}, {"server_url", server_url}, {"created_at", now}, {"cursor", "0"}};
  if (&units != &UnitTree::Sample()) settings.push_back({"units_csv", units.ToCsv()});
  for (auto [k, v] : settings) {
    s = put.Bind(1, k).Bind(2, v).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::Open(const std::string& home, const Clock& clock, std::unique_ptr<LocalStore>* out) {
  if (!FileExists(DbPath(home)))
    return Status::Precondition("no local store in " + home + "; run `ocop init --commune CODE` first");
  std::unique_ptr<LocalStore> store(new LocalStore(clock));
  Status s = store->db_.Open(DbPath(home));
  // A sync moves thousands of records through the outbox and the records
  // table in a few transactions: a 16 MB page cache (SQLite's default is 2 MB)
  // keeps them from being read and written back page by page.
  if (s.ok()) s = store->db_.Exec("PRAGMA cache_size=-16384");
  if (!s.ok()) return s;
  s = store->db_.Migrate("client");
  if (!s.ok()) return s;
  s = store->Load();
  if (!s.ok()) return s;
  store->home_ = home;
  *out = std::move(store);
  return Status::Ok();
}

Status LocalStore::Load() {
  device_id_ = Setting("device_id");
  commune_ = Setting("commune");
  if (device_id_.empty() || commune_.empty()) return Status::Internal("local store has no device id or commune");
  std::string csv = Setting("units_csv");
  if (csv.empty() || !UnitTree::ParseCsv(csv, &units_).ok()) units_ = UnitTree::Sample();
  int64_t ms = std::atoll(Setting("hlc_ms", "0").c_str());
  int32_t counter = std::atoi(Setting("hlc_counter", "0").c_str());
  hlc_ = HybridClock(clock_, ms, counter);
  return Status::Ok();
}

std::string LocalStore::Setting(const std::string& key, const std::string& fallback) {
  auto st = db_.Prepare("SELECT value FROM settings WHERE key = ?");
  st.Bind(1, key);
  return st.Step() ? st.Text(0) : fallback;
}

Status LocalStore::SetUnits(const std::string& csv) {
  UnitTree tree;
  Status s = UnitTree::ParseCsv(csv, &tree);
  if (!s.ok()) return s;
  if (!tree.Find(commune_)) return Status::Invalid("the new unit list lacks this device's unit " + commune_);
  s = SetSetting("units_csv", tree.ToCsv());
  if (!s.ok()) return s;
  units_ = std::move(tree);
  return Status::Ok();
}

Status LocalStore::SetSetting(const std::string& key, const std::string& value) {
  return db_.Prepare("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .Bind(1, key)
      .Bind(2, value)
      .Run();
}

Status LocalStore::SaveHlc() {
  Status s = SetSetting("hlc_ms", std::to_string(hlc_.last_ms()));
  if (!s.ok()) return s;
  return SetSetting("hlc_counter", std::to_string(hlc_.last_counter()));
}

std::string LocalStore::Author() {
  std::string user = Setting("user");
  return user.empty() ? "local@" + device_id_.substr(0, 8) : user;
}

std::string LocalStore::NowIso() const { return dates::IsoTimestamp(clock_.NowMillis()); }

Status LocalStore::ReadRecord(sql::Stmt& st, Record* r) {
  r->id = st.Text(0);
  r->form = st.Text(1);
  r->unit = st.Text(2);
  r->fields = ParseFields(st.Text(3));
  r->deleted = st.Int(4) != 0;
  r->conflict = st.Int(5) != 0;
  r->server_version = st.Int(6);
  r->created_at = st.Text(7);
  r->updated_at = st.Text(8);
  r->pending = st.Int(9) != 0;
  return Status::Ok();
}

Status LocalStore::Get(const std::string& id, Record* out) {
  auto st = db_.Prepare(std::string(kRecordColumns) + "WHERE r.id = ?");
  st.Bind(1, id);
  if (!st.Step()) {
    if (!st.status().ok()) return st.status();
    return Status::NotFound("no record with id '" + id + "'");
  }
  return ReadRecord(st, out);
}

Status LocalStore::WriteChange(const Record& before, const Record& after, const std::string& op,
                               const std::vector<sync::FieldChange>& fields) {
  sync::Change c;
  c.change_id = ids::NewUuid();
  c.record_id = after.id;
  c.form = after.form;
  c.unit = after.unit;
  c.op = op;
  c.base_version = before.server_version;
  c.fields = fields;
  c.author = Author();
  c.device = device_id_;
  c.hlc = hlc_.Tick();
  Status s = db_.Prepare("INSERT INTO outbox(change_id, record_id, body) VALUES (?, ?, ?)")
                 .Bind(1, c.change_id)
                 .Bind(2, c.record_id)
                 .BindBlob(3, sync::EncodeBinary(c))
                 .Run();
  if (!s.ok()) return s;
  auto hist = db_.Prepare(
      "INSERT INTO history(record_id, change_id, field, old_value, new_value, author, device, at, origin) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'local')");
  std::string now = NowIso();
  auto add = [&](const std::string& key, const std::string& o, const std::string& n) {
    return hist.Bind(1, c.record_id).Bind(2, c.change_id).Bind(3, key).Bind(4, o).Bind(5, n)
        .Bind(6, c.author).Bind(7, c.device).Bind(8, now).Run();
  };
  if (op == sync::op::kDelete) {
    s = add("_deleted", "false", "true");
    if (!s.ok()) return s;
  }
  for (const auto& f : fields) {
    s = add(f.key, f.old_value, f.new_value);
    if (!s.ok()) return s;
  }
  return SaveHlc();
}

Status LocalStore::FillLinked(const std::string& form, Object* fields, bool* filled) {
  if (form != "evaluation" || !fields->has("confirmation_id")) return Status::Ok();
  // The localisation criteria come from the product's confirmation on this
  // device, never typed; the server checks them again against its copy.
  std::string id = fields->getValue<std::string>("confirmation_id");
  Record confirmation;
  Status s = Get(id, &confirmation);
  if (s.code() == Code::kNotFound || (s.ok() && (confirmation.deleted || confirmation.form != "confirmation")))
    return Status::Precondition("the confirmation " + id + " is not on this device; sync first");
  if (!s.ok()) return s;
  s = evaluation::FillFromConfirmation(confirmation.fields, fields);
  if (!s.ok()) return s;
  *filled = true;  // rows it added need validating (item ids)
  return evaluation::CheckAgainstConfirmation(*fields, id, &confirmation.fields);
}

Status LocalStore::Create(const std::string& form, Object fields, Record* out, const std::string& unit_in) {
  // Records belong to a commune: this device's, or one below this device's unit.
  const UnitTree& units = units_;
  std::string unit = unit_in.empty() ? commune_ : unit_in;
  if (!units.Find(unit)) return Status::Invalid("unknown unit code '" + unit + "'");
  if (!units.Children(unit).empty())
    return Status::Invalid("unit " + unit + " is not a commune: give the commune with --unit CODE");
  if (!units.IsWithin(unit, commune_))
    return Status::Invalid("unit " + unit + " is not within this device's unit " + commune_);
  const FormSchema* schema = catalog_->Find(form);
  if (!schema) return UnknownForm(form);
  Status s = ValidateRecord(*schema, &fields, Completeness::kComplete, /*allow_system=*/false);
  bool filled = false;
  if (s.ok()) s = FillLinked(form, &fields, &filled);
  if (s.ok() && filled) s = ValidateRecord(*schema, &fields, Completeness::kComplete, /*allow_system=*/false);
  if (!s.ok()) return s;
  fields.set("status", schema->initial_status);
  ApplyComputedFields(form, &fields);

  Record r;
  r.id = ids::NewUuid();
  r.form = form;
  r.unit = unit;
  r.fields = fields;
  r.created_at = r.updated_at = NowIso();
  r.pending = true;
  std::vector<sync::FieldChange> changes;
  std::vector<std::string> names;
  fields.getNames(names);
  for (const auto& k : names) changes.push_back({k, "null", json::ToText(fields.get(k))});

  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  s = db_.Prepare("INSERT INTO records(id, form, unit, fields, created_at, updated_at, search_text) VALUES (?,?,?,?,?,?,?)")
          .Bind(1, r.id).Bind(2, form).Bind(3, r.unit).Bind(4, json::ToText(fields))
          .Bind(5, r.created_at).Bind(6, r.updated_at).Bind(7, SearchText(*schema, fields))
          .Run();
  if (!s.ok()) return s;
  Record none;
  s = WriteChange(none, r, sync::op::kCreate, changes);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  *out = r;
  return Status::Ok();
}

Status LocalStore::Update(const std::string& id, const Object& changes, Record* out, bool allow_system) {
  Record before;
  Status s = Get(id, &before);
  if (!s.ok()) return s;
  if (before.deleted) return Status::Precondition("record " + id + " is deleted");
  const FormSchema* schema = catalog_->Find(before.form);
  if (!schema) return Status::Internal("record " + id + " has unknown form " + before.form);
  Object merged(before.fields);
  std::vector<std::string> names;
  changes.getNames(names);
  for (const auto& k : names) {
    const FieldDef* f = schema->Field(k);
    if (!f) return Status::Invalid("form '" + before.form + "' has no field '" + k + "'");
    if (f->computed) return Status::Invalid("field '" + k + "' is computed and cannot be set");
    if (f->system && !allow_system) return Status::Invalid("field '" + k + "' is set by workflow commands, not directly");
    Var v = changes.get(k);
    if (v.isEmpty()) merged.remove(k);
    else merged.set(k, v);
  }
  s = ValidateRecord(*schema, &merged, Completeness::kComplete, /*allow_system=*/true);
  bool filled = false;
  if (s.ok()) s = FillLinked(before.form, &merged, &filled);
  if (s.ok() && filled) s = ValidateRecord(*schema, &merged, Completeness::kComplete, /*allow_system=*/true);
  if (!s.ok()) return s;
  ApplyComputedFields(before.form, &merged);

  std::vector<sync::FieldChange> diff;
  std::vector<std::string> keys;
  before.fields.getNames(keys);
  std::vector<std::string> after_keys;
  merged.getNames(after_keys);
  keys.insert(keys.end(), after_keys.begin(), after_keys.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const auto& k : keys) {
    std::string o = before.fields.has(k) ? json::ToText(before.fields.get(k)) : "null";
    std::string n = merged.has(k) ? json::ToText(merged.get(k)) : "null";
    if (o != n) diff.push_back({k, o, n});
  }
  Record after = before;
  after.fields = merged;
  if (diff.empty()) {
    *out = after;
    return Status::Ok();
  }
  after.updated_at = NowIso();
  after.pending = true;
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  s = db_.Prepare("UPDATE records SET fields = ?, updated_at = ?, search_text = ? WHERE id = ?")
          .Bind(1, json::ToText(merged)).Bind(2, after.updated_at).Bind(3, SearchText(*schema, merged)).Bind(4, id)
          .Run();
  if (!s.ok()) return s;
  s = WriteChange(before, after, sync::op::kUpdate, diff);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  *out = after;
  return Status::Ok();
}

Status LocalStore::Delete(const std::string& id) {
  Record before;
  Status s = Get(id, &before);
  if (!s.ok()) return s;
  if (before.deleted) return Status::Precondition("record " + id + " is already deleted");
  Record after = before;
  after.deleted = true;
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  s = db_.Prepare("UPDATE records SET deleted = 1, updated_at = ? WHERE id = ?").Bind(1, NowIso()).Bind(2, id).Run();
  if (!s.ok()) return s;
  s = WriteChange(before, after, sync::op::kDelete, {});
  if (!s.ok()) return s;
  return tx.Commit();
}

namespace {
std::string EscapeLike(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}
}  // namespace

Status LocalStore::List(const ListQuery& q, std::vector<Record>* out) {
  std::string where = " WHERE 1=1";
  std::vector<std::string> params;
  if (!q.include_deleted) where += " AND r.deleted = 0";
  if (!q.form.empty()) {
    if (!catalog_->Find(q.form)) return UnknownForm(q.form);
    where += " AND r.form = ?";
    params.push_back(q.form);
  }
  if (!q.status.empty()) {
    where += " AND json_extract(r.fields, '$.status') = ?";
    params.push_back(q.status);
  }
  if (q.conflicts_only) where += " AND r.conflict = 1";
  if (!q.search.empty()) {
    if (!text::IsValidUtf8(q.search)) return Status::Invalid("search text is not valid UTF-8");
    std::string folded = text::SearchKey(q.search);
    size_t pos = 0;
    while (pos < folded.size()) {
      size_t sp = folded.find(' ', pos);
      std::string word = folded.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      if (!word.empty()) {
        where += " AND r.search_text LIKE ? ESCAPE '\\'";
        params.push_back("%" + EscapeLike(word) + "%");
      }
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
  }
  std::string sqltext = std::string(kRecordColumns) + where + " ORDER BY r.created_at DESC, r.id";
  if (q.limit > 0) sqltext += " LIMIT " + std::to_string(q.limit);
  auto st = db_.Prepare(sqltext);
  for (size_t i = 0; i < params.size(); ++i) st.Bind(static_cast<int>(i + 1), params[i]);
  out->clear();
  while (st.Step()) {
    Record r;
    ReadRecord(st, &r);
    out->push_back(std::move(r));
  }
  return st.status();
}

Status LocalStore::History(const std::string& id, std::vector<HistoryEntry>* out) {
  Record r;
  Status s = Get(id, &r);
  if (!s.ok()) return s;
  // Server entries first (they are authoritative once synced); a local entry is
  // shown only while the server has not reported the same change.
  auto st = db_.Prepare(
      "SELECT change_id, field, old_value, new_value, author, device, at, origin FROM history h "
      "WHERE record_id = ? AND (origin LIKE 'server%' OR NOT EXISTS (SELECT 1 FROM history s WHERE "
      "s.origin LIKE 'server%' AND s.record_id = h.record_id AND s.field = h.field AND s.change_id = h.change_id)) "
      "ORDER BY at, id");
  st.Bind(1, id);
  out->clear();
  while (st.Step())
    out->push_back({st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6), st.Text(7)});
  return st.status();
}

Status LocalStore::AddServerHistory(const std::string& record_id, const std::vector<HistoryEntry>& entries) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  Status s = db_.Prepare("DELETE FROM history WHERE record_id = ? AND origin LIKE 'server%'").Bind(1, record_id).Run();
  if (!s.ok()) return s;
  auto ins = db_.Prepare(
      "INSERT INTO history(record_id, change_id, field, old_value, new_value, author, device, at, origin) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& e : entries) {
    s = ins.Bind(1, record_id).Bind(2, e.change_id).Bind(3, e.field).Bind(4, e.old_value).Bind(5, e.new_value)
            .Bind(6, e.author).Bind(7, e.device).Bind(8, e.at).Bind(9, e.origin.empty() ? "server" : e.origin).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::NextReceipt(int year, std::optional<int64_t>* out) {
  auto st = db_.Prepare("SELECT next, last FROM receipt_blocks WHERE commune = ? AND year = ? AND next <= last ORDER BY next LIMIT 1");
  st.Bind(1, commune_).Bind(2, year);
  if (!st.Step()) {
    *out = std::nullopt;
    return st.status();
  }
  int64_t next = st.Int(0);
  Status s = db_.Prepare("UPDATE receipt_blocks SET next = next + 1 WHERE commune = ? AND year = ? AND next = ?")
                 .Bind(1, commune_).Bind(2, year).Bind(3, next).Run();
  if (!s.ok()) return s;
  *out = next;
  return Status::Ok();
}

Status LocalStore::AddReceiptBlock(const std::string& commune, int year, int64_t first, int64_t last) {
  if (first <= 0 || last < first) return Status::Invalid("bad receipt block");
  return db_.Prepare("INSERT OR IGNORE INTO receipt_blocks(commune, year, next, last) VALUES (?, ?, ?, ?)")
      .Bind(1, commune).Bind(2, year).Bind(3, first).Bind(4, last).Run();
}

Status LocalStore::ReceiptNumbersLeft(int year, int64_t* out) {
  auto st = db_.Prepare("SELECT COALESCE(SUM(last - next + 1), 0) FROM receipt_blocks WHERE commune = ? AND year = ? AND next <= last");
  st.Bind(1, commune_).Bind(2, year);
  *out = st.Step() ? st.Int(0) : 0;
  return st.status();
}

// ---- sync ----

Status LocalStore::NextChangeSet(size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  {
    auto st = db_.Prepare("SELECT body FROM inflight ORDER BY created_at, rowid LIMIT 1");
    if (st.Step()) {
      Status s = sync::DecodeBinary(st.Blob(0), out);
      if (!s.ok()) return Status::Internal("stored change set is unreadable: " + s.message());
      *has = true;
      return Status::Ok();
    }
  }
  return FreezeNew(max_changes, out, has);
}

Status LocalStore::FreezeNextAfter(const std::string& in_flight, size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  auto st = db_.Prepare("SELECT COUNT(*), COALESCE(SUM(changeset_id = ?), 0) FROM inflight");
  st.Bind(1, in_flight);
  if (!st.Step()) return st.status();
  if (st.Int(0) != 1 || st.Int(1) != 1) return Status::Ok();
  return FreezeNew(max_changes, out, has);
}

Status LocalStore::ThawChangeSet(const std::string& id) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  Status s = db_.Prepare("UPDATE outbox SET changeset_id = NULL WHERE changeset_id = ?").Bind(1, id).Run();
  if (s.ok()) s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, id).Run();
  if (!s.ok()) return s;
  return tx.Commit();
}

Status LocalStore::FreezePending(size_t max_changes, std::vector<sync::ChangeSet>* out) {
  out->clear();
  // Bounded: each round freezes at least one pending change or stops.
  for (int round = 0; round < 1000000; ++round) {
    sync::ChangeSet cs;
    bool has = false;
    Status s = FreezeNew(max_changes, &cs, &has);
    if (!s.ok()) return s;
    if (!has) break;
  }
  auto st = db_.Prepare("SELECT body FROM inflight ORDER BY created_at, rowid");
  while (st.Step()) {
    sync::ChangeSet cs;
    Status s = sync::DecodeBinary(st.Blob(0), &cs);
    if (!s.ok()) return Status::Internal("stored change set is unreadable: " + s.message());
    out->push_back(std::move(cs));
  }
  return st.status();
}

Status LocalStore::InflightIds(std::vector<std::string>* out) {
  out->clear();
  auto st = db_.Prepare("SELECT changeset_id FROM inflight ORDER BY created_at, rowid");
  while (st.Step()) out->push_back(st.Text(0));
  return st.status();
}

Status LocalStore::NoteExported(const std::vector<std::string>& ids, const std::string& file_name) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto st = db_.Prepare(
      "INSERT INTO carried_out(changeset_id, file_name, exported_at) VALUES (?,?,?) ON CONFLICT(changeset_id) DO "
      "UPDATE SET file_name = excluded.file_name, exported_at = excluded.exported_at");
  for (const auto& id : ids) {
    Status s = st.Bind(1, id).Bind(2, file_name).Bind(3, NowIso()).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::ExportedUnanswered(std::vector<Exported>* out) {
  out->clear();
  auto st = db_.Prepare("SELECT changeset_id, file_name, exported_at FROM carried_out ORDER BY exported_at, changeset_id");
  while (st.Step()) out->push_back({st.Text(0), st.Text(1), st.Text(2)});
  return st.status();
}

Status LocalStore::AddCarriedIn(const CarriedIn& f, bool* already) {
  auto st = db_.Prepare("SELECT 1 FROM carried_in WHERE sha256 = ?");
  st.Bind(1, f.sha256);
  *already = st.Step();
  if (*already) return Status::Ok();
  return db_
      .Prepare("INSERT INTO carried_in(sha256, body, device, user, unit, changes, imported_at) VALUES (?,?,?,?,?,?,?)")
      .Bind(1, f.sha256).BindBlob(2, f.body).Bind(3, f.device).Bind(4, f.user).Bind(5, f.unit).Bind(6, f.changes)
      .Bind(7, NowIso()).Run();
}

Status LocalStore::CarriedInFiles(bool unsent_only, std::vector<CarriedIn>* out) {
  out->clear();
  auto st = db_.Prepare(std::string("SELECT sha256, body, device, user, unit, imported_at, COALESCE(sent_at, ''), "
                                    "COALESCE(result, ''), changes FROM carried_in ") +
                        (unsent_only ? "WHERE sent_at IS NULL " : "") + "ORDER BY imported_at");
  while (st.Step()) {
    CarriedIn f{st.Text(0), unsent_only ? st.Blob(1) : std::string(), st.Text(2), st.Text(3), st.Text(4),
                st.Text(5), st.Text(6), st.Text(7), st.Int(8)};
    out->push_back(std::move(f));
  }
  return st.status();
}

Status LocalStore::MarkCarriedInSent(const std::string& sha256, const std::string& result) {
  return db_.Prepare("UPDATE carried_in SET sent_at = ?, result = ? WHERE sha256 = ?")
      .Bind(1, NowIso()).Bind(2, result).Bind(3, sha256).Run();
}

Status LocalStore::FreezeNew(size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  // Group the pending changes by record, in the order records were first touched.
  std::vector<std::string> order;
  std::map<std::string, std::vector<sync::Change>> by_record;
  std::map<std::string, std::vector<int64_t>> seqs;
  {
    // Bounded: a record whose later edits fall past the window sends them in the
    // next change set, in order, which is still correct.
    auto st = db_.Prepare("SELECT seq, record_id, body FROM outbox WHERE changeset_id IS NULL ORDER BY seq LIMIT ?");
    st.Bind(1, static_cast<int64_t>(max_changes * 2));
    while (st.Step()) {
      std::string rid = st.Text(1);
      if (!by_record.count(rid)) {
        if (order.size() >= max_changes) continue;  // this record waits for the next change set
        order.push_back(rid);
      }
      sync::Change c;
      Status s = sync::DecodeBinary(st.Blob(2), &c);
      if (!s.ok()) return Status::Internal("outbox entry unreadable: " + s.message());
      by_record[rid].push_back(std::move(c));
      seqs[rid].push_back(st.Int(0));
    }
    if (!st.status().ok()) return st.status();
  }
  if (order.empty()) return Status::Ok();
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = device_id_;
  auto version = db_.Prepare("SELECT server_version FROM records WHERE id = ?");
  for (const auto& rid : order) {
    for (auto& c : sync::Coalesce(by_record[rid])) {
      version.Bind(1, rid);
      if (version.Step()) c.base_version = version.Int(0);
      version.Reset();
      cs.changes.push_back(std::move(c));
    }
  }
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto mark = db_.Prepare("UPDATE outbox SET changeset_id = ? WHERE seq = ?");
  for (const auto& rid : order)
    for (int64_t seq : seqs[rid]) {
      Status s = mark.Bind(1, cs.id).Bind(2, seq).Run();
      if (!s.ok()) return s;
    }
  // Records created and deleted before the server ever saw them leave no trace
  // to sync; drop them locally too, so this device matches the server.
  auto purge = db_.Prepare("DELETE FROM records WHERE id = ? AND deleted = 1 AND server_fields IS NULL");
  for (const auto& rid : order) {
    bool sent = false;
    for (const auto& c : cs.changes) sent |= c.record_id == rid;
    if (sent) continue;
    Status s = purge.Bind(1, rid).Run();
    if (!s.ok()) return s;
  }
  if (cs.changes.empty()) {
    // Everything cancelled out: nothing to send.
    Status s = db_.Prepare("DELETE FROM outbox WHERE changeset_id = ?").Bind(1, cs.id).Run();
    if (!s.ok()) return s;
    return tx.Commit();
  }
  Status s = db_.Prepare("INSERT INTO inflight(changeset_id, body, created_at) VALUES (?, ?, ?)")
                 .Bind(1, cs.id).BindBlob(2, sync::EncodeBinary(cs)).Bind(3, NowIso()).Run();
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  *out = std::move(cs);
  *has = true;
  return Status::Ok();
}

Status LocalStore::AckChangeSet(const sync::PushResult& result) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto conflict = db_.Prepare("UPDATE records SET conflict = 1 WHERE id = ?");
  for (const auto& o : result.outcomes) {
    if (o.result != sync::outcome::kConflict) continue;
    Status s = conflict.Bind(1, o.record_id).Run();
    if (!s.ok()) return s;
  }
  Status s = db_.Prepare("DELETE FROM outbox WHERE changeset_id = ?").Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  // "applied" means the server now holds exactly this device's view at that
  // version, and will not send it back (the echo is skipped on pull).
  auto adopt = db_.Prepare(
      "UPDATE records SET server_version = ?, server_fields = fields, server_deleted = deleted WHERE id = ? AND "
      "server_version < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = records.id)");
  for (const auto& o : result.outcomes) {
    if (o.result != sync::outcome::kApplied) continue;
    s = adopt.Bind(1, o.version).Bind(2, o.record_id).Bind(3, o.version).Run();
    if (!s.ok()) return s;
  }
  s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  s = db_.Prepare("DELETE FROM carried_out WHERE changeset_id = ?").Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  // A pull may already have brought the server's state after these changes
  // (when an earlier answer was lost): with nothing left pending, the record
  // shows that state rather than this device's possibly older overlay.
  auto refresh = db_.Prepare(
      "UPDATE records SET fields = server_fields, deleted = server_deleted WHERE id = ? AND server_fields IS NOT NULL "
      "AND server_version >= ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = records.id)");
  for (const auto& o : result.outcomes) {
    s = refresh.Bind(1, o.record_id).Bind(2, o.version).Run();
    if (!s.ok()) return s;
  }
  hlc_.Observe(result.server_hlc);
  s = SaveHlc();
  if (!s.ok()) return s;
  return tx.Commit();
}

int64_t LocalStore::CompleteCursor() { return std::atoll(Setting("complete_cursor", "0").c_str()); }

Status LocalStore::ApplyPullPage(const sync::PullPage& page, bool* patch_missed) {
  if (patch_missed) *patch_missed = false;
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  // Patches first: each is laid over this device's copy of the server's state,
  // which must have reached the patch's base version.
  std::vector<std::string> whole(page.records.size());
  if (!page.patch_bases.empty()) {
    auto& copy = db_.Cached("SELECT server_version, server_fields FROM records WHERE id = ? AND server_fields IS NOT NULL");
    for (size_t i = 0; i < page.records.size(); ++i) {
      if (page.patch_bases[i] <= 0) continue;
      const auto& rs = page.records[i];
      copy.Bind(1, rs.id);
      bool have = copy.Step() && copy.Int(0) >= page.patch_bases[i];
      std::string held = have ? copy.Text(1) : std::string();
      copy.Reset();
      if (!have) {
        if (patch_missed) {
          *patch_missed = true;
          return Status::Ok();  // the transaction rolls back: nothing changed
        }
        return Status::Precondition("record " + rs.id + " came as a patch for version " +
                                    std::to_string(page.patch_bases[i]) + ", which this device does not hold");
      }
      Status s = sync::ApplyPatch(held, rs.fields, &whole[i]);
      if (!s.ok()) return s;
    }
  }
  bool any_pending = false;
  {
    auto& st = db_.Cached("SELECT EXISTS(SELECT 1 FROM outbox)");
    sql::ResetOnExit reset(st);
    any_pending = st.Step() && st.Int(0) != 0;
  }
  // created_at is set on insert only; an existing record keeps its own.
  auto& upsert = db_.Cached(
      "INSERT INTO records(id, form, unit, fields, deleted, server_version, server_fields, server_deleted, conflict, "
      "created_at, updated_at, search_text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
      "form = excluded.form, unit = excluded.unit, fields = excluded.fields, deleted = excluded.deleted, "
      "server_version = excluded.server_version, server_fields = excluded.server_fields, "
      "server_deleted = excluded.server_deleted, conflict = excluded.conflict, updated_at = excluded.updated_at, "
      "search_text = excluded.search_text");
  std::string now = NowIso();
  for (size_t i = 0; i < page.records.size(); ++i) {
    const auto& rs = page.records[i];
    const std::string& server_fields = whole[i].empty() ? rs.fields : whole[i];
    const FormSchema* schema = catalog_->Find(rs.form);
    Object fields = ParseFields(server_fields);
    bool deleted = rs.deleted;
    bool rebased = any_pending && OverlayPending(rs.id, &fields, &deleted);
    Status s = upsert.Bind(1, rs.id).Bind(2, rs.form).Bind(3, rs.unit).Bind(4, rebased ? json::ToText(fields) : server_fields)
                   .Bind(5, deleted ? 1 : 0).Bind(6, rs.version).Bind(7, server_fields).Bind(8, rs.deleted ? 1 : 0)
                   .Bind(9, rs.conflict ? 1 : 0).Bind(10, now).Bind(11, now)
                   .Bind(12, schema ? SearchText(*schema, fields) : std::string())
                   .Run();
    if (!s.ok()) return s;
  }
  Status s = SetSetting("cursor", std::to_string(page.cursor));
  if (!s.ok()) return s;
  if (!page.more) {
    s = SetSetting("complete_cursor", std::to_string(page.cursor));
    if (!s.ok()) return s;
  }
  if (page.receipt_last > 0) {
    s = AddReceiptBlock(commune_, page.receipt_year, page.receipt_first, page.receipt_last);
    if (!s.ok()) return s;
  }
  hlc_.Observe(page.server_hlc);
  s = SaveHlc();
  if (!s.ok()) return s;
  return tx.Commit();
}

std::string Sha256Hex(const std::string& bytes) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(bytes.data(), static_cast<unsigned>(bytes.size()));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

bool LocalStore::HasFile(const std::string& sha) const { return FileExists(FilePath(sha)); }

Status LocalStore::SaveFile(const std::string& sha, const std::string& bytes) {
  if (Sha256Hex(bytes) != sha) return Status::Invalid("the file's bytes do not match SHA-256 " + sha);
  Status s = MakeDirs(home_ + "/files");
  if (!s.ok()) return s;
  std::string tmp = FilePath(sha) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::Internal("cannot write " + tmp);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), FilePath(sha).c_str()) != 0) return Status::Internal("cannot write " + FilePath(sha));
  return Status::Ok();
}

Status LocalStore::Attach(const std::string& id, const std::string& bytes, const std::string& name,
                          const std::string& caption, std::string* sha256, Record* out) {
  Record r;
  Status s = Get(id, &r);
  if (!s.ok()) return s;
  const FormSchema* schema = catalog_->Find(r.form);
  if (!schema || !schema->Field("photos")) return Status::Invalid("files are attached to site visits; this is a " + r.form);
  if (bytes.empty()) return Status::Invalid("the file is empty");
  std::string sha = Sha256Hex(bytes);
  s = SaveFile(sha, bytes);  // the bytes are safe on disk before the record names them
  if (!s.ok()) return s;
  json::Array::Ptr photos = new json::Array;
  if (r.fields.has("photos")) {
    auto old = r.fields.getArray("photos");
    for (size_t i = 0; i < old->size(); ++i) {
      if (old->getObject(static_cast<unsigned>(i))->getValue<std::string>("sha256") == sha)
        return Status(Code::kAlreadyExists, "this file is already attached (" + sha.substr(0, 12) + "…)");
      photos->add(old->get(static_cast<unsigned>(i)));
    }
  }
  Object::Ptr item = new Object;
  item->set("sha256", sha);
  if (!name.empty()) item->set("name", name);
  if (!caption.empty()) item->set("caption", caption);
  item->set("size", static_cast<Poco::Int64>(bytes.size()));
  photos->add(item);
  s = db_.Prepare("INSERT OR IGNORE INTO uploads(sha256, record_id, size) VALUES (?, ?, ?)")
          .Bind(1, sha).Bind(2, id).Bind(3, static_cast<int64_t>(bytes.size())).Run();
  if (!s.ok()) return s;
  Object change;
  change.set("photos", photos);
  s = Update(id, change, out, /*allow_system=*/true);
  if (!s.ok()) return s;
  *sha256 = sha;
  return Status::Ok();
}

Status LocalStore::PendingUploads(std::vector<Upload>* out) {
  auto st = db_.Prepare("SELECT sha256, record_id, size FROM uploads WHERE done = 0 ORDER BY rowid");
  out->clear();
  while (st.Step()) out->push_back({st.Text(0), st.Text(1), st.Int(2)});
  return st.status();
}

Status LocalStore::MarkUploaded(const std::string& sha) {
  return db_.Prepare("UPDATE uploads SET done = 1 WHERE sha256 = ?").Bind(1, sha).Run();
}

Status LocalStore::MissingFiles(std::vector<std::string>* out) {
  auto st = db_.Prepare(
      "SELECT DISTINCT json_extract(p.value, '$.sha256') FROM records r, json_each(r.fields, '$.photos') p "
      "WHERE r.deleted = 0");
  out->clear();
  while (st.Step()) {
    std::string sha = st.Text(0);
    if (!sha.empty() && !HasFile(sha)) out->push_back(sha);
  }
  return st.status();
}

bool LocalStore::OverlayPending(const std::string& id, Object* fields, bool* deleted) {
  auto& pending = db_.Cached("SELECT body FROM outbox WHERE record_id = ? ORDER BY seq");
  sql::ResetOnExit reset(pending);
  pending.Bind(1, id);
  std::vector<sync::Change> mine;
  while (pending.Step()) {
    sync::Change c;
    if (sync::DecodeBinary(pending.Blob(0), &c).ok()) mine.push_back(std::move(c));
  }
  bool any = false;
  for (const auto& c : sync::Coalesce(mine)) {
    any = true;
    if (c.op == sync::op::kDelete) *deleted = true;
    for (const auto& f : c.fields) {
      Var v;
      if (!json::Parse(f.new_value, &v).ok()) continue;
      if (v.isEmpty()) fields->remove(f.key);
      else fields->set(f.key, v);
    }
  }
  return any;
}

Status LocalStore::Rebase(const std::string& id, const std::string& form, const std::string& server_fields,
                          bool server_deleted) {
  Object fields = ParseFields(server_fields);
  bool deleted = server_deleted;
  OverlayPending(id, &fields, &deleted);
  const FormSchema* schema = catalog_->Find(form);
  return db_.Prepare("UPDATE records SET fields = ?, deleted = ?, search_text = ?, updated_at = ? WHERE id = ?")
      .Bind(1, json::ToText(fields)).Bind(2, deleted ? 1 : 0).Bind(3, schema ? SearchText(*schema, fields) : "")
      .Bind(4, NowIso()).Bind(5, id)
      .Run();
}

Status LocalStore::DiscardInflight(const std::string& refused_record, std::vector<std::string>* records) {
  records->clear();
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  std::string cs_id;
  {
    auto st = db_.Prepare("SELECT changeset_id FROM inflight ORDER BY created_at LIMIT 1");
    if (!st.Step()) return Status::Precondition("no change set is waiting for the server");
    cs_id = st.Text(0);
  }
  std::vector<std::string> in_set;
  {
    auto st = db_.Prepare("SELECT DISTINCT record_id FROM outbox WHERE changeset_id = ?");
    st.Bind(1, cs_id);
    while (st.Step()) in_set.push_back(st.Text(0));
  }
  if (std::find(in_set.begin(), in_set.end(), refused_record) != in_set.end()) records->push_back(refused_record);
  else *records = in_set;
  Status s;
  for (const auto& id : *records) {
    s = db_.Prepare("DELETE FROM outbox WHERE record_id = ?").Bind(1, id).Run();
    if (!s.ok()) return s;
    auto st = db_.Prepare("SELECT form, server_fields, server_deleted FROM records WHERE id = ?");
    st.Bind(1, id);
    if (!st.Step()) continue;
    std::string form = st.Text(0);
    bool never_sent = st.IsNull(1);
    std::string server_fields = st.Text(1);
    bool server_deleted = st.Int(2) != 0;
    st.Reset();
    s = never_sent ? db_.Prepare("DELETE FROM records WHERE id = ?").Bind(1, id).Run()
                   : Rebase(id, form, server_fields, server_deleted);
    if (!s.ok()) return s;
  }
  // The rest goes out again, as a new change set.
  s = db_.Prepare("UPDATE outbox SET changeset_id = NULL WHERE changeset_id = ?").Bind(1, cs_id).Run();
  if (s.ok()) s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, cs_id).Run();
  if (s.ok()) s = SetSetting("refused", "");
  if (!s.ok()) return s;
  return tx.Commit();
}

Status LocalStore::Info(StoreInfo* out) {
  out->device_id = device_id_;
  out->commune = commune_;
  out->server_url = Setting("server_url");
  out->user = Setting("user");
  out->cursor = std::atoll(Setting("cursor", "0").c_str());
  out->last_sync = Setting("last_sync");
  auto count = [&](const char* q) {
    auto st = db_.Prepare(q);
    return st.Step() ? st.Int(0) : 0;
  };
  out->pending_changes = count("SELECT COUNT(*) FROM outbox");
  out->records = count("SELECT COUNT(*) FROM records WHERE deleted = 0");
  out->conflicts = count("SELECT COUNT(*) FROM records WHERE conflict = 1");
  out->files_waiting = count("SELECT COUNT(*) FROM uploads WHERE done = 0");
  return Status::Ok();
}

}  // namespace ocop::client
