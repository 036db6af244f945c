// The PostgreSQL engine where it differs from the embedded one: several
// "replicas" (store objects with their own connections, as separate ocopd
// would have) on one database, lost connections, and the move from SQLite.
// The rest of the server suite runs on this engine too ("pg." entries).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "server/store/pg.h"
#include "server/store/postgres_server_store.h"
#include "server/store/sqlite_server_store.h"
#include "server/store/store_migration.h"
#include "server/sync_service.h"
#include "shared/ids.h"
#include "shared/json.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"
#include "tests/support/changes.h"
#include "tests/support/test_store.h"

namespace ocop::server {
namespace {

using sync::Change;
using sync::ChangeSet;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ocop::testing::TestEngine() != "postgresql")
      GTEST_SKIP() << "runs once, as pg.PostgresStoreTest.* (on the test cluster)";
    std::string why;
    if (ocop::testing::TestClusterConninfo(&why).empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(ocop::testing::NewTestDatabase(&conninfo_).ok());
  }

  // One replica: its own store (connection pool) and service on the shared database.
  struct Replica {
    std::unique_ptr<PostgresServerStore> store;
    std::unique_ptr<SyncService> service;
  };
  Replica Open() {
    Replica r;
    PostgresOptions o;
    o.conninfo = conninfo_;
    o.pool_size = 4;
    Status s = PostgresServerStore::Open(o, &r.store);
    EXPECT_TRUE(s.ok()) << s.message();
    ServiceLimits limits;
    limits.pbkdf2_iterations = 1000;
    if (r.store) r.service = std::make_unique<SyncService>(*r.store, UnitTree::Sample(), clock_, limits);
    return r;
  }

  static AuthUser Auth(SyncService& service, const std::string& name, const std::string& device) {
    LoginResult r;
    EXPECT_TRUE(service.Login(name, "matkhau123", device, &r).ok());
    AuthUser u;
    EXPECT_TRUE(service.Authenticate(r.token, &u).ok());
    return u;
  }

  static Change Create(const std::string& unit, const std::string& product) {
    return ocop::testing::NewIdeaChange(unit, product);
  }

  static ChangeSet Set(std::vector<Change> changes, const std::string& device = "dev") {
    ChangeSet cs;
    cs.id = ids::NewUuid();
    cs.device = device;
    cs.changes = std::move(changes);
    return cs;
  }

  int64_t Count(const std::string& sql) {
    std::unique_ptr<pg::Conn> c;
    EXPECT_TRUE(pg::Conn::Connect(conninfo_, &c).ok());
    pg::Result res;
    EXPECT_TRUE(c && c->Exec(sql, {}, &res).ok()) << sql;
    return res.rows() ? res.Int(0, 0) : -1;
  }

  std::string conninfo_;
  FakeClock clock_{1795453200000LL};
};

TEST_F(PostgresStoreTest, TwoReplicasReceivingTheSameChangeSetApplyItOnce) {
  Replica a = Open(), b = Open();
  ASSERT_TRUE(a.service->AddUser("lan", "officer", "08800", "matkhau123").ok());
  AuthUser ua = Auth(*a.service, "lan", "phone-1"), ub = Auth(*b.service, "lan", "phone-1");
  // 20 rounds: the same change set (5 new forms) reaches both replicas at the
  // same moment, as when a device retries through the load balancer.
  for (int round = 0; round < 20; ++round) {
    std::vector<Change> changes;
    for (int i = 0; i < 5; ++i) changes.push_back(Create("08800", "Mật ong " + std::to_string(round * 5 + i)));
    ChangeSet cs = Set(changes, "phone-1");
    sync::PushResult ra, rb;
    Status sa, sb;
    std::thread ta([&] { sa = a.service->Push(ua, cs, &ra); });
    std::thread tb([&] { sb = b.service->Push(ub, cs, &rb); });
    ta.join();
    tb.join();
    ASSERT_TRUE(sa.ok()) << sa.message();
    ASSERT_TRUE(sb.ok()) << sb.message();
    // One of them applied it; the other answered with the stored answer.
    EXPECT_EQ(sync::EncodeJson(ra), sync::EncodeJson(rb));
    ASSERT_EQ(ra.outcomes.size(), 5u);
    for (const auto& o : ra.outcomes) EXPECT_EQ(o.result, sync::outcome::kApplied);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM records"), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM changes"), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM changesets"), 20);
  EXPECT_EQ(Count("SELECT count(*) FROM audit"), 100);
  // One version each: nothing was applied twice.
  EXPECT_EQ(Count("SELECT max(version) FROM records"), 1);
}

