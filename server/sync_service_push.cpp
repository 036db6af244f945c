// The sync service's push: every change checked (scope, schema, links, workflow),
// merged field by field, conflicts recorded, all in one write transaction.
#include "server/sync_service.h"
#include "shared/receipt.h"

#include <algorithm>
#include <set>

#include "server/store/file_store.h"
#include "server/password.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/localisation.h"
#include "shared/messages.h"
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

namespace {
// True when `text` already is the canonical JSON of the string `norm` that
// checking left unchanged: most text fields of most forms. Saves writing the
// value out again (a quarter of a push's checking time).
bool IsSameCanonicalString(const std::string& text, const Var& in, const Var& norm) {
  if (!in.isString() || norm.type() != typeid(std::string)) return false;
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return false;
  // Escapes, or raw control characters a lenient parser let through: let the writer decide.
  for (unsigned char ch : text)
    if (ch == '\\' || ch < 0x20) return false;
  const std::string& before = in.extract<std::string>();
  const std::string& after = norm.extract<std::string>();
  return before.size() + 2 == text.size() && before == after;
}

// The form version a stored record was written with. Most records carry none
// (version 1): the text is looked through before anything is parsed.
int StoredFormVersion(const std::string& fields) {
  if (fields.find(std::string("\"") + kFormVersionKey + "\":") == std::string::npos) return 1;
  Object::Ptr o;
  return json::ParseObject(fields, &o).ok() ? FormVersionOf(*o) : 0;
}

// The version a change says its record is written with: -1 when it says
// nothing (a new record is then of version 1), 0 when it says nonsense.
int ChangedFormVersion(const sync::Change& c) {
  for (const auto& f : c.fields)
    if (f.key == kFormVersionKey) {
      Var v;
      if (!json::Parse(f.new_value, &v).ok() || !v.isInteger()) return 0;
      return static_cast<int>(std::clamp<Poco::Int64>(v.convert<Poco::Int64>(), 0, 1 << 20));
    }
  return -1;
}
}  // namespace

