// Field-level three-way merge: the rules that decide what an incoming change does
// to the server's current record. Pure and deterministic (the same inputs give
// the same result on every machine), used by the server when it applies a push
// and by the tests' model of the system.
//
// For each changed field, with base = the value the device saw (FieldChange::old),
// current = the server's value, incoming = the device's new value:
//   current == incoming            -> nothing to do (already there)
//   current == base                -> take incoming
//   list field with item ids       -> merge item by item with the same rule
//   otherwise                      -> conflict: keep current, hold incoming
// An edit against a deleted record, and a delete against a record edited since
// the device's base version, are conflicts too.
#pragma once
#include <string>
#include <vector>

#include "shared/json.h"
#include "sync/change.h"

namespace ocop::sync {

struct CurrentRecord {
  bool exists = false;
  bool deleted = false;
  int64_t version = 0;
  json::Object fields;  // current values
};

struct FieldConflict {
  std::string key;        // field key, or "_deleted" for an edit/delete conflict
  std::string base;       // canonical JSON
  std::string current;
  std::string incoming;
};

struct MergeResult {
  enum class Kind { kApplied, kMerged, kConflict, kNoop };
  Kind kind = Kind::kNoop;
  json::Object fields;  // the record's fields after the change
  bool deleted = false;
  std::vector<FieldChange> applied;  // effective field edits (old -> new), for the audit trail
  std::vector<FieldConflict> conflicts;
};

MergeResult Merge(const CurrentRecord& current, const Change& incoming);

// Merge for a record the server never had, given the change's values already
// parsed and checked (`fields`: every non-null new value by key). The same
// result as Merge with no current record, without parsing each value again;
// falls back to Merge when the change is not a plain create.
MergeResult MergeNew(json::Object fields, const Change& incoming);

// Merges two versions of a list of objects that carry "item_id", given their
// common base. Returns false when one item was changed differently on both sides.
bool MergeItemLists(const json::Array& base, const json::Array& current, const json::Array& incoming,
                    json::Array::Ptr* out);

// Combines a device's pending changes of one record, in order, into at most one
// change: old values from the first edit of each field, new values from the
// last. A record created and deleted before it was ever pushed yields nothing.
// REQUIRES: all of `pending` have the same record_id.
std::vector<Change> Coalesce(std::vector<Change> pending);

}  // namespace ocop::sync