TEST_F(PostgresStoreTest, CursorsNeverSkipARecordWhileReplicasWrite) {
  Replica a = Open(), b = Open(), reader = Open();
  ASSERT_TRUE(a.service->AddUser("lan", "officer", "08800", "matkhau123").ok());
  ASSERT_TRUE(a.service->AddUser("hoa", "coordinator", "253", "matkhau123").ok());
  AuthUser ua = Auth(*a.service, "lan", "phone-a"), ub = Auth(*b.service, "lan", "phone-b");
  AuthUser coordinator = Auth(*reader.service, "hoa", "laptop");
  std::atomic<bool> done{false};
  std::set<std::string> written[2];
  auto writer = [&](Replica& r, const AuthUser& u, std::set<std::string>* ids) {
    for (int i = 0; i < 40; ++i) {
      std::vector<Change> changes{Create("08800", "Chè " + std::to_string(i)), Create("08800", "Gạo " + std::to_string(i))};
      sync::PushResult res;
      Status s = r.service->Push(u, Set(changes, u.device), &res);
      EXPECT_TRUE(s.ok()) << s.message();
      for (const auto& c : changes) ids->insert(c.record_id);
    }
  };
  // The coordinator pulls small pages all the while, from a third replica;
  // cursors must only grow and, at the end, every record must have come.
  std::set<std::string> seen;
  int64_t cursor = 0;
  bool monotonic = true;
  auto pull_once = [&] {
    PullRequest req;
    req.since = cursor;
    req.limit = 7;
    sync::PullPage page;
    Status s = reader.service->Pull(coordinator, req, &page);
    EXPECT_TRUE(s.ok()) << s.message();
    if (page.cursor < cursor) monotonic = false;
    cursor = page.cursor;
    for (const auto& r : page.records) seen.insert(r.id);
    return page.more;
  };
  std::thread pulling([&] {
    for (int i = 0; i < 5000 && !done.load(); ++i) pull_once();
  });
  std::thread wa([&] { writer(a, ua, &written[0]); });
  std::thread wb([&] { writer(b, ub, &written[1]); });
  wa.join();
  wb.join();
  done = true;
  pulling.join();
  for (int i = 0; i < 100 && pull_once(); ++i) {
  }
  EXPECT_TRUE(monotonic);
  std::set<std::string> all = written[0];
  all.insert(written[1].begin(), written[1].end());
  EXPECT_EQ(all.size(), 160u);
  EXPECT_EQ(seen, all);
  // Seqs are unique and without gaps: one write lock across processes.
  EXPECT_EQ(Count("SELECT max(seq) - min(seq) + 1 FROM records"), 160);
}

TEST_F(PostgresStoreTest, ReceiptBlocksFromSeveralReplicasNeverOverlap) {
  Replica replicas[3] = {Open(), Open(), Open()};
  std::vector<std::pair<int64_t, int64_t>> blocks[3];
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      for (int i = 0; i < 30; ++i) {
        int64_t first = 0, last = 0;
        Status s = replicas[r].store->RunWrite(
            [&](WriteTxn& txn) { return txn.ReserveReceipts("253", 2026, 1 + i % 4, 0, &first, &last); });
        EXPECT_TRUE(s.ok()) << s.message();
        blocks[r].emplace_back(first, last);
      }
    });
  for (auto& t : threads) t.join();
  std::set<int64_t> numbers;
  size_t total = 0;
  for (const auto& list : blocks)
    for (const auto& [first, last] : list)
      for (int64_t n = first; n <= last; ++n) {
        numbers.insert(n);
        ++total;
      }
  EXPECT_EQ(numbers.size(), total);  // no number given twice
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), static_cast<int64_t>(total));  // and none skipped
}

