#include "shared/clock.h"

#include <chrono>
#include <cstdio>

namespace ocop {

int64_t SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& SystemClock::Get() {
  static SystemClock clock;
  return clock;
}

std::string HybridClock::Tick() {
  int64_t now = wall_->NowMillis();
  if (now > ms_) {
    ms_ = now;
    counter_ = 0;
  } else {
    ++counter_;
  }
  return Encode(ms_, counter_);
}

void HybridClock::Observe(const std::string& remote) {
  int64_t rms;
  int32_t rc;
  if (!Decode(remote, &rms, &rc)) return;
  if (rms > ms_ || (rms == ms_ && rc > counter_)) {
    ms_ = rms;
    counter_ = rc;
  }
}

std::string HybridClock::Encode(int64_t ms, int32_t counter) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%015lld-%05d", static_cast<long long>(ms), counter);
  return buf;
}

bool HybridClock::Decode(const std::string& s, int64_t* ms, int32_t* counter) {
  if (s.size() != 21 || s[15] != '-') return false;
  int64_t m = 0;
  int32_t c = 0;
  for (size_t i = 0; i < 15; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    m = m * 10 + (s[i] - '0');
  }
  for (size_t i = 16; i < 21; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    c = c * 10 + (s[i] - '0');
  }
  *ms = m;
  *counter = c;
  return true;
}

}  // namespace ocop
