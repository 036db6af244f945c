#include "server/sync_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "server/store/file_store.h"
#include "server/store/sqlite_server_store.h"
#include "tests/support/changes.h"
#include "tests/support/test_store.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/workflow.h"
#include "shared/messages.h"
#include "shared/receipt.h"
#include "sync/carried.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"

namespace ocop::server {
namespace {

using sync::Change;
using sync::ChangeSet;

class SyncServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    ASSERT_TRUE(ocop::testing::OpenTestStore(dir_.path(), &store_, &skip).ok());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ServiceLimits limits;
    limits.pbkdf2_iterations = 1000;  // fast for tests; production uses the default
    service_ = std::make_unique<SyncService>(*store_, UnitTree::Sample(), clock_, limits);
    ASSERT_TRUE(service_->AddUser("lan", "officer", "08800", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("minh", "officer", "08761", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("hoa", "coordinator", "253", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("admin", "admin", "26", "matkhau123").ok());
  }

  AuthUser Auth(const std::string& name) {
    LoginResult r;
    EXPECT_TRUE(service_->Login(name, "matkhau123", "dev-" + name, &r).ok());
    AuthUser u;
    EXPECT_TRUE(service_->Authenticate(r.token, &u).ok());
    return u;
  }

  Change Create(const std::string& unit, const std::string& product) {
    Change c = ocop::testing::NewIdeaChange(unit, product);
    c.author = "spoofed";  // the server takes the author from the token, never from here
    return c;
  }

  Change Edit(const Change& created, const std::string& key, const std::string& old_json, const std::string& new_json,
              int64_t base) {
    Change c = created;
    c.change_id = ids::NewUuid();
    c.op = sync::op::kUpdate;
    c.base_version = base;
    c.fields = {{key, old_json, new_json}};
    return c;
  }

  ChangeSet Set(std::vector<Change> changes) {
    ChangeSet cs;
    cs.id = ids::NewUuid();
    cs.device = "dev";
    cs.changes = std::move(changes);
    return cs;
  }

  // Pulls everything in the user's scope as a device that made none of it (a
  // device is not sent back the changes it made itself).
  std::vector<sync::RecordState> PullAll(AuthUser u) {
    u.device = "another-device";
    sync::PullPage page;
    PullRequest req;
    req.limit = 5000;
    EXPECT_TRUE(service_->Pull(u, req, &page).ok());
    return page.records;
  }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<SyncService> service_;
};

TEST_F(SyncServiceTest, AccountsAreChecked) {
  EXPECT_FALSE(service_->AddUser("x", "officer", "253", "matkhau123").ok());     // officer above commune
  EXPECT_FALSE(service_->AddUser("x", "coordinator", "08800", "matkhau123").ok());
  EXPECT_FALSE(service_->AddUser("x", "king", "26", "matkhau123").ok());
  EXPECT_FALSE(service_->AddUser("x", "admin", "26", "short").ok());
  EXPECT_FALSE(service_->AddUser("x y", "admin", "26", "matkhau123").ok());
  EXPECT_EQ(service_->AddUser("lan", "officer", "08800", "matkhau123").code(), Code::kAlreadyExists);
  LoginResult r;
  EXPECT_EQ(service_->Login("lan", "wrong", "d", &r).code(), Code::kUnauthenticated);
  EXPECT_EQ(service_->Login("nobody", "matkhau123", "d", &r).code(), Code::kUnauthenticated);
}

TEST_F(SyncServiceTest, TokensExpireAndCanBeRevoked) {
  LoginResult r;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", "d", &r).ok());
  AuthUser u;
  EXPECT_TRUE(service_->Authenticate(r.token, &u).ok());
  EXPECT_EQ(service_->Authenticate(std::string(64, 'a'), &u).code(), Code::kUnauthenticated);  // forged
  ASSERT_TRUE(service_->Logout(r.token).ok());
  EXPECT_EQ(service_->Authenticate(r.token, &u).code(), Code::kUnauthenticated);
  ASSERT_TRUE(service_->Login("lan", "matkhau123", "d", &r).ok());
  clock_.Advance(31LL * 24 * 3600 * 1000);
  Status s = service_->Authenticate(r.token, &u);
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_NE(s.message().find("expired"), std::string::npos);
}

TEST_F(SyncServiceTest, SameChangeSetThreeTimesTakesEffectOnce) {
  AuthUser lan = Auth("lan");
  ChangeSet cs = Set({Create("08800", "Ổi Đôn Nhân")});
  sync::PushResult r1, r2, r3;
  ASSERT_TRUE(service_->Push(lan, cs, &r1).ok());
  ASSERT_TRUE(service_->Push(lan, cs, &r2).ok());
  ASSERT_TRUE(service_->Push(lan, cs, &r3).ok());
  EXPECT_EQ(sync::EncodeJson(r1), sync::EncodeJson(r2));
  EXPECT_EQ(sync::EncodeJson(r1), sync::EncodeJson(r3));
  auto records = PullAll(lan);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].version, 1);
  std::vector<AuditRow> audit;
  ASSERT_TRUE(service_->History(lan, records[0].id, &audit).ok());
  EXPECT_EQ(audit.size(), 6u);  // six fields, once
  EXPECT_EQ(audit[0].author, "lan");  // the token's user, not the client's claim
}

TEST_F(SyncServiceTest, ScopeIsEnforcedAndRefusalIsWhole) {
  AuthUser lan = Auth("lan"), minh = Auth("minh"), hoa = Auth("hoa"), admin = Auth("admin");
  sync::PushResult r;
  ASSERT_TRUE(service_->Push(lan, Set({Create("08800", "Ổi")}), &r).ok());
  ASSERT_TRUE(service_->Push(minh, Set({Create("08761", "Mật ong")}), &r).ok());
  // Minh (Lập Thạch) pushes one good change and one for Đôn Nhân: refused whole.
  Change good = Create("08761", "Chè");
  Change bad = Create("08800", "Ổi giả");
  Status s = service_->Push(minh, Set({good, bad}), &r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find(bad.record_id), std::string::npos);
  EXPECT_EQ(PullAll(minh).size(), 1u);  // the good one was not applied either
  EXPECT_EQ(PullAll(lan).size(), 1u);
  // Editing another commune's existing record is refused too.
  auto lans = PullAll(lan);
  Change edit = Create("08800", "x");
  edit.record_id = lans[0].id;
  edit.op = sync::op::kUpdate;
  edit.fields = {{"product_name", "\"Ổi\"", "\"Hack\""}};
  EXPECT_EQ(service_->Push(minh, Set({edit}), &r).code(), Code::kPermissionDenied);
  // Hoa coordinates Sông Lô (253): sees Đôn Nhân, not Lập Thạch. Admin sees both.
  EXPECT_EQ(PullAll(hoa).size(), 1u);
  EXPECT_EQ(PullAll(admin).size(), 2u);
}

// Changes are checked and applied one by one, in the set's order: a later
// change sees the record as the earlier ones left it, and a refusal after
// some were applied still leaves nothing of the set.
TEST_F(SyncServiceTest, AChangeSetIsCheckedInOrderAndAppliedWholeOrNotAtAll) {
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  Change created = Create("08800", "Ổi Đôn Nhân");
  Change renamed = Edit(created, "product_name", "\"Ổi Đôn Nhân\"", "\"Ổi ruột đỏ Đôn Nhân\"", 1);
  ASSERT_TRUE(service_->Push(lan, Set({created, renamed}), &r).ok());
  ASSERT_EQ(r.outcomes.size(), 2u);
  auto records = PullAll(lan);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].fields.find("Ổi ruột đỏ Đôn Nhân"), std::string::npos);

  Change other = Create("08800", "Mật ong");
  Change broken = Edit(other, "no_such_field", "null", "1", 1);
  Status s = service_->Push(lan, Set({other, broken}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no_such_field"), std::string::npos);
  EXPECT_EQ(PullAll(lan).size(), 1u);  // "Mật ong" was written before the refusal, and rolled back
}

// A visit (or confirmation) names its idea: the idea must be on the server,
// alive, an idea, and in the pusher's scope, or created earlier in the same
// change set. A dangling id is refused with the field's name.
TEST_F(SyncServiceTest, AReferenceMustNameARecordInScope) {
  AuthUser lan = Auth("lan"), minh = Auth("minh");
  sync::PushResult r;
  Change lans_idea = Create("08800", "Ổi"), minhs_idea = Create("08761", "Mật ong");
  ASSERT_TRUE(service_->Push(lan, Set({lans_idea}), &r).ok());
  ASSERT_TRUE(service_->Push(minh, Set({minhs_idea}), &r).ok());
  auto visit = [&](const std::string& idea_id) {
    Change v = Create("08800", "x");
    v.form = "visit";
    v.fields = {{"visited_on", "null", "\"2026-11-20\""}, {"purpose", "null", "\"advice\""},
                {"findings", "null", "\"Tốt\""}, {"idea_id", "null", "\"" + idea_id + "\""}};
    return v;
  };
  Status s = service_->Push(lan, Set({visit(ids::NewUuid())}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.message();
  EXPECT_NE(s.message().find("field 'idea_id'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("names no such record"), std::string::npos) << s.message();
  s = service_->Push(lan, Set({visit(minhs_idea.record_id)}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << "another district's idea: " << s.message();
  Change earlier_visit = visit(lans_idea.record_id);
  earlier_visit.fields[3].new_value = "\"" + earlier_visit.record_id + "\"";  // names itself: a visit, not an idea
  EXPECT_EQ(service_->Push(lan, Set({earlier_visit}), &r).code(), Code::kInvalidArgument);
  EXPECT_TRUE(service_->Push(lan, Set({visit(lans_idea.record_id)}), &r).ok());
  Change new_idea = Create("08800", "Chè");
  EXPECT_TRUE(service_->Push(lan, Set({new_idea, visit(new_idea.record_id)}), &r).ok())
      << "an idea created earlier in the same change set";
  EXPECT_EQ(PullAll(lan).size(), 4u);  // two ideas, two visits
}

TEST_F(SyncServiceTest, SchemaViolationsAreRefusedWithTheField) {
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  Change c = Create("08800", "Ổi");
  c.fields.push_back({"colour", "null", "\"red\""});
  Status s = service_->Push(lan, Set({c}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("colour"), std::string::npos);
  c = Create("08800", "Ổi");
  c.fields[3].new_value = "\"one\"";  // product_group must be an integer
  EXPECT_NE(service_->Push(lan, Set({c}), &r).message().find("product_group"), std::string::npos);
  c = Create("08800", "Ổi");
  c.fields.erase(c.fields.begin());  // no subject_name
  EXPECT_NE(service_->Push(lan, Set({c}), &r).message().find("subject_name"), std::string::npos);
  c = Create("08800", "Ổi");
  c.form = "recipe";
  EXPECT_NE(service_->Push(lan, Set({c}), &r).message().find("recipe"), std::string::npos);
  EXPECT_TRUE(PullAll(lan).empty());
}

TEST_F(SyncServiceTest, DifferentFieldsMergeSameFieldConflicts) {
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  Change created = Create("08800", "Ổi");
  ASSERT_TRUE(service_->Push(lan, Set({created}), &r).ok());
  // Two devices edit from version 1.
  ASSERT_TRUE(service_->Push(lan, Set({Edit(created, "phone", "null", "\"0912345678\"", 1)}), &r).ok());
  ASSERT_TRUE(service_->Push(lan, Set({Edit(created, "product_name", "\"Ổi\"", "\"Ổi Đôn Nhân\"", 1)}), &r).ok());
  EXPECT_EQ(r.outcomes[0].result, sync::outcome::kMerged);
  auto rec = PullAll(lan)[0];
  EXPECT_FALSE(rec.conflict);
  EXPECT_NE(rec.fields.find("0912345678"), std::string::npos);
  EXPECT_NE(rec.fields.find("Ổi Đôn Nhân"), std::string::npos);
  // Now a third device, still at version 1, renames it differently.
  ASSERT_TRUE(service_->Push(lan, Set({Edit(created, "product_name", "\"Ổi\"", "\"Ổi ruột đỏ\"", 1)}), &r).ok());
  EXPECT_EQ(r.outcomes[0].result, sync::outcome::kConflict);
  rec = PullAll(lan)[0];
  EXPECT_TRUE(rec.conflict);
  EXPECT_NE(rec.fields.find("Ổi Đôn Nhân"), std::string::npos);  // current value kept
  std::vector<ConflictRow> open;
  StoredRecord stored;
  AuthUser admin = Auth("admin");
  ASSERT_TRUE(service_->ConflictsOf(admin, rec.id, &stored, &open).ok());
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].base_value, "\"Ổi\"");
  EXPECT_EQ(open[0].current_value, "\"Ổi Đôn Nhân\"");
  EXPECT_EQ(open[0].incoming_value, "\"Ổi ruột đỏ\"");
  EXPECT_EQ(open[0].current_author, "lan");
}

TEST_F(SyncServiceTest, OnlyAdministratorsResolveAndResolutionIsAChange) {
  AuthUser lan = Auth("lan"), hoa = Auth("hoa"), admin = Auth("admin");
  sync::PushResult r;
  Change created = Create("08800", "Ổi");
  ASSERT_TRUE(service_->Push(lan, Set({created}), &r).ok());
  ASSERT_TRUE(service_->Push(lan, Set({Edit(created, "product_name", "\"Ổi\"", "\"A\"", 1)}), &r).ok());
  ASSERT_TRUE(service_->Push(lan, Set({Edit(created, "product_name", "\"Ổi\"", "\"B\"", 1)}), &r).ok());
  sync::RecordState out;
  EXPECT_EQ(service_->Resolve(lan, created.record_id, {{"product_name", "incoming", ""}}, &out).code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->Resolve(hoa, created.record_id, {{"product_name", "incoming", ""}}, &out).code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->Resolve(admin, created.record_id, {}, &out).code(), Code::kInvalidArgument);  // undecided field
  EXPECT_EQ(service_->Resolve(admin, created.record_id, {{"phone", "current", ""}}, &out).code(), Code::kInvalidArgument);
  auto before = PullAll(lan)[0];
  ASSERT_TRUE(service_->Resolve(admin, created.record_id, {{"product_name", "value", "\"Ổi Đôn Nhân\""}}, &out).ok());
  EXPECT_GT(out.version, before.version);
  EXPECT_FALSE(out.conflict);
  // The resolution reaches clients through an ordinary pull.
  sync::PullPage page;
  PullRequest req;
  req.since = 0;
  ASSERT_TRUE(service_->Pull(lan, req, &page).ok());  // lan's own device too: the resolution is not its echo
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_NE(page.records[0].fields.find("Ổi Đôn Nhân"), std::string::npos);
  EXPECT_FALSE(page.records[0].conflict);
  std::vector<AuditRow> audit;
  ASSERT_TRUE(service_->History(lan, created.record_id, &audit).ok());
  EXPECT_EQ(audit.back().kind, "resolve");
  EXPECT_EQ(audit.back().author, "admin");
  EXPECT_EQ(service_->Resolve(admin, created.record_id, {{"product_name", "current", ""}}, &out).code(),
            Code::kFailedPrecondition);
}

TEST_F(SyncServiceTest, PullPagesAreOrderedAndComplete) {
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  std::vector<Change> creates;
  for (int i = 0; i < 25; ++i) creates.push_back(Create("08800", "SP " + std::to_string(i)));
  ASSERT_TRUE(service_->Push(lan, Set(creates), &r).ok());
  std::set<std::string> seen;
  PullRequest req;
  req.limit = 10;
  int pages = 0;
  AuthUser reader = lan;
  reader.device = "another-device";
  for (;; ++pages) {
    sync::PullPage page;
    ASSERT_TRUE(service_->Pull(reader, req, &page).ok());
    for (const auto& rec : page.records) seen.insert(rec.id);
    req.since = page.cursor;
    if (!page.more) break;
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 2);  // 10 + 10 + 5: the third page says "no more"
  // The device that pushed them is not sent its own records back, and its cursor moves past them.
  sync::PullPage own;
  ASSERT_TRUE(service_->Pull(lan, PullRequest{}, &own).ok());
  EXPECT_TRUE(own.records.empty());
  EXPECT_EQ(own.cursor, req.since);
  EXPECT_FALSE(own.more);
  PullRequest bad;
  bad.limit = 0;
  sync::PullPage page;
  EXPECT_EQ(service_->Pull(lan, bad, &page).code(), Code::kInvalidArgument);
}

TEST_F(SyncServiceTest, PullSendsOnlyChangedFieldsOfRecordsTheDeviceHolds) {
  AuthUser lan = Auth("lan"), admin = Auth("admin");
  AuthUser reader = lan;
  reader.device = "another-device";
  sync::PushResult r;
  Change a = Create("08800", "Ổi"), b = Create("08800", "Chè");
  ASSERT_TRUE(service_->Push(lan, Set({a, b}), &r).ok());
  auto pull = [&](int64_t since, int64_t patch_since) {
    PullRequest req;
    req.since = since;
    req.patch_since = patch_since;
    sync::PullPage page;
    EXPECT_TRUE(service_->Pull(reader, req, &page).ok());
    return page;
  };
  sync::PullPage first = pull(0, 0);
  ASSERT_EQ(first.records.size(), 2u);
  EXPECT_TRUE(first.patch_bases.empty());  // not asked for: the page is as it always was
  int64_t complete = first.cursor;

  // Another device edits one field of a, removes b's description; a new record c.
  ASSERT_TRUE(service_->Push(lan, Set({Edit(a, "phone", "null", "\"0912345678\"", 1),
                                       Edit(b, "description", "\"Ngon\"", "null", 1)}), &r).ok());
  Change c = Create("08800", "Mật ong");
  ASSERT_TRUE(service_->Push(lan, Set({c}), &r).ok());
  sync::PullPage page = pull(complete, complete);
  ASSERT_EQ(page.records.size(), 3u);
  ASSERT_EQ(page.patch_bases.size(), 3u);
  std::map<std::string, std::pair<int64_t, std::string>> got;
  for (size_t i = 0; i < page.records.size(); ++i)
    got[page.records[i].id] = {page.patch_bases[i], page.records[i].fields};
  EXPECT_EQ(got[a.record_id], std::make_pair(int64_t{1}, std::string(R"({"phone":"0912345678"})")));
  EXPECT_EQ(got[b.record_id], std::make_pair(int64_t{1}, std::string(R"({"description":null})")));
  EXPECT_EQ(got[c.record_id].first, 0);  // new to the device: whole
  EXPECT_NE(got[c.record_id].second.find("Mật ong"), std::string::npos);
  // Without patch_since the same pull sends whole records.
  for (const auto& rec : pull(complete, 0).records) {
    if (rec.id == a.record_id) {
      EXPECT_NE(rec.fields.find("product_name"), std::string::npos);
    }
  }

  // A later change: a device complete at the new cursor gets only it, on top of version 2.
  int64_t complete2 = page.cursor;
  ASSERT_TRUE(service_->Push(lan, Set({Edit(a, "address", "null", "\"Thôn 3\"", 2)}), &r).ok());
  page = pull(complete2, complete2);
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.patch_bases[0], 2);
  EXPECT_EQ(page.records[0].fields, R"({"address":"Thôn 3"})");
  EXPECT_EQ(page.records[0].version, 3);
  // A device complete only at the first cursor gets both changes, on top of version 1.
  page = pull(complete2, complete);
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.patch_bases[0], 1);
  EXPECT_EQ(page.records[0].fields, R"({"address":"Thôn 3","phone":"0912345678"})");

  // A resolution is a change like any other: its fields travel as a patch.
  ASSERT_TRUE(service_->Push(lan, Set({Edit(a, "product_name", "\"Ổi\"", "\"A\"", 1)}), &r).ok());
  ASSERT_TRUE(service_->Push(lan, Set({Edit(a, "product_name", "\"Ổi\"", "\"B\"", 1)}), &r).ok());
  ASSERT_EQ(r.outcomes[0].result, sync::outcome::kConflict);
  int64_t complete3 = pull(complete2, 0).cursor;
  sync::RecordState resolved;
  ASSERT_TRUE(service_->Resolve(admin, a.record_id, {{"product_name", "value", "\"Ổi Đôn Nhân\""}}, &resolved).ok());
  page = pull(complete3, complete3);
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].fields, R"({"product_name":"Ổi Đôn Nhân"})");
  EXPECT_FALSE(page.records[0].conflict);

  // patch_since beyond since is refused.
  PullRequest bad;
  bad.since = 1;
  bad.patch_since = 2;
  sync::PullPage ignored;
  EXPECT_EQ(service_->Pull(reader, bad, &ignored).code(), Code::kInvalidArgument);
}

// One device returned the idea (with its reason and date) while another
// accepted it. The administrator takes "accepted": the return's reason and
// date go with the status they belonged to.
TEST_F(SyncServiceTest, AResolvedStatusBringsItsFieldsAlong) {
  AuthUser lan = Auth("lan"), admin = Auth("admin");
  AuthUser lan_tablet = lan;
  lan_tablet.device = "dev-lan-tablet";
  sync::PushResult r;
  Change created = Create("08800", "Ổi");
  ASSERT_TRUE(service_->Push(lan, Set({created}), &r).ok());
  Change submit = Edit(created, "status", "\"draft\"", "\"submitted\"", 1);
  ASSERT_TRUE(service_->Push(lan, Set({submit}), &r).ok());
  Change returned = Edit(created, "status", "\"submitted\"", "\"returned\"", 2);
  returned.fields.push_back({"decision_reason", "null", "\"Thiếu ảnh\""});
  returned.fields.push_back({"returned_on", "null", "\"2026-11-24\""});
  ASSERT_TRUE(service_->Push(lan, Set({returned}), &r).ok());
  Change accepted = Edit(created, "status", "\"submitted\"", "\"accepted\"", 2);
  accepted.device = "dev-lan-tablet";
  Status pushed = service_->Push(lan_tablet, Set({accepted}), &r);
  ASSERT_TRUE(pushed.ok()) << pushed.message();
  sync::RecordState out;
  ASSERT_TRUE(service_->Resolve(admin, created.record_id, {{"status", "incoming", ""}}, &out).ok());
  EXPECT_NE(out.fields.find("\"status\":\"accepted\""), std::string::npos) << out.fields;
  EXPECT_EQ(out.fields.find("decision_reason"), std::string::npos) << out.fields;
  EXPECT_EQ(out.fields.find("returned_on"), std::string::npos) << out.fields;
  // Taking "returned" instead keeps them.
  EXPECT_EQ(workflow::FieldsNotOf("idea", "returned"), (std::vector<std::string>{}));
}

TEST_F(SyncServiceTest, WorkflowRulesAreEnforcedOnPush) {
  AuthUser lan = Auth("lan"), hoa = Auth("hoa");
  sync::PushResult r;
  Change created = Create("08800", "Ổi");
  ASSERT_TRUE(service_->Push(lan, Set({created}), &r).ok());
  auto decide = [&](const AuthUser& u, std::vector<sync::FieldChange> fields, int64_t day_offset, int64_t base) {
    Change c = Edit(created, "status", "", "", base);
    c.fields = std::move(fields);
    c.hlc = HybridClock::Encode(clock_.NowMillis() + day_offset * 86400000LL, 0);
    return service_->Push(u, Set({c}), &r);
  };
  // A coordinator cannot take the commune's decision; a skipped step is refused.
  EXPECT_EQ(decide(hoa, {{"status", "\"draft\"", "\"submitted\""}}, 0, 1).code(), Code::kPermissionDenied);
  EXPECT_EQ(decide(lan, {{"status", "\"draft\"", "\"selected\""}}, 0, 1).code(), Code::kPermissionDenied);
  ASSERT_TRUE(decide(lan, {{"status", "\"draft\"", "\"submitted\""}}, 0, 1).ok());
  // Return without a reason: refused; with one: taken.
  EXPECT_EQ(decide(lan, {{"status", "\"submitted\"", "\"returned\""}}, 0, 2).code(), Code::kInvalidArgument);
  ASSERT_TRUE(decide(lan, {{"status", "\"submitted\"", "\"returned\""}, {"decision_reason", "null", "\"Thiếu\""},
                           {"returned_on", "null", "\"2026-11-24\""}}, 0, 2).ok());
  // Resubmitted three days later (by the device's clock): too early. Seven days: fine.
  clock_.Advance(3 * 86400000LL);
  Status s = decide(lan, {{"status", "\"returned\"", "\"submitted\""}}, 0, 3);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("7 days"), std::string::npos) << s.message();
  // A device clock set in the future does not help: the server's date caps it.
  EXPECT_EQ(decide(lan, {{"status", "\"returned\"", "\"submitted\""}}, 30, 3).code(), Code::kFailedPrecondition);
  clock_.Advance(4 * 86400000LL);
  ASSERT_TRUE(decide(lan, {{"status", "\"returned\"", "\"submitted\""}}, 0, 3).ok());
  ASSERT_TRUE(decide(lan, {{"status", "\"submitted\"", "\"accepted\""}}, 0, 4).ok());
  // Selection is the coordinator's.
  EXPECT_EQ(decide(lan, {{"status", "\"accepted\"", "\"selected\""}}, 0, 5).code(), Code::kPermissionDenied);
  ASSERT_TRUE(decide(hoa, {{"status", "\"accepted\"", "\"selected\""}}, 0, 5).ok());
  EXPECT_NE(PullAll(lan)[0].fields.find("\"status\":\"selected\""), std::string::npos);
}

TEST_F(SyncServiceTest, ReceiptBlocksNeverOverlapAcrossDevices) {
  // Eight devices of one commune reserve blocks at the same time.
  AuthUser lan = Auth("lan");
  std::vector<std::pair<int64_t, int64_t>> blocks(8);
  std::vector<std::thread> devices;
  for (int d = 0; d < 8; ++d)
    devices.emplace_back([&, d] {
      for (int round = 0; round < 5; ++round) {
        PullRequest req;
        req.reserve_receipts = 10;
        req.receipt_year = 2026;
        sync::PullPage page;
        ASSERT_TRUE(service_->Pull(lan, req, &page).ok());
        if (round == 4) blocks[d] = {page.receipt_first, page.receipt_last};
      }
    });
  for (auto& t : devices) t.join();
  std::set<int64_t> numbers;
  for (auto [first, last] : blocks) {
    EXPECT_EQ(last - first + 1, 10);
    for (int64_t n = first; n <= last; ++n) EXPECT_TRUE(numbers.insert(n).second) << "number " << n << " given twice";
  }
}

TEST_F(SyncServiceTest, ReceiptNumbersAreUniqueAcrossTheCommunesOfADistrict) {
  // "n/PĐK-26-253-2026" names the district, not the commune: two communes of
  // district 253 must not both give out number 1.
  ASSERT_TRUE(service_->AddUser("thu", "officer", "08821", "matkhau123").ok());
  // A counter left by the earlier per-commune counting: 08800 gave out 1–60.
  ASSERT_TRUE(store_->RunWrite([](WriteTxn& txn) {
                      int64_t first = 0, last = 0;
                      return txn.ReserveReceipts("08800", 2026, 60, 0, &first, &last);
                    }).ok());
  std::set<std::string> numbers;
  for (const char* who : {"lan", "thu", "lan", "thu"}) {
    AuthUser u = Auth(who);
    PullRequest req;
    req.reserve_receipts = 25;
    req.receipt_year = 2026;
    sync::PullPage page;
    ASSERT_TRUE(service_->Pull(u, req, &page).ok());
    EXPECT_GT(page.receipt_first, 60) << "a number the commune's own counter already gave out";
    for (int64_t n = page.receipt_first; n <= page.receipt_last; ++n)
      EXPECT_TRUE(numbers.insert(FormatReceipt(UnitTree::Sample(), u.unit, 2026, n)).second)
          << FormatReceipt(UnitTree::Sample(), u.unit, 2026, n) << " given twice";
  }
  EXPECT_EQ(numbers.size(), 100u);
}

}  // namespace
}  // namespace ocop::server

