// Records from spreadsheets: every bad row reported with its line, nothing
// stored while a row is bad (unless skipped on request), headers by label or key.
#include "client/import.h"

#include <gtest/gtest.h>

#include "shared/xlsx.h"
#include "tests/client/test_home.h"

namespace ocop::client {
namespace {

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalStore::Init(dir_.path(), "253", "", UnitTree::Sample(), clock_).ok());
    ASSERT_TRUE(LocalStore::Open(dir_.path(), clock_, &store_).ok());
  }
  size_t Count() {
    std::vector<Record> rows;
    EXPECT_TRUE(store_->List(ListQuery{}, &rows).ok());
    return rows.size();
  }
  Status Import(const std::string& csv, ImportSummary* sum, ImportOptions options = {}) {
    sheet::Table t;
    Status s = ReadSheet(csv, &t);
    if (!s.ok()) return s;
    return ImportRecords(*store_, "idea", t, options, sum);
  }
  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<LocalStore> store_;
};

const char* kHeader = "Tên chủ thể;Loại hình chủ thể;Tên sản phẩm;Nhóm sản phẩm (1–6);Mô tả (giá trị cốt lõi, vì sao khách hàng mua);Đơn vị\n";

TEST_F(ImportTest, FiveHundredIdeasInOneGo) {
  std::string csv = kHeader;
  for (int i = 0; i < 500; ++i)
    csv += "HTX " + std::to_string(i) + ";Hợp tác xã;Sản phẩm " + std::to_string(i) + ";" + std::to_string(1 + i % 6) +
           ";Mô tả;" + (i % 2 ? "08800" : "Xã Đức Bác (08821)") + "\n";
  ImportSummary sum;
  ASSERT_TRUE(Import(csv, &sum).ok());
  EXPECT_EQ(sum.rows, 500u);
  EXPECT_EQ(sum.stored, 500u);
  EXPECT_TRUE(sum.problems.empty());
  EXPECT_EQ(Count(), 500u);
  std::vector<Record> rows;
  ListQuery q;
  q.search = "Sản phẩm 7";
  ASSERT_TRUE(store_->List(q, &rows).ok());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].unit, "08800");
  EXPECT_EQ(rows[0].fields.getValue<std::string>("subject_kind"), "cooperative") << "the label became the code";
}

TEST_F(ImportTest, EveryBadRowIsListedAndNothingIsStored) {
  std::string csv = std::string(kHeader) +
                    "HTX 1;Hợp tác xã;Ổi;1;Ngon;08800\n"
                    "HTX 2;Hợp tác xã;Chè;9;Ngon;08800\n"           // line 3: group out of range
                    "HTX 3;Không rõ;Gạo;2;Ngon;08800\n"             // line 4: no such choice
                    "HTX 4;Hợp tác xã;;2;Ngon;08800\n"              // line 5: product name required
                    "HTX 5;Hợp tác xã;Miến;2;Ngon;99999\n";         // line 6: no such unit
  ImportSummary sum;
  ASSERT_TRUE(Import(csv, &sum).ok());
  EXPECT_EQ(sum.rows, 5u);
  EXPECT_EQ(sum.good, 1u);
  EXPECT_EQ(sum.stored, 0u);
  std::vector<size_t> lines;
  for (const auto& p : sum.problems) lines.push_back(p.line);
  EXPECT_EQ(lines, (std::vector<size_t>{3, 4, 5, 6}));
  EXPECT_EQ(Count(), 0u) << "nothing while a row is bad";
  ImportOptions dry;
  dry.dry_run = true;
  ASSERT_TRUE(Import(csv, &sum, dry).ok());
  EXPECT_EQ(Count(), 0u);
  ImportOptions skip;
  skip.skip_bad = true;
  ASSERT_TRUE(Import(csv, &sum, skip).ok());
  EXPECT_EQ(sum.stored, 1u);
  EXPECT_EQ(Count(), 1u);
}

TEST_F(ImportTest, HeadersByKeyOrEnglishLabelAndUnknownColumnsRefused) {
  ImportSummary sum;
  ASSERT_TRUE(Import("subject_name,Subject kind,product_name,product_group,description,unit\n"
                     "HTX,cooperative,Ổi,1,Ngon,08800\n", &sum).ok());
  EXPECT_EQ(sum.stored, 1u);
  Status s = Import("subject_name,Món ăn yêu thích\nHTX,Phở\n", &sum);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("column 'Món ăn yêu thích' is no field"), std::string::npos) << s.message();
  EXPECT_EQ(Count(), 1u);
}

TEST_F(ImportTest, AnXlsxWithExcelDatesIsRead) {
  // A visit list kept in Excel: the date column holds Excel's day numbers.
  sheet::Table t{{"Ngày thăm", "Mục đích", "Kết quả, nhận xét", "Đơn vị"},
                 {{{"46350", true}, {"Tư vấn", false}, {"Tốt", false}, {"08800", false}}},
                 {}};
  sheet::Table read;
  ASSERT_TRUE(ReadSheet(xlsx::Write(t, "Thăm"), &read).ok());
  ImportSummary sum;
  ASSERT_TRUE(ImportRecords(*store_, "visit", read, {}, &sum).ok());
  ASSERT_EQ(sum.stored, 1u) << (sum.problems.empty() ? "" : sum.problems[0].message);
  std::vector<Record> rows;
  ASSERT_TRUE(store_->List(ListQuery{}, &rows).ok());
  EXPECT_EQ(rows[0].fields.getValue<std::string>("visited_on"), "2026-11-24");
}

}  // namespace
}  // namespace ocop::client