Status SyncService::CheckChange(const AuthUser& user, WriteTxn& txn, RecordCache* cache, sync::Change* c,
                                Object* new_record) {
  const FormCatalog& catalog = FormCatalog::Default();
  if (!catalog.Find(c->form)) return Status::Invalid("record " + c->record_id + ": unknown form '" + c->form + "'");
  const StoredRecord* stored = nullptr;
  Status s = Lookup(txn, c->record_id, cache, &stored);
  if (!s.ok()) return s;
  bool found = stored != nullptr;
  static const StoredRecord kNone;
  const StoredRecord& existing = found ? *stored : kNone;
  // Checked against the version of the form the record was written with: a
  // record keeps it, whatever was published since.
  const int said = ChangedFormVersion(*c);
  const int version = found ? StoredFormVersion(existing.fields) : said < 0 ? 1 : said;
  const FormSchema* schema = catalog.Find(c->form, version);
  if (!schema)
    return Status::Invalid("record " + c->record_id + ": form '" + c->form + "' has no version " + std::to_string(version) +
                           " on this server");
  if (found && said >= 0 && said != version)
    return Status::Invalid("record " + c->record_id + " was written with version " + std::to_string(version) + " of form '" +
                           c->form + "' and keeps it");
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
  kept.reserve(c->fields.size());
  const bool creating = c->op == sync::op::kCreate && !found;
  Object created;  // a new record's fields, for the record-level rules below
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
    if (!IsSameCanonicalString(f.new_value, in, norm)) f.new_value = json::ToText(norm);
    if (f.old_value != "null") {  // a new field's old value, every field of a new form: nothing to normalise
      Var old;
      s = json::Parse(f.old_value, &old);
      if (!s.ok()) return Status::Invalid("record " + c->record_id + ": field '" + f.key + "' (old value): " + s.message());
      f.old_value = json::ToText(old);
    }
    if (creating && !norm.isEmpty()) created.set(f.key, norm);
    kept.push_back(std::move(f));
  }
  c->fields = std::move(kept);
  s = CheckWorkflow(user, *schema, found ? &existing : nullptr, c);
  if (!s.ok()) return s;
  s = CheckLinks(txn, cache, found ? &existing : nullptr, *c);
  if (!s.ok()) return Status(s.code(), "record " + c->record_id + ": " + s.message());
  if (creating) {
    // The workflow may have added the initial status after the loop above.
    for (const auto& f : c->fields)
      if (!created.has(f.key) && f.new_value != "null") {
        Var v;
        if (json::Parse(f.new_value, &v).ok() && !v.isEmpty()) created.set(f.key, v);
      }
    s = CheckRequiredAndCrossField(*schema, created);
    if (!s.ok()) return Status::Invalid("record " + c->record_id + ": " + s.message());
    if (new_record) *new_record = std::move(created);
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

Status SyncService::CheckReferences(const AuthUser& user, WriteTxn& txn, RecordCache* cache,
                                    const std::map<std::string, std::string>& created, const sync::Change& c) {
  if (c.op == sync::op::kDelete) return Status::Ok();
  const FormSchema* schema = FormCatalog::Default().Find(c.form);  // a reference keeps its form in every version
  for (const auto& f : c.fields) {
    const FieldDef* def = schema ? schema->Field(f.key) : nullptr;
    if (!def || def->type != FieldType::kRef) continue;
    Var v;
    if (!json::Parse(f.new_value, &v).ok() || !v.isString()) continue;  // emptied: nothing to check
    std::string ref = v.convert<std::string>();
    auto here = created.find(ref);
    bool ok;
    if (here != created.end()) {
      ok = def->ref_form.empty() || here->second == def->ref_form;
    } else {
      const StoredRecord* target = nullptr;
      Status s = Lookup(txn, ref, cache, &target);
      if (!s.ok()) return s;
      ok = target && !target->deleted && (def->ref_form.empty() || target->form == def->ref_form) &&
           InScope(user, target->unit_path);
    }
    if (!ok)
      return Status::Invalid("record " + c.record_id + ": " + msg::FieldName(*def) + ": '" + ref +
                             "' names no such record on the server within your scope");
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

Status SyncService::CheckEach(const AuthUser& user, std::vector<sync::Change>* changes, std::vector<Status>* out) {
  out->assign(changes->size(), Status::Ok());
  // A write transaction for its reads (the same view a push has), always rolled back.
  static const char* kRolledBack = "checked only";
  Status s = store_.RunWrite([&](WriteTxn& txn) -> Status {
    RecordCache cache;
    std::map<std::string, std::string> created;
    for (size_t i = 0; i < changes->size(); ++i) {
      sync::Change& c = (*changes)[i];
      Status st = CheckChange(user, txn, &cache, &c);
      if (st.ok()) st = CheckReferences(user, txn, &cache, created, c);
      (*out)[i] = st;
      if (st.ok() && c.op == sync::op::kCreate) created.emplace(c.record_id, c.form);
    }
    return Status::Internal(kRolledBack);
  });
  return s.message() == kRolledBack ? Status::Ok() : s;
}

Status SyncService::Push(const AuthUser& user, sync::ChangeSet cs, sync::PushResult* out) {
  Status s = PushChecked(user, std::move(cs), out);
  ++(s.ok() ? changesets_applied_ : changesets_refused_);
  return s;
}

Status SyncService::PushChecked(const AuthUser& user, sync::ChangeSet cs, sync::PushResult* out) {
  // A push writes records, history and answers: not below the disk's floor.
  // (Checked before the stored answer is looked up: a repeated set is rare.)
  if (Status space = CheckSpace(); !space.ok()) return space;
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

    // Each change is checked, then applied, in the set's order; a refusal
    // anywhere returns before the commit, so the set is applied whole or not at
    // all. Checking against the records as the earlier changes of the set left
    // them is what applying the changes one set at a time would see, and only
    // one change's checked fields are in memory at a time (2,000 new forms
    // checked first and applied after held ~7 MB of parsed fields).
    std::set<std::string> ids;
    RecordCache cache;
    std::map<std::string, std::string> created;
    sync::PushResult result;
    result.changeset_id = cs.id;
    result.server_hlc = server_hlc;
    result.outcomes.reserve(cs.changes.size());
    for (auto& c : cs.changes) {
      if (!ids.insert(c.change_id).second) return Status::Invalid("change " + c.change_id + " appears twice");
      Object fresh;  // a new record's fields, checked once and not parsed again to apply
      st = CheckChange(user, txn, &cache, &c, &fresh);
      if (st.ok()) st = CheckReferences(user, txn, &cache, created, c);
      if (!st.ok()) return st;
      if (c.op == sync::op::kCreate) created.emplace(c.record_id, c.form);

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
      sync::MergeResult m = !found && fresh.size() > 0 ? sync::MergeNew(std::move(fresh), c) : sync::Merge(cur, c);
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
      }
      // A later change of the set naming this record reads it back from the
      // transaction: the set's records are not all held until the commit.
      cache.erase(c.record_id);
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

}  // namespace ocop::server
