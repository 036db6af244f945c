#include "client/report.h"

#include <gtest/gtest.h>

#include <map>

#include "shared/ids.h"
#include "tests/client/test_home.h"

namespace ocop::client {
namespace {

using json::Object;

// A known data set: a district device holding two communes' records as a sync
// would leave them.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalStore::Init(dir_.path(), "253", "", UnitTree::Sample(), clock_).ok());
    ASSERT_TRUE(LocalStore::Open(dir_.path(), clock_, &store_).ok());
    Idea("08800", "Ổi Đôn Nhân", "selected", "2026-11-10");
    Idea("08800", "Mật ong", "submitted", "2026-11-24");  // this week (Mon 23 – Sun 29 Nov)
    Idea("08800", "Chè", "returned", "2026-11-20", "2026-11-22", "Thiếu mô tả");
    Idea("08821", "Gạo", "accepted", "2026-11-29");
    Idea("08821", "Nhãn", "draft", "");
    Visit("08800", "2026-11-23");
    Visit("08821", "2026-11-30");  // next week
    Object c;
    c.set("idea_id", idea_ids_["Ổi Đôn Nhân"]);  // a confirmation names an idea on the device
    c.set("product_name", "Ổi Đôn Nhân");
    c.set("year", Poco::Int64(2026));
    c.set("workers_total", Poco::Int64(10));
    c.set("workers_local", Poco::Int64(8));
    json::Var m;
    ASSERT_TRUE(json::Parse(R"([{"name":"Ổi","value_vnd":1000,"local_value_vnd":800,"origin":"commune"}])", &m).ok());
    c.set("materials", m);
    Record r;
    ASSERT_TRUE(store_->Create("confirmation", c, &r, "08800").ok());
  }

  void Idea(const std::string& unit, const std::string& product, const std::string& status, const std::string& received,
            const std::string& returned = "", const std::string& reason = "") {
    Object o;
    o.set("subject_name", "HTX " + product);
    o.set("subject_kind", "cooperative");
    o.set("product_name", product);
    o.set("product_group", Poco::Int64(1));
    o.set("description", "Mô tả");
    Record r;
    ASSERT_TRUE(store_->Create("idea", o, &r, unit).ok());
    idea_ids_[product] = r.id;
    Object w;
    w.set("status", status);
    if (!received.empty()) w.set("received_on", received);
    if (!returned.empty()) w.set("returned_on", returned);
    if (!reason.empty()) w.set("decision_reason", reason);
    ASSERT_TRUE(store_->Update(r.id, w, &r, /*allow_system=*/true).ok());
  }

  void Visit(const std::string& unit, const std::string& day) {
    Object o;
    o.set("visited_on", day);
    o.set("purpose", "advice");
    o.set("findings", "Tốt");
    Record r;
    ASSERT_TRUE(store_->Create("visit", o, &r, unit).ok());
  }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<LocalStore> store_;
  std::map<std::string, std::string> idea_ids_;  // product -> id
};

TEST_F(ReportTest, FiguresMatchTheFixture) {
  WeeklyReport r;
  ASSERT_TRUE(BuildWeeklyReport(*store_, "26/11/2026", 70, &r).ok());
  EXPECT_EQ(r.week_start, "2026-11-23");
  EXPECT_EQ(r.week_end, "2026-11-29");
  ASSERT_EQ(r.communes.size(), 2u);
  const CommuneFigures& don_nhan = r.communes[0];
  EXPECT_EQ(don_nhan.code, "08800");
  EXPECT_EQ(don_nhan.ideas_total, 3);
  EXPECT_EQ(don_nhan.ideas_by_status.at("selected"), 1);
  EXPECT_EQ(don_nhan.ideas_by_status.at("returned"), 1);
  EXPECT_EQ(don_nhan.ideas_received_this_week, 1);
  EXPECT_EQ(don_nhan.visits_this_week, 1);
  EXPECT_EQ(don_nhan.confirmations, 1);
  const CommuneFigures& duc_bac = r.communes[1];
  EXPECT_EQ(duc_bac.ideas_total, 2);
  EXPECT_EQ(duc_bac.ideas_received_this_week, 1);  // Sunday the 29th is in the week
  EXPECT_EQ(duc_bac.visits_this_week, 0);          // Monday the 30th is not
  ASSERT_EQ(r.waiting.size(), 1u);
  EXPECT_EQ(r.waiting[0].resubmit_from, "2026-11-29");
  EXPECT_EQ(r.waiting[0].reason, "Thiếu mô tả");
  ASSERT_EQ(r.confirmations.size(), 1u);
  EXPECT_DOUBLE_EQ(r.confirmations[0].labour_ratio, 0.8);
  EXPECT_EQ(r.confirmations[0].material_points, 3);
  EXPECT_EQ(r.selected_total, 1);
}

