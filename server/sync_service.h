// The server's core: accounts and sessions, push (apply a change set exactly
// once, merging field by field), pull (pages of record states in the caller's
// scope), history, and the conflict queue. HTTP handlers parse, call one method
// here, and render the answer; every rule lives here.
//
// Thread-safe: methods may run concurrently; writes are serialised by the store.
#pragma once
#include <atomic>
#include <chrono>
#include <semaphore>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "server/login_throttle.h"
#include "server/store/server_store.h"
#include "server/upload_budget.h"
#include "shared/clock.h"
#include "shared/definitions.h"
#include "shared/forms.h"
#include "shared/json.h"
#include "shared/units.h"
#include "sync/change.h"

namespace ocop::server {

struct AuthUser {
  std::string name, role, unit, unit_path, device;
  bool IsAdmin() const { return role == "admin"; }
};

struct LoginResult {
  std::string token;
  int64_t expires_ms = 0;
  std::string user, role, unit;
};

struct PullRequest {
  int64_t since = 0;
  int limit = 1000;
  int64_t max_bytes = 0;  // stop the page near this many bytes of records (0: count only)
  int reserve_receipts = 0;  // officers: ask for a block of receipt numbers
  int receipt_year = 0;
  // The cursor of the device's last complete pull (0: none): records it holds
  // for sure come as patches of their changed fields (sync/patch.h).
  int64_t patch_since = 0;
};

// An administrator's decision for one conflicting field.
struct FieldResolution {
  std::string field;
  std::string take;   // "current", "incoming" or "value"
  std::string value;  // canonical JSON when take == "value"
};

// What importing a carried file did, change set by change set.
struct CarriedSetResult {
  std::string changeset_id;
  Status status;              // a refusal of this change set (the others still apply)
  sync::PushResult result;    // when applied (or already applied before)
};
struct CarriedImport {
  std::string device, user, unit;
  std::vector<CarriedSetResult> sets;
  int photos_stored = 0, photos_refused = 0;
  std::string photo_error;
};

// What an administrator changes about an account; unset members stay.
struct UserUpdate {
  std::optional<std::string> role, unit, password;
  std::optional<bool> disabled;
};

class FileStore;

struct ServiceLimits {
  int64_t max_file_bytes = 20 * 1024 * 1024;
  size_t max_changes_per_push = 5000;
  int max_pull_limit = 5000;
  int64_t token_ttl_ms = 30LL * 24 * 3600 * 1000;
  int pbkdf2_iterations = 210000;
  int64_t max_push_body_bytes = 32 * 1024 * 1024;   // a resumable change-set body, compressed
  size_t max_inflated_bytes = 128 * 1024 * 1024;    // ... and once inflated
  // Per account: live sessions and registered device keys kept; a login past
  // either bound revokes the oldest (500 logins leave 20 of each, not 500).
  int max_sessions_per_account = 20;
  int max_devices_per_account = 20;
  // Unfinished uploads (photos, resumable bodies) one account may hold.
  UploadBudget::Policy uploads;
  // Below this many free bytes in a watched directory (set_space_floor), new
  // pushes and uploads are refused with 507 and Retry-After.
  int64_t min_free_bytes = 256LL * 1024 * 1024;
};

class SyncService {
 public:
  SyncService(ServerStore& store, UnitTree units, const Clock& clock,
              ServiceLimits limits = {});

  // Creates an account (the command line's --add-user: no caller to check).
  Status AddUser(const std::string& name, const std::string& role, const std::string& unit,
                 const std::string& password);
  // The same, asked for by an administrator: only within the administrator's scope.
  Status AddUserAs(const AuthUser& admin, const std::string& name, const std::string& role, const std::string& unit,
                   const std::string& password);
  // Everything wrong with a new account at once, each with the member it is
  // about (name, role, unit, password); empty when it can be created. With
  // `admin`, the unit must lie in the administrator's scope.
  using AccountProblems = std::vector<std::pair<std::string, Status>>;
  Status CheckNewAccount(const AuthUser* admin, const std::string& name, const std::string& role,
                         const std::string& unit, const std::string& password, AccountProblems* out);
  // Accounts within an administrator's scope (no password hashes).
  Status ListUsers(const AuthUser& admin, std::vector<UserRow>* out);
  // Disables/enables, resets the password, or changes role or unit. A reset,
  // a disabling or a new role or unit ends the account's sessions.
  Status UpdateUser(const AuthUser& admin, const std::string& name, const UserUpdate& change);
  // `address` is the client's network address, for throttling guessers
  // (see login_throttle.h); a throttled attempt is kResourceExhausted.
  // `ttl_ms` (0: the configured token lifetime) bounds the session.
  // `device_key` (64 hex digits), when given, is kept as the key that device
  // signs its carried files with (sync/carried.h).
  Status Login(const std::string& user, const std::string& password, const std::string& device, LoginResult* out,
               const std::string& address = "", int64_t ttl_ms = 0, const std::string& device_key = "");
  int64_t LoginWaitMs(const std::string& user, const std::string& address) {
    return throttle_.WaitMs(user, address, clock_.NowMillis());
  }
  Status Authenticate(const std::string& bearer_token, AuthUser* out);
  Status Logout(const std::string& bearer_token);

