// The client side of sync: log in, push the outbox as change sets, pull pages of
// record states, upload photos. Each step is restartable and keeps what got
// through: a change set's body is uploaded resumably (the server keeps the
// bytes that arrived, the next attempt continues from its offset, and it is
// applied once by its id), each pulled page is applied together with its cursor
// and sized to what the link carried last, and a photo continues from the last
// byte the server holds. One Sync() keeps trying with backoff until everything
// went or its deadline passes, so a link that drops every few seconds still
// gets everything through, exactly once (docs/protocol.md, "Field links").
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "client/local_store.h"

namespace ocop::client {

struct SyncReport {
  int64_t changes_sent = 0;
  int64_t changes_applied = 0;
  int64_t changes_merged = 0;
  int64_t changes_in_conflict = 0;
  int64_t records_received = 0;
  int64_t pages = 0;
  std::vector<std::string> conflict_records;  // records the push found in conflict
  int64_t open_conflicts = 0;                 // records marked in conflict after the pull
  int64_t pending_after = 0;
  int64_t files_uploaded = 0;
  int64_t file_bytes_sent = 0;
  int64_t files_waiting = 0;      // uploads not finished (the forms synced regardless)
  int64_t files_downloaded = 0;   // with --with-files
  std::string files_error;        // why uploads stopped, if they did
  int64_t numbered = 0;           // ideas received before the device held receipt numbers, numbered now
  bool units_updated = false;     // the server's unit list changed (a merger, say) and was taken
  // Form versions the server published since the last sync, taken: (form, version).
  std::vector<std::pair<std::string, int>> forms_updated;
  std::vector<std::string> sheets_updated;  // criteria sheets published since and taken
  bool catalogue_updated = false;           // corrections to the message catalogue taken
  std::string definitions_problem;  // why the published definitions were not taken (asked again next sync)
  int64_t carried_sent = 0;       // carried files of other devices pushed (ocop import-changes)
  int64_t carried_refused = 0;    // ... and refused by the server (kept with their reason)
  int64_t attempts = 0;           // rounds of push/files/pull tried
  int64_t cuts = 0;               // requests the link dropped
  bool stopped_by_user = false;   // Ctrl-C
  bool deadline_reached = false;
  std::string last_link_error;    // what the last dropped request said
  double seconds = 0;
  HttpStats http;
  // Where the time went, in seconds (bench/sync_bench prints them).
  struct Phases {
    double freeze = 0;     // change sets frozen from the outbox
    double encode = 0;     // encoded and compressed
    double push_wait = 0;  // waiting for the server to take and apply them
    double ack = 0;        // answers recorded
    double pull_wait = 0;  // waiting for pages
    double decode = 0;     // pages decoded
    double apply = 0;      // pages applied
  } phases;
};

// What a running sync has done so far, for a live progress line.
struct SyncProgress {
  const char* phase = "";          // "push", "files", "pull", "wait"
  int64_t changes_sent = 0, changes_total = 0;
  int64_t records_received = 0;
  int64_t bytes_sent = 0, bytes_received = 0;  // on the wire, this sync
  double seconds = 0;
  int64_t bytes_left = 0;          // still to send in the current body or file (estimate)
  int64_t cuts = 0;
};

struct SyncOptions {
  size_t push_batch = 2000;  // changes per change set (one request per 2,000 forms)
  int pull_limit = 2000;     // records per page
  bool pull_patches = true;  // ask for changed fields of records held (sync/patch.h)
  int receipt_block = 50;    // receipt numbers to reserve when running low
  int receipt_low_water = 20;
  bool with_files = false;      // also fetch the contents of every file in scope
  // Pull pages adapt to the link: set from what arrived before a cut, doubled
  // after a success. Photo chunks double after each success (the server keeps
  // the bytes of a cut chunk, so a cut does not shrink them). Within bounds:
  int64_t chunk_bytes = 256 * 1024;
  int64_t min_chunk_bytes = 16 * 1024, max_chunk_bytes = 4 * 1024 * 1024;
  int64_t pull_page_bytes = 2 * 1024 * 1024;
  int64_t min_pull_page_bytes = 8 * 1024, max_pull_page_bytes = 8 * 1024 * 1024;
  // One Sync() keeps going while the link lets it, until this many seconds.
  double deadline_s = 600;
  int max_idle_rounds = 30;  // rounds in a row that moved nothing: give up
  long first_backoff_ms = 250, max_backoff_ms = 30000;  // between attempts, with jitter
  const std::atomic<bool>* stop = nullptr;               // set by Ctrl-C: stop cleanly
};

class SyncClient {
 public:
  using Progress = std::function<void(const SyncProgress&)>;
  SyncClient(LocalStore& store, HttpClient& http, SyncOptions options = {})
      : store_(store), http_(http), options_(options) {}

