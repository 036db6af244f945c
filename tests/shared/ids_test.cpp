#include "shared/ids.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ocop::ids {
namespace {

TEST(IdsTest, UuidV7Format) {
  std::string id = NewUuid();
  EXPECT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("01A20B70-F8E5-74CB-B587-824A74CEA41E"));  // upper case is not canonical
}

TEST(IdsTest, NoCollisionsAcrossSimulatedDevices) {
  // Eight "devices" minting ids at once, in the same milliseconds.
  std::mutex mu;
  std::set<std::string> all;
  std::vector<std::thread> devices;
  const int kPerDevice = 20000;
  for (int d = 0; d < 8; ++d)
    devices.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < kPerDevice; ++i) mine.push_back(NewUuid());
      std::lock_guard<std::mutex> lock(mu);
      all.insert(mine.begin(), mine.end());
    });
  for (auto& t : devices) t.join();
  EXPECT_EQ(all.size(), 8u * kPerDevice);
}

TEST(IdsTest, SortableByTime) {
  std::string a = NewUuid();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string b = NewUuid();
  EXPECT_LT(a, b);
}

}  // namespace
}  // namespace ocop::ids
