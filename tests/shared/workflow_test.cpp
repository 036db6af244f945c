#include "shared/workflow.h"

#include <gtest/gtest.h>

#include "tests/shared/sheet_fixture.h"

namespace ocop::workflow {
namespace {

json::Object With(std::initializer_list<std::pair<const char*, const char*>> kv) {
  json::Object o;
  for (auto& [k, v] : kv) o.set(k, std::string(v));
  return o;
}

Code Check(const std::string& form, const std::string& from, const std::string& to, const std::string& role,
           const json::Object& after = json::Object(), const std::string& today = "2026-11-24") {
  return CheckTransition(form, from, to, role, after, today).code();
}

TEST(WorkflowTest, EveryAllowedTransitionByItsRole) {
  json::Object reason = With({{"decision_reason", "Thiếu thông tin"}, {"revoked_reason", "Sai số liệu"},
                               {"reopen_reason", "Chấm nhầm tiêu chí C2.1"}});
  for (const auto& d : Decisions())
    for (const auto& from : d.from) {
      json::Object after = reason;
      if (std::string(d.form) == "evaluation") after = evaluation_test::CompleteSheet("148-2023", 3, after);
      if (from == "returned") after.set("returned_on", "2026-11-01");
      EXPECT_EQ(Check(d.form, from, d.to, d.role, after), Code::kOk) << d.name << " from " << from;
      std::string other = std::string(d.role) == "officer" ? "coordinator" : "officer";
      EXPECT_EQ(Check(d.form, from, d.to, other, after), Code::kPermissionDenied) << d.name << " by " << other;
      EXPECT_EQ(Check(d.form, from, d.to, "admin", after), Code::kPermissionDenied) << d.name << " by admin";
    }
}

TEST(WorkflowTest, ForbiddenTransitions) {
  EXPECT_EQ(Check("idea", "draft", "selected", "coordinator"), Code::kFailedPrecondition);
  EXPECT_EQ(Check("idea", "selected", "draft", "officer"), Code::kFailedPrecondition);
  EXPECT_EQ(Check("idea", "not_selected", "accepted", "officer"), Code::kFailedPrecondition);
  EXPECT_EQ(Check("confirmation", "revoked", "confirmed", "officer"), Code::kFailedPrecondition);
  EXPECT_EQ(Check("visit", "recorded", "confirmed", "officer"), Code::kFailedPrecondition);
  // The messages say what is allowed, or whose decision it is.
  Status s = CheckTransition("idea", "draft", "not_selected", "coordinator", json::Object(), "2026-11-24");
  EXPECT_NE(s.message().find("submit"), std::string::npos) << s.message();
  s = CheckTransition("idea", "submitted", "selected", "officer", json::Object(), "2026-11-24");
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("coordinator"), std::string::npos) << s.message();
}

TEST(WorkflowTest, PlansAreSubmittedByOfficersAndJudgedByCoordinators) {
  json::Object reason = With({{"decision_reason", "Vốn tự có không đủ, thị trường chưa rõ"}});
  EXPECT_EQ(Check("plan", "draft", "submitted", "officer"), Code::kOk);
  EXPECT_EQ(Check("plan", "draft", "submitted", "coordinator"), Code::kPermissionDenied);
  EXPECT_EQ(Check("plan", "submitted", "feasible", "coordinator"), Code::kOk);
  EXPECT_EQ(Check("plan", "submitted", "feasible", "officer"), Code::kPermissionDenied);
  EXPECT_EQ(Check("plan", "submitted", "not_feasible", "coordinator"), Code::kInvalidArgument);  // no reason
  EXPECT_EQ(Check("plan", "submitted", "not_feasible", "coordinator", reason), Code::kOk);
  EXPECT_EQ(Check("plan", "not_feasible", "submitted", "officer"), Code::kOk);  // a revised plan
  EXPECT_EQ(Check("plan", "feasible", "not_feasible", "coordinator", reason), Code::kFailedPrecondition);
  EXPECT_EQ(Check("plan", "draft", "feasible", "coordinator"), Code::kFailedPrecondition);
}

TEST(WorkflowTest, ASheetIsScoredOnlyWhenEveryCriterionHasItsScore) {
  json::Object complete = evaluation_test::CompleteSheet("148-2023", 2);
  EXPECT_EQ(Check("evaluation", "draft", "scored", "coordinator", complete), Code::kOk);
  EXPECT_EQ(Check("evaluation", "draft", "scored", "officer", complete), Code::kPermissionDenied);
  json::Object partial = evaluation_test::CompleteSheet("148-2023", 2);
  auto list = partial.get("scores").extract<json::Array::Ptr>();
  list->remove(list->size() - 1);
  Status s = CheckTransition("evaluation", "draft", "scored", "coordinator", partial, "2026-11-24");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("C3.1 is not scored"), std::string::npos) << s.message();
  EXPECT_EQ(Check("evaluation", "scored", "draft", "coordinator", complete), Code::kInvalidArgument);  // reason
  EXPECT_EQ(Check("certificate", "issued", "revoked", "coordinator", With({{"revoked_reason", "Vi phạm"}})), Code::kOk);
  EXPECT_EQ(Check("certificate", "revoked", "issued", "coordinator"), Code::kFailedPrecondition);
}

