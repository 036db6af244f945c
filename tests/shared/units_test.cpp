#include "shared/units.h"

#include <gtest/gtest.h>

namespace ocop {
namespace {

TEST(UnitsTest, SampleTreeHasProvinceDistrictsAndCommunes) {
  const UnitTree& t = UnitTree::Sample();
  ASSERT_NE(t.Find("26"), nullptr);
  EXPECT_EQ(t.Find("26")->name, "Tỉnh Vĩnh Phúc");
  auto districts = t.Children("26");
  EXPECT_GE(districts.size(), 9u);
  for (const Unit* d : districts) EXPECT_GE(t.Children(d->code).size(), 2u) << d->code;
  EXPECT_TRUE(t.Validate().ok());
}

TEST(UnitsTest, ScopeIsPrefixOfPath) {
  const UnitTree& t = UnitTree::Sample();
  EXPECT_EQ(t.Path("08800"), "/26/253/08800/");
  EXPECT_TRUE(t.IsWithin("08800", "253"));
  EXPECT_TRUE(t.IsWithin("08800", "26"));
  EXPECT_TRUE(t.IsWithin("08800", "08800"));
  EXPECT_FALSE(t.IsWithin("08800", "246"));
  EXPECT_FALSE(t.IsWithin("99999", "26"));
  EXPECT_EQ(t.AncestorAtLevel("08800", "district")->code, "253");
}

TEST(UnitsTest, TwoLevelTreesWork) {
  // After 2025 a province has communes directly below it.
  UnitTree t;
  ASSERT_TRUE(UnitTree::ParseCsv("code,name,level,parent,valid_from,valid_to\n"
                                 "25,Tỉnh Phú Thọ,province,,2025-07-01,\n"
                                 "08800,Xã Sông Lô,commune,25,2025-07-01,\n",
                                 &t).ok());
  EXPECT_TRUE(t.IsWithin("08800", "25"));
  EXPECT_EQ(t.AncestorAtLevel("08800", "district"), nullptr);
}

TEST(UnitsTest, ImportsOfficialListLayout) {
  UnitTree t;
  Status s = UnitTree::ParseCsv(
      "\xEF\xBB\xBFTỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp\n"
      "Tỉnh Vĩnh Phúc,26,Huyện Sông Lô,253,Xã Đôn Nhân,08800,Xã\n"
      "Tỉnh Vĩnh Phúc,26,Huyện Sông Lô,253,\"Xã Đức Bác\",08821,Xã\n",
      &t);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.Find("08821")->name, "Xã Đức Bác");
  EXPECT_EQ(t.Find("08821")->parent, "253");
}

TEST(UnitsTest, BadListsAreRefusedWithTheLine) {
  UnitTree t;
  Status s = UnitTree::ParseCsv("code,name,level,parent\n26,Tỉnh,province,\n08800,Xã,commune,999\n", &t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("999"), std::string::npos);
  s = UnitTree::ParseCsv("code,name,level,parent\n2x6,Tỉnh,province,\n", &t);
  EXPECT_NE(s.message().find("line 2"), std::string::npos);
  s = UnitTree::ParseCsv("name,level\n", &t);
  EXPECT_NE(s.message().find("code"), std::string::npos);
  s = UnitTree::ParseCsv("code,name,level,parent\n1,A,x,2\n2,B,x,1\n", &t);
  EXPECT_NE(s.message().find("cycle"), std::string::npos);
}

TEST(UnitsTest, CsvQuoting) {
  auto cells = SplitCsvLine("a,\"b,c\",\"d\"\"e\",");
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[1], "b,c");
  EXPECT_EQ(cells[2], "d\"e");
  EXPECT_EQ(cells[3], "");
}

}  // namespace
}  // namespace ocop
