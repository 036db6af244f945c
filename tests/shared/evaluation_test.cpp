#include "shared/evaluation.h"

#include <gtest/gtest.h>

#include "shared/dates.h"
#include "shared/definitions.h"
#include "shared/forms.h"
#include "tests/shared/sheet_fixture.h"

namespace ocop::evaluation {
namespace {

using evaluation_test::CompleteSheet;
using evaluation_test::SetScore;

const std::string kIdea = "0190a4f2-0000-7000-8000-000000000001";
const std::string kConfirmationId = "0190a4f2-0000-7000-8000-000000000002";

json::Object Confirmation(int total, int local, std::vector<std::tuple<int64_t, int64_t, std::string>> materials) {
  json::Object o;
  o.set("idea_id", kIdea);
  o.set("status", std::string("confirmed"));
  o.set("workers_total", Poco::Int64(total));
  o.set("workers_local", Poco::Int64(local));
  json::Array::Ptr arr = new json::Array;
  for (auto& [value, local_value, origin] : materials) {
    json::Object::Ptr m = new json::Object;
    m->set("name", "nguyên liệu");
    m->set("value_vnd", Poco::Int64(value));
    m->set("local_value_vnd", Poco::Int64(local_value));
    m->set("origin", origin);
    arr->add(m);
  }
  o.set("materials", arr);
  return o;
}

// A complete 148 sheet whose scores add up to exactly `total`: every criterion
// at its lowest step, then raised one step at a time until the total is reached.
json::Object SheetWithTotal(int total) {
  const CriteriaSheet* sheet = FindSheet("148-2023");
  std::map<std::string, size_t> step;
  int sum = 0;
  for (const auto& c : sheet->criteria) sum += c.scores.front();
  bool raised = true;
  while (sum < total && raised) {
    raised = false;
    for (const auto& c : sheet->criteria) {
      size_t& s = step[c.code];
      if (s + 1 < c.scores.size() && sum + c.scores[s + 1] - c.scores[s] <= total) {
        sum += c.scores[s + 1] - c.scores[s];
        ++s;
        raised = true;
        if (sum == total) break;
      }
    }
  }
  json::Object f = CompleteSheet("148-2023", 0);
  for (const auto& c : sheet->criteria) SetScore(&f, c.code, c.scores[step[c.code]]);
  return f;
}

TEST(CriteriaSheetTest, EmbeddedSheetsAddUpPartByPart) {
  const CriteriaSheet* s148 = FindSheet("148-2023");
  const CriteriaSheet* s1048 = FindSheet("1048-2019");
  ASSERT_TRUE(s148 && s1048);
  auto parts = [](const CriteriaSheet* s) {
    std::map<std::string, int> out;
    for (const auto& p : s->parts) out[p.code] = p.max;
    return out;
  };
  EXPECT_EQ(parts(s148), (std::map<std::string, int>{{"A", 40}, {"B", 25}, {"C", 35}}));
  EXPECT_EQ(parts(s1048), (std::map<std::string, int>{{"A", 35}, {"B", 25}, {"C", 40}}));
  EXPECT_EQ(s148->MaxTotal(), 100);
  EXPECT_EQ(s1048->MaxTotal(), 100);
  // The localisation criteria come from the confirmation on both versions.
  for (const auto* s : {s148, s1048}) {
    EXPECT_EQ(s->Find("A1.1")->from, "confirmation.material_points");
    EXPECT_EQ(s->Find("A1.2")->from, "confirmation.labour_points");
  }
}

TEST(CriteriaSheetTest, EveryCriterionTakesItsAllowedScoresAndNoOther) {
  for (const auto& id : SheetIds()) {
    const CriteriaSheet* sheet = FindSheet(id);
    for (const auto& c : sheet->criteria) {
      for (int points = -1; points <= c.Max() + 1; ++points) {
        json::Object f = CompleteSheet(id, 0);
        SetScore(&f, c.code, points);
        bool allowed = std::find(c.scores.begin(), c.scores.end(), points) != c.scores.end();
        Status s = CheckSheetFields(f);
        EXPECT_EQ(s.ok(), allowed) << id << " " << c.code << " = " << points << ": " << s.message();
        if (!allowed) {
          EXPECT_NE(s.message().find("not an allowed score"), std::string::npos) << s.message();
        }
      }
    }
  }
}

TEST(CriteriaSheetTest, UnknownAndRepeatedCriteriaAndWrongGroupsAreRefused) {
  json::Object f = CompleteSheet("148-2023", 0);
  f.get("scores").extract<json::Array::Ptr>()->getObject(0)->set("criterion", std::string("Z9.9"));
  EXPECT_EQ(CheckSheetFields(f).message(), "criterion Z9.9 is not on sheet 148-2023");
  f = CompleteSheet("148-2023", 0);
  f.get("scores").extract<json::Array::Ptr>()->getObject(1)->set("criterion", std::string("A1.1"));
  EXPECT_EQ(CheckSheetFields(f).message(), "criterion A1.1 appears twice");
  f = CompleteSheet("148-2023", 0);
  f.set("product_group", std::string("6"));  // tourism services: no sheet entered for them yet
  EXPECT_EQ(CheckSheetFields(f).message(), "sheet 148-2023 does not score product group 6");
  f.set("sheet", std::string("2030-draft"));
  EXPECT_EQ(CheckSheetFields(f).message(), "unknown criteria sheet '2030-draft'");
  // C3.1 (1048) is not on the 148 sheet's steps: 10 is not allowed there.
  f = CompleteSheet("148-2023", 0);
  SetScore(&f, "C3.1", 10);
  EXPECT_FALSE(CheckSheetFields(f).ok());
}

TEST(CriteriaSheetTest, BrokenSheetsAreRefusedWithTheReason) {
  const std::string head = R"({"sheet":"t","label":{"vi":"t","en":"t"},"product_groups":["1"],"parts":[)";
  auto part = [](const std::string& code, int max, const std::string& criteria) {
    return R"({"code":")" + code + R"(","label":{"vi":"x","en":"x"},"max":)" + std::to_string(max) +
           R"(,"sections":[{"code":")" + code + R"(1","label":{"vi":"x","en":"x"},"criteria":[)" + criteria + "]}]}";
  };
  auto crit = [](const std::string& code, const std::string& scores) {
    return R"({"code":")" + code + R"(","label":{"vi":"x","en":"x"},"scores":)" + scores + "}";
  };
  CriteriaSheet out;
  std::string ok = head + part("A", 40, crit("A1", "[0,40]")) + "," + part("B", 60, crit("B1", "[0,60]")) + "]}";
  EXPECT_TRUE(CriteriaSheet::Parse(ok, &out).ok());
  std::string short_part = head + part("A", 40, crit("A1", "[0,39]")) + "," + part("B", 60, crit("B1", "[0,60]")) + "]}";
  EXPECT_EQ(CriteriaSheet::Parse(short_part, &out).message(), "criteria sheet t: part A adds up to 39, not 40");
  std::string not_100 = head + part("A", 40, crit("A1", "[0,40]")) + "]}";
  EXPECT_EQ(CriteriaSheet::Parse(not_100, &out).message(), "criteria sheet t: parts add up to 40, not 100");
  std::string twice = head + part("A", 40, crit("A1", "[0,20]") + "," + crit("A1", "[0,20]")) + "," +
                      part("B", 60, crit("B1", "[0,60]")) + "]}";
  EXPECT_EQ(CriteriaSheet::Parse(twice, &out).message(), "criteria sheet t: A1 appears twice");
  std::string descending = head + part("A", 40, crit("A1", "[40,0]")) + "," + part("B", 60, crit("B1", "[0,60]")) + "]}";
  EXPECT_FALSE(CriteriaSheet::Parse(descending, &out).ok());
  EXPECT_FALSE(CriteriaSheet::Parse("{\"sheet\":1}", &out).ok());
}

TEST(StarsTest, EveryThresholdOnBothSides) {
  const std::vector<std::pair<double, int>> cases = {{0, 1},  {29, 1},  {29.9, 1}, {30, 2},  {49, 2}, {49.9, 2},
                                                     {50, 3}, {69, 3},  {70, 4},   {89, 4},  {89.9, 4},
                                                     {90, 5}, {99, 5},  {100, 5}};
  for (auto [total, stars] : cases) EXPECT_EQ(StarsForTotal(total), stars) << total;
}

TEST(StarsTest, ASheetsTotalAndStarsAreComputedFromItsScores) {
  for (auto [total, stars] : std::vector<std::pair<int, int>>{
           {29, 1}, {30, 2}, {49, 2}, {50, 3}, {69, 3}, {70, 4}, {89, 4}, {90, 5}, {100, 5}}) {
    json::Object f = SheetWithTotal(total);
    ApplyComputed("evaluation", &f);
    ASSERT_EQ(f.getValue<int>("total_points"), total);
    EXPECT_EQ(f.getValue<int>("stars"), stars) << total;
  }
  // The lowest possible sheet: every criterion at its lowest step.
  json::Object low = CompleteSheet("148-2023", 0);
  ApplyComputed("evaluation", &low);
  EXPECT_EQ(low.getValue<int>("stars"), 1);
  // A partial sheet has a running total but no stars yet.
  json::Object partial = SheetWithTotal(80);
  auto list = partial.get("scores").extract<json::Array::Ptr>();
  list->remove(0);
  ApplyComputed("evaluation", &partial);
  EXPECT_TRUE(partial.has("total_points"));
  EXPECT_FALSE(partial.has("stars"));
}

TEST(LocalisationCriterionTest, FollowsTheConfirmation) {
  struct Case {
    int64_t local_value;  // of 10,000
    int workers_local;    // of 10
    int a11, a12;
  };
  for (const Case& c : std::vector<Case>{{8000, 6, 3, 1}, {6000, 4, 2, 0}, {2000, 5, 1, 1}, {7500, 10, 3, 1}}) {
    json::Object confirmation = Confirmation(10, c.workers_local, {{10000, c.local_value, "province"}});
    json::Object sheet = CompleteSheet("148-2023", 1);
    sheet.set("idea_id", kIdea);
    ASSERT_TRUE(FillFromConfirmation(confirmation, &sheet).ok());
    auto scores = ScoresOf(sheet);
    EXPECT_EQ(scores["A1.1"], c.a11) << c.local_value;
    EXPECT_EQ(scores["A1.2"], c.a12) << c.workers_local;
    EXPECT_TRUE(CheckAgainstConfirmation(sheet, kConfirmationId, &confirmation).ok());
    // Typed over: refused, naming what the confirmation gives.
    SetScore(&sheet, "A1.1", c.a11 == 3 ? 2 : 3);
    Status s = CheckAgainstConfirmation(sheet, kConfirmationId, &confirmation);
    EXPECT_EQ(s.message(), "criterion A1.1 takes its score from the confirmation (" + std::to_string(c.a11) +
                               " points); it cannot be typed");
  }
}

TEST(LocalisationCriterionTest, AllImportedOrUnknownCannotBeRanked) {
  json::Object confirmation = Confirmation(10, 10, {{5000, 0, "imported"}, {5000, 0, "unknown"}});
  json::Object sheet = CompleteSheet("148-2023", 99);  // every criterion at its top
  sheet.set("idea_id", kIdea);
  ASSERT_TRUE(FillFromConfirmation(confirmation, &sheet).ok());
  EXPECT_EQ(sheet.getValue<std::string>("unrankable_reason"), "all raw materials are imported or of unknown origin");
  ApplyComputed("evaluation", &sheet);
  EXPECT_FALSE(sheet.has("stars"));  // whatever the total
  EXPECT_GE(sheet.getValue<int>("total_points"), 90);
  sheet.set("status", std::string("scored"));
  auto results = CouncilResults({{"s1", "00001", sheet}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].rankable);
  EXPECT_EQ(results[0].stars, 0);
  // Leaving the reason out does not make it rankable: the confirmation decides.
  sheet.remove("unrankable_reason");
  EXPECT_FALSE(CheckAgainstConfirmation(sheet, kConfirmationId, &confirmation).ok());
  // Part-imported is rankable.
  json::Object mixed = Confirmation(10, 10, {{5000, 0, "imported"}, {5000, 5000, "commune"}});
  json::Object ok = CompleteSheet("148-2023", 1);
  ok.set("idea_id", kIdea);
  ASSERT_TRUE(FillFromConfirmation(mixed, &ok).ok());
  EXPECT_FALSE(ok.has("unrankable_reason"));
}

TEST(LocalisationCriterionTest, TheConfirmationMustBeThisIdeasAndConfirmed) {
  json::Object confirmation = Confirmation(10, 6, {{10000, 8000, "province"}});
  json::Object sheet = CompleteSheet("148-2023", 1);
  sheet.set("idea_id", kIdea);
  ASSERT_TRUE(FillFromConfirmation(confirmation, &sheet).ok());
  EXPECT_EQ(CheckAgainstConfirmation(sheet, kConfirmationId, nullptr).code(), Code::kFailedPrecondition);
  json::Object other = confirmation;
  other.set("idea_id", std::string("0190a4f2-0000-7000-8000-0000000000ff"));
  EXPECT_EQ(CheckAgainstConfirmation(sheet, kConfirmationId, &other).message(),
            "the confirmation " + kConfirmationId + " is for another idea");
  json::Object draft = confirmation;
  draft.set("status", std::string("draft"));
  EXPECT_EQ(CheckAgainstConfirmation(sheet, kConfirmationId, &draft).code(), Code::kFailedPrecondition);
}

TEST(CouncilTest, TheResultIsTheMeanOfTheMembersScoredSheets) {
  auto sheet = [](int total, const std::string& status, const std::string& level = "province", int year = 2026) {
    json::Object f = SheetWithTotal(total);
    f.set("idea_id", kIdea);
    f.set("product_name", std::string("Thanh long ruột đỏ"));
    f.set("level", level);
    f.set("round_year", Poco::Int64(year));
    f.set("status", status);
    ApplyComputed("evaluation", &f);
    return f;
  };
  std::vector<SheetRecord> sheets = {
      {"a", "00001", sheet(72, "scored")},  {"b", "00001", sheet(75, "scored")},
      {"c", "00001", sheet(80, "scored")},  {"d", "00001", sheet(20, "draft")},  // not counted
      {"e", "00001", sheet(52, "scored", "district")},                          // another council
      {"f", "00001", sheet(90, "scored", "province", 2025)}};                   // another year
  auto results = CouncilResults(sheets);
  ASSERT_EQ(results.size(), 3u);
  const CouncilResult* province = nullptr;
  for (const auto& r : results)
    if (r.level == "province" && r.year == 2026) province = &r;
  ASSERT_TRUE(province);
  EXPECT_EQ(province->members, 3);
  EXPECT_DOUBLE_EQ(province->mean_total, 75.7);  // (72 + 75 + 80) / 3, one decimal
  EXPECT_EQ(province->stars, 4);
  EXPECT_EQ(province->product, "Thanh long ruột đỏ");
  // Stars follow the mean as announced (one decimal): 90, 90, 89 → 89.7 → 4 stars.
  auto edge = CouncilResults({{"x", "u", sheet(90, "scored")}, {"y", "u", sheet(90, "scored")}, {"z", "u", sheet(89, "scored")}});
  ASSERT_EQ(edge.size(), 1u);
  EXPECT_DOUBLE_EQ(edge[0].mean_total, 89.7);
  EXPECT_EQ(edge[0].stars, 4);
}

TEST(CertificateTest, ValidForThirtySixMonths) {
  auto until = [](const std::string& decided) {
    json::Object f;
    f.set("decided_on", decided);
    ApplyComputed("certificate", &f);
    return f.has("valid_until") ? f.getValue<std::string>("valid_until") : "";
  };
  EXPECT_EQ(until("2023-02-24"), "2026-02-23");
  EXPECT_EQ(until("2024-02-29"), "2027-02-27");  // 29/02/2027 does not exist: 28/02, valid through the 27th
  EXPECT_EQ(until("2025-08-31"), "2028-08-30");
  EXPECT_EQ(until("2026-01-01"), "2028-12-31");
  EXPECT_EQ(until(""), "");
  EXPECT_EQ(dates::AddMonths("2026-01-31", 1), "2026-02-28");
  EXPECT_EQ(dates::AddMonths("2028-01-31", 1), "2028-02-29");
  EXPECT_EQ(dates::AddMonths("2026-11-30", -11), "2025-12-30");
  EXPECT_EQ(dates::AddMonths("2026-12-15", 1), "2027-01-15");
}

TEST(FormsTest, TheNewFormsValidate) {
  const auto& catalog = FormCatalog::Default();
  for (const char* form : {"plan", "evaluation", "certificate"}) ASSERT_TRUE(catalog.Find(form)) << form;
  json::Object plan;
  plan.set("idea_id", kIdea);
  plan.set("product_name", std::string("Mật ong bạc hà"));
  plan.set("subject_name", std::string("HTX Ong mật Tam Đảo"));
  plan.set("production_scale", std::string("200 đàn ong, nhà sơ chế 60 m²"));
  plan.set("capital_total_vnd", Poco::Int64(500000000));
  plan.set("capital_own_vnd", Poco::Int64(300000000));
  plan.set("capital_loan_vnd", Poco::Int64(250000000));
  plan.set("revenue_per_year_vnd", Poco::Int64(900000000));
  plan.set("cost_per_year_vnd", Poco::Int64(600000000));
  plan.set("workers", Poco::Int64(12));
  plan.set("raw_material_sources", std::string("Đàn ong của các hộ thành viên"));
  json::Object p = plan;
  Status s = ValidateRecord(*catalog.Find("plan"), &p, Completeness::kComplete, false);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("the sources of capital add up to 550000000 VND"), std::string::npos) << s.message();
  plan.set("capital_loan_vnd", Poco::Int64(200000000));
  p = plan;
  EXPECT_TRUE(ValidateRecord(*catalog.Find("plan"), &p, Completeness::kComplete, false).ok());
  p = plan;
  p.set("decided_on", std::string("2026-11-30"));  // a workflow field
  EXPECT_FALSE(ValidateRecord(*catalog.Find("plan"), &p, Completeness::kComplete, false).ok());

