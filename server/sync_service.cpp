#include "server/sync_service.h"
#include "shared/receipt.h"

#include <set>

#include "server/file_store.h"
#include "server/password.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "shared/workflow.h"
#include "sync/carried.h"
#include "sync/codec.h"
#include "sync/columns.h"
#include "sync/merge.h"
#include "sync/patch.h"

namespace ocop::server {

using json::Object;
using json::Var;

sync::RecordState ToRecordState(const StoredRecord& r) {
  sync::RecordState s;
  s.id = r.id;
  s.form = r.form;
  s.unit = r.unit;
  s.version = r.version;
  s.deleted = r.deleted;
  s.conflict = r.conflict;
  s.fields = r.fields;
  s.updated_hlc = r.updated_hlc;
  s.updated_by = r.updated_by;
  return s;
}

SyncService::SyncService(ServerStore& store, UnitTree units, const FormCatalog& catalog, const Clock& clock,
                         ServiceLimits limits)
    : store_(store), units_(std::make_shared<const UnitTree>(std::move(units))), catalog_(catalog), clock_(clock), limits_(limits), hlc_(clock) {}

std::shared_ptr<const UnitTree> SyncService::Units() const {
  std::lock_guard<std::mutex> lock(units_mu_);
  return units_;
}

Status SyncService::ReplaceUnits(const AuthUser& admin, UnitTree units) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators import unit lists");
  Status s = units.Validate();
  if (!s.ok()) return s;
  // Saved first: if the store refuses, the server keeps serving the old tree.
  s = store_.SaveUnits(units);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(units_mu_);
  units_ = std::make_shared<const UnitTree>(std::move(units));
  return Status::Ok();
}

Status SyncService::RefreshUnits(bool* changed) {
  *changed = false;
  UnitTree stored;
  Status s = store_.LoadUnits(&stored);
  if (!s.ok()) return s;
  if (stored.size() == 0) return Status::Ok();  // nothing saved yet: keep the tree in force
  auto current = Units();
  if (stored.ToCsv() == current->ToCsv()) return Status::Ok();
  s = stored.Validate();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(units_mu_);
  units_ = std::make_shared<const UnitTree>(std::move(stored));
  *changed = true;
  return Status::Ok();
}

std::string SyncService::NowIso() const { return dates::IsoTimestamp(clock_.NowMillis()); }

std::string SyncService::Tick() {
  std::lock_guard<std::mutex> lock(hlc_mu_);
  return hlc_.Tick();
}

bool SyncService::InScope(const AuthUser& user, const std::string& unit_path) const {
  return unit_path.compare(0, user.unit_path.size(), user.unit_path) == 0;
}

// ---- accounts ----

// The rules every account obeys, whoever writes it: officers sit on a commune,
// coordinators on a unit above communes, administrators anywhere.
Status SyncService::CheckAccount(const std::string& role, const std::string& unit) const {
  if (role != "officer" && role != "coordinator" && role != "admin")
    return Status::Invalid("role must be officer, coordinator or admin");
  auto units = Units();
  const Unit* u = units->Find(unit);
  if (!u) return Status::Invalid("unknown unit code '" + unit + "'");
  bool leaf = units->Children(unit).empty();
  if (role == "officer" && !leaf) return Status::Invalid("an officer belongs to a commune; " + unit + " has units below it");
  if (role == "coordinator" && leaf) return Status::Invalid("a coordinator belongs to a unit above communes; " + unit + " is a commune");
  return Status::Ok();
}

// New accounts and moves go to units still in force; accounts already in a
// closed unit keep working until an administrator moves them.
Status SyncService::CheckUnitOpen(const std::string& unit) const {
  const Unit* u = Units()->Find(unit);
  if (u && !u->valid_to.empty())
    return Status::Invalid("unit " + unit + " (" + u->name + ") was closed on " + dates::ToDisplay(u->valid_to) +
                           "; choose the unit that replaced it");
  return Status::Ok();
}

Status SyncService::AddUser(const std::string& name, const std::string& role, const std::string& unit,
                            const std::string& password) {
  if (name.empty() || name.size() > 64) return Status::Invalid("user name must be 1 to 64 characters");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return Status::Invalid("user name may hold only letters, digits, '.', '_' and '-'");
  Status s = CheckAccount(role, unit);
  if (s.ok()) s = CheckUnitOpen(unit);
  if (!s.ok()) return s;
  if (password.size() < 8) return Status::Invalid("password must have at least 8 characters");
  return store_.CreateUser({name, role, unit, HashPassword(password, limits_.pbkdf2_iterations), false});
}

Status SyncService::AddUserAs(const AuthUser& admin, const std::string& name, const std::string& role,
                              const std::string& unit, const std::string& password) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  if (!Units()->IsWithin(unit, admin.unit)) return Status::Denied("unit " + unit + " is outside your scope");
  return AddUser(name, role, unit, password);
}

Status SyncService::ListUsers(const AuthUser& admin, std::vector<UserRow>* out) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  std::vector<UserRow> all;
  Status s = store_.ListUsers(&all);
  if (!s.ok()) return s;
  auto units = Units();
  out->clear();
  for (auto& u : all) {
    if (!units->IsWithin(u.unit, admin.unit)) continue;
    u.password_hash.clear();  // never leaves the store's side
    out->push_back(std::move(u));
  }
  return Status::Ok();
}

