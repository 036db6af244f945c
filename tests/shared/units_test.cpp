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

// A merger: two communes of district 10 closed into a new commune directly
// under the province. Their place in the tree is below their successor, so a
// prefix scope of the new commune covers their records; parents stay, for history.
TEST(UnitTreeTest, AMergedUnitLiesBelowItsSuccessor) {
  UnitTree t = Parse(
      "code,name,level,parent,valid_from,valid_to,succeeded_by\n"
      "1,Tỉnh A,province,,,\n10,Huyện B,district,1,,\n100,Xã D,commune,10,,01/07/2025,900\n"
      "101,Xã E,commune,10,,2025-07-01,900\n102,Xã F,commune,10,,\n900,Xã D-E,commune,1,2025-07-01,\n");
  EXPECT_EQ(t.Path("100"), "/1/900/100/");
  EXPECT_EQ(t.Find("100")->valid_to, "2025-07-01");  // dd/mm/yyyy read too
  EXPECT_EQ(t.Find("100")->parent, "10");
  EXPECT_TRUE(t.IsWithin("101", "900"));
  EXPECT_FALSE(t.IsWithin("101", "10"));
  EXPECT_EQ(t.InForce("100")->code, "900");
  EXPECT_EQ(t.InForce("102")->code, "102");
  EXPECT_TRUE(t.Children("900").empty());  // still a commune
  ASSERT_EQ(t.Children("10").size(), 1u);
  EXPECT_EQ(t.Predecessors("900").size(), 2u);
  // Written out and read back, the succession is kept.
  UnitTree again = Parse(t.ToCsv());
  EXPECT_EQ(again.Path("101"), "/1/900/101/");
}

TEST(UnitTreeTest, SuccessionsThatCannotBeAreRefused) {
  const std::string head = "code,name,level,parent,valid_from,valid_to,succeeded_by\n1,Tỉnh A,province,,,\n";
  UnitTree t;
  Status s = UnitTree::ParseCsv(head + "100,Xã D,commune,1,,2025-07-01,999\n", &t);
  EXPECT_NE(s.message().find("successor 999 not found"), std::string::npos) << s.message();
  s = UnitTree::ParseCsv(head + "100,Xã D,commune,1,,2025-07-01,100\n", &t);
  EXPECT_NE(s.message().find("cannot succeed itself"), std::string::npos) << s.message();
  s = UnitTree::ParseCsv(head + "100,Xã D,commune,1,,2025-07-01,101\n101,Xã E,commune,1,,2025-07-01,100\n", &t);
  EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();
  s = UnitTree::ParseCsv(head + "100,Xã D,commune,1,,mai,\n", &t);
  EXPECT_NE(s.message().find("line 3: 'mai' is not a date"), std::string::npos) << s.message();
  s = UnitTree::ParseCsv(head + "100,Xã D,commune,1,,2025-07-01,9a\n", &t);
  EXPECT_NE(s.message().find("is not a unit code"), std::string::npos) << s.message();
}

TEST(MergeUnitListTest, AListWithAMergerClosesTheOldCodesIntoTheNewOne) {
  UnitTree current = Parse(
      "code,name,level,parent\n1,Tỉnh A,province,\n10,Huyện B,district,1\n100,Xã D,commune,10\n101,Xã E,commune,10\n");
  UnitTree incoming = Parse(
      "code,name,level,parent,valid_from,valid_to,succeeded_by\n1,Tỉnh A,province,,,\n"
      "100,Xã D,commune,10,,,900\n101,Xã E,commune,10,,2025-07-01,900\n900,Xã D-E,commune,1,2025-07-01,\n");
  UnitTree merged;
  UnitListChange c;
  ASSERT_TRUE(MergeUnitList(current, incoming, "2026-12-01", &merged, &c).ok());
  ASSERT_EQ(c.added.size(), 1u);
  ASSERT_EQ(c.closed.size(), 3u);  // the two merged, and district 10 the list no longer has
  EXPECT_EQ(merged.Find("100")->valid_to, "2026-12-01");  // no date given: today
  EXPECT_EQ(merged.Find("101")->valid_to, "2025-07-01");
  EXPECT_EQ(merged.Path("100"), "/1/900/100/");
  EXPECT_EQ(merged.Find("10")->valid_to, "2026-12-01");
  // A later list that leaves the merged codes out keeps their successor.
  UnitTree later = Parse("code,name,level,parent\n1,Tỉnh A,province,\n900,Xã D-E,commune,1\n");
  UnitTree after;
  UnitListChange none;
  ASSERT_TRUE(MergeUnitList(merged, later, "2027-01-01", &after, &none).ok());
  EXPECT_EQ(after.Path("101"), "/1/900/101/");
  EXPECT_TRUE(none.closed.empty());
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
  EXPECT_EQ(merged.Find("102")->parent, "10");  // a move is reported, and made
  EXPECT_EQ(merged.Path("102"), "/1/10/102/");
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
