// The client's local store: records, the outbox of field-level changes, local
// history and sync state, in one SQLite file under the device's home.
//
// Every write is one transaction that updates the record, appends its changes to
// the outbox and to history together, and is durable (WAL, synchronous=FULL)
// once the call returns: a power cut after "saved" loses nothing.
// Not thread-safe: one LocalStore per process.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "shared/clock.h"
#include "shared/definitions.h"
#include "shared/forms.h"
#include "shared/json.h"
#include "shared/sqlite.h"
#include "shared/status.h"
#include "shared/units.h"
#include "sync/change.h"

namespace ocop::client {

struct Record {
  std::string id;
  std::string form;
  std::string unit;
  json::Object fields;
  bool deleted = false;
  bool conflict = false;
  bool pending = false;  // has changes not yet acknowledged by the server
  int64_t server_version = 0;
  std::string created_at, updated_at;
  std::string status() const;
};

struct HistoryEntry {
  std::string change_id, field, old_value, new_value, author, device, at, origin;
};

struct ListQuery {
  std::string form;    // empty: all
  std::string search;  // words, each must occur (case and accents ignored)
  std::string status;  // empty: any
  bool conflicts_only = false;
  bool include_deleted = false;
  int limit = 0;  // 0: no limit
};

struct StoreInfo {
  std::string device_id, commune, server_url, user;
  int64_t pending_changes = 0;
  int64_t pending_records = 0;  // records those changes touch (a sync sends one change per record and set)
  int64_t records = 0;
  int64_t conflicts = 0;
  int64_t cursor = 0;
  std::string last_sync;
  int64_t files_waiting = 0;
};

class LocalStore {
 public:
  // Creates the store in `home` for a unit of `units` (a commune, or a higher
  // unit for a coordinator's device). Fails if one exists.
  // `units` is kept with the store when it is not the embedded sample.
  static Status Init(const std::string& home, const std::string& commune, const std::string& server_url,
                     const UnitTree& units, const Clock& clock);
  // Opens an existing store.
  static Status Open(const std::string& home, const Clock& clock, std::unique_ptr<LocalStore>* out);
  static std::string DbPath(const std::string& home);

  // Records a new form. `fields` are validated (complete) and normalised; status
  // is the form's initial status. Returns the stored record.
  // `unit` defaults to the device's commune; a device of a higher unit names one below it.
  Status Create(const std::string& form, json::Object fields, Record* out, const std::string& unit = "");
  // Create in two steps, for imports: PrepareNew checks and normalises a new
  // record exactly as Create does and writes nothing; CreateMany stores
  // prepared records in one transaction (all or none).
  Status PrepareNew(const std::string& form, json::Object fields, const std::string& unit, Record* out);
  Status CreateMany(const std::vector<Record>& prepared);
  // Sets fields (a null value clears the field). Validated against the merged record.
  Status Update(const std::string& id, const json::Object& changes, Record* out, bool allow_system = false);
  // Marks the record deleted (a tombstone that syncs).
  Status Delete(const std::string& id);
  Status Get(const std::string& id, Record* out);
  // What a person may type for a record: its id with or without hyphens, a
  // unique prefix of 8 or more hex digits, or an idea's receipt number.
  Status ResolveId(const std::string& given, std::string* id);
  Status List(const ListQuery& q, std::vector<Record>* out);
  Status History(const std::string& id, std::vector<HistoryEntry>* out);
  // Gives out the next receipt number for the commune and year, or nullopt if the
  // device holds no block (see shared/receipt.h).
  Status NextReceipt(int year, std::optional<int64_t>* out);
  Status AddReceiptBlock(const std::string& commune, int year, int64_t first, int64_t last);
  Status ReceiptNumbersLeft(int year, int64_t* out);

