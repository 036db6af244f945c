#include "sync/change.h"

#include "shared/clock.h"
#include "shared/ids.h"
#include "shared/json.h"
#include "shared/text.h"

namespace ocop::sync {

Status ValidateChangeSet(const ChangeSet& cs, size_t max_changes) {
  if (!ids::IsUuid(cs.id)) return Status::Invalid("change set id is not a UUID");
  if (!text::IsValidUtf8(cs.device) || cs.device.size() > 64) return Status::Invalid("change set device is not valid");
  if (cs.changes.empty()) return Status::Invalid("change set " + cs.id + " has no changes");
  if (cs.changes.size() > max_changes)
    return Status::Invalid("change set has " + std::to_string(cs.changes.size()) + " changes; the limit is " +
                           std::to_string(max_changes));
  for (size_t i = 0; i < cs.changes.size(); ++i) {
    const Change& c = cs.changes[i];
    std::string where = "change " + std::to_string(i + 1);
    if (!ids::IsUuid(c.change_id)) return Status::Invalid(where + ": change_id is not a UUID");
    if (!ids::IsUuid(c.record_id)) return Status::Invalid(where + ": record_id is not a UUID");
    if (c.op != op::kCreate && c.op != op::kUpdate && c.op != op::kDelete)
      return Status::Invalid(where + ": op '" + c.op + "' is not create, update or delete");
    if (c.base_version < 0) return Status::Invalid(where + ": base_version is negative");
    if (c.op == op::kCreate && c.fields.empty()) return Status::Invalid(where + ": create without fields");
    int64_t ms;
    int32_t counter;
    if (!HybridClock::Decode(c.hlc, &ms, &counter)) return Status::Invalid(where + ": hlc '" + c.hlc + "' is malformed");
    for (const std::string* s : {&c.form, &c.unit, &c.author, &c.device})
      if (!text::IsValidUtf8(*s)) return Status::Invalid(where + ": text is not valid UTF-8");
    // Values are checked as JSON, and against the form, where they are parsed
    // for applying (the server's CheckChange); here only their text.
    for (const auto& f : c.fields) {
      if (f.key.empty() || f.key.size() > 64 || !text::IsValidUtf8(f.key)) return Status::Invalid(where + ": bad field key");
      for (const std::string* t : {&f.old_value, &f.new_value}) {
        if (t->empty() || t->size() > 1024 * 1024) return Status::Invalid(where + ": field '" + f.key + "' has an empty or oversized value");
        if (!text::IsValidUtf8(*t)) return Status::Invalid(where + ": field '" + f.key + "' is not valid UTF-8");
      }
    }
  }
  return Status::Ok();
}

}  // namespace ocop::sync
