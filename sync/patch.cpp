#include "sync/patch.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace ocop::sync {

std::vector<std::string> ChangedKeys(const json::Object& before, const json::Object& after) {
  std::set<std::string> keys;
  for (const auto& [k, v] : before)
    if (!after.has(k) || !json::Equal(v, after.get(k))) keys.insert(k);
  for (const auto& [k, v] : after)
    if (!before.has(k)) keys.insert(k);
  return {keys.begin(), keys.end()};
}

namespace {
struct FieldVersion {
  int64_t version = 0, seq = 0;
};

std::map<std::string, FieldVersion> ParseFieldVersions(const std::string& text) {
  std::map<std::string, FieldVersion> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string key;
    FieldVersion fv;
    if (row >> key >> fv.version >> fv.seq) out[key] = fv;
  }
  return out;
}
}  // namespace

bool StampFieldVersions(std::string* text, const std::vector<std::string>& keys, int64_t version, int64_t seq) {
  for (const auto& k : keys)
    if (k.empty() || k.find_first_of(" \t\r\n") != std::string::npos) return false;
  auto fv = ParseFieldVersions(*text);
  for (const auto& k : keys) fv[k] = {version, seq};
  std::string out;
  for (const auto& [k, v] : fv) out += k + " " + std::to_string(v.version) + " " + std::to_string(v.seq) + "\n";
  *text = std::move(out);
  return true;
}

PatchPlan PlanPatch(int64_t created_seq, int64_t created_version, const std::string& field_versions,
                    int64_t patch_since) {
  PatchPlan plan;
  // Created after the device's complete cursor (or before field versions were
  // kept): the device may not have it at all.
  if (patch_since <= 0 || created_seq <= 0 || created_seq > patch_since) return plan;
  plan.whole = false;
  // The device's copy is at least the record as of patch_since: the latest
  // version known to have been written by then. Versions not recorded here
  // changed only fields changed again later, which the patch carries.
  plan.base = created_version;
  for (const auto& [key, fv] : ParseFieldVersions(field_versions)) {
    if (fv.seq > patch_since) plan.keys.push_back(key);
    else plan.base = std::max(plan.base, fv.version);
  }
  return plan;
}

std::string PatchText(const json::Object& record, const std::vector<std::string>& keys) {
  json::Object patch;
  for (const auto& k : keys) {
    if (record.has(k)) patch.set(k, record.get(k));
    else patch.set(k, json::Var());
  }
  return json::ToText(patch);
}

Status ApplyPatch(const std::string& copy, const std::string& patch, std::string* out) {
  json::Object::Ptr base, changes;
  Status s = json::ParseObject(copy, &base);
  if (!s.ok()) return Status::Invalid("the device's copy of the record is not a JSON object");
  s = json::ParseObject(patch, &changes);
  if (!s.ok()) return Status::Invalid("a pulled patch is not a JSON object");
  for (const auto& [k, v] : *changes) {
    if (v.isEmpty()) base->remove(k);
    else base->set(k, v);
  }
  *out = json::ToText(*base);
  return Status::Ok();
}

}  // namespace ocop::sync