Status SyncService::UpdateUser(const AuthUser& admin, const std::string& name, const UserUpdate& change) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  UserRow row;
  Status s = store_.GetUser(name, &row);
  if (s.code() == Code::kNotFound) return Status::NotFound("no user '" + name + "'");
  if (!s.ok()) return s;
  auto units = Units();
  // An account outside the administrator's scope is answered as absent.
  if (!units->IsWithin(row.unit, admin.unit)) return Status::NotFound("no user '" + name + "' in your scope");
  if (name == admin.name && ((change.disabled && *change.disabled) || (change.role && *change.role != row.role) ||
                             (change.unit && *change.unit != row.unit)))
    return Status::Invalid("you cannot disable your own account or change its role or unit; ask another administrator");
  if (change.role) row.role = *change.role;
  if (change.unit) {
    if (!units->IsWithin(*change.unit, admin.unit)) return Status::Denied("unit " + *change.unit + " is outside your scope");
    if (*change.unit != row.unit && !(s = CheckUnitOpen(*change.unit)).ok()) return s;
    row.unit = *change.unit;
  }
  s = CheckAccount(row.role, row.unit);
  if (!s.ok()) return s;
  bool end_sessions = false;
  if (change.password) {
    if (change.password->size() < 8) return Status::Invalid("password must have at least 8 characters");
    row.password_hash = HashPassword(*change.password, limits_.pbkdf2_iterations);
    end_sessions = true;
  }
  if (change.disabled) {
    end_sessions = end_sessions || (*change.disabled && !row.disabled);
    row.disabled = *change.disabled;
  }
  // A new role or unit changes what the account may see: its devices log in again.
  if (change.role || change.unit) end_sessions = true;
  s = store_.UpdateUser(row);
  if (!s.ok()) return s;
  return end_sessions ? store_.RevokeUserTokens(name) : Status::Ok();
}

