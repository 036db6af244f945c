// Identifiers made offline that never collide across devices: UUIDv7 (48 bits of
// milliseconds, 74 random bits from the OS). Sortable by creation time.
// Thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace ocop::ids {

// A new UUIDv7 in canonical lower-case 8-4-4-4-12 form.
std::string NewUuid();
// Whether `s` is a canonical lower-case UUID (any version).
bool IsUuid(std::string_view s);
// `bytes` random bytes from the OS, hex encoded.
std::string RandomHex(size_t bytes);

}  // namespace ocop::ids
