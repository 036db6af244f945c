#include "shared/clock.h"

#include <gtest/gtest.h>

namespace ocop {
namespace {

TEST(HybridClockTest, MonotonicEvenWhenWallClockGoesBack) {
  FakeClock wall(1000);
  HybridClock hlc(wall);
  std::string a = hlc.Tick();
  wall.Advance(-500);  // the laptop's clock was set back
  std::string b = hlc.Tick();
  EXPECT_LT(a, b);
  wall.Advance(1000);
  std::string c = hlc.Tick();
  EXPECT_LT(b, c);
  EXPECT_EQ(c, HybridClock::Encode(1500, 0));
}

TEST(HybridClockTest, ObserveMovesPastRemote) {
  FakeClock wall(1000);
  HybridClock hlc(wall);
  hlc.Observe(HybridClock::Encode(5000, 3));
  EXPECT_EQ(hlc.Tick(), HybridClock::Encode(5000, 4));
  hlc.Observe("garbage");
  EXPECT_EQ(hlc.Tick(), HybridClock::Encode(5000, 5));
}

TEST(HybridClockTest, DecodeRejectsMalformed) {
  int64_t ms;
  int32_t c;
  EXPECT_TRUE(HybridClock::Decode(HybridClock::Encode(123, 4), &ms, &c));
  EXPECT_EQ(ms, 123);
  EXPECT_EQ(c, 4);
  EXPECT_FALSE(HybridClock::Decode("000000000000123_00004", &ms, &c));
  EXPECT_FALSE(HybridClock::Decode("12-3", &ms, &c));
  EXPECT_FALSE(HybridClock::Decode("00000000000012a-00004", &ms, &c));
}

}  // namespace
}  // namespace ocop