TEST_F(ReportTest, APastDayTakesBackWhatThisDeviceChangedSince) {
  // Three days later (Thursday 26/11 ended): Mật ong is returned, Gạo deleted
  // and a new idea typed in.
  clock_.Advance(3 * 86400000LL);
  Record r;
  Object w;
  w.set("status", "returned");
  w.set("returned_on", "2026-11-27");
  w.set("decision_reason", "Thiếu ảnh");
  ASSERT_TRUE(store_->Update(idea_ids_["Mật ong"], w, &r, /*allow_system=*/true).ok());
  ASSERT_TRUE(store_->Delete(idea_ids_["Gạo"]).ok());
  Idea("08800", "Bưởi", "submitted", "2026-11-26");

  WeeklyReport now, then;
  int synced_since = -1;
  ASSERT_TRUE(BuildWeeklyReport(*store_, "27/11/2026", 0, &now, &synced_since).ok());
  EXPECT_EQ(synced_since, 0) << "today's report is taken as it is";
  ASSERT_TRUE(BuildWeeklyReport(*store_, "26/11/2026", 0, &then, &synced_since).ok());
  EXPECT_EQ(synced_since, 0) << "every change since was made here";
  auto figures = [](const WeeklyReport& rep, const std::string& code) {
    for (const auto& f : rep.communes)
      if (f.code == code) return f;
    ADD_FAILURE() << code;
    return CommuneFigures{};
  };
  EXPECT_EQ(figures(now, "08800").ideas_by_status.at("returned"), 2);
  EXPECT_EQ(figures(now, "08800").ideas_by_status.at("submitted"), 1);  // Bưởi
  EXPECT_EQ(figures(now, "08821").ideas_total, 1);                       // Gạo deleted
  EXPECT_EQ(figures(then, "08800").ideas_by_status.at("returned"), 1) << "only Chè was returned on Thursday";
  EXPECT_EQ(figures(then, "08800").ideas_by_status.at("submitted"), 2) << "Mật ong, and Bưởi typed in later";
  EXPECT_EQ(figures(then, "08821").ideas_total, 2) << "Gạo was deleted after Thursday";
  bool mat_ong_waiting = false;
  for (const auto& wi : then.waiting) mat_ong_waiting = mat_ong_waiting || wi.product == "Mật ong";
  EXPECT_FALSE(mat_ong_waiting) << "it was not returned yet";
}

// After a merger the new commune's report counts the merged communes' records
// in its own row; the old codes have no rows of their own.
TEST(MergedReportTest, AMergedCommunesRecordsCountInTheCommuneInForce) {
  UnitTree units = UnitTree::Sample();
  ASSERT_TRUE(units.Add({"99001", "Xã Đôn Đức", "commune", "26", "2025-07-01", "", ""}).ok());
  for (const char* code : {"08800", "08821"}) {
    Unit closed = *units.Find(code);
    closed.valid_to = "2025-07-01";
    closed.succeeded_by = "99001";
    ASSERT_TRUE(units.Add(closed).ok());
  }
  std::vector<report::ReportRecord> records;
  for (const char* code : {"08800", "08821", "99001"}) {
    report::ReportRecord rec;
    rec.id = ids::NewUuid();
    rec.form = "idea";
    rec.unit = code;
    rec.fields.set("status", "submitted");
    rec.fields.set("product_name", std::string("Sản phẩm ") + code);
    records.push_back(rec);
  }
  WeeklyReport r;
  ASSERT_TRUE(report::BuildWeeklyReport(records, units, "99001", "26/11/2026", 0, &r).ok());
  ASSERT_EQ(r.communes.size(), 1u);
  EXPECT_EQ(r.communes[0].code, "99001");
  EXPECT_EQ(r.communes[0].name, "Xã Đôn Đức");
  EXPECT_EQ(r.communes[0].ideas_total, 3);
  // The province's report: one row for the new commune, none for the old codes.
  ASSERT_TRUE(report::BuildWeeklyReport(records, units, "26", "26/11/2026", 0, &r).ok());
  int rows_for_merged = 0, in_new = 0;
  for (const auto& f : r.communes) {
    if (f.code == "08800" || f.code == "08821") ++rows_for_merged;
    if (f.code == "99001") in_new = f.ideas_total;
  }
  EXPECT_EQ(rows_for_merged, 0);
  EXPECT_EQ(in_new, 3);
  // The merged commune's own report (its old device, offline) still has its row.
  ASSERT_TRUE(report::BuildWeeklyReport({records[0]}, units, "08800", "26/11/2026", 0, &r).ok());
  ASSERT_EQ(r.communes.size(), 1u);
  EXPECT_EQ(r.communes[0].code, "08800");
}