namespace ocop::server {
namespace {

// Carried files reach the server only with the key their device registered at
// login; the writer's rules and scope apply, and the bringer's scope too.
TEST_F(SyncServiceTest, CarriedFilesNeedTheirDevicesKeyAndStayInScope) {
  const std::string device = ids::NewUuid(), key = sync::carried::NewDeviceKey();
  LoginResult r;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", device, &r, "", 0, key).ok());
  EXPECT_EQ(service_->Login("lan", "matkhau123", device, &r, "", 0, "not-hex").code(), Code::kInvalidArgument);
  sync::carried::CarriedFile f;
  f.kind = "changes";
  f.device = device;
  f.user = "lan";
  f.unit = "08800";
  f.created_at = "2026-11-30T01:00:00.000Z";
  ChangeSet cs = Set({Create("08800", "Ổi")});
  cs.device = device;
  f.change_sets.push_back(cs);
  CarriedImport out;
  // Signed with another key (another device's, or a forger's): refused, nothing stored.
  EXPECT_EQ(service_->ImportCarried(sync::carried::Write(f, sync::carried::NewDeviceKey()), nullptr, &out).code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(PullAll(Auth("lan")).empty());
  // Naming an account that never logged in on that device: refused.
  sync::carried::CarriedFile as_minh = f;
  as_minh.user = "minh";
  EXPECT_EQ(service_->ImportCarried(sync::carried::Write(as_minh, key), nullptr, &out).code(), Code::kPermissionDenied);
  // Brought by an account whose scope does not hold the commune: refused.
  AuthUser minh = Auth("minh");
  EXPECT_EQ(service_->ImportCarried(sync::carried::Write(f, key), &minh, &out).code(), Code::kPermissionDenied);
  EXPECT_TRUE(PullAll(Auth("lan")).empty());
  // The coordinator of the district brings it: applied as lan's device, once.
  AuthUser hoa = Auth("hoa");
  ASSERT_TRUE(service_->ImportCarried(sync::carried::Write(f, key), &hoa, &out).ok());
  ASSERT_EQ(out.sets.size(), 1u);
  EXPECT_TRUE(out.sets[0].status.ok());
  EXPECT_EQ(out.user, "lan");
  CarriedImport again;
  ASSERT_TRUE(service_->ImportCarried(sync::carried::Write(f, key), &hoa, &again).ok());
  EXPECT_EQ(PullAll(Auth("lan")).size(), 1u);
  // The return file for that device carries the answer, signed with its key.
  std::string bytes;
  int64_t records = 0;
  ASSERT_TRUE(service_->ExportReturn(device, 0, &bytes, &records).ok());
  EXPECT_TRUE(sync::carried::CheckSignature(bytes, key).ok());
  sync::carried::CarriedFile ret;
  ASSERT_TRUE(sync::carried::Read(bytes, &ret).ok());
  ASSERT_EQ(ret.answers.size(), 1u);
  EXPECT_EQ(ret.answers[0].changeset_id, cs.id);
  EXPECT_EQ(records, 0);  // the device holds its own record as it sent it
  EXPECT_EQ(service_->ExportReturn(ids::NewUuid(), 0, &bytes, &records).code(), Code::kNotFound);
  // A disabled writer's files stop too.
  UserUpdate off;
  off.disabled = true;
  ASSERT_TRUE(service_->UpdateUser(Auth("admin"), "lan", off).ok());
  EXPECT_EQ(service_->ImportCarried(sync::carried::Write(f, key), &hoa, &out).code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace ocop::server

namespace ocop::server {
namespace {

// Step 3 and 5 on the server, as a modified client could send them: a plan for
// an idea not selected, a sheet whose localisation criterion was typed over,
// a sheet finished with criteria missing. Each refused with its reason.
class CycleOnServerTest : public SyncServiceTest {
 protected:
  Change Record(const std::string& form, std::vector<sync::FieldChange> fields) {
    Change c = Create("08800", "x");
    c.form = form;
    c.fields = std::move(fields);
    return c;
  }
  std::string Id(const Change& c) { return json::Quote(c.record_id); }
};

TEST_F(CycleOnServerTest, PlansFollowSelectedIdeasAndSheetsFollowTheirConfirmation) {
  AuthUser lan = Auth("lan"), hoa = Auth("hoa");
  sync::PushResult r;
  Change idea = Create("08800", "Thanh long ruột đỏ");
  idea.fields.back() = {"status", "null", "\"accepted\""};  // submitted and accepted offline, one change
  ASSERT_TRUE(service_->Push(lan, Set({idea}), &r).ok());
  std::vector<sync::FieldChange> plan_fields = {
      {"idea_id", "null", Id(idea)},          {"product_name", "null", "\"Thanh long\""},
      {"subject_name", "null", "\"HTX\""},     {"production_scale", "null", "\"5 ha\""},
      {"capital_total_vnd", "null", "100"},    {"revenue_per_year_vnd", "null", "200"},
      {"cost_per_year_vnd", "null", "150"},    {"workers", "null", "5"},
      {"raw_material_sources", "null", "\"Vườn nhà\""}, {"status", "null", "\"submitted\""}};
  Change plan = Record("plan", plan_fields);
  Status s = service_->Push(lan, Set({plan}), &r);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("is not selected (status accepted)"), std::string::npos) << s.message();
  ASSERT_TRUE(service_->Push(hoa, Set({Edit(idea, "status", "\"accepted\"", "\"selected\"", 1)}), &r).ok());
  plan.change_id = ids::NewUuid();
  ASSERT_TRUE(service_->Push(lan, Set({plan}), &r).ok());
  // Feasibility is the coordinator's decision.
  EXPECT_EQ(service_->Push(lan, Set({Edit(plan, "status", "\"submitted\"", "\"feasible\"", 1)}), &r).code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(service_->Push(hoa, Set({Edit(plan, "status", "\"submitted\"", "\"feasible\"", 1)}), &r).ok());

  Change confirmation = Record("confirmation", {
      {"idea_id", "null", Id(idea)}, {"year", "null", "2026"}, {"workers_total", "null", "10"},
      {"workers_local", "null", "9"},
      {"materials", "null", R"([{"name":"Quả","value_vnd":100,"local_value_vnd":90,"origin":"commune"}])"},
      {"status", "null", "\"confirmed\""}});
  ASSERT_TRUE(service_->Push(lan, Set({confirmation}), &r).ok());
  // Every criterion of the 148 sheet at its lowest step; the confirmation gives A1.1 = 3, A1.2 = 1.
  auto sheet_scores = [](int a11) {
    std::string list = "[";
    for (const auto& c : evaluation::FindSheet("148-2023")->criteria) {
      int points = c.code == "A1.1" ? a11 : c.code == "A1.2" ? 1 : c.scores.front();
      list += std::string(list.size() > 1 ? "," : "") + R"({"criterion":")" + c.code + R"(","points":)" +
              std::to_string(points) + "}";
    }
    return list + "]";
  };
  auto sheet = [&](int a11, const std::string& status) {
    return Record("evaluation", {{"idea_id", "null", Id(idea)},        {"confirmation_id", "null", Id(confirmation)},
                                 {"product_name", "null", "\"Thanh long\""}, {"product_group", "null", "\"1\""},
                                 {"sheet", "null", "\"148-2023\""},       {"level", "null", "\"district\""},
                                 {"round_year", "null", "2026"},          {"member_name", "null", "\"An\""},
                                 {"scores", "null", sheet_scores(a11)},   {"status", "null", json::Quote(status)}});
  };
  s = service_->Push(hoa, Set({sheet(1, "scored")}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("criterion A1.1 takes its score from the confirmation (3 points)"), std::string::npos)
      << s.message();
  // An officer does not finish a council member's sheet.
  EXPECT_EQ(service_->Push(lan, Set({sheet(3, "scored")}), &r).code(), Code::kPermissionDenied);
  Change good = sheet(3, "scored");
  ASSERT_TRUE(service_->Push(hoa, Set({good}), &r).ok());
  // The server computed the total and the stars itself.
  bool found = false;
  for (const auto& rec : PullAll(hoa))
    if (rec.id == good.record_id) {
      found = true;
      EXPECT_NE(rec.fields.find("\"stars\":1"), std::string::npos) << rec.fields;
      EXPECT_NE(rec.fields.find("\"total_points\":14"), std::string::npos) << rec.fields;
    }
  EXPECT_TRUE(found);
  // A score outside the criterion's steps, sent as an edit: refused.
  std::string bad = sheet_scores(3);
  const std::string zero = R"("criterion":"C2.1","points":0)";
  bad.replace(bad.find(zero), zero.size(), R"("criterion":"C2.1","points":1)");
  s = service_->Push(hoa, Set({Edit(good, "scores", "null", bad, 1)}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("criterion C2.1: 1 is not an allowed score (allowed: 0, 2, 4)"), std::string::npos)
      << s.message();

  // Certificates: the stars are the council's, whatever the device wrote.
  auto certificate = [&](const std::string& level, int stars) {
    return Record("certificate", {{"idea_id", "null", Id(idea)},     {"product_name", "null", "\"Thanh long\""},
                                  {"stars", "null", std::to_string(stars)}, {"level", "null", json::Quote(level)},
                                  {"round_year", "null", "2026"},     {"decision_no", "null", "\"12/QĐ-UBND\""},
                                  {"decided_on", "null", "\"2026-11-30\""}, {"status", "null", "\"issued\""}});
  };
  s = service_->Push(hoa, Set({certificate("district", 3)}), &r);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("needs 3 stars or more; the council gave 1"), std::string::npos) << s.message();
  s = service_->Push(hoa, Set({certificate("province", 4)}), &r);
  EXPECT_NE(s.message().find("no council result for this product at level province in 2026"), std::string::npos)
      << s.message();
  // A province sheet scoring 4 stars and its certificate in one change set: the
  // certificate sees the sheet; a certificate claiming 5 stars does not pass.
  auto high = [&]() {
    Change c = sheet(3, "scored");
    // From the lowest sheet (14 points) up, one step at a time, to exactly 75: 4 stars.
    std::map<std::string, size_t> step;
    int total = 14;
    const auto& criteria = evaluation::FindSheet("148-2023")->criteria;
    for (bool raised = true; total < 75 && raised;) {
      raised = false;
      for (const auto& cr : criteria) {
        size_t& i = step[cr.code];
        if (cr.from.empty() && i + 1 < cr.scores.size() && total + cr.scores[i + 1] - cr.scores[i] <= 75) {
          total += cr.scores[i + 1] - cr.scores[i];
          ++i;
          raised = true;
        }
      }
    }
    EXPECT_EQ(total, 75);
    std::string list = "[";
    for (const auto& cr : criteria) {
      int points = cr.code == "A1.1" ? 3 : cr.code == "A1.2" ? 1 : cr.scores[step[cr.code]];
      list += std::string(list.size() > 1 ? "," : "") + R"({"criterion":")" + cr.code + R"(","points":)" +
              std::to_string(points) + "}";
    }
    for (auto& f : c.fields) {
      if (f.key == "scores") f.new_value = list + "]";
      if (f.key == "level") f.new_value = "\"province\"";
    }
    return c;
  };
  Change province = high();
  s = service_->Push(hoa, Set({province, certificate("province", 5)}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("the certificate says 5 stars but the province council's result is 4 stars"),
            std::string::npos) << s.message();
  province.change_id = ids::NewUuid();
  ASSERT_TRUE(service_->Push(hoa, Set({province, certificate("province", 4)}), &r).ok());
}

// ---- accounts: names, devices, sessions, timing ----

TEST_F(SyncServiceTest, UserNamesAreUniqueWhateverTheirCase) {
  Status s = service_->AddUser("Admin", "admin", "26", "matkhau123");
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.message();
  EXPECT_NE(s.message().find("'admin'"), std::string::npos) << s.message();
  EXPECT_EQ(service_->AddUser("LAN", "officer", "08800", "matkhau123").code(), Code::kAlreadyExists);
  EXPECT_TRUE(service_->AddUser("lan2", "officer", "08800", "matkhau123").ok());
}

TEST_F(SyncServiceTest, ADeviceIdBelongsToTheAccountThatRegisteredIt) {
  const std::string device = ids::NewUuid();
  const std::string key = std::string(64, 'a'), other_key = std::string(64, 'b');
  LoginResult r;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", device, &r, "10.0.0.1", 0, key).ok());
  // Another account naming that device, with a key of its own or none: refused.
  Status taken = service_->Login("minh", "matkhau123", device, &r, "10.0.0.2", 0, other_key);
  EXPECT_EQ(taken.code(), Code::kPermissionDenied) << taken.message();
  EXPECT_EQ(service_->Login("minh", "matkhau123", device, &r, "10.0.0.2").code(), Code::kPermissionDenied);
  // The device still answers to its owner's key.
  std::string user, stored_key;
  bool found = false;
  ASSERT_TRUE(store_->GetDeviceKey(device, &user, &stored_key, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(user, "lan");
  EXPECT_EQ(stored_key, key);
  // A successor on the same laptop holds its key: the hand-over works.
  ASSERT_TRUE(service_->Login("minh", "matkhau123", device, &r, "10.0.0.1", 0, key).ok());
  user.clear();
  ASSERT_TRUE(store_->GetDeviceKey(device, &user, &stored_key, &found).ok());
  EXPECT_EQ(user, "minh");
  // The owner logs in again on it as before.
  EXPECT_TRUE(service_->Login("lan", "matkhau123", device, &r, "10.0.0.1", 0, key).ok());
}

TEST_F(SyncServiceTest, AnAccountKeepsABoundedNumberOfSessionsAndDeviceKeys) {
  std::vector<std::string> tokens;
  std::vector<std::string> devices;
  for (int i = 0; i < 30; ++i) {
    LoginResult r;
    devices.push_back(ids::NewUuid());
    ASSERT_TRUE(service_->Login("lan", "matkhau123", devices.back(), &r, "10.0.0.1", 0, ids::RandomHex(32)).ok());
    tokens.push_back(r.token);
    clock_.Advance(1000);
  }
  int live = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    AuthUser u;
    bool ok = service_->Authenticate(tokens[i], &u).ok();
    live += ok;
    if (i >= tokens.size() - 20) {
      EXPECT_TRUE(ok) << "session " << i << " of the newest 20";
    }
  }
  EXPECT_EQ(live, 20);  // the oldest ten were revoked
  int keys = 0;
  for (const auto& d : devices) {
    std::string user = "lan", key;
    bool found = false;
    ASSERT_TRUE(store_->GetDeviceKey(d, &user, &key, &found).ok());
    keys += found;
  }
  EXPECT_EQ(keys, 20);
  // Other accounts keep theirs.
  EXPECT_FALSE(Auth("minh").name.empty());
}

TEST_F(SyncServiceTest, AnUnknownNameCostsWhatAWrongPasswordCosts) {
  // PBKDF2 is run for a name that does not exist too; measured interleaved,
  // medians of 15 (a missing check would make the unknown name ~100× faster).
  ServiceLimits limits;
  limits.pbkdf2_iterations = 40000;
  SyncService slow(*store_, UnitTree::Sample(), clock_, limits);
  ASSERT_TRUE(slow.AddUser("thu", "officer", "08800", "matkhau123").ok());
  LoginResult r;
  slow.Login("nobody-at-all", "x", "", &r, "10.0.0.9");  // the dummy hash is made on first use
  std::vector<double> unknown, wrong;
  for (int i = 0; i < 15; ++i) {
    for (int which = 0; which < 2; ++which) {
      auto t0 = std::chrono::steady_clock::now();
      Status s = slow.Login(which ? "thu" : "nobody-" + std::to_string(i), "wrong-password", "", &r,
                            "10.0.1." + std::to_string(i * 2 + which));
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_EQ(s.code(), Code::kUnauthenticated) << s.message();
      (which ? wrong : unknown).push_back(ms);
    }
  }
  std::sort(unknown.begin(), unknown.end());
  std::sort(wrong.begin(), wrong.end());
  double ratio = unknown[7] / wrong[7];
  EXPECT_GT(ratio, 0.5) << "unknown " << unknown[7] << " ms, wrong password " << wrong[7] << " ms";
  EXPECT_LT(ratio, 2.0) << "unknown " << unknown[7] << " ms, wrong password " << wrong[7] << " ms";
}

TEST_F(SyncServiceTest, AStrangersFailuresDoNotLockTheOwnerOutFromAnotherAddress) {
  LoginResult r;
  for (int i = 0; i < 5; ++i) EXPECT_NE(service_->Login("lan", "guess" + std::to_string(i), "", &r, "203.0.113.7").code(), Code::kOk);
  EXPECT_EQ(service_->Login("lan", "matkhau123", "", &r, "203.0.113.7").code(), Code::kResourceExhausted);
  EXPECT_TRUE(service_->Login("lan", "matkhau123", "", &r, "198.51.100.20").ok());
}

// ---- disk: per-account budget of unfinished uploads, free-space floor ----

TEST_F(SyncServiceTest, OneAccountsUnfinishedUploadsStopAtItsBudgetOthersGoOn) {
  FileStore bodies(dir_.Sub("pushes"));
  ASSERT_TRUE(bodies.Init().ok());
  ServiceLimits limits;
  limits.pbkdf2_iterations = 1000;
  limits.uploads.max_open = 4;
  SyncService service(*store_, UnitTree::Sample(), clock_, limits);
  service.set_push_bodies(&bodies);
  AuthUser lan = Auth("lan"), minh = Auth("minh");
  int64_t received = 0;
  bool applied = false;
  sync::PushResult result;
  // Four bodies of 1 MB begun and left partial...
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(service.AppendPushBody(lan, ids::RandomHex(32), 1 << 20, 0, "abc", &received, &applied, &result).ok());
  // ...a fifth is refused, and writes nothing.
  std::string fifth = ids::RandomHex(32);
  Status s = service.AppendPushBody(lan, fifth, 1 << 20, 0, "abc", &received, &applied, &result);
  EXPECT_EQ(s.code(), Code::kResourceExhausted) << s.message();
  EXPECT_EQ(bodies.Received(fifth), 0);
  // Another officer's sync is not held up.
  EXPECT_TRUE(service.AppendPushBody(minh, ids::RandomHex(32), 1 << 20, 0, "abc", &received, &applied, &result).ok());
  EXPECT_EQ(service.uploads().Of("lan").uploads, 4);
  EXPECT_EQ(service.uploads().All().uploads, 5);
}

TEST_F(SyncServiceTest, BelowTheFreeSpaceFloorPushesAndUploadsAreRefusedAndNothingIsWritten) {
  ServiceLimits limits;
  limits.pbkdf2_iterations = 1000;
  limits.min_free_bytes = std::numeric_limits<int64_t>::max();  // no disk has that much free
  SyncService full(*store_, UnitTree::Sample(), clock_, limits);
  full.set_space_floor({dir_.path()});
  FileStore bodies(dir_.Sub("pushes"));
  ASSERT_TRUE(bodies.Init().ok());
  full.set_push_bodies(&bodies);
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  Status s = full.Push(lan, Set({Create("08800", "Ổi")}), &r);
  EXPECT_EQ(s.code(), Code::kInsufficientStorage) << s.message();
  EXPECT_EQ(StatusHttpCode(s.code()), 507);
  EXPECT_NE(msg::Localise(s, "vi").find("hết dung lượng"), std::string::npos) << msg::Localise(s, "vi");
  int64_t received = 0;
  bool applied = false;
  std::string sha = ids::RandomHex(32);
  EXPECT_EQ(full.AppendPushBody(lan, sha, 100, 0, "abc", &received, &applied, &r).code(), Code::kInsufficientStorage);
  EXPECT_EQ(bodies.Received(sha), 0);
  EXPECT_TRUE(PullAll(lan).empty());
  // The same store with room takes the push.
  ASSERT_TRUE(service_->Push(lan, Set({Create("08800", "Ổi")}), &r).ok());
  EXPECT_EQ(PullAll(lan).size(), 1u);
}

}  // namespace
}  // namespace ocop::server

namespace ocop::server {
namespace {

// The embedded idea form as version 2 with one more field, VietGAP.
std::string IdeaV2() {
  std::string text = FormCatalog::Embedded().Find("idea")->source;
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 2");
  const std::string fields = "\"fields\": [";
  text.insert(text.find(fields) + fields.size(), R"({"key": "vietgap", "type": "bool", "label": {"vi": "VietGAP"}},)");
  return text;
}

TEST_F(SyncServiceTest, EachRecordIsCheckedAgainstTheFormVersionItWasWrittenWith) {
  AuthUser lan = Auth("lan");
  sync::PushResult r;
  Change v1 = Create("08800", "Miến dong");
  ASSERT_TRUE(service_->Push(lan, Set({v1}), &r).ok());
  EXPECT_EQ(service_->DefinitionsVersion(), "");  // nothing published: pulls name no definitions version
  SyncService::Publication pub;
  ASSERT_TRUE(service_->Publish("admin", IdeaV2(), /*check_only=*/false, &pub).ok());
  EXPECT_TRUE(pub.published);
  EXPECT_EQ(pub.previous_version, 1);
  const std::string version = service_->DefinitionsVersion();
  EXPECT_EQ(version.size(), 16u);
  EXPECT_NE(service_->PublishedDefinitionsJson().find("vietgap"), std::string::npos);
  // A new record of version 2 takes the new field.
  Change v2 = Create("08800", "Chè xanh");
  v2.fields.push_back({kFormVersionKey, "null", "2"});
  v2.fields.push_back({"vietgap", "null", "true"});
  ASSERT_TRUE(service_->Push(lan, Set({v2}), &r).ok());
  EXPECT_EQ(r.outcomes[0].result, sync::outcome::kApplied);
  // The record of version 1 still edits, but only with version 1's fields.
  EXPECT_TRUE(service_->Push(lan, Set({Edit(v1, "product_name", "\"Miến dong\"", "\"Miến dong Đôn Nhân\"", 1)}), &r).ok());
  Status s = service_->Push(lan, Set({Edit(v1, "vietgap", "null", "true", 2)}), &r);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("has no field 'vietgap'"), std::string::npos) << s.message();
  // A record keeps its version; a version the server never published is refused.
  s = service_->Push(lan, Set({Edit(v2, kFormVersionKey, "2", "1", 1)}), &r);
  EXPECT_NE(s.message().find("was written with version 2 of form 'idea' and keeps it"), std::string::npos) << s.message();
  Change v7 = Create("08800", "Rượu nếp");
  v7.fields.push_back({kFormVersionKey, "null", "7"});
  s = service_->Push(lan, Set({v7}), &r);
  EXPECT_NE(s.message().find("form 'idea' has no version 7 on this server"), std::string::npos) << s.message();
  // Publishing the same version again is refused; a restarted server takes what was published.
  s = service_->Publish("admin", IdeaV2(), false, &pub);
  EXPECT_NE(s.message().find("publish version 3"), std::string::npos) << s.message();
  ASSERT_TRUE(FormCatalog::Install({}).ok());  // as a new process starts: the built-in forms only
  SyncService restarted(*store_, UnitTree::Sample(), clock_);
  bool changed = false;
  ASSERT_TRUE(restarted.RefreshDefinitions(&changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(restarted.DefinitionsVersion(), version);
  EXPECT_EQ(FormCatalog::Default().Find("idea")->version, 2);
  ASSERT_TRUE(restarted.RefreshDefinitions(&changed).ok());
  EXPECT_FALSE(changed);
}

}  // namespace
}  // namespace ocop::server
