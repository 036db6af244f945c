// What one account may hold on the server's disk in unfinished uploads:
// photos begun and resumable change-set bodies not yet complete. Without a
// bound one officer's token could start thousands of 32 MB uploads and leave
// them partial until the disk is full. An upload is admitted when it begins
// (count and declared bytes against the account's budget) and leaves the
// budget when it completes, is discarded, or is older than `expire_ms` (its
// partial file is swept by then). Re-admitting an open upload (a device
// resuming after a cut) is always allowed, so an honest device never loses
// what it sent.
//
// Kept in memory, per process: after a restart, or on another replica, the
// count starts again (the sweep still removes what is left). Thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "shared/status.h"

namespace ocop::server {

class UploadBudget {
 public:
  struct Policy {
    int max_open = 16;                              // unfinished uploads per account
    int64_t max_bytes = 256LL * 1024 * 1024;        // their declared bytes together
    int64_t expire_ms = 48LL * 3600 * 1000;         // after this an upload no longer counts
  };
  UploadBudget() : UploadBudget(Policy{}) {}
  explicit UploadBudget(Policy p) : policy_(p) {}

  // Admits upload `key` (e.g. "photo:<sha>") of `size` bytes for `account`, or
  // refuses it with kResourceExhausted saying what is open.
  Status Admit(const std::string& account, const std::string& key, int64_t size, int64_t now_ms);
  // The upload completed or was discarded: it no longer counts.
  void Finished(const std::string& key);

  struct Totals {
    int64_t uploads = 0;
    int64_t bytes = 0;
  };
  Totals All() const;
  Totals Of(const std::string& account) const;

 private:
  struct Entry {
    std::string account;
    int64_t size = 0;
    int64_t started_ms = 0;
  };
  void ExpireLocked(int64_t now_ms);

  Policy policy_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> open_;  // by key
};

}  // namespace ocop::server
