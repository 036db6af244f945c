// Carried files: sync by hand when there is no link at all. A device writes
// its pending change sets (and unsent photos) into one file that someone
// carries to the district; the server writes a "return file" with what the
// device would pull, and the answers to its change sets. Both directions keep
// the guarantees of online sync because the file holds the same messages:
// change sets are applied exactly once by their ids, whichever way (file or
// link) reaches the server first.
//
// Layout (docs/carried-files.md):
//   "OCOP-CARRIED 1\n"
//   one line of JSON: the header (kind, device, user, unit, what it holds,
//                     payload_bytes, payload_sha256)
//   payload_bytes bytes: gzip of sections, each [kind byte][u32 big-endian
//                     length][bytes]: 'C' a change set, 'F' a photo (64 hex
//                     digits of its SHA-256, the 36-character id of its record,
//                     then its bytes), 'P' a pull page,
//                     'A' the answer to a change set — each section in the
//                     wire's binary encoding
//   "\nSIGNATURE hmac-sha256 " 64 hex digits "\n"
// The signature is HMAC-SHA256 over everything before the trailer, keyed by
// the device's key, which the server learnt when the device logged in. Only
// byte-exact copying is assumed (any file name, any file system).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "shared/status.h"
#include "sync/change.h"

namespace ocop::sync::carried {

inline constexpr const char* kMagic = "OCOP-CARRIED 1\n";
inline constexpr size_t kMaxFileBytes = 512u * 1024 * 1024;     // as carried
inline constexpr size_t kMaxPayloadBytes = 1024u * 1024 * 1024;  // once inflated

struct CarriedFile {
  std::string kind;  // "changes" (device → server) or "return" (server → device)
  std::string device, user, unit, created_at;
  // kind "changes"
  std::vector<ChangeSet> change_sets;
  struct Photo {
    std::string sha256, record_id, bytes;
  };
  std::vector<Photo> photos;
  // kind "return"
  std::vector<PullPage> pages;
  std::vector<PushResult> answers;
  int64_t since = 0;   // the cursor the pages start from
  int64_t cursor = 0;  // the cursor after the last page
};

// The signed file. `key_hex` is the device's key (64 hex digits).
std::string Write(const CarriedFile& file, const std::string& key_hex);

// Reads a file's structure: framing, header, payload checksum, every section
// decoded by the bounded decoders; the header must agree with the sections.
// Does not check the signature (only the device and the server hold the key).
Status Read(const std::string& bytes, CarriedFile* out);

// Whether the file was signed with `key_hex` (constant-time comparison).
Status CheckSignature(const std::string& bytes, const std::string& key_hex);


// A new random device key, 64 hex digits.
std::string NewDeviceKey();

}  // namespace ocop::sync::carried