TEST(WorkflowTest, UnchangedStatusIsAlwaysFine) {
  EXPECT_EQ(Check("idea", "selected", "selected", "officer"), Code::kOk);
}

TEST(WorkflowTest, ReasonsAreRequired) {
  EXPECT_EQ(Check("idea", "submitted", "returned", "officer"), Code::kInvalidArgument);
  EXPECT_EQ(Check("idea", "accepted", "not_selected", "coordinator"), Code::kInvalidArgument);
  EXPECT_EQ(Check("idea", "accepted", "not_selected", "coordinator", With({{"decision_reason", ""}})), Code::kInvalidArgument);
  EXPECT_EQ(Check("confirmation", "confirmed", "revoked", "officer"), Code::kInvalidArgument);
  EXPECT_EQ(Check("idea", "accepted", "selected", "coordinator"), Code::kOk);  // no reason needed
}

TEST(WorkflowTest, ResubmissionWaitsSevenDays) {
  auto returned = With({{"returned_on", "2026-11-17"}});
  EXPECT_EQ(Check("idea", "returned", "submitted", "officer", returned, "2026-11-23"), Code::kFailedPrecondition);
  EXPECT_EQ(Check("idea", "returned", "submitted", "officer", returned, "2026-11-24"), Code::kOk);
  EXPECT_EQ(Check("idea", "returned", "submitted", "officer", returned, "2027-01-05"), Code::kOk);
  Status s = CheckTransition("idea", "returned", "submitted", "officer", returned, "2026-11-20");
  EXPECT_NE(s.message().find("17/11/2026"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("only 3"), std::string::npos) << s.message();
}

TEST(WorkflowTest, SeveralOfflineDecisionsArriveAsOnePath) {
  // draft -> submitted -> accepted, both the officer's: one coalesced change.
  EXPECT_EQ(Check("idea", "draft", "accepted", "officer"), Code::kOk);
  // draft -> ... -> selected needs the coordinator for the last step: not the officer's path.
  EXPECT_EQ(Check("idea", "draft", "selected", "officer"), Code::kPermissionDenied);
}

TEST(WorkflowTest, ADecisionWritesItsStatusReasonAndStamps) {
  auto changes = DecisionChanges(*Find("idea", "return"), json::Object(), "Thiếu hồ sơ", "lan", "2026-12-02");
  EXPECT_EQ(json::ToText(changes),
            R"({"decision_reason":"Thiếu hồ sơ","returned_on":"2026-12-02","status":"returned"})");
  // A confirmation confirmed again keeps the first day and the first account.
  auto confirmed = With({{"confirmed_on", "2026-01-05"}, {"confirmed_by", "hoa"}});
  EXPECT_EQ(json::ToText(DecisionChanges(*Find("confirmation", "confirm"), confirmed, "", "lan", "2026-12-02")),
            R"({"status":"confirmed"})");
  // No account known (a device before its first login): the stamp is left out.
  EXPECT_EQ(json::ToText(DecisionChanges(*Find("idea", "submit"), json::Object(), "", "", "2026-12-02")),
            R"({"received_on":"2026-12-02","status":"submitted"})");
}

TEST(WorkflowTest, TheTablePublishedToPagesIsTheTableTheChecksUse) {
  json::Var parsed;
  ASSERT_TRUE(json::Parse(DecisionsJson(), &parsed).ok());
  auto list = parsed.extract<json::Array::Ptr>();
  ASSERT_EQ(list->size(), Decisions().size());
  for (size_t i = 0; i < list->size(); ++i) {
    auto o = list->getObject(static_cast<unsigned>(i));
    const Decision& d = Decisions()[i];
    EXPECT_EQ(o->getValue<std::string>("name"), d.name);
    EXPECT_EQ(o->getValue<std::string>("to"), d.to);
    EXPECT_EQ(o->getArray("stamps")->size(), d.stamps.size());
    EXPECT_FALSE(o->getObject("label")->getValue<std::string>("vi").empty()) << d.name;
  }
  auto submit = list->getObject(0);
  ASSERT_EQ(submit->getValue<std::string>("name"), "submit");
  EXPECT_EQ(submit->getObject("wait")->getValue<int>("days"), kResubmitDays);
  EXPECT_EQ(submit->getObject("wait")->getValue<std::string>("field"), "returned_on");
}

}  // namespace
}  // namespace ocop::workflow
