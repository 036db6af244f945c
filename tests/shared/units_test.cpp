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

namespace ocop {
namespace {

UnitTree Parse(const std::string& csv) {
  UnitTree t;
  EXPECT_TRUE(UnitTree::ParseCsv(csv, &t).ok()) << csv;
  return t;
}

TEST(MergeUnitListTest, NewClosedRenamedAndMovedCodesAreToldApart) {
  UnitTree current = Parse(
      "code,name,level,parent,valid_from,valid_to\n"
      "1,Tỉnh A,province,,2004-01-01,\n10,Huyện B,district,1,,\n11,Huyện C,district,1,,\n"
      "100,Xã D,commune,10,,\n101,Xã E,commune,10,,\n102,Xã F,commune,11,,\n103,Xã G,commune,11,,2020-01-01\n");
  UnitTree incoming = Parse(
      "code,name,level,parent\n1,Tỉnh A,province,\n10,Huyện B,district,1\n11,Huyện C,district,1\n"
      "100,Xã D mới,commune,10\n102,Xã F,commune,10\n104,Xã H,commune,11\n103,Xã G,commune,11\n");
  UnitTree merged;
  UnitListChange c;
  ASSERT_TRUE(MergeUnitList(current, incoming, "2026-11-30", &merged, &c).ok());
  ASSERT_EQ(c.added.size(), 2u);  // 104 new, 103 listed again after closing
  EXPECT_EQ(c.added[0].code, "103");
  EXPECT_EQ(c.added[1].code, "104");
  ASSERT_EQ(c.closed.size(), 1u);
  EXPECT_EQ(c.closed[0].code, "101");
  EXPECT_EQ(merged.Find("101")->valid_to, "2026-11-30");  // kept, closed today
  ASSERT_EQ(c.renamed.size(), 1u);
  EXPECT_EQ(c.renamed[0].second.name, "Xã D mới");
  ASSERT_EQ(c.moved.size(), 1u);
  EXPECT_EQ(c.moved[0].first.code, "102");
  EXPECT_EQ(merged.Find("102")->parent, "11");  // a move is reported, not made
  EXPECT_EQ(merged.Find("1")->valid_from, "2004-01-01");  // what the list lacks is kept
  EXPECT_TRUE(merged.Find("103")->valid_to.empty());
  EXPECT_EQ(c.unchanged, 3u);
  // Importing the merged tree again changes nothing.
  UnitTree again;
  UnitListChange none;
  ASSERT_TRUE(MergeUnitList(merged, merged, "2026-12-01", &again, &none).ok());
  EXPECT_TRUE(none.added.empty() && none.closed.empty() && none.renamed.empty() && none.moved.empty());
}

}  // namespace
}  // namespace ocop
