// Pulls that send what changed (docs/protocol.md, "Patches"). The server
// remembers, per record, the version and seq at which each field last changed
// (`field_versions`) and when the record was created. A device that has
// pulled completely up to cursor C holds every record created by C at its
// version as of C or later; for such a record only the fields changed after C
// need to travel, with the version the device's copy must have reached (the
// patch's base). A device whose copy is older asks for the whole page again.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "shared/json.h"
#include "shared/status.h"

namespace ocop::sync {

// Keys whose values differ between two states of a record's fields (added,
// removed or changed), in key order.
std::vector<std::string> ChangedKeys(const json::Object& before, const json::Object& after);

// `field_versions` text: one line per field, "key version seq". Records the
// keys as changed at (version, seq). Returns false (text unchanged) when a key
// cannot be recorded (it holds a space or a line break): the caller then treats
// the record as new at that seq, so no device is ever sent a patch for it.
bool StampFieldVersions(std::string* text, const std::vector<std::string>& keys, int64_t version, int64_t seq);

struct PatchPlan {
  bool whole = true;              // send the whole record
  int64_t base = 0;               // the version the device's copy must have reached
  std::vector<std::string> keys;  // fields changed after the device's complete cursor
};

// What to send of a record to a device that pulled completely up to
// `patch_since` (0: the device holds nothing for sure: whole).
PatchPlan PlanPatch(int64_t created_seq, int64_t created_version, const std::string& field_versions,
                    int64_t patch_since);

// The fields of `record` named in `keys`, absent ones as null: a patch's text.
std::string PatchText(const json::Object& record, const std::vector<std::string>& keys);

// Lays a patch over the device's copy (null removes a field).
Status ApplyPatch(const std::string& copy, const std::string& patch, std::string* out);

}  // namespace ocop::sync
