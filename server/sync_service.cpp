// The sync service: units, the clock, history and the conflict queue.
// Accounts, push, pull and files are in sync_service_*.cpp.
#include "server/sync_service.h"

#include "shared/receipt.h"

#include <set>

#include "server/store/file_store.h"
#include "server/password.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/hash.h"
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

SyncService::SyncService(ServerStore& store, UnitTree units, const Clock& clock, ServiceLimits limits)
    : store_(store), units_(std::make_shared<const UnitTree>(std::move(units))), clock_(clock), limits_(limits),
      uploads_(limits.uploads), hlc_(clock) {
  units_version_ = hash::Sha256Hex(units_->ToCsv()).substr(0, 16);
}

std::shared_ptr<const UnitTree> SyncService::Units() const {
  std::lock_guard<std::mutex> lock(units_mu_);
  return units_;
}

std::string SyncService::UnitsVersion() const {
  std::lock_guard<std::mutex> lock(units_mu_);
  return units_version_;
}

void SyncService::InstallUnits(UnitTree units) {
  std::string version = hash::Sha256Hex(units.ToCsv()).substr(0, 16);
  std::lock_guard<std::mutex> lock(units_mu_);
  units_ = std::make_shared<const UnitTree>(std::move(units));
  units_version_ = std::move(version);
}

Status SyncService::ReplaceUnits(const AuthUser& admin, UnitTree units) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators import unit lists");
  Status s = units.Validate();
  if (!s.ok()) return s;
  // Saved first: if the store refuses, the server keeps serving the old tree.
  s = store_.SaveUnits(units);
  if (!s.ok()) return s;
  InstallUnits(std::move(units));
  int64_t moved = 0;
  return PlaceRecords(&moved);
}

Status SyncService::PlaceRecords(int64_t* moved) {
  *moved = 0;
  auto units = Units();
  return store_.RunWrite([&](WriteTxn& txn) -> Status {
    std::vector<std::pair<std::string, std::string>> places;
    Status s = txn.RecordPlaces(&places);
    if (!s.ok()) return s;
    for (const auto& [unit, path] : places) {
      if (!units->Find(unit)) continue;  // a code the tree never had: left where it is
      std::string now = units->Path(unit);
      if (now == path) continue;
      std::vector<std::string> ids;
      s = txn.RecordIdsAt(unit, path, &ids);
      if (!s.ok()) return s;
      for (const auto& id : ids) {
        StoredRecord rec;
        bool found = false;
        s = txn.GetRecord(id, &rec, &found);
        if (!s.ok()) return s;
        if (!found) continue;
        rec.unit_path = now;
        // A new seq, and whole rather than as a patch: the devices of the unit
        // it moved under have never held it.
        rec.created_seq = 0;
        s = txn.PutRecord(&rec);
        if (!s.ok()) return s;
        ++*moved;
      }
    }
    return Status::Ok();
  });
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
  InstallUnits(std::move(stored));
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


Status SyncService::History(const AuthUser& user, const std::string& record_id, std::vector<AuditRow>* out) {
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  StoredRecord rec;
  bool found = false;
  Status s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::NotFound("no record " + record_id + " in your scope");
  return store_.Audit(record_id, out);
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
    Object::Ptr fields;
    s = json::ParseObject(rec.fields, &fields);
    if (!s.ok()) return Status::Internal("stored record unreadable");
    const FormSchema* schema = FormCatalog::Default().ForRecord(rec.form, *fields);
    if (!schema) return Status::Internal("record has unknown form " + rec.form + " version " + std::to_string(FormVersionOf(*fields)));
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
    // A status decided brings its fields along: a returned idea resolved to
    // accepted does not keep its return reason and date.
    if (chosen.count("status") && fields->has("status")) {
      for (const auto& stale : workflow::FieldsNotOf(rec.form, fields->getValue<std::string>("status"))) {
        if (!fields->has(stale) || chosen.count(stale)) continue;
        decided.push_back({stale, json::ToText(fields->get(stale)), "null"});
        fields->remove(stale);
      }
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
