// The column encoding of change sets and pull pages (docs/protocol.md,
// "Encodings"): the same messages as the binary encoding, laid out so that a
// compressor finds like next to like. Every change's ids are in one column,
// every form's name in another, and the values of each field key are grouped:
// all the descriptions together, all the phone numbers together. Keys are
// written once per message. Compressed with zstd this is about a fifth smaller
// than the binary encoding under gzip (bench/compression_bench.cpp).
//
// Decoding never trusts its input: lengths and counts are checked against the
// bytes that remain before anything is allocated, key numbers against the
// key table; anything malformed is InvalidArgument.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/status.h"
#include "sync/change.h"

namespace ocop::sync {

inline constexpr const char* kColumnsContentType = "application/x-ocop-columns";

std::string EncodeColumns(const ChangeSet& cs);
Status DecodeColumns(const std::string& bytes, ChangeSet* out);
std::string EncodeColumns(const PullPage& page);
Status DecodeColumns(const std::string& bytes, PullPage* out);

// A push answer. Its outcomes follow the change set's changes one for one and
// in order (the server answers so), so their change and record ids are not
// sent: the device, which holds the change set, puts them back. Decoding
// needs that change set and refuses an answer of another length or for
// another set.
std::string EncodeColumns(const PushResult& result);
Status DecodeColumns(const std::string& bytes, const ChangeSet& sent, PushResult* out);

// True when `bytes` start as a column-encoded change set or pull page.
bool LooksLikeColumns(const std::string& bytes);

// Splits a JSON object's text into its members as they are written: each
// key's token (quotes and escapes included) and the value's text. False when
// the text is not one plain object (then it travels as it is). Joining the
// members back, "{" k ":" v "," ... "}", gives the same text byte for byte.
bool SplitObjectText(std::string_view text, std::vector<std::pair<std::string_view, std::string_view>>* members);

}  // namespace ocop::sync
