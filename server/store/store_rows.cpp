#include "server/store/store_rows.h"

#include "shared/json.h"
#include "sync/patch.h"

namespace ocop::server {

const char* const kRecordColumns =
    "id, form, unit, unit_path, fields, deleted, conflict, version, seq, updated_hlc, updated_by, created_at, "
    "updated_at, updated_device, echo_applied, created_seq, created_version, field_versions";

const char* const kConflictColumns =
    "id, record_id, field, base_value, current_value, incoming_value, current_author, current_device, "
    "current_change_id, incoming_author, incoming_device, incoming_change_id, incoming_hlc, created_at, "
    "COALESCE(resolved_at, ''), COALESCE(resolved_by, ''), COALESCE(resolution, '')";

std::string EncodeAuditFields(const std::vector<sync::FieldChange>& fields) {
  std::string out = "[";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ",";
    out += "{\"key\":" + json::Quote(fields[i].key) + ",\"old\":" + fields[i].old_value + ",\"new\":" +
           fields[i].new_value + "}";
  }
  return out + "]";
}

Status AppendAuditRows(const std::string& fields_json, const AuditRow& base, std::vector<AuditRow>* out) {
  json::Var v;
  if (!json::Parse(fields_json, &v).ok() || v.type() != typeid(json::Array::Ptr))
    return Status::Internal("audit entry of " + base.record_id + " is unreadable");
  auto arr = v.extract<json::Array::Ptr>();
  for (size_t i = 0; i < arr->size(); ++i) {
    auto f = arr->getObject(static_cast<unsigned>(i));
    if (!f) return Status::Internal("audit entry of " + base.record_id + " is unreadable");
    AuditRow row = base;
    row.field = f->getValue<std::string>("key");
    row.old_value = json::ToText(f->get("old"));
    row.new_value = json::ToText(f->get("new"));
    out->push_back(std::move(row));
  }
  return Status::Ok();
}

std::string PrefixEnd(std::string prefix) {
  if (prefix.empty()) return "\x7f";
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

bool FindLastAuthor(const std::vector<AuditRow>& rows, const std::string& field, AuditRow* out) {
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    if (it->field == field && it->kind != "conflict") {
      *out = *it;
      return true;
    }
  return false;
}

void StampForWrite(StoredRecord* r, int64_t seq) {
  r->seq = seq;
  if (r->created_seq == 0 || !sync::StampFieldVersions(&r->field_versions, r->changed_keys, r->version, r->seq)) {
    r->created_seq = r->seq;
    r->created_version = r->version;
    r->field_versions.clear();
  }
  r->changed_keys.clear();
}

}  // namespace ocop::server
