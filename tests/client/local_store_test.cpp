#include "client/local_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "shared/ids.h"
#include "shared/messages.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"

namespace ocop::client {
namespace {

using json::Object;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalStore::Init(dir_.path(), "08800", "", UnitTree::Sample(), clock_).ok());
    ASSERT_TRUE(LocalStore::Open(dir_.path(), clock_, &store_).ok());
  }

  Object Idea(const std::string& product) {
    Object o;
    o.set("subject_name", "HTX Đôn Nhân");
    o.set("subject_kind", "cooperative");
    o.set("product_name", product);
    o.set("product_group", Poco::Int64(1));
    o.set("description", "Ngon");
    return o;
  }

  // A new idea of this commune as a pull brings it, at server `version` (fields to fill).
  static sync::RecordState Pulled(int64_t version) {
    sync::RecordState rs;
    rs.id = ids::NewUuid();
    rs.form = "idea";
    rs.unit = "08800";
    rs.version = version;
    return rs;
  }

  std::vector<sync::Change> Outbox() {
    std::vector<sync::Change> out;
    auto st = store_->db().Prepare("SELECT body FROM outbox ORDER BY seq");
    while (st.Step()) {
      sync::Change c;
      EXPECT_TRUE(sync::DecodeBinary(st.Blob(0), &c).ok());
      out.push_back(c);
    }
    return out;
  }

  int64_t Count(const std::string& table) {
    auto st = store_->db().Prepare("SELECT COUNT(*) FROM " + table);
    return st.Step() ? st.Int(0) : -1;
  }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<LocalStore> store_;
};

// A visit's idea is typed as a person types it (an id without hyphens, a
// prefix, a receipt number) and must name an idea on this device.
TEST_F(LocalStoreTest, AReferenceNamesAnIdeaOnTheDeviceAsAPersonTypesIt) {
  Record idea, visit;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &idea).ok());
  Object number;
  number.set("receipt_no", "7/PĐK-26-253-2026");
  ASSERT_TRUE(store_->Update(idea.id, number, &idea, /*allow_system=*/true).ok());
  auto visit_for = [](const std::string& idea_ref) {
    Object v;
    v.set("visited_on", "2026-11-20");
    v.set("purpose", "advice");
    v.set("findings", "Tốt");
    v.set("idea_id", idea_ref);
    return v;
  };
  Status s = store_->Create("visit", visit_for(ids::NewUuid()), &visit);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("names no such record on this device"), std::string::npos) << s.message();
  std::string hyphenless;
  for (char ch : idea.id)
    if (ch != '-') hyphenless += ch;
  for (const std::string& typed : {hyphenless, hyphenless.substr(0, 20), std::string("7/PĐK-26-253-2026")}) {
    ASSERT_TRUE(store_->Create("visit", visit_for(typed), &visit).ok()) << typed;
    EXPECT_EQ(visit.fields.getValue<std::string>("idea_id"), idea.id) << typed;
  }
  // A visit is not an idea.
  EXPECT_EQ(store_->Create("visit", visit_for(visit.id), &visit).code(), Code::kInvalidArgument);
  Object edit;
  edit.set("idea_id", ids::NewUuid());
  EXPECT_EQ(store_->Update(visit.id, edit, &visit).code(), Code::kInvalidArgument);
}

TEST_F(LocalStoreTest, InitRefusesUnknownCommunesAndNonCommunes) {
  testing::TempDir other;
  EXPECT_EQ(LocalStore::Init(other.Sub("a"), "99999", "", UnitTree::Sample(), clock_).code(), Code::kInvalidArgument);
  // A coordinator's device belongs to a district and records for the communes below it.
  ASSERT_TRUE(LocalStore::Init(other.Sub("b"), "253", "", UnitTree::Sample(), clock_).ok());
  std::unique_ptr<LocalStore> district;
  ASSERT_TRUE(LocalStore::Open(other.Sub("b"), clock_, &district).ok());
  Record r;
  EXPECT_EQ(district->Create("idea", Idea("Ổi"), &r).code(), Code::kInvalidArgument);
  EXPECT_EQ(district->Create("idea", Idea("Ổi"), &r, "08761").code(), Code::kInvalidArgument);  // other district
  EXPECT_TRUE(district->Create("idea", Idea("Ổi"), &r, "08821").ok());
  EXPECT_EQ(r.unit, "08821");
  EXPECT_EQ(LocalStore::Init(dir_.path(), "08800", "", UnitTree::Sample(), clock_).code(), Code::kAlreadyExists);
  std::unique_ptr<LocalStore> none;
  EXPECT_EQ(LocalStore::Open(other.Sub("c"), clock_, &none).code(), Code::kFailedPrecondition);
}

