// The body gate: totals, per address, and the share bodies without a token may take.
#include "server/http/body_gate.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ocop::server::http {
namespace {

TEST(BodyGateTest, StrangersFromManyAddressesLeaveRoomForAccounts) {
  BodyGate gate({/*max_total=*/6, /*max_per_address=*/4, /*max_anonymous_per_address=*/2, /*max_anonymous_total=*/3});
  std::vector<std::unique_ptr<BodyGate::Slot>> held;
  int anonymous_taken = 0;
  for (int i = 0; i < 10; ++i) {
    auto slot = std::make_unique<BodyGate::Slot>();
    if (gate.Enter("10.0.0." + std::to_string(i), /*anonymous=*/true, slot.get())) {
      ++anonymous_taken;
      held.push_back(std::move(slot));
    }
  }
  EXPECT_EQ(anonymous_taken, 3);
  // Devices with an account still find the other three slots.
  for (int i = 0; i < 3; ++i) {
    auto slot = std::make_unique<BodyGate::Slot>();
    EXPECT_TRUE(gate.Enter("10.1.0." + std::to_string(i), false, slot.get())) << i;
    held.push_back(std::move(slot));
  }
  BodyGate::Slot full;
  EXPECT_FALSE(gate.Enter("10.2.0.1", false, &full));
  EXPECT_EQ(gate.reading(), 6);
  // A stranger's slot released is a stranger's slot free again.
  held.erase(held.begin());
  BodyGate::Slot again;
  EXPECT_TRUE(gate.Enter("10.3.0.1", true, &again));
}

TEST(BodyGateTest, OneAddressHasItsShare) {
  BodyGate gate({16, 2, 1, 8});
  BodyGate::Slot a, b, c, d;
  EXPECT_TRUE(gate.Enter("10.0.0.1", true, &a));
  EXPECT_FALSE(gate.Enter("10.0.0.1", true, &b)) << "one login body per address";
  EXPECT_TRUE(gate.Enter("10.0.0.1", false, &c));
  EXPECT_FALSE(gate.Enter("10.0.0.1", false, &d)) << "two bodies per address";
  EXPECT_FALSE(b.held());
}

}  // namespace
}  // namespace ocop::server::http