Status SyncService::Login(const std::string& user, const std::string& password, const std::string& device,
                          LoginResult* out, const std::string& address, int64_t ttl_ms,
                          const std::string& device_key) {
  int64_t wait = throttle_.WaitMs(user, address, clock_.NowMillis());
  if (wait > 0)
    return Status::Exhausted("too many failed logins; try again in " + std::to_string((wait + 999) / 1000) + " s");
  UserRow row;
  Status s = store_.GetUser(user, &row);
  bool verified = false;
  if (s.ok() && !row.disabled) {
    if (!password_checks_.try_acquire_for(std::chrono::seconds(5)))
      return Status::Unavailable("the server is busy checking passwords; try again shortly");
    verified = VerifyPassword(password, row.password_hash);
    password_checks_.release();
  }
  // The same answer for a wrong name and a wrong password: no user enumeration.
  if (!verified) {
    if (s.code() != Code::kNotFound && !s.ok()) return s;
    throttle_.Failed(user, address, clock_.NowMillis());
    return Status::Unauth("wrong user name or password");
  }
  throttle_.Succeeded(user, address);
  std::string token = NewToken();
  TokenRow t{HashToken(token), row.name, device, clock_.NowMillis() + (ttl_ms > 0 ? std::min(ttl_ms, limits_.token_ttl_ms) : limits_.token_ttl_ms), false};
  s = store_.SaveToken(t);
  if (!s.ok()) return s;
  if (!device_key.empty()) {
    if (device_key.size() != 64 || device_key.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Status::Invalid("'device_key' must be 64 lower-case hex digits");
    if (!ids::IsUuid(device)) return Status::Invalid("a device registering a key needs a device id");
    s = store_.SaveDeviceKey(device, row.name, device_key);
    if (!s.ok()) return s;
  }
  *out = {token, t.expires_ms, row.name, row.role, row.unit};
  return Status::Ok();
}

Status SyncService::Authenticate(const std::string& bearer, AuthUser* out) {
  if (bearer.empty()) return Status::Unauth("missing bearer token; log in first");
  if (bearer.size() != 64) return Status::Unauth("malformed token");
  TokenRow t;
  Status s = store_.GetToken(HashToken(bearer), &t);
  if (s.code() == Code::kNotFound) return Status::Unauth("unknown token; log in again");
  if (!s.ok()) return s;
  if (t.revoked) return Status::Unauth("token was revoked; log in again");
  if (t.expires_ms <= clock_.NowMillis()) return Status::Unauth("token expired; log in again");
  UserRow u;
  s = store_.GetUser(t.user, &u);
  if (!s.ok() || u.disabled) return Status::Unauth("account is disabled");
  out->name = u.name;
  out->role = u.role;
  out->unit = u.unit;
  out->device = t.device;
  // Scope is the user's unit and everything below it, administrators included.
  out->unit_path = Units()->Path(u.unit);
  return Status::Ok();
}

Status SyncService::Logout(const std::string& bearer) {
  AuthUser u;
  Status s = Authenticate(bearer, &u);
  if (!s.ok()) return s;
  return store_.RevokeToken(HashToken(bearer));
}

// ---- push ----

Status SyncService::Lookup(WriteTxn& txn, const std::string& id, RecordCache* cache, const StoredRecord** out) {
  auto it = cache->find(id);
  if (it == cache->end()) {
    StoredRecord rec;
    bool found = false;
    Status s = txn.GetRecord(id, &rec, &found);
    if (!s.ok()) return s;
    it = cache->emplace(id, found ? std::optional<StoredRecord>(std::move(rec)) : std::nullopt).first;
  }
  *out = it->second ? &*it->second : nullptr;
  return Status::Ok();
}

Status SyncService::CheckChange(const AuthUser& user, WriteTxn& txn, RecordCache* cache, sync::Change* c) {
  const FormSchema* schema = catalog_.Find(c->form);
  if (!schema) return Status::Invalid("record " + c->record_id + ": unknown form '" + c->form + "'");
  const StoredRecord* stored = nullptr;
  Status s = Lookup(txn, c->record_id, cache, &stored);
  if (!s.ok()) return s;
  bool found = stored != nullptr;
  static const StoredRecord kNone;
  const StoredRecord& existing = found ? *stored : kNone;
  std::string path;
  if (found) {
    if (existing.form != c->form) return Status::Invalid("record " + c->record_id + " is a '" + existing.form + "' form, not '" + c->form + "'");
    if (existing.unit != c->unit) return Status::Invalid("record " + c->record_id + " belongs to unit " + existing.unit + "; a change cannot move it");
    path = existing.unit_path;
  } else {
    if (c->op != sync::op::kCreate)
      return Status::NotFound("record " + c->record_id + " does not exist on the server (" + c->op + " before create)");
    auto units = Units();  // one tree for the whole check, even if an import swaps it meanwhile
    if (!units->Find(c->unit)) return Status::Invalid("record " + c->record_id + ": unknown unit '" + c->unit + "'");
    if (!units->Children(c->unit).empty())
      return Status::Invalid("record " + c->record_id + ": unit " + c->unit + " is not a commune");
    path = units->Path(c->unit);
  }
  if (!InScope(user, path))
    return Status::Denied("record " + c->record_id + " (unit " + c->unit + ") is outside the scope of user " + user.name);
  // Values: known fields, valid, normalised. Computed fields are dropped: the
  // server computes them itself after the merge.
  std::vector<sync::FieldChange> kept;
  for (auto& f : c->fields) {
    if (f.key == "_deleted") continue;
    const FieldDef* def = schema->Field(f.key);
    if (!def) return Status::Invalid("record " + c->record_id + ": form '" + c->form + "' has no field '" + f.key + "'");
    if (def->computed) continue;
    Var in, norm;
    s = json::Parse(f.new_value, &in);
    if (!s.ok()) return Status::Invalid("record " + c->record_id + ": field '" + f.key + "': " + s.message());
    s = CheckValue(*def, in, &norm);
    if (!s.ok()) return Status::Invalid("record " + c->record_id + ": " + s.message());
    f.new_value = json::ToText(norm);
    Var old;
    s = json::Parse(f.old_value, &old);
    if (!s.ok()) return Status::Invalid("record " + c->record_id + ": field '" + f.key + "' (old value): " + s.message());
    f.old_value = json::ToText(old);
    kept.push_back(f);
  }
  c->fields = std::move(kept);
  s = CheckWorkflow(user, *schema, found ? &existing : nullptr, c);
  if (!s.ok()) return s;
  s = CheckLinks(txn, cache, found ? &existing : nullptr, *c);
  if (!s.ok()) return Status(s.code(), "record " + c->record_id + ": " + s.message());
  if (c->op == sync::op::kCreate && !found) {
    Object fields;
    for (const auto& f : c->fields) {
      Var v;
      (void)json::Parse(f.new_value, &v);
      if (!v.isEmpty()) fields.set(f.key, v);
    }
    s = CheckRequiredAndCrossField(*schema, fields);
    if (!s.ok()) return Status::Invalid("record " + c->record_id + ": " + s.message());
  }
  c->author = user.name;  // never trust the client's word for who it is
  return Status::Ok();
}

namespace {
// A record's fields after a change, as far as the change alone tells.
Object FieldsAfter(const StoredRecord* existing, const sync::Change& c) {
  Object after;
  if (existing) {
    Object::Ptr current;
    if (json::ParseObject(existing->fields, &current).ok()) after = *current;
  }
  for (const auto& f : c.fields) {
    Var v;
    if (json::Parse(f.new_value, &v).ok()) {
      if (v.isEmpty()) after.remove(f.key);
      else after.set(f.key, v);
    }
  }
  return after;
}

bool Touches(const sync::Change& c, std::initializer_list<const char*> keys) {
  for (const auto& f : c.fields)
    for (const char* k : keys)
      if (f.key == k) return true;
  return false;
}

std::string Text(const Object& o, const char* key) {
  return o.has(key) && o.get(key).isString() ? o.getValue<std::string>(key) : "";
}
}  // namespace

Status SyncService::CheckLinks(WriteTxn& txn, RecordCache* cache, const StoredRecord* existing, const sync::Change& c) {
  if (c.op == sync::op::kDelete) return Status::Ok();
  if (c.form == "evaluation" &&
      Touches(c, {"scores", "sheet", "product_group", "confirmation_id", "idea_id", "unrankable_reason"})) {
    // The device filled the localisation criteria from its copy of the
    // confirmation; the server checks them against its own.
    Object after = FieldsAfter(existing, c);
    Status s = evaluation::CheckSheetFields(after);
    if (!s.ok()) return s;
    std::string id = Text(after, "confirmation_id");
    if (id.empty()) return Status::Ok();  // a required field, reported as such
    const StoredRecord* confirmation = nullptr;
    s = Lookup(txn, id, cache, &confirmation);
    if (!s.ok()) return s;
    Object::Ptr fields;
    if (confirmation && (confirmation->deleted || confirmation->form != "confirmation" ||
                         !json::ParseObject(confirmation->fields, &fields).ok()))
      confirmation = nullptr;
    return evaluation::CheckAgainstConfirmation(after, id, confirmation ? fields.get() : nullptr);
  }
  if (c.form == "plan" && Touches(c, {"status", "idea_id"})) {
    Object after = FieldsAfter(existing, c);
    if (Text(after, "status") != "submitted") return Status::Ok();
    // A business plan follows a selected idea.
    std::string id = Text(after, "idea_id");
    const StoredRecord* idea = nullptr;
    Status s = Lookup(txn, id, cache, &idea);
    if (!s.ok()) return s;
    if (!idea || idea->deleted || idea->form != "idea") return Status::Precondition("the idea " + id + " is not on the server");
    Object::Ptr fields;
    std::string status = json::ParseObject(idea->fields, &fields).ok() ? Text(*fields, "status") : "";
    if (status != "selected")
      return Status::Precondition("the idea " + id + " is not selected (status " + status +
                                  "); a business plan follows a selected idea");
  }
  return Status::Ok();
}

Status SyncService::CheckCertificate(WriteTxn& txn, const std::string& unit_path, const Object& cert) {
  if (Text(cert, "status") == "revoked") return Status::Ok();
  std::vector<StoredRecord> rows;
  Status s = txn.ListRecords(unit_path, "evaluation", &rows);
  if (!s.ok()) return s;
  std::string idea = Text(cert, "idea_id");
  std::vector<evaluation::SheetRecord> sheets;
  for (const auto& r : rows) {
    Object::Ptr f;
    if (json::ParseObject(r.fields, &f).ok() && Text(*f, "idea_id") == idea) sheets.push_back({r.id, r.unit, *f});
  }
  std::string level = Text(cert, "level");
  int year = cert.has("round_year") ? static_cast<int>(cert.getValue<Poco::Int64>("round_year")) : 0;
  int stars = cert.has("stars") ? static_cast<int>(cert.getValue<Poco::Int64>("stars")) : 0;
  for (const auto& council : evaluation::CouncilResults(sheets)) {
    if (council.level != level || council.year != year) continue;
    if (!council.rankable)
      return Status::Precondition("the product cannot be ranked: all raw materials are imported or of unknown origin");
    if (council.stars < evaluation::kCertifiedFromStars)
      return Status::Precondition("a certificate needs 3 stars or more; the council gave " + std::to_string(council.stars));
    if (council.stars != stars)
      return Status::Invalid("the certificate says " + std::to_string(stars) + " stars but the " + level +
                             " council's result is " + std::to_string(council.stars) + " stars");
    return Status::Ok();
  }
  return Status::Precondition("no council result for this product at level " + level + " in " + std::to_string(year));
}

Status SyncService::CheckWorkflow(const AuthUser& user, const FormSchema& schema, const StoredRecord* existing,
                                  sync::Change* c) {
  sync::FieldChange* status = nullptr;
  for (auto& f : c->fields)
    if (f.key == "status") status = &f;
  if (c->op == sync::op::kCreate && !existing && !status) {
    // A new record starts in the form's first status, whatever the client left out.
    c->fields.push_back({"status", "null", json::Quote(schema.initial_status)});
    return Status::Ok();
  }
  if (!status) return Status::Ok();
  Var from_v, to_v;
  (void)json::Parse(status->old_value, &from_v);
  (void)json::Parse(status->new_value, &to_v);
  if (to_v.isEmpty()) return Status::Invalid("record " + c->record_id + ": the status cannot be cleared");
  // A record created on the device starts in the first status, even when the
  // change that reaches us already carries later decisions.
  std::string from = from_v.isEmpty() ? schema.initial_status : from_v.convert<std::string>();
  std::string to = to_v.convert<std::string>();
  if (from == to) return Status::Ok();  // no decision in this change
  Object after;
  if (existing) {
    Object::Ptr current;
    if (json::ParseObject(existing->fields, &current).ok()) after = *current;
  }
  for (const auto& f : c->fields) {
    Var v;
    if (json::Parse(f.new_value, &v).ok()) {
      if (v.isEmpty()) after.remove(f.key);
      else after.set(f.key, v);
    }
  }
  // The decision's date is when the device made it (offline), never later than now.
  int64_t ms = clock_.NowMillis();
  int32_t counter;
  int64_t made_ms;
  if (HybridClock::Decode(c->hlc, &made_ms, &counter) && made_ms < ms) ms = made_ms;
  Status s = workflow::CheckTransition(c->form, from, to, user.role, after, dates::IsoDateFromMillis(ms));
  if (!s.ok()) return Status(s.code(), "record " + c->record_id + ": " + s.message());
  return Status::Ok();
}

Status SyncService::Push(const AuthUser& user, sync::ChangeSet cs, sync::PushResult* out) {
  Status s = sync::ValidateChangeSet(cs, limits_.max_changes_per_push);
  if (!s.ok()) return s;
  std::string now = NowIso();
  std::string server_hlc = Tick();
  return store_.RunWrite([&](WriteTxn& txn) -> Status {
    std::string stored;
    bool seen = false;
    Status st = txn.FindChangeSet(cs.id, &stored, &seen);
    if (!st.ok()) return st;
    if (seen) {
      // Exactly once: the first answer again, but only for the same changes.
      // An id reused for other changes is a client bug or a forgery: refused.
      st = sync::DecodeJson(stored, out);
      if (!st.ok()) return st;
      std::set<std::string> answered, sent;
      for (const auto& o : out->outcomes) answered.insert(o.change_id);
      for (const auto& c : cs.changes) sent.insert(c.change_id);
      if (answered != sent)
        return Status::Precondition("change set " + cs.id + " was already applied with other changes; a new change set needs a new id");
      return Status::Ok();
    }

    // Check everything before changing anything: a change set is applied whole or not at all.
    std::set<std::string> ids;
    RecordCache cache;
    for (auto& c : cs.changes) {
      if (!ids.insert(c.change_id).second) return Status::Invalid("change " + c.change_id + " appears twice");
      st = CheckChange(user, txn, &cache, &c);
      if (!st.ok()) return st;
    }

    sync::PushResult result;
    result.changeset_id = cs.id;
    result.server_hlc = server_hlc;
    for (const auto& c : cs.changes) {
      sync::ChangeOutcome oc;
      oc.change_id = c.change_id;
      oc.record_id = c.record_id;
      bool dup = false;
      st = txn.FindChange(c.change_id, &oc.result, &oc.version, &dup);
      if (!st.ok()) return st;
      if (dup) {
        result.outcomes.push_back(oc);
        continue;
      }
      const StoredRecord* known = nullptr;
      st = Lookup(txn, c.record_id, &cache, &known);
      if (!st.ok()) return st;
      bool found = known != nullptr;
      StoredRecord rec = found ? *known : StoredRecord();
      sync::CurrentRecord cur;
      cur.exists = found;
      if (found) {
        cur.deleted = rec.deleted;
        cur.version = rec.version;
        Object::Ptr f;
        if (json::ParseObject(rec.fields, &f).ok()) cur.fields = *f;
      } else {
        rec.id = c.record_id;
        rec.form = c.form;
        rec.unit = c.unit;
        rec.unit_path = Units()->Path(c.unit);
        rec.created_at = now;
      }
      sync::MergeResult m = sync::Merge(cur, c);
      ApplyComputedFields(c.form, &m.fields);
      if (c.form == "certificate" && !m.deleted) {
        // Checked here, not with the other rules: the council's sheets often
        // arrive in this same change set, just before the certificate, and are
        // in the transaction by now. A refusal still rolls back the whole set.
        st = CheckCertificate(txn, rec.unit_path, m.fields);
        if (!st.ok()) return Status(st.code(), "record " + c.record_id + ": " + st.message());
      }
      std::string new_fields = json::ToText(m.fields);
      bool conflict_now = !m.conflicts.empty();
      bool changed = !found || new_fields != rec.fields || m.deleted != rec.deleted || (conflict_now && !rec.conflict);
      if (changed) {
        if (found) rec.changed_keys = sync::ChangedKeys(cur.fields, m.fields);
        rec.fields = new_fields;
        rec.deleted = m.deleted;
        rec.conflict = rec.conflict || conflict_now;
        rec.version = rec.version + 1;
        rec.updated_hlc = c.hlc;
        rec.updated_by = user.name;
        rec.updated_at = now;
        rec.updated_device = user.device;
        // A coalesced delete drops the device's last field edits, so the device's
        // copy of a deleted record may differ from the tombstone: send it back.
        rec.echo_applied = m.kind == sync::MergeResult::Kind::kApplied && c.op != sync::op::kDelete;
        // For the same reason a delete is never sent as a patch: the device's
        // copy may hold edits the tombstone does not. Recorded as new at this
        // seq, the record goes whole to every device.
        if (c.op == sync::op::kDelete) rec.created_seq = 0;
        st = txn.PutRecord(&rec);
        if (!st.ok()) return st;
        cache[c.record_id] = rec;
      }
      if (!m.applied.empty()) {
        st = txn.AddAudit({c.record_id, c.change_id, m.applied, user.name, c.device, c.hlc, now, c.op});
        if (!st.ok()) return st;
      }
      std::vector<sync::FieldChange> held;
      for (const auto& fc : m.conflicts) {
        AuditRow last;
        bool has_last = false;
        st = txn.LastAuthor(c.record_id, fc.key, &last, &has_last);
        if (!st.ok()) return st;
        ConflictRow row{ids::NewUuid(), c.record_id, fc.key, fc.base, fc.current, fc.incoming,
                        has_last ? last.author : rec.updated_by, has_last ? last.device : "",
                        has_last ? last.change_id : "", user.name, c.device, c.change_id, c.hlc, now, "", "", ""};
        st = txn.AddConflict(row);
        if (!st.ok()) return st;
        held.push_back({fc.key, fc.base, fc.incoming});
        oc.conflict_fields.push_back(fc.key);
      }
      if (!held.empty()) {
        st = txn.AddAudit({c.record_id, c.change_id, held, user.name, c.device, c.hlc, now, "conflict"});
        if (!st.ok()) return st;
      }
      switch (m.kind) {
        case sync::MergeResult::Kind::kApplied: oc.result = sync::outcome::kApplied; break;
        case sync::MergeResult::Kind::kConflict: oc.result = sync::outcome::kConflict; break;
        default: oc.result = sync::outcome::kMerged;
      }
      oc.version = rec.version;
      st = txn.SaveChange(c.change_id, cs.id, c.record_id, oc.result, oc.version);
      if (!st.ok()) return st;
      result.outcomes.push_back(std::move(oc));
    }
    st = txn.SaveChangeSet(cs.id, user.name, cs.device, sync::EncodeJson(result));
    if (!st.ok()) return st;
    *out = std::move(result);
    return Status::Ok();
  });
}

// ---- pull ----

Status SyncService::Pull(const AuthUser& user, const PullRequest& req, sync::PullPage* out) {
  if (req.since < 0) return Status::Invalid("'since' must not be negative");
  if (req.limit < 1 || req.limit > limits_.max_pull_limit)
    return Status::Invalid("'limit' must be between 1 and " + std::to_string(limits_.max_pull_limit));
  if (req.reserve_receipts < 0 || req.reserve_receipts > 1000)
    return Status::Invalid("'reserve_receipts' must be between 0 and 1000");
  if (req.max_bytes < 0) return Status::Invalid("'max_bytes' must not be negative");
  if (req.patch_since < 0 || req.patch_since > req.since)
    return Status::Invalid("'patch_since' must be between 0 and 'since'");
  std::vector<StoredRecord> rows;
  bool more = false;
  int64_t cursor = req.since;
  Status s = store_.ReadSince(user.unit_path, req.since, req.limit, user.device, &rows, &cursor, &more);
  if (!s.ok()) return s;
  sync::PullPage page;
  page.records.reserve(rows.size());
  int64_t bytes = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    sync::RecordState state = ToRecordState(rows[i]);
    int64_t base = 0;
    if (req.patch_since > 0) {
      sync::PatchPlan plan =
          sync::PlanPatch(rows[i].created_seq, rows[i].created_version, rows[i].field_versions, req.patch_since);
      Object::Ptr current;
      if (!plan.whole && json::ParseObject(rows[i].fields, &current).ok()) {
        state.fields = sync::PatchText(*current, plan.keys);
        base = plan.base;
      }
      page.patch_bases.push_back(base);
    }
    // Pages sized by bytes for slow links: stop once the records reach
    // max_bytes (always at least one record, so every page makes progress).
    bytes += static_cast<int64_t>(state.fields.size() + state.id.size() + state.updated_hlc.size() +
                                  state.updated_by.size() + 64);
    if (req.max_bytes > 0 && bytes > req.max_bytes && i > 0) {
      if (!page.patch_bases.empty()) page.patch_bases.pop_back();
      cursor = rows[i - 1].seq;
      more = true;
      break;
    }
    page.records.push_back(std::move(state));
  }
  page.cursor = cursor;
  page.more = more;
  page.server_hlc = Tick();
  if (req.reserve_receipts > 0 && user.role == "officer") {
    int year = req.receipt_year;
    if (year < 2018 || year > 2100) return Status::Invalid("'receipt_year' must be a year between 2018 and 2100");
    int64_t first = 0, last = 0;
    // The number names the province and district, not the commune: one
    // counter per district (shared/receipt.h). Numbers used to be counted per
    // commune; a district's counter starts past every number its communes
    // already gave out, so none is given twice across the change.
    const std::string scope = ReceiptScope(*Units(), user.unit);
    std::vector<std::string> legacy = ReceiptScopeCommunes(*Units(), scope);
    s = store_.RunWrite([&](WriteTxn& txn) {
      int64_t floor = 1;
      for (const auto& commune : legacy) {
        if (commune == scope) continue;
        int64_t next = 0;
        Status st = txn.PeekReceiptCounter(commune, year, &next);
        if (!st.ok()) return st;
        floor = std::max(floor, next);
      }
      return txn.ReserveReceipts(scope, year, req.reserve_receipts, floor, &first, &last);
    });
    if (!s.ok()) return s;
    page.receipt_year = year;
    page.receipt_first = first;
    page.receipt_last = last;
  }
  *out = std::move(page);
  return Status::Ok();
}