TEST_F(LocalStoreTest, CreateRecordsOneCreateChangeWithEveryField) {
  Record r;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi Đôn Nhân"), &r).ok());
  EXPECT_EQ(r.status(), "draft");
  EXPECT_EQ(r.unit, "08800");
  auto out = Outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].op, sync::op::kCreate);
  EXPECT_EQ(out[0].record_id, r.id);
  EXPECT_EQ(out[0].device, store_->device_id());
  EXPECT_EQ(out[0].base_version, 0);
  std::set<std::string> keys;
  for (const auto& f : out[0].fields) {
    keys.insert(f.key);
    EXPECT_EQ(f.old_value, "null");
  }
  EXPECT_EQ(keys, (std::set<std::string>{"description", "product_group", "product_name", "status", "subject_kind", "subject_name"}));
}

TEST_F(LocalStoreTest, EditRecordsOnlyTheChangedFieldWithOldAndNew) {
  Record r, after;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &r).ok());
  Object change;
  change.set("product_name", "Ổi Đôn Nhân");
  change.set("subject_kind", "cooperative");  // unchanged: not recorded
  ASSERT_TRUE(store_->Update(r.id, change, &after).ok());
  auto out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].op, sync::op::kUpdate);
  ASSERT_EQ(out[1].fields.size(), 1u);
  EXPECT_EQ(out[1].fields[0].key, "product_name");
  EXPECT_EQ(out[1].fields[0].old_value, "\"Ổi\"");
  EXPECT_EQ(out[1].fields[0].new_value, "\"Ổi Đôn Nhân\"");
  EXPECT_LT(out[0].hlc, out[1].hlc);
  std::vector<HistoryEntry> h;
  ASSERT_TRUE(store_->History(r.id, &h).ok());
  EXPECT_EQ(h.back().field, "product_name");
  EXPECT_EQ(h.back().old_value, "\"Ổi\"");
}

TEST_F(LocalStoreTest, DeleteIsATombstone) {
  Record r;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &r).ok());
  ASSERT_TRUE(store_->Delete(r.id).ok());
  auto out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].op, sync::op::kDelete);
  Record got;
  ASSERT_TRUE(store_->Get(r.id, &got).ok());
  EXPECT_TRUE(got.deleted);
  std::vector<Record> rows;
  ASSERT_TRUE(store_->List({}, &rows).ok());
  EXPECT_TRUE(rows.empty());
  ListQuery all;
  all.include_deleted = true;
  ASSERT_TRUE(store_->List(all, &rows).ok());
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(store_->Delete(r.id).code(), Code::kFailedPrecondition);
  Object change;
  change.set("product_name", "x");
  Record after;
  EXPECT_EQ(store_->Update(r.id, change, &after).code(), Code::kFailedPrecondition);
}

TEST_F(LocalStoreTest, InvalidInputStoresNothing) {
  Record r;
  Object bad = Idea("Ổi");
  bad.set("product_group", Poco::Int64(7));
  EXPECT_EQ(store_->Create("idea", bad, &r).code(), Code::kInvalidArgument);
  Object missing = Idea("Ổi");
  missing.remove("description");
  EXPECT_EQ(store_->Create("idea", missing, &r).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->Create("recipe", Idea("Ổi"), &r).code(), Code::kInvalidArgument);
  EXPECT_EQ(Count("records"), 0);
  EXPECT_EQ(Count("outbox"), 0);
  EXPECT_EQ(Count("history"), 0);
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &r).ok());
  Object change;
  change.set("product_name", json::Var());  // clearing a required field
  Record after;
  EXPECT_EQ(store_->Update(r.id, change, &after).code(), Code::kInvalidArgument);
  Object unknown;
  unknown.set("colour", "red");
  EXPECT_EQ(store_->Update(r.id, unknown, &after).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->Update(ids::NewUuid(), change, &after).code(), Code::kNotFound);
  EXPECT_EQ(Count("outbox"), 1);
}

