// Bytes of attached files on the server's disk, content-addressed:
// <dir>/<sha256> once complete and verified, <dir>/<sha256>.part while an
// upload is under way (its size is how much arrived, so an upload resumes
// there). Thread-safe: one mutex around every operation (uploads are rare and
// small compared to record sync).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>

#include "shared/status.h"

namespace ocop::server {

class FileStore {
 public:
  explicit FileStore(std::string dir) : dir_(std::move(dir)) {}
  Status Init();
  // Bytes received so far (the full size when complete).
  int64_t Received(const std::string& sha256);
  bool Complete(const std::string& sha256);
  // Appends `bytes` at `offset`, which must equal Received(). When the file
  // reaches `size`, verifies its SHA-256 and makes it complete; a mismatch
  // discards the upload (kInvalidArgument).
  Status Append(const std::string& sha256, int64_t size, int64_t offset, const std::string& bytes, int64_t* received);
  Status Read(const std::string& sha256, std::string* out);
  // Deletes complete and partial files not written for `age_s` seconds (the
  // store of change-set bodies keeps them a day, then lets them go); with
  // `partials_only` only unfinished uploads (photos that were never completed).
  void RemoveOlderThan(int64_t age_s, bool partials_only = false);

 private:
  std::string Path(const std::string& sha256) const { return dir_ + "/" + sha256; }
  std::string dir_;
  std::mutex mu_;
};


}  // namespace ocop::server
