// Encoding of sync messages: canonical JSON through cereal's JSON archive, and
// gzip for the wire. Decoding never trusts its input: any malformed message
// comes back as InvalidArgument, never as a crash.
#pragma once
#include <string>

#include "shared/status.h"
#include "sync/change.h"

namespace ocop::sync {

std::string EncodeJson(const ChangeSet& cs);
std::string EncodeJson(const PushResult& r);
std::string EncodeJson(const PullPage& p);
Status DecodeJson(const std::string& text, ChangeSet* out);
Status DecodeJson(const std::string& text, PushResult* out);
Status DecodeJson(const std::string& text, PullPage* out);

// Compact binary encoding (cereal portable binary): the same messages, cheaper
// to read and write. Offered on the wire as kBinaryContentType (docs/protocol.md).
inline constexpr const char* kBinaryContentType = "application/x-ocop-cereal";
std::string EncodeBinary(const ChangeSet& cs);
Status DecodeBinary(const std::string& bytes, ChangeSet* out);
std::string EncodeBinary(const PushResult& r);
Status DecodeBinary(const std::string& bytes, PushResult* out);
std::string EncodeBinary(const PullPage& p);
Status DecodeBinary(const std::string& bytes, PullPage* out);

// Level 1 by default: on JSON it costs a third of level 6 for a few % more bytes.
std::string Gzip(const std::string& plain, int level = 1);
// Inflates gzip data; refuses output beyond `max_out` bytes (zip bombs).
Status Gunzip(const std::string& compressed, size_t max_out, std::string* out);

// zstd (RFC 8878), the wire's compression when both ends speak it
// (Content-Encoding: zstd): smaller than gzip on these messages at a similar
// cost (bench/compression_bench.cpp).
inline constexpr int kZstdLevel = 6;
std::string Zstd(const std::string& plain, int level = kZstdLevel);
// Decompresses zstd data, streaming; refuses output beyond `max_out` bytes.
Status Unzstd(const std::string& compressed, size_t max_out, std::string* out);
// A body that is gzip or zstd, told apart by their magic bytes (resumable
// push bodies carry no Content-Encoding).
Status Decompress(const std::string& compressed, size_t max_out, std::string* out);

}  // namespace ocop::sync

namespace ocop::sync {
// One change, as stored in the client's outbox (binary: it is read back often).
std::string EncodeBinary(const Change& c);
Status DecodeBinary(const std::string& bytes, Change* out);
}  // namespace ocop::sync