TEST_F(LocalStoreTest, SearchIgnoresAccentsAndFindsCombiningSpellings) {
  Record r;
  ASSERT_TRUE(store_->Create("idea", Idea("Thanh long ruột đỏ"), &r).ok());
  Object combining = Idea("\xC3\x94\xCC\x81i \xC4\x90o\xCC\x82n Nha\xCC\x82n");  // "Ối Đôn Nhân", decomposed
  ASSERT_TRUE(store_->Create("idea", combining, &r).ok());
  EXPECT_EQ(r.fields.getValue<std::string>("product_name"), "Ối Đôn Nhân");  // stored NFC
  auto find = [&](const std::string& q) {
    ListQuery lq;
    lq.search = q;
    std::vector<Record> rows;
    EXPECT_TRUE(store_->List(lq, &rows).ok());
    return rows.size();
  };
  EXPECT_EQ(find("thanh long"), 1u);
  EXPECT_EQ(find("dong nhan"), 2u);  // both subjects are "HTX Đôn Nhân"
  EXPECT_EQ(find("Ối Đôn Nhân"), 1u);
  EXPECT_EQ(find("RUOT DO"), 1u);
  EXPECT_EQ(find("50%_"), 0u);
}

TEST_F(LocalStoreTest, ConfirmationSharesAreComputed) {
  Record idea, conf;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &idea).ok());
  Object c;
  c.set("idea_id", idea.id);
  c.set("year", Poco::Int64(2026));
  c.set("workers_total", Poco::Int64(4));
  c.set("workers_local", Poco::Int64(3));
  json::Var materials;
  ASSERT_TRUE(json::Parse(R"([{"name":"Ổi","value_vnd":1000,"local_value_vnd":600,"origin":"commune"}])", &materials).ok());
  c.set("materials", materials);
  ASSERT_TRUE(store_->Create("confirmation", c, &conf).ok());
  EXPECT_DOUBLE_EQ(conf.fields.getValue<double>("local_labour_ratio"), 0.75);
  EXPECT_DOUBLE_EQ(conf.fields.getValue<double>("local_material_ratio"), 0.6);
}

TEST_F(LocalStoreTest, ChangeSetIsFrozenUntilAcknowledged) {
  Record a, b;
  ASSERT_TRUE(store_->Create("idea", Idea("A"), &a).ok());
  Object change;
  change.set("product_name", "A2");
  ASSERT_TRUE(store_->Update(a.id, change, &a).ok());
  ASSERT_TRUE(store_->Create("idea", Idea("B"), &b).ok());
  sync::ChangeSet cs1, cs2;
  bool has = false;
  ASSERT_TRUE(store_->NextChangeSet(1000, &cs1, &has).ok());
  ASSERT_TRUE(has);
  ASSERT_EQ(cs1.changes.size(), 2u);  // create+edit of A coalesced into one create
  EXPECT_EQ(cs1.changes[0].op, sync::op::kCreate);
  // An edit made while the change set is in flight goes into the next one.
  Object change2;
  change2.set("product_name", "B2");
  ASSERT_TRUE(store_->Update(b.id, change2, &b).ok());
  ASSERT_TRUE(store_->NextChangeSet(1000, &cs2, &has).ok());
  EXPECT_EQ(cs2, cs1);  // the same change set again, byte for byte
  sync::PushResult result;
  result.changeset_id = cs1.id;
  for (const auto& c : cs1.changes) result.outcomes.push_back({c.change_id, c.record_id, sync::outcome::kApplied, 1, {}});
  ASSERT_TRUE(store_->AckChangeSet(result).ok());
  sync::ChangeSet cs3;
  ASSERT_TRUE(store_->NextChangeSet(1000, &cs3, &has).ok());
  ASSERT_TRUE(has);
  EXPECT_NE(cs3.id, cs1.id);
  ASSERT_EQ(cs3.changes.size(), 1u);
  EXPECT_EQ(cs3.changes[0].op, sync::op::kUpdate);
  EXPECT_EQ(cs3.changes[0].base_version, 0);  // versions come from pulls, not from answers
}

