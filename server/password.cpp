#include "server/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <vector>

#include "shared/ids.h"

namespace ocop::server {

namespace {
std::string Hex(const unsigned char* p, size_t n) {
  static const char k[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(k[p[i] >> 4]);
    s.push_back(k[p[i] & 15]);
  }
  return s;
}

std::string Derive(const std::string& password, const std::string& salt, int iterations) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    EVP_sha256(), sizeof out, out);
  return Hex(out, sizeof out);
}
}  // namespace

std::string HashPassword(const std::string& password, int iterations) {
  std::string salt = ids::RandomHex(16);
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + salt + "$" + Derive(password, salt, iterations);
}

bool VerifyPassword(const std::string& password, const std::string& encoded) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t d = encoded.find('$', pos);
    parts.push_back(encoded.substr(pos, d == std::string::npos ? std::string::npos : d - pos));
    if (d == std::string::npos) break;
    pos = d + 1;
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256") return false;
  int iterations = std::atoi(parts[1].c_str());
  if (iterations < 1000) return false;
  std::string got = Derive(password, parts[2], iterations);
  return got.size() == parts[3].size() && CRYPTO_memcmp(got.data(), parts[3].data(), got.size()) == 0;
}

std::string NewToken() { return ids::RandomHex(32); }

std::string HashToken(const std::string& token) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out);
  return Hex(out, sizeof out);
}

}  // namespace ocop::server
