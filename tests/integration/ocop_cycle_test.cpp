// The whole OCOP cycle with real `ocopd` and `ocop` processes, each step
// recorded offline and synced afterwards, as in the field: a commune officer's
// device (idea, business plan, confirmation) and a coordinator's laptop
// (selection, plan review, three council members' sheets, certificate).
// The coordinator's report then shows the product's stars and certificate in
// Vietnamese with none of the English version's words.
#include <gtest/gtest.h>

#include <set>

#include "shared/json.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

json::Object::Ptr Json(const RunResult& r) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(r.out, &o).ok()) << r.out << r.err;
  return o ? o : json::Object::Ptr(new json::Object);
}

std::string Field(const RunResult& r, const std::string& key) {
  auto o = Json(r);
  if (o->has("fields")) o = o->getObject("fields");
  return o->has(key) ? o->get(key).convert<std::string>() : "";
}

// One criterion's points in a sheet printed with --json (-1 if absent).
int ScoreIn(const RunResult& r, const std::string& code) {
  auto fields = Json(r)->getObject("fields");
  auto list = fields->getArray("scores");
  for (size_t i = 0; list && i < list->size(); ++i)
    if (list->getObject(i)->getValue<std::string>("criterion") == code) return list->getObject(i)->getValue<int>("points");
  return -1;
}

