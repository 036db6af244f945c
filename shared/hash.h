// SHA-256 and HMAC-SHA256, from OpenSSL's libcrypto (linked for TLS anyway):
// one place for the hashes that name photos (content addresses), check
// carried files and sign them. Pure functions, safe from any thread.
#pragma once
#include <string>

namespace ocop::hash {

// The 32 raw bytes of SHA-256(bytes).
std::string Sha256(const std::string& bytes);
// SHA-256(bytes) as 64 lower-case hex digits: how a file is named everywhere.
std::string Sha256Hex(const std::string& bytes);
// HMAC-SHA256(key, message) (RFC 2104) as 64 lower-case hex digits.
std::string HmacSha256Hex(const std::string& key, const std::string& message);
// Whether `s` is 64 lower-case hex digits (a SHA-256 as this project writes it).
bool IsSha256Hex(const std::string& s);
// Lower-case hex of any bytes.
std::string ToHex(const std::string& bytes);

}  // namespace ocop::hash
