#include "server/upload_budget.h"

#include <gtest/gtest.h>

namespace ocop::server {
namespace {

TEST(UploadBudgetTest, AnAccountsUnfinishedUploadsAreBoundedInCountAndBytes) {
  UploadBudget::Policy p;
  p.max_open = 3;
  p.max_bytes = 100;
  p.expire_ms = 1000;
  UploadBudget b(p);
  EXPECT_TRUE(b.Admit("lan", "push:a", 40, 0).ok());
  EXPECT_TRUE(b.Admit("lan", "push:b", 40, 0).ok());
  Status bytes = b.Admit("lan", "photo:c", 30, 0);  // 110 bytes > 100
  EXPECT_EQ(bytes.code(), Code::kResourceExhausted) << bytes.message();
  EXPECT_TRUE(b.Admit("lan", "push:a", 40, 10).ok());    // resuming an open upload is always fine
  EXPECT_TRUE(b.Admit("minh", "photo:c", 30, 0).ok());   // another account has its own budget
  EXPECT_TRUE(b.Admit("lan", "photo:d", 10, 0).ok());
  EXPECT_EQ(b.Admit("lan", "photo:e", 1, 0).code(), Code::kResourceExhausted);  // a fourth
  EXPECT_EQ(b.Of("lan").uploads, 3);
  EXPECT_EQ(b.Of("lan").bytes, 90);
  b.Finished("push:a");
  EXPECT_TRUE(b.Admit("lan", "photo:e", 1, 0).ok());
  EXPECT_EQ(b.All().uploads, 4);
  // Uploads older than the expiry no longer count.
  EXPECT_TRUE(b.Admit("lan", "push:f", 90, 2000).ok());
  EXPECT_EQ(b.Of("lan").uploads, 1);
}

}  // namespace
}  // namespace ocop::server
