#include "shared/ids.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace ocop::ids {

namespace {
// std::random_device reads the kernel's CSPRNG on Linux; one engine per thread
// would also do, but a mutex-guarded device keeps ids independent of seeding.
void FillRandom(uint8_t* out, size_t n) {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard<std::mutex> lock(mu);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4 && i + j < n; ++j) out[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
}
const char kHex[] = "0123456789abcdef";
}  // namespace

std::string NewUuid() {
  uint8_t b[16];
  FillRandom(b, sizeof b);
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x70);  // version 7
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  FillRandom(reinterpret_cast<uint8_t*>(raw.data()), bytes);
  std::string s;
  for (unsigned char c : raw) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

}  // namespace ocop::ids
