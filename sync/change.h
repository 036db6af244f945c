// Change sets: the unit of sync. A Change is one record's field-level edit as a
// device made it; a ChangeSet is what one push carries. The server's answer is a
// PushResult; a pull answers with a PullPage of record states.
//
// Field values travel as canonical JSON text (see shared/json.h) inside strings,
// so these types are plain data that cereal serialises without knowing form
// schemas. The wire format is documented in docs/protocol.md.
#pragma once
#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "shared/status.h"

namespace ocop::sync {

// One field's edit. `old_value` is what the device saw before the edit (the base
// of the three-way merge); "null" means the field was absent.
struct FieldChange {
  std::string key;
  std::string old_value = "null";
  std::string new_value = "null";

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("key", key), cereal::make_nvp("old", old_value), cereal::make_nvp("new", new_value));
  }
  bool operator==(const FieldChange&) const = default;
};

namespace op {
inline constexpr const char* kCreate = "create";
inline constexpr const char* kUpdate = "update";
inline constexpr const char* kDelete = "delete";
}  // namespace op

struct Change {
  std::string change_id;  // UUID, unique forever
  std::string record_id;  // UUID
  std::string form;
  std::string unit;            // commune code the record belongs to
  std::string op;              // create | update | delete
  int64_t base_version = 0;    // server version of the record the device edited (0: new)
  std::vector<FieldChange> fields;
  std::string author;  // user name
  std::string device;  // device id
  std::string hlc;     // hybrid logical clock timestamp of the edit

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("change_id", change_id), cereal::make_nvp("record_id", record_id),
       cereal::make_nvp("form", form), cereal::make_nvp("unit", unit), cereal::make_nvp("op", op),
       cereal::make_nvp("base_version", base_version), cereal::make_nvp("fields", fields),
       cereal::make_nvp("author", author), cereal::make_nvp("device", device),
       cereal::make_nvp("hlc", hlc));
  }
  bool operator==(const Change&) const = default;
};

struct ChangeSet {
  std::string id;  // UUID; sending the same id again returns the first answer
  std::string device;
  std::vector<Change> changes;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("id", id), cereal::make_nvp("device", device), cereal::make_nvp("changes", changes));
  }
  bool operator==(const ChangeSet&) const = default;
};

namespace outcome {
inline constexpr const char* kApplied = "applied";      // taken as sent
inline constexpr const char* kMerged = "merged";        // combined with other edits, or already there
inline constexpr const char* kConflict = "conflict";    // held: see conflict_fields
}  // namespace outcome

struct ChangeOutcome {
  std::string change_id;
  std::string record_id;
  std::string result;
  int64_t version = 0;  // the record's server version after this change
  std::vector<std::string> conflict_fields;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("change_id", change_id), cereal::make_nvp("record_id", record_id),
       cereal::make_nvp("result", result), cereal::make_nvp("version", version),
       cereal::make_nvp("conflict_fields", conflict_fields));
  }
};

struct PushResult {
  std::string changeset_id;
  std::vector<ChangeOutcome> outcomes;
  std::string server_hlc;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("changeset_id", changeset_id), cereal::make_nvp("outcomes", outcomes),
       cereal::make_nvp("server_hlc", server_hlc));
  }
};

// The server's current state of one record, as pulled.
struct RecordState {
  std::string id;
  std::string form;
  std::string unit;
  int64_t version = 0;
  bool deleted = false;
  bool conflict = false;
  std::string fields = "{}";  // canonical JSON object text
  std::string updated_hlc;
  std::string updated_by;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("id", id), cereal::make_nvp("form", form), cereal::make_nvp("unit", unit),
       cereal::make_nvp("version", version), cereal::make_nvp("deleted", deleted),
       cereal::make_nvp("conflict", conflict), cereal::make_nvp("fields", fields),
       cereal::make_nvp("updated_hlc", updated_hlc), cereal::make_nvp("updated_by", updated_by));
  }
  bool operator==(const RecordState&) const = default;
};

struct PullPage {
  std::vector<RecordState> records;
  int64_t cursor = 0;  // pass back as `since` for the next page
  bool more = false;   // another page is waiting
  std::string server_hlc;
  // Receipt-number block granted with this page (receipt_last == 0: none).
  int receipt_year = 0;
  int64_t receipt_first = 0;
  int64_t receipt_last = 0;
  // Asked for with `patch_since` (docs/protocol.md): empty, or one entry per
  // record. 0: `fields` is the whole record. N > 0: `fields` holds only the
  // fields changed since the device's last complete pull (null: removed), to
  // be laid over the device's copy of the record, which must be at version N
  // or later. Encoded after the members above, only when not empty, so
  // devices that never ask never see it.
  std::vector<int64_t> patch_bases;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("records", records), cereal::make_nvp("cursor", cursor),
       cereal::make_nvp("more", more), cereal::make_nvp("server_hlc", server_hlc),
       cereal::make_nvp("receipt_year", receipt_year), cereal::make_nvp("receipt_first", receipt_first),
       cereal::make_nvp("receipt_last", receipt_last));
  }
};

// Structural checks of a decoded change set (ids, ops, values are JSON, sizes).
// Schema checks need the form catalog and happen in the server's apply step.
Status ValidateChangeSet(const ChangeSet& cs, size_t max_changes);

}  // namespace ocop::sync
