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
  // The account is slowed from any address; the address is not yet slowed
  // for other accounts (colleagues behind one NAT)...
  EXPECT_EQ(t.WaitMs("lan", "10.9.9.9", now), 1000);
  EXPECT_EQ(t.WaitMs("hoa", "10.0.0.1", now), 0);
  // ...until it has failed eleven times, whatever the names tried.
  for (int i = 0; i < 7; ++i) t.Failed("user" + std::to_string(i), "10.0.0.1", now);
  EXPECT_EQ(t.WaitMs("hoa", "10.0.0.1", now), 1000);
  now += 1000;
  t.Failed("lan", "10.0.0.5", now);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.2", now), 2000);
  for (int i = 0; i < 30; ++i) t.Failed("lan", "10.0.0.1", now);
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.2", now), 15 * 60 * 1000);  // capped
  t.Succeeded("lan", "10.0.0.1");
  EXPECT_EQ(t.WaitMs("lan", "10.0.0.1", now), 0);
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