// ASCII words of three letters or more: English words, and nothing Vietnamese
// the report writes (its ASCII-only words are listed by the caller).
std::set<std::string> AsciiWords(const std::string& text) {
  std::set<std::string> out;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  for (size_t i = 0; i < text.size();) {
    if (!letter(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && letter(text[j])) ++j;
    bool inside_other = (i > 0 && static_cast<unsigned char>(text[i - 1]) >= 0x80) ||
                        (j < text.size() && static_cast<unsigned char>(text[j]) >= 0x80);
    if (j - i >= 3 && !inside_other) out.insert(text.substr(i, j - i));  // "Nháp" is not the word "Nh"
    i = j;
  }
  return out;
}

class OcopCycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.running());
    ASSERT_TRUE(server_.AddUser("lan", "officer", "08800"));
    ASSERT_TRUE(server_.AddUser("hoa", "coordinator", "253"));
    ASSERT_TRUE(lan_.Setup("08800", "lan"));
    ASSERT_TRUE(hoa_.Setup("253", "hoa"));
  }
  void Sync(const Device& d) {
    auto r = d.Run({"sync"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }

  TempDir dir_;
  ServerProcess server_{dir_.Sub("server")};
  Device lan_{dir_.Sub("lan"), server_.url()}, hoa_{dir_.Sub("hoa"), server_.url()};
};

TEST_F(OcopCycleTest, IdeaToFourStarCertificateOfflineOnTwoDevices) {
  // Step 2, commune: the idea is received and accepted, offline.
  std::string idea = lan_.NewIdea("Thanh long ruột đỏ");
  ASSERT_FALSE(idea.empty());
  ASSERT_EQ(lan_.Run({"submit", idea}).code, 0);
  ASSERT_EQ(lan_.Run({"accept", idea}).code, 0);
  // A business plan for an idea that is not selected yet is refused on the device, in Vietnamese.
  auto plan_r = lan_.Run({"new", "plan", "--set", "idea_id=" + idea, "--set", "product_name=Thanh long ruột đỏ",
                          "--set", "subject_name=HTX Thanh long Lập Thạch", "--set",
                          "production_scale=5 ha, nhà sơ chế 120 m²", "--set", "capital_total_vnd=800000000", "--set",
                          "capital_own_vnd=500000000", "--set", "capital_loan_vnd=300000000", "--set",
                          "revenue_per_year_vnd=1500000000", "--set", "cost_per_year_vnd=1000000000", "--set",
                          "workers=15", "--set", "workers_local=13", "--set",
                          "raw_material_sources=Vườn của 20 hộ thành viên trong xã", "--set",
                          "sales_channels=direct,online", "--json"});
  ASSERT_EQ(plan_r.code, 0) << plan_r.err;
  std::string plan = Json(plan_r)->getValue<std::string>("id");
  auto early = lan_.Run({"--lang", "vi", "submit", plan});
  EXPECT_NE(early.code, 0);
  EXPECT_NE(early.err.find("chưa được chọn"), std::string::npos) << early.err;
  Sync(lan_);

  // Step 2, district: the coordinator selects, offline, then syncs.
  Sync(hoa_);
  auto sel = hoa_.Run({"--lang", "vi", "select", idea});
  ASSERT_EQ(sel.code, 0) << sel.err;
  EXPECT_NE(sel.out.find("Đã chấp nhận → Được chọn"), std::string::npos) << sel.out;
  Sync(hoa_);

  // Step 3 and 5, commune: the plan goes in; the confirmation of local labour and materials.
  Sync(lan_);
  auto submitted = lan_.Run({"submit", plan});
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  auto conf = lan_.Run({"new", "confirmation", "--set", "idea_id=" + idea, "--set", "product_name=Thanh long ruột đỏ",
                        "--set", "year=2026", "--set", "workers_total=15", "--set", "workers_local=13", "--set",
                        "materials=[{\"name\":\"Quả thanh long\",\"value_vnd\":9000000,\"local_value_vnd\":8000000,"
                        "\"origin\":\"commune\"},{\"name\":\"Hộp giấy\",\"value_vnd\":1000000,\"local_value_vnd\":0,"
                        "\"origin\":\"other_province\"}]",
                        "--json"});
  ASSERT_EQ(conf.code, 0) << conf.err;
  std::string confirmation = Json(conf)->getValue<std::string>("id");
  ASSERT_EQ(lan_.Run({"confirm", confirmation}).code, 0);
  Sync(lan_);

  // Step 3 and 5, district, all offline after one sync: the plan found feasible,
  // three council members score the product, the certificate follows.
  Sync(hoa_);
  auto decline_no_reason = hoa_.Run({"--lang", "vi", "decline", plan});
  EXPECT_NE(decline_no_reason.code, 0);
  EXPECT_NE(decline_no_reason.err.find("cần ghi lý do"), std::string::npos) << decline_no_reason.err;
  auto approved = hoa_.Run({"--lang", "vi", "approve", plan});
  ASSERT_EQ(approved.code, 0) << approved.err;
  EXPECT_NE(approved.out.find("Khả thi"), std::string::npos) << approved.out;

  // Part-A criteria scored by each member; A1.1 and A1.2 come from the confirmation (80 % → 3, 87 % → 1).
  const std::string common =
      "A1.3=3,A1.4=2,A1.5=2,A1.6=2,A2.1=2,A2.2=2,A2.3=3,A2.4=2,A3.1=2,A3.2=1,A3.3=2,A3.4=2,A3.5=1,A3.6=1,"
      "B1.1=2,B1.2=4,B1.3=2,B1.4=3,B1.5=3,B2.1=2,B2.2=2,C1.1=3,C1.2=3,C1.3=3,C2.1=4,C2.2=2,C2.4=2,C2.5=4,C3.1=";
  // Totals: 70 + (C2.3, C3.1) chosen per member → 74, 77, 79: mean 76.7 → 4 stars.
  struct Member {
    const char* name;
    const char* tail;
  };
  std::vector<std::string> sheets;
  for (const Member& m : std::vector<Member>{{"Nguyễn Văn An", "1,C2.3=3"}, {"Trần Thị Bình", "3,C2.3=4"},
                                             {"Lê Minh Châu", "5,C2.3=4"}}) {
    auto r = hoa_.Run({"score", idea, "--member", m.name, "--level", "district", "--year", "2026", "--scores",
                       common + m.tail, "--finish", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Field(r, "status"), "scored");
    sheets.push_back(Json(r)->getValue<std::string>("id"));
  }
  // The localisation criterion was not typed: it is the confirmation's.
  auto typed = hoa_.Run({"score", idea, "--member", "Người gõ nhầm", "--level", "district", "--year", "2026",
                         "--scores", "A1.1=1", "--json"});
  ASSERT_EQ(typed.code, 0) << typed.err;  // kept as a draft with the confirmation's score
  auto draft = Json(typed);
  std::string draft_id = draft->getValue<std::string>("id");
  EXPECT_EQ(ScoreIn(typed, "A1.1"), 3) << typed.out;
  ASSERT_EQ(hoa_.Run({"delete", draft_id}).code, 0);

  auto council = hoa_.Run({"--lang", "vi", "council", idea});
  ASSERT_EQ(council.code, 0) << council.err;
  EXPECT_NE(council.out.find("3 thành viên, 76,7 điểm, 4 sao"), std::string::npos) << council.out;

  auto too_low = hoa_.Run({"--lang", "vi", "certify", idea, "--level", "province", "--year", "2026", "--decision-no", "12/QĐ-UBND",
                           "--decided-on", "30/11/2026"});
  EXPECT_NE(too_low.code, 0);  // no province council yet
  EXPECT_NE(too_low.err.find("chưa có kết quả hội đồng cấp province"), std::string::npos) << too_low.err;
  auto cert = hoa_.Run({"certify", idea, "--level", "district", "--year", "2026", "--decision-no", "1234/QĐ-UBND",
                        "--decided-on", "15/12/2023", "--json"});
  ASSERT_EQ(cert.code, 0) << cert.err;
  EXPECT_EQ(Field(cert, "stars"), "4");
  EXPECT_EQ(Field(cert, "valid_until"), "2026-12-14");  // 36 months
  Sync(hoa_);

  // The commune's device learns the outcome.
  Sync(lan_);
  EXPECT_EQ(Field(lan_.Run({"show", plan, "--json"}), "status"), "feasible");
  for (const auto& s : sheets) EXPECT_EQ(Field(lan_.Run({"show", s, "--json"}), "stars"), "4") << s;
  auto lan_council = lan_.Run({"council", idea, "--json"});
  EXPECT_NE(lan_council.out.find("\"stars\":4"), std::string::npos) << lan_council.out;

  // The coordinator's report: in JSON, the figures; in Vietnamese, none of the English words.
  auto report = hoa_.Run({"report", "--date", "30/11/2026", "--star-target", "3", "--format", "json"});
  ASSERT_EQ(report.code, 0) << report.err;
  auto rj = Json(report);
  EXPECT_EQ(rj->getValue<int>("ranked_this_year"), 1);
  EXPECT_EQ(rj->getValue<int>("three_stars_or_more"), 1);
  EXPECT_EQ(rj->getValue<int>("star_target"), 3);
  ASSERT_EQ(rj->getArray("ranking")->size(), 1u);
  EXPECT_EQ(rj->getArray("ranking")->getObject(0)->getValue<int>("stars"), 4);
  EXPECT_EQ(rj->getArray("certificates_expiring")->size(), 1u);  // 14/12/2026 is within 6 months of 30/11/2026
  auto vi = hoa_.Run({"--lang", "vi", "report", "--date", "30/11/2026", "--star-target", "3"});
  auto en = hoa_.Run({"--lang", "en", "report", "--date", "30/11/2026", "--star-target", "3"});
  ASSERT_EQ(vi.code, 0);
  ASSERT_EQ(en.code, 0);
  EXPECT_NE(vi.out.find("★★★★"), std::string::npos) << vi.out;
  EXPECT_NE(vi.out.find("Giấy chứng nhận hết hạn trong 6 tháng tới"), std::string::npos) << vi.out;
  EXPECT_NE(vi.out.find("14/12/2026"), std::string::npos) << vi.out;
  std::set<std::string> english = AsciiWords(en.out), vietnamese = AsciiWords(vi.out);
  std::vector<std::string> leaked;
  for (const auto& w : english)
    if (vietnamese.count(w)) leaked.push_back(w);
  // Words both versions carry because they are data, not the report's language.
  const std::set<std::string> data = {"OCOP", "UBND", "Thanh", "long"};  // the programme; the decision's body; the product
  std::string shown;
  for (const auto& w : leaked)
    if (!data.count(w)) shown += w + " ";
  EXPECT_TRUE(shown.empty()) << "English words in the Vietnamese report: " << shown << "\n" << vi.out;

  // The server holds what both devices hold: a probe with the coordinator's scope sees it all.
  Device probe(dir_.Sub("probe"), server_.url());
  ASSERT_TRUE(probe.Setup("253", "hoa"));
  Sync(probe);
  Sync(hoa_);
  EXPECT_EQ(probe.Dump(), hoa_.Dump());
}

TEST_F(OcopCycleTest, TheServerChecksTheSheetAgainstItsOwnConfirmation) {
  // A sheet whose localisation criterion was changed on the device (as a modified
  // client would send it) is refused by the server with the confirmation's score.
  std::string idea = lan_.NewIdea("Mật ong bạc hà");
  ASSERT_EQ(lan_.Run({"submit", idea}).code, 0);
  ASSERT_EQ(lan_.Run({"accept", idea}).code, 0);
  auto conf = lan_.Run({"new", "confirmation", "--set", "idea_id=" + idea, "--set", "year=2026", "--set",
                        "workers_total=4", "--set", "workers_local=4", "--set",
                        "materials=[{\"name\":\"Mật\",\"value_vnd\":1000,\"local_value_vnd\":1000,\"origin\":\"commune\"}]",
                        "--json"});
  ASSERT_EQ(conf.code, 0) << conf.err;
  std::string confirmation = Json(conf)->getValue<std::string>("id");
  ASSERT_EQ(lan_.Run({"confirm", confirmation}).code, 0);
  Sync(lan_);
  Sync(hoa_);
  auto r = hoa_.Run({"score", idea, "--member", "An", "--level", "district", "--scores", "A1.3=2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string sheet = Json(r)->getValue<std::string>("id");
  // The officer revokes the confirmation meanwhile; the coordinator's sheet still
  // names it, and the server refuses a sheet built on a confirmation no longer confirmed.
  ASSERT_EQ(lan_.Run({"revoke", confirmation, "--reason", "Sai giá trị nguyên liệu"}).code, 0);
  Sync(lan_);
  auto s = hoa_.Run({"--lang", "vi", "sync", "--deadline", "20s"});
  EXPECT_NE(s.code, 0);
  EXPECT_NE((s.out + s.err).find("chưa được xác nhận"), std::string::npos) << s.out << s.err;
  // Nothing of the sheet reached the server.
  Device probe(dir_.Sub("probe"), server_.url());
  ASSERT_TRUE(probe.Setup("253", "hoa"));
  Sync(probe);
  EXPECT_EQ(probe.Dump().count(sheet), 0u);
}

}  // namespace
}  // namespace ocop::testing