TEST_F(LocalStoreTest, TheNextChangeSetFreezesAheadAndThawsBack) {
  for (int i = 0; i < 5; ++i) {
    Record r;
    ASSERT_TRUE(store_->Create("idea", Idea("SP " + std::to_string(i)), &r).ok());
  }
  sync::ChangeSet first, next;
  bool has = false;
  ASSERT_TRUE(store_->NextChangeSet(2, &first, &has).ok());
  ASSERT_TRUE(has);
  // Frozen ahead only while `first` is the one set in flight.
  ASSERT_TRUE(store_->FreezeNextAfter(first.id, 2, &next, &has).ok());
  ASSERT_TRUE(has);
  EXPECT_EQ(next.changes.size(), 2u);
  sync::ChangeSet third;
  ASSERT_TRUE(store_->FreezeNextAfter(first.id, 2, &third, &has).ok());
  EXPECT_FALSE(has);  // two in flight already
  EXPECT_EQ(Count("inflight"), 2);
  // `first` did not get through: the set frozen ahead goes back, and `first`
  // is still the one to continue.
  ASSERT_TRUE(store_->ThawChangeSet(next.id).ok());
  EXPECT_EQ(Count("inflight"), 1);
  sync::ChangeSet again;
  ASSERT_TRUE(store_->NextChangeSet(2, &again, &has).ok());
  EXPECT_EQ(again, first);
  ASSERT_TRUE(store_->FreezeNextAfter(first.id, 10, &third, &has).ok());
  ASSERT_TRUE(has);
  EXPECT_EQ(third.changes.size(), 3u);  // the thawed two and the fifth
  EXPECT_NE(third.id, next.id);
}

// A change set is a range of outbox rows. A set taken back from the middle
// (export froze three, one went back) leaves a gap: the next set is made of the
// gap alone, and what came after the last range goes in a set of its own.
TEST_F(LocalStoreTest, ASetTakenBackFromTheMiddleIsFrozenAgainOnItsOwn) {
  std::vector<Record> ideas(6);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(store_->Create("idea", Idea("SP " + std::to_string(i)), &ideas[i]).ok());
  std::vector<sync::ChangeSet> frozen;
  ASSERT_TRUE(store_->FreezePending(2, &frozen).ok());
  ASSERT_EQ(frozen.size(), 3u);
  ASSERT_TRUE(store_->ThawChangeSet(frozen[1].id).ok());
  int64_t in_flight = 0;
  ASSERT_TRUE(store_->FrozenChangeCount(&in_flight).ok());
  EXPECT_EQ(in_flight, 4);
  Object change;
  change.set("product_name", "SP 0 sửa");
  ASSERT_TRUE(store_->Update(ideas[0].id, change, &ideas[0]).ok());
  std::vector<sync::ChangeSet> after;
  ASSERT_TRUE(store_->FreezePending(10, &after).ok());
  ASSERT_EQ(after.size(), 4u);
  auto records = [](const sync::ChangeSet& cs) {
    std::vector<std::string> ids;
    for (const auto& c : cs.changes) ids.push_back(c.record_id);
    return ids;
  };
  EXPECT_EQ(after[0], frozen[0]);
  EXPECT_EQ(after[1], frozen[2]);
  EXPECT_EQ(records(after[2]), (std::vector<std::string>{ideas[2].id, ideas[3].id}));
  EXPECT_EQ(records(after[3]), (std::vector<std::string>{ideas[0].id}));
  ASSERT_TRUE(store_->FrozenChangeCount(&in_flight).ok());
  EXPECT_EQ(in_flight, 7);
  // Answered in any order, each takes its own rows and no others.
  for (int i : {3, 0, 2, 1}) {
    sync::PushResult result;
    result.changeset_id = after[i].id;
    for (const auto& c : after[i].changes) result.outcomes.push_back({c.change_id, c.record_id, sync::outcome::kApplied, 1, {}});
    ASSERT_TRUE(store_->AckChangeSet(result).ok());
  }
  EXPECT_EQ(Count("outbox"), 0);
  EXPECT_EQ(Count("inflight"), 0);
}

