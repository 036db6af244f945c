// The client side of sync: log in, push the outbox as change sets, pull pages of
// record states. Each step is restartable: a change set is re-sent as the very
// same change set until the server's answer is stored, and each pulled page is
// applied together with its cursor, so a link that drops anywhere loses nothing
// and doubles nothing.
#pragma once
#include <functional>
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
  HttpStats http;
};

struct SyncOptions {
  size_t push_batch = 2000;  // changes per change set (one request per 2,000 forms)
  int pull_limit = 2000;     // records per page
  int receipt_block = 50;    // receipt numbers to reserve when running low
  int receipt_low_water = 20;
  bool with_files = false;      // also fetch the contents of every file in scope
  size_t chunk_bytes = 256 * 1024;  // upload chunk: what a dropped 2G/3G link may have to resend
};

class SyncClient {
 public:
  using Progress = std::function<void(const std::string&)>;
  SyncClient(LocalStore& store, HttpClient& http, SyncOptions options = {})
      : store_(store), http_(http), options_(options) {}

  Status Login(const std::string& user, const std::string& password);
  Status Logout();
  Status Sync(SyncReport* report, const Progress& progress = nullptr);
  // Fetches the server's audit trail of a record into local history.
  Status FetchHistory(const std::string& record_id);
  // Fetches one file's bytes from the server into the store (on demand).
  Status FetchFile(const std::string& sha256);

 private:
  Status Push(SyncReport* report, const Progress& progress);
  Status Pull(SyncReport* report, const Progress& progress);
  Status UploadFiles(SyncReport* report, const Progress& progress);
  Status UploadOne(const LocalStore::Upload& u, SyncReport* report, const Progress& progress);
  LocalStore& store_;
  HttpClient& http_;
  SyncOptions options_;
};

}  // namespace ocop::client
