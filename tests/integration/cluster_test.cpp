// Several ocopd on one PostgreSQL behind a load balancer, as a province runs
// them (docs/deploy/cluster.md): three replicas, HAProxy in front checking
// /healthz, 50 devices syncing at once through it — and one replica killed
// with SIGKILL in the middle of it and started again. Every form a device
// recorded must end on the server exactly once, every device must converge
// with the server, and no receipt number may be given twice.
//
// Needs the test PostgreSQL cluster (CTest starts it) and HAProxy (Debian's
// haproxy); skipped with the reason where either is absent.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "client/http_client.h"
#include "client/local_store.h"
#include "client/officer_actions.h"
#include "client/sync_client.h"
#include "server/store/pg.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/units.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"
#include "tests/support/test_store.h"

namespace ocop {
namespace {

using testing::ChildProcess;
using testing::ServerProcess;

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

int HttpStatus(int port, const std::string& path) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(2, 0));
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    session.receiveResponse(resp);
    return resp.getStatus();
  } catch (const Poco::Exception&) {
    return 0;
  }
}

// Waits (bounded) until GET path on port answers 200.
bool WaitHealthy(int port, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (HttpStatus(port, "/healthz") == 200) return true;
    usleep(100000);
  }
  return false;
}

json::Object Idea(const std::string& device, int n) {
  json::Object o;
  o.set("subject_name", "Hợp tác xã " + device);
  o.set("subject_kind", "cooperative");
  o.set("representative", "Nguyễn Văn An");
  o.set("product_name", "Sản phẩm " + std::to_string(n) + " của " + device);
  o.set("product_group", Poco::Int64(1 + n % 6));
  o.set("description", "Đặc sản địa phương, làm từ nguyên liệu của xã");
  return o;
}

struct FieldDevice {
  std::string name, commune, user;
  std::unique_ptr<client::LocalStore> store;
  std::vector<std::string> created;
  int sync_failures = 0;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (ocop::testing::TestClusterConninfo(&why).empty()) GTEST_SKIP() << why;
    if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << "HAProxy is not installed (apt-get install haproxy)";
    ASSERT_TRUE(ocop::testing::NewTestDatabase(&conninfo_).ok());
    config_ = dir_.Sub("ocopd.properties");
    std::ofstream cfg(config_);
    cfg << "store.engine = postgresql\n"
        << "store.postgresql = " << conninfo_ << "\n"
        << "store.pool_size = 6\n"
        << "files.dir = " << dir_.Sub("shared") << "\n"
        << "auth.pbkdf2_iterations = 1000\n";
  }

  Status Sync(FieldDevice& d, client::SyncReport* report) {
    client::HttpOptions options;
    options.max_attempts = 2;
    options.backoff_initial_ms = 100;
    client::HttpClient http(lb_url_, options);
    client::SyncClient sc(*d.store, http);
    return sc.Sync(report);
  }

  pg::Result Query(const std::string& sql) {
    std::unique_ptr<pg::Conn> c;
    EXPECT_TRUE(pg::Conn::Connect(conninfo_, &c).ok());
    pg::Result res;
    Status s = c ? c->Exec(sql, {}, &res) : Status::Internal("no connection");
    EXPECT_TRUE(s.ok()) << s.message();
    return res;
  }

  ocop::testing::TempDir dir_;
  std::string conninfo_, config_, lb_url_;
};