  // Taken by value: callers move a decoded change set in (it can be megabytes).
  Status Push(const AuthUser& user, sync::ChangeSet cs, sync::PushResult* out);
  // Each change checked as a push would check it (scope, form, workflow,
  // references, links), nothing written: one Status per change, in order.
  // Changes are completed as a push completes them (a new record's initial
  // status). For imports that say every bad row at once.
  Status CheckEach(const AuthUser& user, std::vector<sync::Change>* changes, std::vector<Status>* out);
  // A timestamp of the server's hybrid clock, for changes the server makes for a user.
  std::string NextHlc() { return Tick(); }
  // A return file for `device` (ExportReturn) as GET /v1/return serves it:
  // with its SHA-256, and kept a day (in the store of change-set bodies) so
  // that a download cut on a slow link continues on the same bytes. With
  // `wanted` (the SHA-256 a resumed download names) and that file still kept
  // for this device, it is read back instead of written anew.
  Status ReturnFile(const std::string& device, int64_t since, const AuthUser& requester, const std::string& wanted,
                    std::string* bytes, std::string* sha);
  // Every open conflict, whoever may see it (for /metrics).
  Status OpenConflictCount(std::vector<ConflictRow>* out) { return store_.ListConflicts("", true, out); }
  // Change sets taken and refused since start (for /metrics).
  int64_t changesets_applied() const { return changesets_applied_.load(); }
  int64_t changesets_refused() const { return changesets_refused_.load(); }
  // The free bytes of each watched directory (set_space_floor), for /metrics.
  std::vector<std::pair<std::string, int64_t>> FreeSpace() const;
  Status Pull(const AuthUser& user, const PullRequest& req, sync::PullPage* out);
  Status History(const AuthUser& user, const std::string& record_id, std::vector<AuditRow>* out);

  // Records in conflict that the user may see, with their open conflict rows.
  Status ListConflicts(const AuthUser& user, std::vector<ConflictRow>* out);
  Status ConflictsOf(const AuthUser& user, const std::string& record_id, StoredRecord* record,
                     std::vector<ConflictRow>* open);
  // Applies an administrator's decisions as a new change (audited, synced to
  // every client in scope). Every open conflict of the record must be decided.
  Status Resolve(const AuthUser& user, const std::string& record_id, const std::vector<FieldResolution>& decisions,
                 sync::RecordState* out);

  // Carried files (sync/carried.h). ImportCarried checks the file's signature
  // against the key of the device it names, then pushes its change sets as
  // that device's user (exactly once: the same ids as an online sync would
  // send) and stores its photos. `importer` is the account that brought the
  // file (its scope must cover the file's unit), or null for the server's
  // operator (ocopd --import-changes).
  Status ImportCarried(const std::string& bytes, const AuthUser* importer, CarriedImport* out);
  // The return file for a device: the pages it would pull from `since` and
  // the answers to every change set it sent, signed with its key.
  // `requester` (null: the server's operator) must have the device's unit in scope.
  Status ExportReturn(const std::string& device, int64_t since, std::string* bytes, int64_t* records,
                      const AuthUser* requester = nullptr);

