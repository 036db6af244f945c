#include "sync/merge.h"

#include <map>

namespace ocop::sync {

using json::Array;
using json::Object;
using json::Var;

namespace {

Var ParseValue(const std::string& text) {
  Var v;
  if (!json::Parse(text, &v).ok()) return Var();
  return v;
}

Var Get(const Object& o, const std::string& key) { return o.has(key) ? o.get(key) : Var(); }

void Set(Object* o, const std::string& key, const Var& v) {
  if (v.isEmpty()) o->remove(key);
  else o->set(key, v);
}

bool IsItemList(const Var& v) {
  if (v.type() != typeid(Array::Ptr)) return false;
  auto a = v.extract<Array::Ptr>();
  for (size_t i = 0; i < a->size(); ++i) {
    Var e = a->get(static_cast<unsigned>(i));
    if (e.type() != typeid(Object::Ptr) || !e.extract<Object::Ptr>()->has("item_id")) return false;
  }
  return true;
}

// Merge sets and removes top-level keys only, so a shallow copy (nested lists
// shared) is enough.
Object Copy(const Object& o) { return Object(o); }

}  // namespace

bool MergeItemLists(const Array& base, const Array& current, const Array& incoming, Array::Ptr* out) {
  auto index = [](const Array& a) {
    std::map<std::string, std::string> m;
    for (size_t i = 0; i < a.size(); ++i) {
      auto o = a.getObject(static_cast<unsigned>(i));
      m[o->getValue<std::string>("item_id")] = json::ToText(o);
    }
    return m;
  };
  auto b = index(base), c = index(current), n = index(incoming);
  auto value = [](const std::map<std::string, std::string>& m, const std::string& id) {
    auto it = m.find(id);
    return it == m.end() ? std::string("null") : it->second;
  };
  std::map<std::string, std::string> merged;
  std::vector<std::string> order;
  for (size_t i = 0; i < current.size(); ++i) order.push_back(current.getObject(static_cast<unsigned>(i))->getValue<std::string>("item_id"));
  for (size_t i = 0; i < incoming.size(); ++i) {
    auto id = incoming.getObject(static_cast<unsigned>(i))->getValue<std::string>("item_id");
    if (!c.count(id)) order.push_back(id);
  }
  Array::Ptr result = new Array;
  for (const auto& id : order) {
    std::string bv = value(b, id), cv = value(c, id), nv = value(n, id);
    std::string pick;
    if (cv == nv) pick = cv;
    else if (cv == bv) pick = nv;
    else if (nv == bv) pick = cv;
    else return false;
    if (pick != "null") result->add(ParseValue(pick));
  }
  *out = result;
  return true;
}

MergeResult Merge(const CurrentRecord& current, const Change& in) {
  MergeResult r;
  r.fields = current.exists ? Copy(current.fields) : Object();
  r.deleted = current.deleted;

  if (in.op == op::kDelete) {
    if (!current.exists || current.deleted) {
      r.kind = MergeResult::Kind::kNoop;
      r.deleted = true;
      return r;
    }
    if (current.version != in.base_version) {
      // Someone edited the record since this device saw it: deleting would lose
      // their edit silently.
      r.kind = MergeResult::Kind::kConflict;
      r.conflicts.push_back({"_deleted", "false", "false", "true"});
      return r;
    }
    r.kind = MergeResult::Kind::kApplied;
    r.deleted = true;
    r.applied.push_back({"_deleted", "false", "true"});
    return r;
  }

  if (current.exists && current.deleted) {
    // An edit against a delete: keep the tombstone, hold the edit.
    r.kind = MergeResult::Kind::kConflict;
    r.conflicts.push_back({"_deleted", "false", "true", "false"});
    for (const auto& f : in.fields)
      r.conflicts.push_back({f.key, f.old_value, json::ToText(Get(current.fields, f.key)), f.new_value});
    return r;
  }

  bool merged_any = false, applied_any = false;
  for (const auto& f : in.fields) {
    Var base = ParseValue(f.old_value), incoming = ParseValue(f.new_value);
    Var cur = Get(r.fields, f.key);
    if (json::Equal(cur, incoming)) {
      merged_any = true;
      continue;
    }
    if (json::Equal(cur, base)) {
      Set(&r.fields, f.key, incoming);
      // Values in a change are canonical JSON (devices write them so, the
      // server normalises them before merging): the text is kept as it came.
      r.applied.push_back({f.key, cur.isEmpty() ? std::string("null") : json::ToText(cur), f.new_value});
      applied_any = true;
      continue;
    }
    if (IsItemList(cur) && IsItemList(incoming) && (base.isEmpty() || IsItemList(base))) {
      Array empty;
      const Array& b = base.isEmpty() ? empty : *base.extract<Array::Ptr>();
      Array::Ptr out;
      if (MergeItemLists(b, *cur.extract<Array::Ptr>(), *incoming.extract<Array::Ptr>(), &out)) {
        Set(&r.fields, f.key, out);
        r.applied.push_back({f.key, json::ToText(cur), json::ToText(out)});
        merged_any = true;
        continue;
      }
    }
    r.conflicts.push_back({f.key, json::ToText(base), json::ToText(cur), json::ToText(incoming)});
  }
  if (!r.conflicts.empty()) r.kind = MergeResult::Kind::kConflict;
  else if (!current.exists || (applied_any && !merged_any && current.version == in.base_version))
    r.kind = applied_any ? MergeResult::Kind::kApplied : MergeResult::Kind::kNoop;
  else if (applied_any || merged_any) r.kind = MergeResult::Kind::kMerged;
  else r.kind = MergeResult::Kind::kNoop;
  return r;
}

MergeResult MergeNew(json::Object fields, const Change& in) {
  const CurrentRecord none;
  MergeResult r;
  if (in.op != op::kCreate) return Merge(none, in);
  r.applied.reserve(in.fields.size());
  for (const auto& f : in.fields) {
    if (f.old_value != "null") return Merge(none, in);  // a base that was never there: Merge decides
    if (f.new_value == "null") continue;
    if (!fields.has(f.key)) return Merge(none, in);
    r.applied.push_back({f.key, "null", f.new_value});
  }
  if (r.applied.size() != fields.size()) return Merge(none, in);  // a key twice, or values not from this change
  r.kind = r.applied.empty() ? MergeResult::Kind::kNoop : MergeResult::Kind::kApplied;
  r.fields = std::move(fields);
  return r;
}

std::vector<Change> Coalesce(std::vector<Change> pending) {
  if (pending.empty()) return {};
  // Moved, not copied: a change set of 2,000 new forms passes through here.
  const std::string last_hlc = pending.back().hlc, last_id = pending.back().change_id;
  std::vector<FieldChange> fields;
  std::map<std::string, size_t> pos;
  bool created = false, deleted = false;
  for (auto& c : pending) {
    if (c.op == op::kCreate) created = true;
    if (c.op == op::kDelete) deleted = true;
    if (pending.size() == 1) {
      fields = std::move(c.fields);
      break;
    }
    for (auto& f : c.fields) {
      auto it = pos.find(f.key);
      if (it == pos.end()) {
        pos.emplace(f.key, fields.size());
        fields.push_back(std::move(f));
      } else {
        fields[it->second].new_value = std::move(f.new_value);
      }
    }
  }
  Change out = std::move(pending.front());
  out.fields = std::move(fields);
  out.hlc = last_hlc;
  out.change_id = last_id;  // the last edit's id names the combined change
  if (created && deleted) return {};
  if (deleted) {
    out.op = op::kDelete;
    out.fields.clear();
  } else if (created) {
    out.op = op::kCreate;
  } else {
    out.op = op::kUpdate;
  }
  // Drop fields that ended where they started, unless this is a create.
  if (!created) {
    std::vector<FieldChange> kept;
    for (auto& f : out.fields)
      if (json::Canonical(f.old_value) != json::Canonical(f.new_value)) kept.push_back(f);
    out.fields = std::move(kept);
    if (out.fields.empty() && out.op == op::kUpdate) return {};
  }
  std::vector<Change> result;
  result.push_back(std::move(out));  // not {out}: an initializer list copies
  return result;
}

}  // namespace ocop::sync