  Status Login(const std::string& user, const std::string& password);
  Status Logout();
  Status Sync(SyncReport* report, const Progress& progress = nullptr);
  // Fetches the server's audit trail of a record into local history.
  Status FetchHistory(const std::string& record_id);
  // The fields of a record in conflict, both values as the server holds them
  // (GET /v1/conflicts/{id}); a read, nothing stored.
  struct ConflictField {
    std::string field, current, incoming;  // values as JSON text
    std::string current_by, incoming_by;   // authors
  };
  Status FetchConflicts(const std::string& record_id, std::vector<ConflictField>* out);
  // Fetches one file's bytes from the server into the store (on demand).
  Status FetchFile(const std::string& sha256);
  // Another device's return file (sync/carried.h), written and signed by the
  // server, for this device's user to carry to it. It comes down into `part`
  // (and `part`.etag), continuing after a cut, and is then read into *bytes.
  Status FetchReturnFile(const std::string& device, int64_t since, const std::string& part, std::string* bytes);

 private:
  // Downloads `path` into `part` (HttpClient::Download) until it is whole,
  // continuing after each cut while the attempts bring bytes.
  Status DownloadResumable(const std::string& path, const std::string& part, const std::string& etag);
  // One round: push, then photos, then pull; a step the link cut does not
  // stop the others. Returns the first refusal (not retried), else whether
  // anything is left and whether the round moved anything.
  // Keeps what the server said it reads (X-OCOP-Encodings) for the next sync.
  void RememberServerEncodings();
  Status Round(SyncReport* report, bool* done, bool* progressed);
  Status Push(SyncReport* report, bool* progressed);
  // A frozen change set ready to go: the compressed body the resumable push
  // sends, and its SHA-256 (the upload's name).
  struct Outgoing {
    sync::ChangeSet cs;
    std::string body, sha;
  };
  static void Encode(bool columns, Outgoing* out);
  Status PushOne(const Outgoing& out, bool ask, sync::PushResult* result, bool* progressed);
  Status PushResumable(const Outgoing& out, bool ask, sync::PushResult* result, bool* progressed);
  Status PushCarried(SyncReport* report, bool* progressed);
  Status Pull(SyncReport* report, bool* progressed);
  // Takes the server's unit list when the version a pull named differs from
  // the one this device holds: one more request only when the list changed.
  Status FollowUnits(const std::string& version, SyncReport* report);
  // The same for the definitions the server published (X-Ocop-Definitions).
  Status FollowDefinitions(const std::string& version, SyncReport* report);
  Status UploadFiles(SyncReport* report, bool* progressed, int64_t* waiting);
  Status UploadOne(const LocalStore::Upload& u, SyncReport* report, bool* progressed);
  void Report(const char* phase, int64_t bytes_left = 0);
  bool StopRequested() const { return options_.stop && options_.stop->load(); }
  int64_t AdaptDown(int64_t current, int64_t arrived_estimate, int64_t min) const;

  LocalStore& store_;
  HttpClient& http_;
  SyncOptions options_;
  Progress progress_;
  SyncProgress live_;
  int64_t request_sent_ = 0, request_received_ = 0;  // of the request under way
  std::chrono::steady_clock::time_point started_;
  bool pulled_ = false;  // this sync has pulled to the end once
  std::map<std::string, int64_t> file_offsets_;  // where each upload stood when last asked
};

// Why a sync ended: done, stopped_by_user, deadline, no_connection or refused.
std::string SyncOutcome(const Status& status, const SyncReport& report);
// The summary of a sync as `ocop sync --json` prints it and the screens show it.
json::Object SyncSummary(const Status& status, const SyncReport& report);
// A password goes only over HTTPS, or to this machine; `insecure` overrides
// (a test install on a trusted LAN).
Status CheckPasswordTransport(const std::string& server_url, bool insecure);

// Fetches a photo (resumable, as SyncClient::FetchFile) on a store connection
// of its own, opened on `home`: the caller's connection stays free meanwhile.
Status FetchFileAlone(const std::string& home, const std::string& url, const HttpOptions& http, const std::string& sha256);

}  // namespace ocop::client