TEST_F(PostgresStoreTest, AConnectionKilledByTheDatabaseIsReplacedAndTheWriteRetried) {
  Replica a = Open();
  ASSERT_TRUE(a.service->AddUser("lan", "officer", "08800", "matkhau123").ok());
  AuthUser u = Auth(*a.service, "lan", "phone-1");
  sync::PushResult res;
  ASSERT_TRUE(a.service->Push(u, Set({Create("08800", "Trà")}, "phone-1"), &res).ok());
  // An operator restarting PostgreSQL, a failover: every connection of this
  // database is cut.
  std::string why;
  std::unique_ptr<pg::Conn> admin;
  ASSERT_TRUE(pg::Conn::Connect(ocop::testing::TestClusterConninfo(&why) + " dbname=postgres", &admin).ok());
  pg::Result killed;
  ASSERT_TRUE(admin->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 "
                          "AND pid <> pg_backend_pid()",
                          {pg::P(conninfo_.substr(conninfo_.rfind('=') + 1))}, &killed)
                  .ok());
  EXPECT_GE(killed.rows(), 1);
  ChangeSet next = Set({Create("08800", "Cà phê")}, "phone-1");
  Status s = a.service->Push(u, next, &res);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_GE(a.store->write_retries(), 1);  // the first attempt met the dead connection
  EXPECT_EQ(Count("SELECT count(*) FROM records"), 2);
  EXPECT_TRUE(a.store->Healthy());
}

TEST_F(PostgresStoreTest, AUnitListImportedThroughOneReplicaReachesTheOthers) {
  Replica a = Open(), b = Open();
  ASSERT_TRUE(a.store->SaveUnits(UnitTree::Sample()).ok());
  ASSERT_TRUE(a.service->AddUser("admin", "admin", "26", "matkhau123").ok());
  bool changed = true;
  ASSERT_TRUE(b.service->RefreshUnits(&changed).ok());
  EXPECT_FALSE(changed);  // the same list
  UnitTree bigger = UnitTree::Sample();
  ASSERT_TRUE(bigger.Add({"99901", "Xã Thử Nghiệm", "commune", "253", "2026-01-01", "", ""}).ok());
  ASSERT_TRUE(a.service->ReplaceUnits(Auth(*a.service, "admin", "office"), bigger).ok());
  EXPECT_EQ(b.service->Units()->Find("99901"), nullptr);
  ASSERT_TRUE(b.service->RefreshUnits(&changed).ok());
  EXPECT_TRUE(changed);
  ASSERT_NE(b.service->Units()->Find("99901"), nullptr);
  // An officer of the new commune can be made through the other replica now.
  EXPECT_TRUE(b.service->AddUser("moi", "officer", "99901", "matkhau123").ok());
  ASSERT_TRUE(b.service->RefreshUnits(&changed).ok());
  EXPECT_FALSE(changed);
}