  // ---- sync ----
  // The change set to send: the one already in flight if the server has not
  // answered it, else a new one from up to `max_changes` pending changes
  // (coalesced per record). *has = false when there is nothing to send.
  Status NextChangeSet(size_t max_changes, sync::ChangeSet* out, bool* has);
  // Freezes every pending change into change sets (each as NextChangeSet
  // would make it) and gives every change set waiting for the server, oldest
  // first: what a carried file holds. They stay in flight, so an online sync
  // later sends the very same ids and the server answers each once.
  Status FreezePending(size_t max_changes, std::vector<sync::ChangeSet>* out);
  // Ids of the change sets waiting for the server.
  Status InflightIds(std::vector<std::string>* out);

  // ---- carried files (sync/carried.h) ----
  // Notes the change sets written into a carried file, until answered.
  Status NoteExported(const std::vector<std::string>& changeset_ids, const std::string& file_name);
  struct Exported {
    std::string changeset_id, file_name, exported_at;
  };
  Status ExportedUnanswered(std::vector<Exported>* out);
  // Files of other devices brought here, pushed at the next sync.
  struct CarriedIn {
    std::string sha256, body, device, user, unit, imported_at, sent_at, result;
    int64_t changes = 0;
  };
  Status AddCarriedIn(const CarriedIn& file, bool* already);
  Status CarriedInFiles(bool unsent_only, std::vector<CarriedIn>* out);
  Status MarkCarriedInSent(const std::string& sha256, const std::string& result);
  // Applies the server's answer: drops the acknowledged changes and the in-flight
  // mark, notes new record versions. One transaction.
  Status AckChangeSet(const sync::PushResult& result);
  // Applies a pulled page and its cursor in one transaction. Pending local edits
  // stay on top of the pulled state. A page of patches (sync/patch.h) whose
  // base this device's copy has not reached changes nothing and sets
  // *patch_missed (the caller asks for that page whole); without
  // `patch_missed` that is an error.
  Status ApplyPullPage(const sync::PullPage& page, bool* patch_missed = nullptr);
  // While change set `in_flight` is on its way: freezes the next one, if it
  // is the only set in flight (sets go in the order they were made).
  Status FreezeNextAfter(const std::string& in_flight, size_t max_changes, sync::ChangeSet* out, bool* has);
  // Puts a frozen change set that was never sent back among the pending
  // changes (the one frozen ahead, when the set before it did not get through).
  Status ThawChangeSet(const std::string& id);
  // The cursor of the last pull that reached the end (pages with `more` false):
  // everything in scope up to it is on this device. 0: none yet.
  int64_t CompleteCursor();
  // After the server refused the change set in flight: drops the pending
  // changes of the refused record (`refused_record`; empty or unknown: of every
  // record in the set) and puts it back to the server's state, or removes it if
  // the server never had it. The set's other changes wait to be sent again in a
  // new change set. *records gets the ids put back.
  Status DiscardInflight(const std::string& refused_record, std::vector<std::string>* records);
  // Computes the search text of records that have none yet (pulled ones).
  Status FillSearchText();
  // Live ideas of this device's commune past draft with no receipt number yet.
  Status UnnumberedIdeas(std::vector<std::string>* ids);
  // This device's own changes at or after `at` (IsoTimestamp), by record,
  // oldest first: what a report of a past day takes back.
  Status LocalChangesSince(const std::string& at, std::map<std::string, std::vector<HistoryEntry>>* out);
  Status AddServerHistory(const std::string& record_id, const std::vector<HistoryEntry>& entries);

  // ---- attached files (content-addressed under <home>/files) ----
  // Copies `bytes` into the store and appends it to the record's photos.
  Status Attach(const std::string& id, const std::string& bytes, const std::string& name, const std::string& caption,
                std::string* sha256, Record* out);
  struct Upload {
    std::string sha256, record_id;
    int64_t size = 0;
  };
  Status PendingUploads(std::vector<Upload>* out);
  Status MarkUploaded(const std::string& sha256);
  std::string FilePath(const std::string& sha256) const { return home_ + "/files/" + sha256; }
  bool HasFile(const std::string& sha256) const;
  // Stores bytes fetched from the server after checking their hash.
  Status SaveFile(const std::string& sha256, const std::string& bytes);
  // The directory photos live in, made if missing (downloads keep their partial there).
  Status MakeFilesDir();
  // SHA-256s referenced by records' photos that are not in the store.
  Status MissingFiles(std::vector<std::string>* out);

