#include "shared/dates.h"

#include <gtest/gtest.h>

namespace ocop::dates {
namespace {

TEST(DatesTest, AcceptsVietnameseAndIsoForms) {
  EXPECT_EQ(ParseDate("24/11/2026"), "2026-11-24");
  EXPECT_EQ(ParseDate("1/2/2026"), "2026-02-01");
  EXPECT_EQ(ParseDate("2026-11-24"), "2026-11-24");
}

TEST(DatesTest, RejectsImpossibleDates) {
  EXPECT_FALSE(ParseDate("29/02/2025"));
  EXPECT_TRUE(ParseDate("29/02/2024"));
  EXPECT_FALSE(ParseDate("31/04/2026"));
  EXPECT_FALSE(ParseDate("00/01/2026"));
  EXPECT_FALSE(ParseDate("12/13/2026"));
  EXPECT_FALSE(ParseDate("2026-1-1"));
  EXPECT_FALSE(ParseDate("hôm nay"));
  EXPECT_FALSE(ParseDate(""));
  EXPECT_FALSE(ParseDate("01/01/26"));
}

TEST(DatesTest, DisplayAndArithmetic) {
  EXPECT_EQ(ToDisplay("2026-11-24"), "24/11/2026");
  EXPECT_EQ(DaysBetween("2026-11-24", "2026-12-01"), 7);
  EXPECT_EQ(DaysBetween("2024-02-28", "2024-03-01"), 2);
  // 2026-11-23T17:00:00Z is already 24/11 in Vietnam (UTC+7).
  EXPECT_EQ(IsoDateFromMillis(1795453200000LL), "2026-11-24");
  EXPECT_EQ(IsoTimestamp(0), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace ocop::dates

namespace ocop::dates {
namespace {
TEST(DatesTest, TimestampsShowInVietnamsTime) {
  EXPECT_EQ(TimestampToDisplay("2026-11-30T03:56:31.396Z"), "30/11/2026 10:56");
  EXPECT_EQ(TimestampToDisplay("2026-11-30T17:05:00Z"), "01/12/2026 00:05");  // past midnight in Hà Nội
  EXPECT_EQ(TimestampToDisplay("2026-12-31T23:59:59.999Z"), "01/01/2027 06:59");
  EXPECT_EQ(TimestampToDisplay(""), "");
  EXPECT_EQ(TimestampToDisplay("not a time"), "not a time");
  EXPECT_EQ(TimestampToDisplay("2026-11-30T25:00:00Z"), "2026-11-30T25:00:00Z");
}
}  // namespace
}  // namespace ocop::dates
