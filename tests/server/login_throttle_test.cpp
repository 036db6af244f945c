#include "server/login_throttle.h"

#include <gtest/gtest.h>

namespace ocop::server {
namespace {

TEST(LoginThrottleTest, WaitsDoubleAfterThreeFailuresAndSuccessResets) {
  LoginThrottle t;
  int64_t now = 1'000'000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 0);
    t.Failed("lan", "10.0.0.1", now);
  }
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 0);  // three are free
  t.Failed("lan", "10.0.0.1", now);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 1000);
  // A stranger's failures do not slow the owner logging in from elsewhere;
  // the address is not yet slowed for other accounts (colleagues behind one NAT)...
  EXPECT_EQ(t.WaitMs("lan", "10.9.9.9", now), 0);
  EXPECT_EQ(t.WaitMs("hoa", "10.0.0.1", now), 0);
  // ...until it has failed eleven times, whatever the names tried.
  for (int i = 0; i < 7; ++i) t.Failed("user" + std::to_string(i), "10.0.0.1", now);
  EXPECT_EQ(t.WaitMs("hoa", "10.0.0.1", now), 1000);
  now += 1000;
  for (int i = 0; i < 4; ++i) t.Failed("lan", "10.0.0.5", now);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.5", now), 1000);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.2", now), 0);
  for (int i = 0; i < 30; ++i) t.Failed("lan", "10.0.0.1", now);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 15 * 60 * 1000);  // capped
  t.Succeeded("lan", "10.0.0.1");
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 0);
}

TEST(LoginThrottleTest, GuessingFromManyAddressesIsStillBoundedPerAccount) {
  LoginThrottle t;
  int64_t now = 5'000'000;
  // Three wrong passwords from each of seven addresses: no pair is slowed yet,
  // but the account has failed 21 times in all.
  for (int a = 0; a < 7; ++a)
    for (int i = 0; i < 3; ++i) t.Failed("lan", "10.1.0." + std::to_string(a), now);
  EXPECT_EQ(t.WaitMs("lan", "10.2.0.1", now), 1000);  // from anywhere, the owner too
  EXPECT_EQ(t.WaitMs("hoa", "10.2.0.1", now), 0);
  t.Succeeded("lan", "10.2.0.1");
  EXPECT_EQ(t.WaitMs("lan", "10.1.0.3", now), 0);
}

TEST(LoginThrottleTest, MemoryStaysBoundedUnderASprayOfNames) {
  LoginThrottle::Policy p;
  p.max_entries = 1000;
  LoginThrottle t(p);
  for (int i = 0; i < 50000; ++i) t.Failed("user" + std::to_string(i), "10.0.0." + std::to_string(i % 200), 5);
  // Bounded, and the addresses that failed often are still slowed.
  EXPECT_GT(t.WaitMs("nobody", "10.0.0.7", 5), 0);
}

}  // namespace
}  // namespace ocop::server