TEST_F(ReportTest, RenderingsCarryTheFigures) {
  WeeklyReport r;
  ASSERT_TRUE(BuildWeeklyReport(*store_, "2026-11-26", 70, &r).ok());
  std::string csv = RenderCsv(r);
  EXPECT_NE(csv.find("2026-11-23,2026-11-29,08800,Xã Đôn Nhân,3,0,1,1,0,1,0,1,1,1"), std::string::npos) << csv;
  std::string html = RenderHtml(r, "vi");
  EXPECT_NE(html.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // self-contained: no external resource
  EXPECT_NE(html.find("Thiếu mô tả"), std::string::npos);
  EXPECT_NE(html.find("1 / 70"), std::string::npos);
  std::string table = RenderTable(r, "en");
  EXPECT_NE(table.find("may resubmit from 29/11/2026"), std::string::npos) << table;
}

TEST_F(ReportTest, BadInputIsRefused) {
  WeeklyReport r;
  EXPECT_EQ(BuildWeeklyReport(*store_, "31/02/2026", 0, &r).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildWeeklyReport(*store_, "2026-11-26", -1, &r).code(), Code::kInvalidArgument);
}

// The report names products and communes, never ids and codes alone.
TEST_F(ReportTest, ProductsAndCommunesByName) {
  WeeklyReport r;
  ASSERT_TRUE(BuildWeeklyReport(*store_, "26/11/2026", 70, &r).ok());
  ASSERT_EQ(r.confirmations.size(), 1u);
  std::string table = RenderTable(r, "vi"), html = RenderHtml(r, "vi");
  EXPECT_NE(table.find("Xã Đôn Nhân  Ổi Đôn Nhân"), std::string::npos) << table;
  EXPECT_EQ(table.find(r.confirmations[0].id), std::string::npos) << table;
  EXPECT_NE(html.find("<td>Xã Đôn Nhân</td><td>Ổi Đôn Nhân</td>"), std::string::npos);
  EXPECT_NE(html.find(">1/70</div>"), std::string::npos) << "the bar carries its numbers";
}

ExportOptions Format(const std::string& format, bool codes = false, bool bom = false) {
  ExportOptions o;
  o.format = format;
  o.codes = codes;
  o.bom = bom;
  return o;
}

TEST_F(ReportTest, ExportCsvAndJson) {
  std::string csv, js;
  ASSERT_TRUE(ExportForm(*store_, "idea", Format("csv", /*codes=*/true, /*bom=*/true), &csv).ok());
  EXPECT_EQ(csv.rfind("\xEF\xBB\xBF" "id,unit,status,conflict,subject_name", 0), 0u) << csv.substr(0, 80);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);  // header + 5 ideas
  ASSERT_TRUE(ExportForm(*store_, "visit", Format("json"), &js).ok());
  EXPECT_EQ(js.front(), '[');
  EXPECT_NE(js.find("\"visited_on\":\"2026-11-23\""), std::string::npos);
  EXPECT_FALSE(ExportForm(*store_, "poem", Format("csv"), &csv).ok());
  EXPECT_FALSE(ExportForm(*store_, "idea", Format("xml"), &csv).ok());
  EXPECT_EQ(CsvCell("a,\"b\""), "\"a,\"\"b\"\"\"");
}

// By default an export is for people: Vietnamese headers, names and words.
TEST_F(ReportTest, ExportsSpeakVietnameseByDefault) {
  std::string csv;
  ASSERT_TRUE(ExportForm(*store_, "idea", Format("csv"), &csv).ok());
  std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_EQ(header.rfind("Mã phiếu,Đơn vị,Trạng thái,Xung đột,Tên chủ thể,Loại hình chủ thể", 0), 0u) << header;
  for (const char* words : {"Xã Đôn Nhân (08800)", "Được chọn", "Hợp tác xã", "20/11/2026", "Thiếu mô tả"})
    EXPECT_NE(csv.find(words), std::string::npos) << words;
  for (const char* code : {"cooperative", "selected", "2026-11-20", "subject_name"})
    EXPECT_EQ(csv.find(code), std::string::npos) << code;
  ASSERT_TRUE(ExportForm(*store_, "confirmation", Format("csv"), &csv).ok());
  EXPECT_NE(csv.find(",2026,"), std::string::npos) << "a year is a plain number: " << csv;
  EXPECT_NE(csv.find("1 nguyên liệu"), std::string::npos) << csv;
}

}  // namespace
}  // namespace ocop::client