  Status Info(StoreInfo* out);
  // What waits in the outbox, a record at a time: its changes and the fields they set.
  struct PendingRecord {
    std::string record_id;
    int64_t changes = 0;
    std::vector<std::string> fields;  // keys, in the order first changed
    bool in_flight = false;           // frozen in a change set already sent once
  };
  Status PendingByRecord(std::vector<PendingRecord>* out);
  // Outbox changes frozen in change sets waiting for the server's answer.
  Status FrozenChangeCount(int64_t* out);
  std::string Setting(const std::string& key, const std::string& fallback = "");
  Status SetSetting(const std::string& key, const std::string& value);
  const std::string& device_id() const { return device_id_; }
  const std::string& commune() const { return commune_; }
  const FormCatalog& catalog() const { return *catalog_; }
  // The unit tree this device knows: the server's list when it had one at init
  // (or after `ocop units --refresh`), else the embedded sample.
  const UnitTree& units() const { return units_; }
  const Clock& clock() const { return clock_; }
  // Replaces the device's unit list (CSV, our layout). Its own unit must be in it.
  Status SetUnits(const std::string& csv);
  // What a sync's fetch of published definitions brought that this device lacked.
  struct DefinitionsTaken {
    std::vector<std::pair<std::string, int>> forms;  // (form, version)
    std::vector<std::string> sheets;                 // criteria sheet ids
    bool catalogue = false;                          // corrections to the message catalogue changed
  };
  // Keeps the definitions the server published (shared/definitions.h) and
  // puts them in force over the built-in ones, for offline use from now on.
  // Refused whole when one cannot be put in force.
  Status SetPublishedDefinitions(const definitions::Published& published, DefinitionsTaken* taken);
  sql::Db& db() { return db_; }
  // Now, as stored timestamps are written.
  std::string NowIso() const;

 private:
  // Fields a record takes from another record on this device (an evaluation
  // sheet's localisation criteria from its confirmation); *filled when it did.
  Status FillLinked(const std::string& form, json::Object* fields, bool* filled);
  // Reference fields among `keys`: what was typed becomes the full id, and the
  // record it names must be on this device, not deleted, of the right form.
  Status ResolveReferences(const FormSchema& schema, const std::vector<std::string>& keys, json::Object* fields);
  Status InsertNew(const Record& r);

  LocalStore(const Clock& clock) : clock_(clock), hlc_(clock) {}
  Status Load();
  std::string Author();
  Status ReadRecord(sql::Stmt& st, Record* out);
  Status FreezeNew(size_t max_changes, sync::ChangeSet* out, bool* has);
  Status WriteChange(const Record& before, const Record& after, const std::string& op,
                     const std::vector<sync::FieldChange>& fields);
  Status SaveHlc();
  // Puts this device's unacknowledged edits of record `id` on top of `fields`.
  // Returns whether there were any.
  bool OverlayPending(const std::string& id, json::Object* fields, bool* deleted);
  // Shows the server's state of a record with this device's pending edits on top.
  Status Rebase(const std::string& id, const std::string& form, const std::string& server_fields, bool server_deleted);

  const Clock& clock_;
  HybridClock hlc_;
  sql::Db db_;
  const FormCatalog* catalog_ = &FormCatalog::Embedded();  // set by Load
  std::string device_id_, commune_, home_;
  UnitTree units_;
};


// The JSON object `ocop show --json` prints.
json::Object::Ptr RecordToJson(const Record& r);
// One history entry as `ocop history --json` prints it and the screens read it.
json::Object::Ptr HistoryEntryToJson(const HistoryEntry& e);

}  // namespace ocop::client
