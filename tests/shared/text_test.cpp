#include "shared/text.h"

#include <gtest/gtest.h>

namespace ocop::text {
namespace {

// "Đôn Nhân" typed with combining marks (tổ hợp): o + U+0302, a + U+0302.
const std::string kDonNhanCombining = "\xC4\x90o\xCC\x82n Nha\xCC\x82n";
const std::string kDonNhanPrecomposed = "Đôn Nhân";

TEST(TextTest, NfcComposesCombiningMarks) {
  EXPECT_NE(kDonNhanCombining, kDonNhanPrecomposed);
  EXPECT_EQ(ToNfc(kDonNhanCombining), kDonNhanPrecomposed);
  EXPECT_EQ(ToNfc(kDonNhanPrecomposed), kDonNhanPrecomposed);
}

TEST(TextTest, NfcOfOtherScriptsAndSingletons) {
  EXPECT_EQ(ToNfc("\xE2\x84\xAB"), "\xC3\x85");           // U+212B ANGSTROM SIGN -> U+00C5
  EXPECT_EQ(ToNfc("Thanh long ru\xE1\xBB\x99t"), "Thanh long ruột");  // already NFC
  EXPECT_EQ(ToNfc("e\xCC\x82\xCC\x81"), "ế");                  // e + circumflex + acute
}

TEST(TextTest, FoldStripsDiacriticsCaseAndD) {
  EXPECT_EQ(Fold("Thanh long ruột đỏ"), "thanh long ruot do");
  EXPECT_EQ(Fold("ĐÔN NHÂN"), "don nhan");
  EXPECT_EQ(Fold(kDonNhanCombining), "don nhan");
}

TEST(TextTest, SearchFindsRegardlessOfAccentsCaseAndFinalNg) {
  EXPECT_TRUE(FoldedContains("Ổi Đôn Nhân", "dong nhan"));
  EXPECT_TRUE(FoldedContains("Ổi Đôn Nhân", "don nhan"));
  EXPECT_TRUE(FoldedContains(kDonNhanCombining, "Đôn Nhân"));
  EXPECT_TRUE(FoldedContains("Thanh long ruột đỏ", "thanh long"));
  EXPECT_TRUE(FoldedContains("Thanh long ruột đỏ", "RUOT DO"));
  EXPECT_FALSE(FoldedContains("Thanh long ruột đỏ", "nhan"));
  // Initial "ng" is not a final: Nguyễn stays distinct from "nuyen".
  EXPECT_EQ(SearchKey("Nguyễn"), "nguyen");
  EXPECT_EQ(SearchKey("Hướng Đạo"), "huon dao");
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("Vĩnh Phúc"));
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xFF\xFE"));          // never valid
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
}

TEST(TextTest, LengthCountsCodePoints) {
  EXPECT_EQ(Length("Đôn"), 3u);
  EXPECT_EQ(Length("abc"), 3u);
}

}  // namespace
}  // namespace ocop::text