Status SyncService::History(const AuthUser& user, const std::string& record_id, std::vector<AuditRow>* out) {
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  StoredRecord rec;
  bool found = false;
  Status s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::NotFound("no record " + record_id + " in your scope");
  return store_.Audit(record_id, out);
}

// ---- carried files ----

Status SyncService::ImportCarried(const std::string& bytes, const AuthUser* importer, CarriedImport* out) {
  sync::carried::CarriedFile file;
  Status s = sync::carried::Read(bytes, &file);
  if (!s.ok()) return s;
  if (file.kind != "changes") return Status::Invalid("this is a return file; it goes to the device it was written for");
  std::string user_name = file.user, key;
  bool found = false;
  s = store_.GetDeviceKey(file.device, &user_name, &key, &found);
  if (!s.ok()) return s;
  if (!found || user_name != file.user)
    return Status::Denied("the server knows no key of device " + file.device + " for user " + file.user +
                          ": the device must have logged in once (online) before its files can be carried");
  s = sync::carried::CheckSignature(bytes, key);
  if (!s.ok()) return s;
  UserRow row;
  s = store_.GetUser(file.user, &row);
  if (!s.ok() || row.disabled) return Status::Denied("the account " + file.user + " that wrote the file is disabled or gone");
  auto units = Units();
  AuthUser writer{row.name, row.role, row.unit, units->Path(row.unit), file.device};
  if (importer && !units->IsWithin(row.unit, importer->unit))
    return Status::Denied("the file is from unit " + row.unit + ", outside the scope of " + importer->name);
  out->device = file.device;
  out->user = file.user;
  out->unit = row.unit;
  // One change set at a time, in the order the device froze them: a refused
  // one (a rule broken while the file travelled) does not stop the others, as
  // it would not online.
  for (const auto& cs : file.change_sets) {
    CarriedSetResult r;
    r.changeset_id = cs.id;
    r.status = Push(writer, cs, &r.result);
    out->sets.push_back(std::move(r));
  }
  for (const auto& photo : file.photos) {
    int64_t received = 0, size = 0;
    Status p = BeginUpload(writer, photo.sha256, static_cast<int64_t>(photo.bytes.size()), photo.record_id, &received);
    if (p.ok() && received < static_cast<int64_t>(photo.bytes.size()))
      p = AppendUpload(writer, photo.sha256, received, photo.bytes.substr(static_cast<size_t>(received)), &received, &size);
    if (p.ok()) {
      ++out->photos_stored;
    } else {
      ++out->photos_refused;
      out->photo_error = p.message();
    }
  }
  return Status::Ok();
}