// Stores whose sets were frozen by marking each row (before 005) are
// renumbered into ranges: the same sets, in the same order, with nothing lost.
TEST_F(LocalStoreTest, SetsFrozenByAnEarlierVersionBecomeRangesWithNothingLost) {
  Record a, b, c;
  Object edit;
  edit.set("product_name", "sửa");
  ASSERT_TRUE(store_->Create("idea", Idea("A"), &a).ok());   // seq 1
  ASSERT_TRUE(store_->Create("idea", Idea("B"), &b).ok());   // seq 2
  ASSERT_TRUE(store_->Update(a.id, edit, &a).ok());          // seq 3
  ASSERT_TRUE(store_->Create("idea", Idea("C"), &c).ok());   // seq 4
  ASSERT_TRUE(store_->Update(b.id, edit, &b).ok());          // seq 5
  // Back to the old shape: set S1 holds A's rows (1 and 3), set S2 C's (4),
  // frozen later; B's rows (2 and 5) wait, one of them inside S1's span.
  auto set_of = [](const std::string& id, const Record& r) {
    sync::ChangeSet cs;
    cs.id = id;
    sync::Change ch;
    ch.change_id = ids::NewUuid();
    ch.record_id = r.id;
    cs.changes.push_back(ch);
    return cs;
  };
  sync::ChangeSet s1 = set_of(ids::NewUuid(), a), s2 = set_of(ids::NewUuid(), c);
  auto& db = store_->db();
  for (const char* step : {"ALTER TABLE inflight DROP COLUMN seq_lo", "ALTER TABLE inflight DROP COLUMN seq_hi",
                           "CREATE INDEX outbox_changeset ON outbox(changeset_id)", "PRAGMA user_version=4"})
    ASSERT_TRUE(db.Exec(step).ok()) << step;
  ASSERT_TRUE(db.Prepare("INSERT INTO inflight(changeset_id, body, created_at) VALUES (?, ?, '2026-11-30T01:00:00Z')")
                  .Bind(1, s1.id).BindBlob(2, sync::EncodeBinary(s1)).Run().ok());
  ASSERT_TRUE(db.Prepare("INSERT INTO inflight(changeset_id, body, created_at) VALUES (?, ?, '2026-11-30T02:00:00Z')")
                  .Bind(1, s2.id).BindBlob(2, sync::EncodeBinary(s2)).Run().ok());
  ASSERT_TRUE(db.Prepare("UPDATE outbox SET changeset_id = ? WHERE record_id = ?").Bind(1, s1.id).Bind(2, a.id).Run().ok());
  ASSERT_TRUE(db.Prepare("UPDATE outbox SET changeset_id = ? WHERE record_id = ?").Bind(1, s2.id).Bind(2, c.id).Run().ok());
  store_.reset();
  ASSERT_TRUE(LocalStore::Open(dir_.path(), clock_, &store_).ok());

  int64_t in_flight = 0;
  ASSERT_TRUE(store_->FrozenChangeCount(&in_flight).ok());
  EXPECT_EQ(in_flight, 3);
  std::vector<LocalStore::PendingRecord> pending;
  ASSERT_TRUE(store_->PendingByRecord(&pending).ok());
  std::map<std::string, std::pair<int64_t, bool>> by_record;
  for (const auto& p : pending) by_record[p.record_id] = {p.changes, p.in_flight};
  EXPECT_EQ(by_record[a.id], std::make_pair(int64_t{2}, true));
  EXPECT_EQ(by_record[c.id], std::make_pair(int64_t{1}, true));
  EXPECT_EQ(by_record[b.id], std::make_pair(int64_t{2}, false));

  bool has = false;
  for (const sync::ChangeSet* expected : {&s1, &s2}) {
    sync::ChangeSet next;
    ASSERT_TRUE(store_->NextChangeSet(100, &next, &has).ok());
    ASSERT_TRUE(has);
    EXPECT_EQ(next.id, expected->id);
    sync::PushResult result;
    result.changeset_id = next.id;
    ASSERT_TRUE(store_->AckChangeSet(result).ok());
  }
  EXPECT_EQ(Count("outbox"), 2);  // B's two edits, still in the order made
  sync::ChangeSet last;
  ASSERT_TRUE(store_->NextChangeSet(100, &last, &has).ok());
  ASSERT_TRUE(has);
  ASSERT_EQ(last.changes.size(), 1u);
  EXPECT_EQ(last.changes[0].record_id, b.id);
  EXPECT_EQ(last.changes[0].op, sync::op::kCreate);
  EXPECT_EQ(last.changes[0].change_id, Outbox().back().change_id);
}

