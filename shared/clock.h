// Clocks. Time is injected so that rules with dates (the seven-day resubmission
// rule, token expiry) and the hybrid logical clock are testable.
#pragma once
#include <cstdint>
#include <string>

namespace ocop {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the UNIX epoch.
  virtual int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  static const SystemClock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t ms) : ms_(ms) {}
  int64_t NowMillis() const override { return ms_; }
  void Advance(int64_t ms) { ms_ += ms; }

 private:
  int64_t ms_;
};

// Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter,
// never going backwards even if the laptop's clock does, and moved forward past
// every timestamp seen from the server. Encoded as a fixed-width string that sorts
// in time order: "<15-digit ms>-<5-digit counter>".
// Not thread-safe: one per store.
class HybridClock {
 public:
  explicit HybridClock(const Clock& wall, int64_t last_ms = 0, int32_t last_counter = 0)
      : wall_(&wall), ms_(last_ms), counter_(last_counter) {}
  // A timestamp later than every one issued or observed before.
  std::string Tick();
  // Moves past a remote timestamp. Ignores malformed input.
  void Observe(const std::string& remote);
  int64_t last_ms() const { return ms_; }
  int32_t last_counter() const { return counter_; }
  static std::string Encode(int64_t ms, int32_t counter);
  static bool Decode(const std::string& s, int64_t* ms, int32_t* counter);

 private:
  const Clock* wall_;
  int64_t ms_;
  int32_t counter_;
};

}  // namespace ocop