Status SyncService::ExportReturn(const std::string& device, int64_t since, std::string* bytes, int64_t* records,
                                 const AuthUser* requester) {
  if (!ids::IsUuid(device)) return Status::Invalid("'" + device + "' is not a device id (ocop status shows it)");
  if (since < 0) return Status::Invalid("--since must not be negative");
  std::string user_name, key;
  bool found = false;
  Status s = store_.GetDeviceKey(device, &user_name, &key, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("the server knows no device " + device + " (it has never logged in)");
  UserRow row;
  s = store_.GetUser(user_name, &row);
  if (!s.ok()) return s;
  auto units = Units();
  if (requester && !units->IsWithin(row.unit, requester->unit))
    return Status::NotFound("no device " + device + " in your scope");
  AuthUser reader{row.name, row.role, row.unit, units->Path(row.unit), device};
  sync::carried::CarriedFile file;
  file.kind = "return";
  file.device = device;
  file.user = row.name;
  file.unit = row.unit;
  file.created_at = NowIso();
  file.since = since;
  file.cursor = since;
  *records = 0;
  // Bounded: each page moves the cursor forward; the limit stops a runaway.
  for (int n = 0; n < 100000; ++n) {
    PullRequest req;
    req.since = file.cursor;
    req.limit = limits_.max_pull_limit;
    sync::PullPage page;
    s = Pull(reader, req, &page);
    if (!s.ok()) return s;
    file.cursor = page.cursor;
    *records += static_cast<int64_t>(page.records.size());
    bool more = page.more;
    file.pages.push_back(std::move(page));
    if (!more) break;
  }
  std::vector<std::string> answers;
  s = store_.ChangeSetAnswers(device, 100000, &answers);
  if (!s.ok()) return s;
  for (const auto& text : answers) {
    sync::PushResult r;
    if (sync::DecodeJson(text, &r).ok()) file.answers.push_back(std::move(r));
  }
  *bytes = sync::carried::Write(file, key);
  return Status::Ok();
}

// ---- conflicts ----

Status SyncService::ListConflicts(const AuthUser& user, std::vector<ConflictRow>* out) {
  if (!user.IsAdmin()) return Status::Denied("only administrators see the conflict queue");
  return store_.ListConflicts(user.unit_path, /*open_only=*/true, out);
}

Status SyncService::ConflictsOf(const AuthUser& user, const std::string& record_id, StoredRecord* record,
                                std::vector<ConflictRow>* open) {
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  bool found = false;
  Status s = store_.GetRecord(record_id, record, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, record->unit_path)) return Status::NotFound("no record " + record_id + " in your scope");
  return store_.OpenConflicts(record_id, open);
}