TEST_F(LocalStoreTest, PullKeepsLocalEditsOnTop) {
  Record r;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &r).ok());
  sync::ChangeSet cs;
  bool has = false;
  ASSERT_TRUE(store_->NextChangeSet(1000, &cs, &has).ok());
  sync::PushResult pushed;
  pushed.changeset_id = cs.id;
  pushed.outcomes.push_back({cs.changes[0].change_id, r.id, sync::outcome::kApplied, 1, {}});
  ASSERT_TRUE(store_->AckChangeSet(pushed).ok());
  Object change;
  change.set("phone", "0912345678");
  ASSERT_TRUE(store_->Update(r.id, change, &r).ok());
  // The server's copy has another device's edit of product_name.
  sync::PullPage page;
  sync::RecordState rs;
  rs.id = r.id;
  rs.form = "idea";
  rs.unit = "08800";
  rs.version = 2;
  Object server = Idea("Ổi Đôn Nhân");
  server.set("status", "draft");
  rs.fields = json::ToText(server);
  page.records.push_back(rs);
  page.cursor = 17;
  ASSERT_TRUE(store_->ApplyPullPage(page).ok());
  Record got;
  ASSERT_TRUE(store_->Get(r.id, &got).ok());
  EXPECT_EQ(got.fields.getValue<std::string>("product_name"), "Ổi Đôn Nhân");
  EXPECT_EQ(got.fields.getValue<std::string>("phone"), "0912345678");  // local, unsent edit kept
  EXPECT_EQ(got.server_version, 2);
  EXPECT_EQ(store_->Setting("cursor"), "17");
}

TEST_F(LocalStoreTest, ARecordOfAFormVersionNotYetFetchedIsShownButNotEdited) {
  // Another device, which has version 2 of the idea form, wrote this record.
  sync::PullPage page;
  sync::RecordState rs = Pulled(1);
  Object server = Idea("Chè xanh");
  server.set("status", "draft");
  server.set("vietgap", true);
  server.set(kFormVersionKey, 2);
  rs.fields = json::ToText(server);
  page.records.push_back(rs);
  ASSERT_TRUE(store_->ApplyPullPage(page).ok());
  Record got;
  ASSERT_TRUE(store_->Get(rs.id, &got).ok());
  EXPECT_EQ(store_->catalog().Shown("idea", got.fields)->version, 1);  // shown with the version it has
  Object change;
  change.set("product_name", "Chè xanh Đôn Nhân");
  Record after;
  Status s = store_->Update(rs.id, change, &after);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("which this device does not have yet: sync to fetch it"), std::string::npos) << s.message();
  EXPECT_NE(msg::Localise(s, "vi").find("hãy đồng bộ"), std::string::npos) << msg::Localise(s, "vi");
  // Once the device holds version 2 (as a sync fetches it), it edits, and keeps the version.
  std::string v2 = FormCatalog::Embedded().Find("idea")->source;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  v2.insert(v2.find("\"fields\": [") + 11, R"({"key": "vietgap", "type": "bool", "label": {"vi": "VietGAP"}},)");
  LocalStore::DefinitionsTaken taken;
  definitions::Published published;
  published.forms = {v2};
  ASSERT_TRUE(store_->SetPublishedDefinitions(published, &taken).ok());
  EXPECT_EQ(taken.forms, (std::vector<std::pair<std::string, int>>{{"idea", 2}}));
  ASSERT_TRUE(store_->Update(rs.id, change, &after).ok());
  EXPECT_EQ(after.fields.getValue<int>(kFormVersionKey), 2);
  // ... and a store opened again holds it still, offline.
  store_.reset();
  ASSERT_TRUE(FormCatalog::Install({}).ok());
  ASSERT_TRUE(LocalStore::Open(dir_.path(), clock_, &store_).ok());
  EXPECT_EQ(store_->catalog().Find("idea")->version, 2);
  Record fresh;
  ASSERT_TRUE(store_->Create("idea", Idea("Rượu nếp"), &fresh).ok());
  EXPECT_EQ(fresh.fields.getValue<int>(kFormVersionKey), 2);
  // A broken list from a server is refused whole: the device keeps what it has.
  published.forms.push_back("{\"form\": \"idea\"}");
  EXPECT_FALSE(store_->SetPublishedDefinitions(published, &taken).ok());
  EXPECT_EQ(store_->catalog().Find("idea")->version, 2);
}