TEST_F(ClusterTest, ThreeReplicasBehindHaproxyKeepEveryFormOnceWhenOneIsKilled) {
  // Three replicas started at the same moment on a new database: their
  // migrations take turns on the advisory lock.
  int ports[3] = {testing::FreeLoopbackPort(), testing::FreeLoopbackPort(), testing::FreeLoopbackPort()};
  std::unique_ptr<ServerProcess> replicas[3];
  auto start = [&](int i) {
    replicas[i] = std::make_unique<ServerProcess>(dir_.Sub("r" + std::to_string(i)),
                                                  std::vector<std::string>{"--config", config_, "--port",
                                                                           std::to_string(ports[i])});
  };
  {
    std::vector<std::thread> starting;
    for (int i = 0; i < 3; ++i) starting.emplace_back(start, i);
    for (auto& t : starting) t.join();
  }
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(replicas[i]->url().empty()) << "replica " << i << " did not start";

  // Officers of every commune of the sample tree, made through one replica.
  std::vector<std::string> communes;
  for (const auto& [code, u] : UnitTree::Sample().all())
    if (UnitTree::Sample().Children(code).empty()) communes.push_back(code);
  for (const auto& c : communes) ASSERT_TRUE(replicas[0]->AddUser("o" + c, "officer", c));

  int lb_port = testing::FreeLoopbackPort();
  std::string haproxy_cfg = dir_.Sub("haproxy.cfg");
  {
    std::ofstream h(haproxy_cfg);
    h << "global\n  maxconn 2000\n"
      << "defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
      << "  retries 3\n  option redispatch\n"
      << "frontend ocop\n  bind 127.0.0.1:" << lb_port << "\n  default_backend ocopd\n"
      << "backend ocopd\n  balance roundrobin\n  option httpchk GET /healthz\n  http-check expect status 200\n"
      << "  default-server inter 300ms fall 2 rise 2\n";
    for (int i = 0; i < 3; ++i) h << "  server r" << i << " 127.0.0.1:" << ports[i] << " check\n";
  }
  ChildProcess lb(kHaproxy, {"-f", haproxy_cfg, "-db"}, dir_.Sub("haproxy.log"));
  ASSERT_TRUE(WaitHealthy(lb_port, 20)) << "HAProxy did not come up; see " << dir_.Sub("haproxy.log");
  lb_url_ = "http://127.0.0.1:" + std::to_string(lb_port);

  // 50 devices, spread over the communes, logged in through the balancer.
  constexpr int kDevices = 50, kRounds = 4, kPerRound = 2;
  std::vector<FieldDevice> devices(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    FieldDevice& d = devices[static_cast<size_t>(i)];
    d.name = "thiet-bi-" + std::to_string(i);
    d.commune = communes[static_cast<size_t>(i) % communes.size()];
    d.user = "o" + d.commune;
    std::string home = dir_.Sub(d.name);
    ASSERT_TRUE(client::LocalStore::Init(home, d.commune, lb_url_, UnitTree::Sample(), SystemClock::Get()).ok());
    ASSERT_TRUE(client::LocalStore::Open(home, SystemClock::Get(), &d.store).ok());
    (void)d.store->db().Exec("PRAGMA synchronous=OFF");  // 50 devices on one test disk
    client::HttpClient http(lb_url_);
    client::SyncClient sc(*d.store, http);
    Status s = sc.Login(d.user, "matkhau123");
    ASSERT_TRUE(s.ok()) << d.name << ": " << s.message();
  }

  // Every device: record forms offline, hand in (receipt numbers) the ones of
  // the round before, sync; a failed sync is simply tried again next round,
  // as in the field.
  std::atomic<int> syncs_done{0};
  auto work = [&](FieldDevice& d) {
    for (int round = 0; round < kRounds; ++round) {
      std::vector<std::string> previous = d.created;
      for (int k = 0; k < kPerRound; ++k) {
        client::Record r;
        Status s = d.store->Create("idea", Idea(d.name, round * kPerRound + k), &r);
        EXPECT_TRUE(s.ok()) << s.message();
        d.created.push_back(r.id);
      }
      for (const auto& id : previous) {
        client::Record r, after;
        if (!d.store->Get(id, &r).ok() || r.status() != "draft") continue;
        Label warning;
        (void)client::SubmitIdea(*d.store, id, &after, &warning);  // no receipt block yet: numbered later
      }
      client::SyncReport report;
      if (!Sync(d, &report).ok()) ++d.sync_failures;
      ++syncs_done;
    }
  };
  std::vector<std::thread> threads;
  for (auto& d : devices) threads.emplace_back(work, std::ref(d));
  // Mid-way through, replica 1 dies without a word; a minute later (here: a
  // second) the operator starts it again on the same port.
  for (int i = 0; i < 600 && syncs_done.load() < kDevices * kRounds / 3; ++i) usleep(50000);
  int done_at_kill = syncs_done.load();
  replicas[1]->Kill();
  usleep(1000000);
  start(1);
  ASSERT_FALSE(replicas[1]->url().empty()) << "replica 1 did not start again";
  for (auto& t : threads) t.join();
  EXPECT_LT(done_at_kill, kDevices * kRounds) << "the replica died after the traffic, not during it";
  ASSERT_TRUE(WaitHealthy(ports[1], 20));

  // Every device syncs until nothing is pending, then once more to pull what
  // the others sent (bounded).
  for (int pass = 0; pass < 2; ++pass)
    for (auto& d : devices) {
      client::SyncReport report;
      Status s;
      for (int attempt = 0; attempt < 5; ++attempt) {
        report = client::SyncReport();
        s = Sync(d, &report);
        if (s.ok() && report.pending_after == 0) break;
        usleep(200000);
      }
      ASSERT_TRUE(s.ok()) << d.name << ": " << s.message();
      ASSERT_EQ(report.pending_after, 0) << d.name;
    }

  // Every form recorded is on the server, once.
  std::set<std::string> recorded;
  for (const auto& d : devices) recorded.insert(d.created.begin(), d.created.end());
  ASSERT_EQ(recorded.size(), static_cast<size_t>(kDevices * kRounds * kPerRound));
  pg::Result rows = Query("SELECT id, unit, version FROM records ORDER BY id");
  std::set<std::string> on_server;
  std::map<std::string, std::map<std::string, int64_t>> by_commune;  // commune -> id -> version
  for (int i = 0; i < rows.rows(); ++i) {
    on_server.insert(rows.Text(i, 0));
    by_commune[rows.Text(i, 1)][rows.Text(i, 0)] = rows.Int(i, 2);
  }
  EXPECT_EQ(on_server, recorded);
  // Exactly once: every record's version is the number of its changes the
  // server kept, so no change (retried through another replica) counted twice.
  EXPECT_EQ(Query("SELECT count(*) FROM records r WHERE version <> "
                  "(SELECT count(*) FROM changes c WHERE c.record_id = r.id)").Int(0, 0),
            0);
  // Receipt numbers: given to the forms handed in, never twice.
  pg::Result receipts = Query("SELECT count(*), count(DISTINCT fields::json->>'receipt_no') FROM records "
                              "WHERE fields::json->>'receipt_no' IS NOT NULL");
  EXPECT_GT(receipts.Int(0, 0), kDevices);
  EXPECT_EQ(receipts.Int(0, 0), receipts.Int(0, 1));

  // Every device holds exactly its commune's records, at the server's versions.
  for (const auto& d : devices) {
    std::vector<client::Record> local;
    ASSERT_TRUE(d.store->List(client::ListQuery(), &local).ok());
    std::map<std::string, int64_t> held;
    for (const auto& r : local) held[r.id] = r.server_version;
    EXPECT_EQ(held, by_commune[d.commune]) << d.name;
  }
  int failures = 0;
  for (const auto& d : devices) failures += d.sync_failures;
  std::printf("cluster: %zu forms from %d devices; %d syncs failed while replica 1 was down and were retried; "
              "replica killed after %d of %d syncs\n",
              recorded.size(), kDevices, failures, done_at_kill, kDevices * kRounds);
}

}  // namespace
}  // namespace ocop