Status SyncService::Resolve(const AuthUser& user, const std::string& record_id,
                            const std::vector<FieldResolution>& decisions, sync::RecordState* out) {
  if (!user.IsAdmin()) return Status::Denied("only administrators resolve conflicts");
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  std::string now = NowIso();
  std::string hlc = Tick();
  std::string change_id = ids::NewUuid();
  return store_.RunWrite([&](WriteTxn& txn) -> Status {
    StoredRecord rec;
    bool found = false;
    Status s = txn.GetRecord(record_id, &rec, &found);
    if (!s.ok()) return s;
    if (!found || !InScope(user, rec.unit_path)) return Status::NotFound("no record " + record_id + " in your scope");
    std::vector<ConflictRow> open;
    s = txn.OpenConflicts(record_id, &open);
    if (!s.ok()) return s;
    if (open.empty()) return Status::Precondition("record " + record_id + " has no open conflict");
    const FormSchema* schema = catalog_.Find(rec.form);
    if (!schema) return Status::Internal("record has unknown form");
    Object::Ptr fields;
    s = json::ParseObject(rec.fields, &fields);
    if (!s.ok()) return Status::Internal("stored record unreadable");
    // The newest open conflict of each field is the one to decide.
    std::map<std::string, const ConflictRow*> by_field;
    for (const auto& c : open) by_field[c.field] = &c;
    std::map<std::string, const FieldResolution*> chosen;
    for (const auto& d : decisions) {
      if (!by_field.count(d.field)) return Status::Invalid("field '" + d.field + "' is not in conflict");
      if (d.take != "current" && d.take != "incoming" && d.take != "value")
        return Status::Invalid("field '" + d.field + "': take must be current, incoming or value");
      chosen[d.field] = &d;
    }
    for (const auto& [field, row] : by_field)
      if (!chosen.count(field)) return Status::Invalid("field '" + field + "' is in conflict and needs a decision");
    bool deleted = rec.deleted;
    std::vector<sync::FieldChange> decided;
    for (const auto& [field, d] : chosen) {
      const ConflictRow* row = by_field[field];
      std::string value_text = d->take == "current" ? row->current_value
                               : d->take == "incoming" ? row->incoming_value
                                                        : d->value;
      Var v;
      s = json::Parse(value_text, &v);
      if (!s.ok()) return Status::Invalid("field '" + field + "': " + s.message());
      std::string old_text;
      if (field == "_deleted") {
        if (v.type() != typeid(bool)) return Status::Invalid("field '_deleted' takes true or false");
        old_text = deleted ? "true" : "false";
        deleted = v.extract<bool>();
      } else {
        const FieldDef* def = schema->Field(field);
        if (!def) return Status::Invalid("unknown field '" + field + "'");
        Var norm;
        s = CheckValue(*def, v, &norm);
        if (!s.ok()) return s;
        old_text = fields->has(field) ? json::ToText(fields->get(field)) : "null";
        if (norm.isEmpty()) fields->remove(field);
        else fields->set(field, norm);
        value_text = json::ToText(norm);
      }
      decided.push_back({field, old_text, value_text});
    }
    s = txn.AddAudit({record_id, change_id, decided, user.name, user.device, hlc, now, "resolve"});
    if (!s.ok()) return s;
    for (const auto& c : open) {
      std::string how = chosen[c.field]->take;
      s = txn.ResolveConflict(c.id, user.name, now, how);
      if (!s.ok()) return s;
    }
    ApplyComputedFields(rec.form, fields.get());
    Object::Ptr before;
    if (json::ParseObject(rec.fields, &before).ok()) rec.changed_keys = sync::ChangedKeys(*before, *fields);
    else rec.created_seq = 0;  // unreadable before: record it as new, sent whole
    rec.fields = json::ToText(*fields);
    rec.deleted = deleted;
    rec.conflict = false;
    rec.version += 1;
    rec.updated_hlc = hlc;
    rec.updated_by = user.name;
    rec.updated_at = now;
    rec.updated_device = user.device;
    rec.echo_applied = false;  // no device holds the resolved state yet
    s = txn.PutRecord(&rec);
    if (!s.ok()) return s;
    *out = ToRecordState(rec);
    return Status::Ok();
  });
}

}  // namespace ocop::server

