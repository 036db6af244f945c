// Password and token hashing. Passwords: PBKDF2-HMAC-SHA256 with a random salt,
// encoded "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>". Tokens: 32 random
// bytes, hex; stored only as their SHA-256. Thread-safe.
#pragma once
#include <string>

namespace ocop::server {

inline constexpr int kDefaultPbkdf2Iterations = 210000;

std::string HashPassword(const std::string& password, int iterations = kDefaultPbkdf2Iterations);
bool VerifyPassword(const std::string& password, const std::string& encoded);
std::string NewToken();
std::string HashToken(const std::string& token);

}  // namespace ocop::server