TEST_F(LocalStoreTest, PatchesAreLaidOverTheHeldCopyOrRefusedWhole) {
  // The device holds the server's version 2 of a record, after a complete pull.
  sync::PullPage page;
  sync::RecordState rs = Pulled(2);
  Object server = Idea("Ổi");
  server.set("status", "draft");
  server.set("phone", "0912345678");
  rs.fields = json::ToText(server);
  page.records.push_back(rs);
  page.cursor = 10;
  ASSERT_TRUE(store_->ApplyPullPage(page).ok());
  EXPECT_EQ(store_->CompleteCursor(), 10);

  // A patch on top of version 2: one field changed, one removed.
  sync::PullPage patch;
  rs.version = 4;
  rs.fields = R"({"phone":null,"product_name":"Ổi Đôn Nhân"})";
  patch.records.push_back(rs);
  patch.patch_bases = {2};
  patch.cursor = 15;
  patch.more = true;  // not the end: the complete cursor stays
  bool missed = true;
  ASSERT_TRUE(store_->ApplyPullPage(patch, &missed).ok());
  EXPECT_FALSE(missed);
  Record got;
  ASSERT_TRUE(store_->Get(rs.id, &got).ok());
  EXPECT_EQ(got.fields.getValue<std::string>("product_name"), "Ổi Đôn Nhân");
  EXPECT_FALSE(got.fields.has("phone"));
  EXPECT_EQ(got.fields.getValue<std::string>("description"), "Ngon");  // kept from the held copy
  EXPECT_EQ(got.server_version, 4);
  EXPECT_EQ(store_->Setting("cursor"), "15");
  EXPECT_EQ(store_->CompleteCursor(), 10);

  // A patch for a version this device never reached, or for a record it does
  // not have, changes nothing and asks for the page whole.
  sync::PullPage ahead = patch;
  ahead.records[0].fields = R"({"description":"Giòn"})";
  ahead.records[0].version = 9;
  ahead.patch_bases = {7};
  ahead.cursor = 20;
  ASSERT_TRUE(store_->ApplyPullPage(ahead, &missed).ok());
  EXPECT_TRUE(missed);
  ASSERT_TRUE(store_->Get(rs.id, &got).ok());
  EXPECT_EQ(got.fields.getValue<std::string>("description"), "Ngon");
  EXPECT_EQ(store_->Setting("cursor"), "15");
  sync::PullPage unknown = patch;
  unknown.records[0].id = ids::NewUuid();
  ASSERT_TRUE(store_->ApplyPullPage(unknown, &missed).ok());
  EXPECT_TRUE(missed);
  EXPECT_EQ(store_->ApplyPullPage(unknown).code(), Code::kFailedPrecondition);
}

