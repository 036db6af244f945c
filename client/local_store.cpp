#include "client/local_store.h"
#include "client/local_store_internal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <tuple>
#include <cctype>
#include <map>
#include <set>

#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/messages.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "sync/codec.h"
#include "sync/patch.h"
#include "sync/merge.h"
#include "shared/hash.h"

namespace ocop::client {

using json::Object;
using json::Var;

std::string Record::status() const { return fields.has("status") ? fields.getValue<std::string>("status") : ""; }

std::string LocalStore::DbPath(const std::string& home) { return home + "/ocop.db"; }

namespace internal {

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

}  // namespace internal

namespace {

using internal::FileExists;
using internal::MakeDirs;
using internal::ParseFields;

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
  // Nor copied from the log back into the file every 4 MB (SQLite's default
  // checkpoint), which in a big sync is every commit: every 32 MB, and the
  // log cut back to 8 MB afterwards.
  if (s.ok()) s = store->db_.Exec("PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=8388608");
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
  // The definitions the server published, as last fetched (checked when they were).
  catalog_ = &FormCatalog::Embedded();
  definitions::Published published;
  if (definitions::FromJson(Setting("published_definitions"), &published).ok() && !published.empty() &&
      definitions::Install(published).ok())
    catalog_ = &FormCatalog::Default();
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

Status LocalStore::SetPublishedDefinitions(const definitions::Published& published, DefinitionsTaken* taken) {
  // Checked whole before anything is kept: the device goes on with the definitions it has otherwise.
  std::set<std::string> sheets_before;
  for (const auto& id : evaluation::SheetIds()) sheets_before.insert(id);
  definitions::Published before;
  (void)definitions::FromJson(Setting("published_definitions"), &before);
  Status s = definitions::Install(published);
  if (!s.ok()) return s;
  const FormCatalog& now = FormCatalog::Default();
  s = SetSetting("published_definitions", definitions::ToJson(published, ""));
  if (!s.ok()) return s;
  for (const auto& name : now.Names())
    for (const FormSchema* v : now.Versions(name))
      if (!catalog_->Find(name, v->version)) taken->forms.emplace_back(name, v->version);
  for (const auto& id : evaluation::SheetIds())
    if (!sheets_before.count(id)) taken->sheets.push_back(id);
  taken->catalogue = published.catalogue != before.catalogue;
  catalog_ = &now;
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

Status LocalStore::ResolveId(const std::string& given, std::string* id) {
  if (given.size() == 36 && ids::IsUuid(given)) {
    *id = given;
    return Status::Ok();
  }
  // An idea's receipt number ("12/PĐK-26-253-2026") names it too.
  if (given.find('/') != std::string::npos) {
    auto st = db_.Prepare("SELECT id FROM records WHERE form = 'idea' AND json_extract(fields, '$.receipt_no') = ? LIMIT 2");
    st.Bind(1, text::ToNfc(given));
    std::vector<std::string> found;
    while (st.Step()) found.push_back(st.Text(0));
    if (found.size() == 1) {
      *id = found[0];
      return Status::Ok();
    }
    if (found.empty()) return Status::NotFound("no idea form with receipt number '" + given + "' on this device");
    return Status::Invalid("receipt number '" + given + "' is on several idea forms; give the id");
  }
  // Hyphens are optional and case does not matter: "0193A2B4C5" finds 0193a2b4-c5….
  std::string digits;
  for (char ch : given) {
    if (ch == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return Status::Invalid("'" + given + "' is not a record id");
    digits.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  if (digits.size() < 6) return Status::Invalid("id '" + given + "' is too short: give at least 6 characters");
  // The start of the id (8 digits or more), or its end (6 or more: ids made
  // the same day share their start; lists show the end, "…3f9a2c").
  std::vector<std::string> found;
  if (digits.size() >= 8) {
    auto st = db_.Prepare("SELECT id FROM records WHERE replace(id, '-', '') LIKE ? LIMIT 2");
    st.Bind(1, digits + "%");
    while (st.Step()) found.push_back(st.Text(0));
  }
  if (found.empty()) {
    auto st = db_.Prepare("SELECT id FROM records WHERE replace(id, '-', '') LIKE ? LIMIT 2");
    st.Bind(1, "%" + digits);
    while (st.Step()) found.push_back(st.Text(0));
  }
  if (found.empty()) return Status::NotFound("no record with id '" + given + "'");
  if (found.size() > 1) return Status::Invalid("id '" + given + "' matches several records; give more characters");
  *id = found[0];
  return Status::Ok();
}

Status LocalStore::ResolveReferences(const FormSchema& schema, const std::vector<std::string>& keys, Object* fields) {
  for (const auto& k : keys) {
    const FieldDef* def = schema.Field(k);
    if (!def || def->type != FieldType::kRef || !fields->has(k) || !fields->get(k).isString()) continue;
    std::string given = fields->getValue<std::string>(k), id;
    if (given.empty()) continue;
    Status s = ResolveId(given, &id);
    Record target;
    if (s.ok()) s = Get(id, &target);
    if (s.code() == Code::kNotFound || (s.ok() && (target.deleted || (!def->ref_form.empty() && target.form != def->ref_form))))
      return Status::Invalid(msg::FieldName(*def) + ": '" + given +
                             "' names no such record on this device; sync first, or check the id");
    if (!s.ok()) return Status::Invalid(msg::FieldName(*def) + ": " + s.message());
    fields->set(k, id);
  }
  return Status::Ok();
}

Status LocalStore::PrepareNew(const std::string& form, Object fields, const std::string& unit_in, Record* out) {
  // Records belong to a commune: this device's, or one below this device's unit.
  const UnitTree& units = units_;
  std::string unit = unit_in.empty() ? commune_ : unit_in;
  if (!units.Find(unit)) return Status::Invalid("unknown unit code '" + unit + "'");
  if (!units.Children(unit).empty())
    return Status::Invalid("unit " + unit + " is not a commune: give the commune with --unit CODE");
  if (!units.IsWithin(unit, commune_))
    return Status::Invalid("unit " + unit + " is not within this device's unit " + commune_);
  // A commune merged into another keeps its records, but new ones go to the
  // commune in force (a device of the old commune itself still records there
  // until it is set up again: its officer may not have heard yet).
  if (const Unit* u = units.Find(unit); unit != commune_ && u && !u->succeeded_by.empty()) {
    const Unit* now = units.InForce(unit);
    return Status::Invalid("unit " + unit + " (" + u->name + ") was merged into " + (now ? now->code + " (" + now->name + ")" : u->succeeded_by) +
                           " on " + dates::ToDisplay(u->valid_to) + ": record new forms there");
  }
  const FormSchema* schema = catalog_->Find(form);
  if (!schema) return UnknownForm(form);
  std::vector<std::string> given;
  fields.getNames(given);
  Status s = ResolveReferences(*schema, given, &fields);
  if (s.ok()) s = ValidateRecord(*schema, &fields, Completeness::kComplete, /*allow_system=*/false);
  bool filled = false;
  if (s.ok()) s = FillLinked(form, &fields, &filled);
  if (s.ok() && filled) s = ValidateRecord(*schema, &fields, Completeness::kComplete, /*allow_system=*/false);
  if (!s.ok()) return s;
  fields.set("status", schema->initial_status);
  StampFormVersion(*schema, &fields);
  ApplyComputedFields(form, &fields);
  Record r;
  r.id = ids::NewUuid();
  r.form = form;
  r.unit = unit;
  r.fields = fields;
  r.created_at = r.updated_at = NowIso();
  r.pending = true;
  *out = std::move(r);
  return Status::Ok();
}

// Writes a prepared record and its outbox change; the caller holds the transaction.
Status LocalStore::InsertNew(const Record& r) {
  const FormSchema* schema = catalog_->Shown(r.form, r.fields);
  if (!schema) return UnknownForm(r.form);
  std::vector<sync::FieldChange> changes;
  std::vector<std::string> names;
  r.fields.getNames(names);
  for (const auto& k : names) changes.push_back({k, "null", json::ToText(r.fields.get(k))});
  Status s = db_.Prepare("INSERT INTO records(id, form, unit, fields, created_at, updated_at, search_text) VALUES (?,?,?,?,?,?,?)")
                 .Bind(1, r.id).Bind(2, r.form).Bind(3, r.unit).Bind(4, json::ToText(r.fields))
                 .Bind(5, r.created_at).Bind(6, r.updated_at).Bind(7, SearchText(*schema, r.fields))
                 .Run();
  if (!s.ok()) return s;
  Record none;
  return WriteChange(none, r, sync::op::kCreate, changes);
}

Status LocalStore::Create(const std::string& form, Object fields, Record* out, const std::string& unit_in) {
  Record r;
  Status s = PrepareNew(form, std::move(fields), unit_in, &r);
  if (!s.ok()) return s;
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  s = InsertNew(r);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  *out = r;
  return Status::Ok();
}

Status LocalStore::CreateMany(const std::vector<Record>& prepared) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  for (const Record& r : prepared) {
    Status s = InsertNew(r);
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::Update(const std::string& id, const Object& changes, Record* out, bool allow_system) {
  Record before;
  Status s = Get(id, &before);
  if (!s.ok()) return s;
  if (before.deleted) return Status::Precondition("record " + id + " is deleted");
  // Edited with the version of its form it was written with; one this device
  // has not fetched yet is shown, not edited.
  const FormSchema* schema = catalog_->ForRecord(before.form, before.fields);
  if (!schema && catalog_->Find(before.form))
    return Status::Precondition("record " + id + " was written with version " + std::to_string(FormVersionOf(before.fields)) +
                                " of form '" + before.form + "', which this device does not have yet: sync to fetch it, then edit");
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
  s = ResolveReferences(*schema, names, &merged);
  if (s.ok()) s = ValidateRecord(*schema, &merged, Completeness::kComplete, /*allow_system=*/true);
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
  // The server's copy moves aside first when it was `fields` itself (server_same).
  s = db_.Prepare(
          "UPDATE records SET server_fields = CASE WHEN server_same = 1 THEN fields ELSE server_fields END, "
          "server_same = 0, fields = ?, updated_at = ?, search_text = ? WHERE id = ?")
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
    Status filled = FillSearchText();
    if (!filled.ok()) return filled;
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

Status LocalStore::FillSearchText() {
  // Pulled records come without it (folding every text field of 10,000 forms
  // would cost a pull a third of its time); the first search pays, once.
  std::vector<std::tuple<std::string, std::string, std::string>> missing;  // id, form, fields
  {
    auto st = db_.Prepare("SELECT id, form, fields FROM records WHERE search_text = ''");
    while (st.Step()) missing.emplace_back(st.Text(0), st.Text(1), st.Text(2));
    if (!st.status().ok()) return st.status();
  }
  if (missing.empty()) return Status::Ok();
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto set = db_.Prepare("UPDATE records SET search_text = ? WHERE id = ?");
  for (const auto& [id, form, fields] : missing) {
    Object parsed = ParseFields(fields);
    const FormSchema* schema = catalog_->Shown(form, parsed);
    std::string text = schema ? SearchText(*schema, parsed) : std::string();
    if (text.empty()) continue;  // nothing to search in this record: asked again next time, cheaply
    Status s = set.Bind(1, text).Bind(2, id).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::UnnumberedIdeas(std::vector<std::string>* ids) {
  auto st = db_.Prepare(
      "SELECT id FROM records WHERE form = 'idea' AND deleted = 0 AND unit = ? "
      "AND json_extract(fields, '$.status') <> 'draft' AND json_extract(fields, '$.receipt_no') IS NULL");
  st.Bind(1, commune_);
  ids->clear();
  while (st.Step()) ids->push_back(st.Text(0));
  return st.status();
}

Status LocalStore::LocalChangesSince(const std::string& at, std::map<std::string, std::vector<HistoryEntry>>* out) {
  auto st = db_.Prepare(
      "SELECT record_id, change_id, field, old_value, new_value, author, device, at, origin FROM history "
      "WHERE origin = 'local' AND at >= ? ORDER BY at, id");
  st.Bind(1, at);
  out->clear();
  while (st.Step())
    (*out)[st.Text(0)].push_back({st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6), st.Text(7), st.Text(8)});
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
  out->pending_records = count("SELECT COUNT(DISTINCT record_id) FROM outbox");
  out->records = count("SELECT COUNT(*) FROM records WHERE deleted = 0");
  out->conflicts = count("SELECT COUNT(*) FROM records WHERE conflict = 1");
  out->files_waiting = count("SELECT COUNT(*) FROM uploads WHERE done = 0");
  return Status::Ok();
}

}  // namespace ocop::client