namespace ocop::server {

namespace {
bool IsSha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

Status SyncService::BeginUpload(const AuthUser& user, const std::string& sha, int64_t size, const std::string& record_id,
                                int64_t* received) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!IsSha256(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  if (size < 1 || size > limits_.max_file_bytes)
    return Status(Code::kPayloadTooLarge, "a file must have 1 to " + std::to_string(limits_.max_file_bytes) + " bytes");
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  StoredRecord rec;
  bool found = false;
  Status s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("record " + record_id + " is not on the server yet; sync the forms first");
  if (!InScope(user, rec.unit_path)) return Status::Denied("record " + record_id + " is outside your scope");
  std::string owner;
  int64_t known_size = 0;
  s = store_.GetFile(sha, &owner, &known_size, &found);
  if (!s.ok()) return s;
  if (found && known_size != size) return Status::Invalid("file " + sha + " was announced with another size");
  if (!found) {
    s = store_.PutFile(sha, record_id, size);
    if (!s.ok()) return s;
  }
  *received = files_->Received(sha);
  return Status::Ok();
}

Status SyncService::AppendUpload(const AuthUser& user, const std::string& sha, int64_t offset, const std::string& bytes,
                                 int64_t* received, int64_t* size) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!IsSha256(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256");
  std::string record_id;
  bool found = false;
  Status s = store_.GetFile(sha, &record_id, size, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("no upload of " + sha + " was begun");
  StoredRecord rec;
  s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::Denied("file " + sha + " is outside your scope");
  return files_->Append(sha, *size, offset, bytes, received);
}

Status SyncService::ReadFile(const AuthUser& user, const std::string& sha, std::string* content) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!IsSha256(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256");
  std::string record_id;
  int64_t size = 0;
  bool found = false;
  Status s = store_.GetFile(sha, &record_id, &size, &found);
  if (!s.ok()) return s;
  StoredRecord rec;
  if (found) s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::NotFound("no file " + sha + " in your scope");
  return files_->Read(sha, content);
}

}  // namespace ocop::server

namespace ocop::server {

Status SyncService::PushBodyReceived(const std::string& sha, int64_t* received) {
  if (!push_bodies_) return Status::NotFound("this server takes no resumable pushes; use POST /v1/push");
  if (!IsSha256(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  *received = push_bodies_->Received(sha);
  return Status::Ok();
}

Status SyncService::AppendPushBody(const AuthUser& user, const std::string& sha, int64_t size, int64_t offset,
                                   const std::string& bytes, int64_t* received, bool* applied,
                                   sync::PushResult* result) {
  *applied = false;
  if (!push_bodies_) return Status::NotFound("this server takes no resumable pushes; use POST /v1/push");
  if (!IsSha256(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  if (size < 1 || size > limits_.max_push_body_bytes)
    return Status(Code::kPayloadTooLarge,
                  "a change-set body must have 1 to " + std::to_string(limits_.max_push_body_bytes) + " bytes");
  Status s = push_bodies_->Append(sha, size, offset, bytes, received);
  if (!s.ok() || *received < size) return s;
  // Complete and verified against its SHA-256: decode and push it. Pushing the
  // same body again (an answer lost on the way back) returns the stored answer.
  sync::ChangeSet cs;
  {
    // The body and its decompressed bytes are freed before the change set is applied.
    std::string body, plain;
    s = push_bodies_->Read(sha, &body);
    if (s.ok()) s = sync::Decompress(body, limits_.max_inflated_bytes, &plain);
    if (s.ok()) s = sync::LooksLikeColumns(plain) ? sync::DecodeColumns(plain, &cs) : sync::DecodeBinary(plain, &cs);
  }
  if (!s.ok()) return Status(s.code(), "change-set body " + sha.substr(0, 12) + ": " + s.message());
  s = Push(user, std::move(cs), result);
  if (!s.ok()) return s;
  *applied = true;
  // Bodies are kept a day so that a lost answer costs one small request; sweep now and then.
  if (++bodies_completed_ % 64 == 1) push_bodies_->RemoveOlderThan(24 * 3600);
  return Status::Ok();
}

}  // namespace ocop::server

namespace ocop::server {
int64_t SyncService::FileReceived(const std::string& sha) {
  if (!files_ || !IsSha256(sha) || files_->Complete(sha)) return -1;  // complete: a repeated chunk is harmless
  return files_->Received(sha);
}
}  // namespace ocop::server
