// Sync by carried file, on the device (sync/carried.h has the format):
// - ExportOutbox: the officer's device with no link writes its pending changes
//   (frozen as the change sets an online sync would send) and, if asked, its
//   unsent photos into one signed file;
// - ImportChangesFile: a coordinator's (or any in-scope) device takes such a
//   file to push it for that device at its next sync;
// - ImportReturnFile: the officer's device applies the return file the server
//   wrote for it — the answers to its change sets, then the pages it would
//   have pulled.
// Each keeps online sync's guarantees: change sets keep their ids, so however
// many ways one reaches the server, it is applied once.
#pragma once
#include <string>

#include "client/local_store.h"

namespace ocop::client {

struct ExportSummary {
  size_t change_sets = 0, changes = 0, photos = 0, bytes = 0;
};
Status ExportOutbox(LocalStore& store, const std::string& output, bool with_files, ExportSummary* out);

struct CarriedInSummary {
  std::string device, user, unit;
  int64_t changes = 0;
  size_t photos = 0;
  bool already = false;
};
Status ImportChangesFile(LocalStore& store, const std::string& path, CarriedInSummary* out);

struct ReturnSummary {
  size_t answers_applied = 0, pages_applied = 0, records = 0;
  int64_t cursor = 0;
  bool nothing_new = false;
};
Status ImportReturnFile(LocalStore& store, const std::string& path, ReturnSummary* out);

// Writes a carried file whole or not at all (beside, then renamed).
Status WriteCarriedFile(const std::string& path, const std::string& bytes);
// Reads a whole carried file (bounded by the format's limit).
Status ReadCarriedFile(const std::string& path, std::string* bytes);

}  // namespace ocop::client