  // Attached files. The store of bytes is optional (set_files); without it the
  // file endpoints answer unavailable.
  void set_files(FileStore* files) { files_ = files; }
  // Where resumable change-set bodies are kept while they arrive (docs/protocol.md).
  void set_push_bodies(FileStore* bodies) { push_bodies_ = bodies; }
  // The directories whose free space is checked before a push or an upload
  // is taken (the store's and the files'): below limits.min_free_bytes the
  // answer is kInsufficientStorage (507), and nothing is written.
  void set_space_floor(std::vector<std::string> dirs) { space_dirs_ = std::move(dirs); }
  Status CheckSpace() const;
  const UploadBudget& uploads() const { return uploads_; }
  // Starts or resumes an upload: *received is where to continue.
  Status BeginUpload(const AuthUser& user, const std::string& sha256, int64_t size, const std::string& record_id,
                     int64_t* received);
  Status AppendUpload(const AuthUser& user, const std::string& sha256, int64_t offset, const std::string& bytes,
                      int64_t* received, int64_t* size);
  Status ReadFile(const AuthUser& user, const std::string& sha256, std::string* content);
  // Bytes of a file upload the server holds (-1 if it cannot tell).
  int64_t FileReceived(const std::string& sha256);

  // Resumable push: a change set's encoded body (gzip of its binary encoding)
  // arrives in pieces under its SHA-256; what arrived is kept even when the
  // link drops mid-request. When the last byte is in, the body is checked,
  // decoded and pushed (exactly once, by the change set's id) and *applied is
  // set with *result; before that, *received says where to continue.
  Status PushBodyReceived(const std::string& sha256, int64_t* received);
  Status AppendPushBody(const AuthUser& user, const std::string& sha256, int64_t size, int64_t offset,
                        const std::string& bytes, int64_t* received, bool* applied, sync::PushResult* result);

  // The unit tree in force. A snapshot: an import (ReplaceUnits) swaps in a
  // new tree while requests holding the old one finish with it.
  std::shared_ptr<const UnitTree> Units() const;
  // A short hash of the tree in force: sent with every pull (X-Ocop-Units), so
  // a device fetches the list again only when it changed.
  std::string UnitsVersion() const;
  // Whether a record at `unit_path` lies within the user's scope.
  bool InScope(const AuthUser& user, const std::string& unit_path) const;
  // Installs a new tree (already merged and checked by the caller; see
  // MergeUnitList in shared/units.h) and saves it.
  Status ReplaceUnits(const AuthUser& admin, UnitTree units);
  // Gives every record the place in the tree its unit has now (after a move
  // or a merger), with a new seq so the devices now in scope pull it. Safe to
  // run again: records already in place are left alone.
  Status PlaceRecords(int64_t* moved);
  // Takes the store's tree if it differs from the one in force: with several
  // ocopd on one database, an import made through another replica (*changed
  // tells whether anything was taken).
  Status RefreshUnits(bool* changed);

  // ---- definitions published over the built-in ones (sync_service_definitions.cpp) ----
  // What publishing a definition tells the publisher.
  struct Publication {
    definitions::Identity what;                 // kind, name, version, label
    std::vector<FieldDifference> differences;  // a form: against its newest version before it
    int previous_version = 0;                  // a form or catalogue: the newest version before it
    std::string replaces;                      // a criteria sheet: the sheet it corrects
    bool published = false;                    // false: checked only
  };
  // Checks a definition file (a form version, a criteria sheet or catalogue
  // corrections; see shared/definitions.h) against those in force and,
  // unless `check_only`, saves it and puts it in force at once: new records
  // use it, devices fetch it at their next sync.
  Status Publish(const std::string& by, const std::string& definition, bool check_only, Publication* out);
  // Puts the store's published definitions in force when they differ from
  // those in force: at start, and now and then (`ocopd --publish` or another
  // replica may have published). *changed tells whether anything was taken.
  Status RefreshDefinitions(bool* changed);
  // A short hash of the published definitions, sent with every pull
  // (X-Ocop-Definitions); empty while nothing is published.
  std::string DefinitionsVersion() const;
  // The published definitions as GET /v1/definitions serves them.
  std::string PublishedDefinitionsJson() const;
  bool Healthy() { return store_.Healthy(); }

  // Held while a change set is decoded and applied, or a pull page is read
  // and encoded: a few at once. Pushes apply one at a time and pages are built
  // on the cores there are, so more in hand would only hold memory (with 32
  // request threads each holding a page, that set the server's peak). Bytes
  // travel (a slow link's seconds) after it is let go.
  class InHand {
   public:
    enum Kind { kPush, kPage };
    InHand(SyncService& s, Kind kind) : gate_(kind == kPush ? s.pushes_in_hand_ : s.pages_in_hand_) { gate_.acquire(); }
    ~InHand() { gate_.release(); }
    InHand(const InHand&) = delete;
    InHand& operator=(const InHand&) = delete;