TEST_F(PostgresStoreTest, MigrationFromSqliteCopiesEverythingAndIsChecked) {
  ocop::testing::TempDir dir;
  std::unique_ptr<SqliteServerStore> sqlite;
  ASSERT_TRUE(SqliteServerStore::Open(dir.path(), &sqlite).ok());
  ASSERT_TRUE(sqlite->SaveUnits(UnitTree::Sample()).ok());
  // A province's store with accounts, forms, an edit in conflict, receipts.
  ServiceLimits limits;
  limits.pbkdf2_iterations = 1000;
  SyncService before(*sqlite, UnitTree::Sample(), clock_, limits);
  ASSERT_TRUE(before.AddUser("lan", "officer", "08800", "matkhau123").ok());
  ASSERT_TRUE(before.AddUser("hoa", "coordinator", "253", "matkhau123").ok());
  ASSERT_TRUE(before.AddUser("admin", "admin", "26", "matkhau123").ok());
  AuthUser lan = Auth(before, "lan", "phone-1"), hoa = Auth(before, "hoa", "laptop");
  AuthUser admin = Auth(before, "admin", "office");
  std::vector<Change> changes;
  for (int i = 0; i < 30; ++i) changes.push_back(Create("08800", "Sản phẩm số " + std::to_string(i)));
  sync::PushResult res;
  ASSERT_TRUE(before.Push(lan, Set(changes, "phone-1"), &res).ok());
  Change edit_a = changes[0], edit_b = changes[0];
  edit_a.change_id = ids::NewUuid();
  edit_a.op = sync::op::kUpdate;
  edit_a.base_version = 1;
  edit_a.fields = {{"description", "\"Ngon\"", "\"Thơm\""}};
  edit_b.change_id = ids::NewUuid();
  edit_b.op = sync::op::kUpdate;
  edit_b.base_version = 1;
  edit_b.fields = {{"description", "\"Ngon\"", "\"Đậm\""}};
  ASSERT_TRUE(before.Push(lan, Set({edit_a}, "phone-1"), &res).ok());
  ASSERT_TRUE(before.Push(hoa, Set({edit_b}, "laptop"), &res).ok());
  PullRequest reserve;
  reserve.reserve_receipts = 5;
  reserve.receipt_year = 2026;
  sync::PullPage page;
  ASSERT_TRUE(before.Pull(lan, reserve, &page).ok());
  std::vector<ConflictRow> conflicts_before;
  ASSERT_TRUE(before.ListConflicts(admin, &conflicts_before).ok());
  ASSERT_EQ(conflicts_before.size(), 1u);
  sqlite.reset();

  Replica target = Open();  // schema made, sample units written by nothing yet
  std::vector<TableCopy> report;
  Status s = MigrateSqliteToPostgres(dir.path() + "/ocopd.db", conninfo_, &report);
  ASSERT_TRUE(s.ok()) << s.message();
  std::map<std::string, int64_t> rows;
  for (const auto& t : report) rows[t.table] = t.rows;
  EXPECT_EQ(rows["records"], 30);
  EXPECT_EQ(rows["users"], 3);
  EXPECT_EQ(rows["changesets"], 3);
  EXPECT_EQ(rows["changes"], 32);
  EXPECT_EQ(rows["conflicts"], 1);
  EXPECT_EQ(rows["receipt_counters"], 1);
  EXPECT_GT(rows["audit"], 30);
  EXPECT_GT(rows["units"], 5);

  // The province carries on, on PostgreSQL: the same accounts log in, the
  // same records come on pull, the conflict waits, receipts go on after 5.
  AuthUser hoa_after = Auth(*target.service, "hoa", "laptop-2");
  sync::PullPage all;
  PullRequest req;
  req.limit = 1000;
  ASSERT_TRUE(target.service->Pull(hoa_after, req, &all).ok());
  EXPECT_EQ(all.records.size(), 30u);
  std::vector<ConflictRow> conflicts_after;
  ASSERT_TRUE(target.service->ListConflicts(Auth(*target.service, "admin", "office-2"), &conflicts_after).ok());
  ASSERT_EQ(conflicts_after.size(), 1u);
  EXPECT_EQ(conflicts_after[0].incoming_value, conflicts_before[0].incoming_value);
  AuthUser lan_after = Auth(*target.service, "lan", "phone-1");
  sync::PullPage more;
  ASSERT_TRUE(target.service->Pull(lan_after, reserve, &more).ok());
  EXPECT_EQ(more.receipt_first, 6);
  // New audit rows number after the copied ones.
  ASSERT_TRUE(target.service->Push(lan_after, Set({Create("08800", "Mới")}, "phone-1"), &res).ok());
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM audit"), rows["audit"] + 1);

  // A second migration into a database that now holds a province is refused
  // and writes nothing.
  int64_t records = Count("SELECT count(*) FROM records");
  s = MigrateSqliteToPostgres(dir.path() + "/ocopd.db", conninfo_, &report);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT count(*) FROM records"), records);
  EXPECT_EQ(MigrateSqliteToPostgres(dir.path() + "/missing.db", conninfo_, &report).code(), Code::kNotFound);
}

}  // namespace
}  // namespace ocop::server