  json::Object cert;
  cert.set("idea_id", kIdea);
  cert.set("product_name", std::string("Mật ong bạc hà"));
  cert.set("stars", Poco::Int64(2));
  cert.set("level", std::string("province"));
  cert.set("round_year", Poco::Int64(2026));
  cert.set("decision_no", std::string("1234/QĐ-UBND"));
  cert.set("decided_on", std::string("30/11/2026"));
  json::Object c = cert;
  EXPECT_FALSE(ValidateRecord(*catalog.Find("certificate"), &c, Completeness::kComplete, false).ok());  // 2 stars
  cert.set("stars", Poco::Int64(4));
  c = cert;
  ASSERT_TRUE(ValidateRecord(*catalog.Find("certificate"), &c, Completeness::kComplete, false).ok());
  EXPECT_EQ(c.getValue<std::string>("decided_on"), "2026-11-30");
}

// A corrected sheet, published under an id of its own, is what councils of
// its year choose from then on; a sheet once in force never changes.
TEST(PublishedSheetTest, ACorrectionReplacesTheOldSheetForCouncilsAndIsOffered) {
  ASSERT_EQ(SheetForYear(2026)->id, "148-2023");
  ASSERT_EQ(SheetForYear(2021)->id, "1048-2019");
  std::string r1 = FindSheet("148-2023")->source;
  const std::string id = "\"sheet\": \"148-2023\",";
  r1.replace(r1.find(id), id.size(), "\"sheet\": \"148-2023-r1\", \"replaces\": \"148-2023\",");
  definitions::Published p;
  p.criteria = {r1};
  ASSERT_TRUE(definitions::Install(p).ok());
  EXPECT_EQ(SheetForYear(2026)->id, "148-2023-r1");
  EXPECT_EQ(SheetForYear(2021)->id, "1048-2019");
  ASSERT_NE(FindSheet("148-2023"), nullptr);  // sheets scored on it keep it
  // The evaluation form offers it, in its checks and in the file the screens read.
  const FormSchema* evaluation = FormCatalog::Default().Find("evaluation");
  json::Var v;
  EXPECT_TRUE(CheckValue(*evaluation->Field("sheet"), std::string("148-2023-r1"), &v).ok());
  EXPECT_NE(evaluation->source.find("148-2023-r1"), std::string::npos);
  // The same id again, or a sheet replacing one there is not, is refused and changes nothing.
  definitions::Published again = p;
  again.criteria.push_back(r1);
  EXPECT_NE(definitions::Install(again).message().find("exists already"), std::string::npos);
  std::string orphan = r1;
  orphan.replace(orphan.find("148-2023-r1"), 11, "148-2023-r2");
  orphan.replace(orphan.find("\"replaces\": \"148-2023\""), 22, "\"replaces\": \"999-2099\"");
  again.criteria = {r1, orphan};
  EXPECT_NE(definitions::Install(again).message().find("which there is not"), std::string::npos);
  EXPECT_EQ(FindSheet("148-2023-r2"), nullptr);
  ASSERT_TRUE(definitions::Install({}).ok());
  EXPECT_EQ(FindSheet("148-2023-r1"), nullptr);
}

}  // namespace
}  // namespace ocop::evaluation