TEST_F(LocalStoreTest, AckAfterALostAnswerShowsTheServerState) {
  // The push reached the server but its answer was lost; a pull then brought the
  // server's state, where another device had since changed the same record.
  Record r;
  ASSERT_TRUE(store_->Create("idea", Idea("Ổi"), &r).ok());
  sync::ChangeSet cs;
  bool has = false;
  ASSERT_TRUE(store_->NextChangeSet(1000, &cs, &has).ok());
  sync::PullPage page;
  sync::RecordState rs;
  rs.id = r.id;
  rs.form = "idea";
  rs.unit = "08800";
  rs.version = 2;
  Object server = Idea("Ổi Đôn Nhân");
  server.set("status", "draft");
  rs.fields = json::ToText(server);
  page.records.push_back(rs);
  page.cursor = 5;
  ASSERT_TRUE(store_->ApplyPullPage(page).ok());
  sync::PushResult pushed;
  pushed.changeset_id = cs.id;
  pushed.outcomes.push_back({cs.changes[0].change_id, r.id, sync::outcome::kApplied, 1, {}});
  ASSERT_TRUE(store_->AckChangeSet(pushed).ok());
  Record got;
  ASSERT_TRUE(store_->Get(r.id, &got).ok());
  EXPECT_EQ(got.fields.getValue<std::string>("product_name"), "Ổi Đôn Nhân");
  EXPECT_FALSE(got.pending);
}

TEST_F(LocalStoreTest, ReceiptNumbersComeFromReservedBlocksOnly) {
  std::optional<int64_t> n;
  ASSERT_TRUE(store_->NextReceipt(2026, &n).ok());
  EXPECT_FALSE(n);
  ASSERT_TRUE(store_->AddReceiptBlock("08800", 2026, 51, 53).ok());
  std::vector<int64_t> got;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store_->NextReceipt(2026, &n).ok());
    if (n) got.push_back(*n);
  }
  EXPECT_EQ(got, (std::vector<int64_t>{51, 52, 53}));
}

// Kills a writer mid-stream with SIGKILL; every form it reported saved must be
// there when the store is opened again, and the store must be intact.
TEST(CrashTest, AcknowledgedFormsSurviveAKill) {
  testing::TempDir dir;
  FakeClock clock(1795453200000LL);
  ASSERT_TRUE(LocalStore::Init(dir.path(), "08800", "", UnitTree::Sample(), clock).ok());
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    std::unique_ptr<LocalStore> store;
    if (!LocalStore::Open(dir.path(), SystemClock::Get(), &store).ok()) _exit(3);
    for (int i = 0; i < 100000; ++i) {
      Object o;
      o.set("subject_name", "Hộ " + std::to_string(i));
      o.set("subject_kind", "household");
      o.set("product_name", "Mật ong " + std::to_string(i));
      o.set("product_group", Poco::Int64(1));
      o.set("description", std::string(500, 'x'));
      Record r;
      if (!store->Create("idea", o, &r).ok()) _exit(4);
      std::string line = r.id + "\n";  // acknowledged only after Create returned
      if (write(pipefd[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
    }
    _exit(0);
  }
  close(pipefd[1]);
  std::string acked, buf(4096, '\0');
  while (acked.size() < 37 * 150) {
    ssize_t n = read(pipefd[0], buf.data(), buf.size());
    if (n <= 0) break;
    acked.append(buf.data(), static_cast<size_t>(n));
  }
  kill(pid, SIGKILL);
  // Read what it acknowledged before it died.
  while (true) {
    ssize_t n = read(pipefd[0], buf.data(), buf.size());
    if (n <= 0) break;
    acked.append(buf.data(), static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  std::vector<std::string> ids;
  size_t pos = 0;
  while (true) {
    size_t nl = acked.find('\n', pos);
    if (nl == std::string::npos) break;
    ids.push_back(acked.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_GE(ids.size(), 150u);
  std::unique_ptr<LocalStore> store;
  ASSERT_TRUE(LocalStore::Open(dir.path(), clock, &store).ok());
  auto check = store->db().Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.Step());
  EXPECT_EQ(check.Text(0), "ok");
  for (const auto& id : ids) {
    Record r;
    EXPECT_TRUE(store->Get(id, &r).ok()) << "acknowledged form lost: " << id;
  }
  // And each one still has its outbox entry, so it will sync.
  auto outbox = store->db().Prepare("SELECT COUNT(DISTINCT record_id) FROM outbox");
  ASSERT_TRUE(outbox.Step());
  EXPECT_GE(outbox.Int(0), static_cast<int64_t>(ids.size()));
}

}  // namespace
}  // namespace ocop::client