   private:
    std::counting_semaphore<64>& gate_;
  };

 private:
  // Records read while checking a change set, kept for applying it (and
  // updated as changes are applied): each record is read once per push.
  using RecordCache = std::map<std::string, std::optional<StoredRecord>>;
  Status Lookup(WriteTxn& txn, const std::string& id, RecordCache* cache, const StoredRecord** out);
  // `new_record`, when given and the change creates a record, receives the new
  // record's checked fields, so applying it need not parse them again.
  Status CheckChange(const AuthUser& user, WriteTxn& txn, RecordCache* cache, sync::Change* c,
                     json::Object* new_record = nullptr);
  // Rules between records: an evaluation sheet's localisation criteria equal
  // its confirmation's; a business plan is submitted only for a selected idea.
  Status CheckLinks(WriteTxn& txn, RecordCache* cache, const StoredRecord* existing, const sync::Change& c);
  // A reference field (an idea's id on a visit, say) must name a live record
  // of the form it names, in the user's scope, on the server or created
  // earlier in the same change set (`created`: id -> form).
  Status CheckReferences(const AuthUser& user, WriteTxn& txn, RecordCache* cache,
                         const std::map<std::string, std::string>& created, const sync::Change& c);
  // A certificate's stars are the council's: the scored sheets of its idea,
  // level and year in its commune (this transaction's included).
  Status CheckCertificate(WriteTxn& txn, const std::string& unit_path, const json::Object& certificate);
  // Workflow rules (shared/workflow.h) for a change of the status field.
  Status CheckWorkflow(const AuthUser& user, const FormSchema& schema, const StoredRecord* existing, sync::Change* c);
  // The account that registered `device`, and the device's key; with a
  // requester, only when that account's unit is in the requester's scope.
  Status DeviceAccount(const std::string& device, const AuthUser* requester, UserRow* row, std::string* key);
  // Creates an account after CheckNewAccount (`admin`: within its scope).
  Status CreateChecked(const AuthUser* admin, const std::string& name, const std::string& role,
                       const std::string& unit, const std::string& password);
  Status CheckAccount(const std::string& role, const std::string& unit) const;
  Status CheckUnitOpen(const std::string& unit) const;
  std::string NowIso() const;
  std::string Tick();

  ServerStore& store_;
  void InstallUnits(UnitTree units);
  mutable std::mutex units_mu_;
  std::shared_ptr<const UnitTree> units_;
  std::string units_version_;
  // Published definitions in force: (kind, name, version) -> definition file.
  using DefinitionMap = std::map<std::tuple<std::string, std::string, int>, std::string>;
  mutable std::mutex definitions_mu_;
  DefinitionMap published_;
  std::string definitions_version_;
  Status InstallDefinitions(DefinitionMap published);
  const Clock& clock_;
  ServiceLimits limits_;
  FileStore* files_ = nullptr;
  FileStore* push_bodies_ = nullptr;
  std::atomic<int64_t> bodies_completed_{0};
  std::atomic<int64_t> uploads_appended_{0};
  std::atomic<int64_t> changesets_applied_{0}, changesets_refused_{0};
  Status PushChecked(const AuthUser& user, sync::ChangeSet cs, sync::PushResult* out);
  std::vector<std::string> space_dirs_;
  // Return files kept for resumed downloads: SHA-256 -> the device they are for.
  std::mutex returns_mu_;
  std::map<std::string, std::string> returns_kept_;
  UploadBudget uploads_;
  LoginThrottle throttle_;
  // PBKDF2 is made to be slow: at most this many password checks run at once,
  // so a flood of logins cannot hold every server thread.
  std::counting_semaphore<64> password_checks_{2};
  // One change set applies at a time; a second is decoded meanwhile, so a
  // device's next set is ready when the last one is answered.
  std::counting_semaphore<64> pushes_in_hand_{2};
  // Pull pages read and encoded at a time: one per core keeps both busy, and
  // each holds a page (a few MB) until it is compressed (4 held 4 MB more
  // at the peak of 100 clients, for no more throughput on two cores).
  std::counting_semaphore<64> pages_in_hand_{2};
  // A hash checked when the account does not exist, so that a wrong name
  // costs what a wrong password costs (made on first use: PBKDF2 is slow).
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;
  std::mutex hlc_mu_;
  HybridClock hlc_;
};

sync::RecordState ToRecordState(const StoredRecord& r);

}  // namespace ocop::server
