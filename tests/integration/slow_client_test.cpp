// Slow and stalled clients, from one host to six hundred: they must not stop
// another device from syncing, nor /healthz from answering.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "client/http_client.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"
#include "tests/integration/hostile_crowd.h"

namespace ocop::testing {
namespace {

TEST(SlowClientTest, ADripFeedingHostDoesNotStopOthers) {
  TempDir dir;
  std::ofstream(dir.Sub("ocopd.properties")) << "server.threads = 8\nserver.max_connections_per_address = 4\n"
                                             << "server.limit_loopback = true\nserver.header_deadline_ms = 2000\n";
  ServerProcess server(dir.Sub("server"), {"--config", dir.Sub("ocopd.properties")});
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  Device lan(dir.Sub("lan"), server.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_FALSE(lan.NewIdea("Nấm rơm").empty());

  std::vector<int> slow;
  for (int i = 0; i < 40; ++i) {
    int fd = ConnectFrom("127.0.0.2", server.port());
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    const char* request = "POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
    for (int second = 0; second < 8 && !stop; ++second) {
      for (int fd : slow) (void)send(fd, request + second, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      for (int t = 0; t < 10 && !stop; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Meanwhile the real device syncs and health answers, each in a few seconds.
  auto t0 = std::chrono::steady_clock::now();
  client::HttpOptions quick;
  quick.max_attempts = 1;
  client::HttpClient http(server.url(), quick);
  std::string body;
  EXPECT_TRUE(http.Call("GET", "/healthz", "", &body).ok()) << body;
  auto s = lan.Run({"sync", "--json"});
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"pending\":0"), std::string::npos) << s.out;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 6.0) << "others waited behind the slow connections";
  stop = true;
  drip.join();
  // The slow connections were closed by the server: reading gives end of stream.
  int closed = 0;
  for (int fd : slow) {
    char c;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (recv(fd, &c, 1, 0) <= 0) ++closed;
    close(fd);
  }
  EXPECT_EQ(closed, 40);
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

int64_t PeakRssKb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  return -1;
}

std::string U64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

TEST(HostileBodyTest, NestingAndLengthBombsAreRefusedFastWithLittleMemory) {
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  Device lan(dir.Sub("lan"), server.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  client::HttpOptions once;
  once.max_attempts = 1;
  client::HttpClient http(server.url(), once);
  std::string login;
  ASSERT_TRUE(http.Call("POST", "/v1/login", R"({"user":"lan","password":"matkhau123"})", &login).ok());
  http.set_token(login.substr(login.find("\"token\":\"") + 9, 64));
  // Memory before the bombs (after a login: PBKDF2 is the heaviest ordinary request).
  const int64_t baseline_kb = PeakRssKb(server.pid());
  const std::string bin = "application/x-ocop-cereal";
  struct Bomb {
    const char* name;
    std::string body, type;
  } bombs[] = {
      {"400 KB of nested [", std::string(400 * 1024, '['), "application/json"},
      {"string length 6 GB", std::string(1, '\1') + U64(6ull << 30) + std::string(111, 'x'), bin},
      {"50 million changes", std::string(1, '\1') + U64(0) + U64(0) + U64(50'000'000) + std::string(65, '\0'), bin},
  };
  for (int twice = 0; twice < 2; ++twice)
    for (const auto& b : bombs) {
      SCOPED_TRACE(b.name);
      auto t0 = std::chrono::steady_clock::now();
      std::string resp, type;
      Status s = http.Call("POST", "/v1/push", b.body, b.type, "application/json", &resp, &type);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.message();
      EXPECT_LT(seconds, 1.0);
      std::string health;
      EXPECT_TRUE(http.Call("GET", "/healthz", "", &health).ok());
    }
  int64_t peak_kb = PeakRssKb(server.pid());
  ASSERT_GT(peak_kb, 0);
  // The bombs may add little to what the server already needed.
  EXPECT_LT(peak_kb - baseline_kb, 20 * 1024) << "the bombs raised ocopd's peak from " << baseline_kb << " KB to "
                                               << peak_kb << " KB";
#if !defined(__SANITIZE_ADDRESS__)
  // And the whole server stays under 100 MB. (Under ASan the allocator's
  // quarantine keeps freed memory resident — about 240 MB after one login's
  // PBKDF2 — so only the increase above is meaningful there.)
  EXPECT_LT(peak_kb, 100 * 1024) << "ocopd's peak resident memory was " << peak_kb << " KB";
#endif
  RecordProperty("ocopd_peak_kb", std::to_string(peak_kb));
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

// Connections that send whole headers announcing a big body, then one byte and
// nothing more: from five addresses, with no account (logins, pushes without a
// token) and with an officer's token (pushes). They must not hold the threads
// that /healthz and other devices need, and each is closed soon.
TEST(StalledBodyTest, StalledBodiesFromFiveHostsLeaveRoomForHealthAndSync) {
  TempDir dir;
  std::ofstream(dir.Sub("ocopd.properties")) << "server.body_idle_seconds = 3\n";
  ServerProcess server(dir.Sub("server"), {"--config", dir.Sub("ocopd.properties")});
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("thu", "officer", "08800"));
  client::HttpOptions once;
  once.max_attempts = 1;
  client::HttpClient http(server.url(), once);
  std::string login;
  ASSERT_TRUE(http.Call("POST", "/v1/login", R"({"user":"thu","password":"matkhau123"})", &login).ok());
  const std::string token = login.substr(login.find("\"token\":\"") + 9, 64);
  Device lan(dir.Sub("lan"), server.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(lan.NewIdea("Nấm " + std::to_string(i)).empty());

  std::vector<int> stalled;
  for (int i = 0; i < 60; ++i) {
    std::string source = "127.0.0." + std::to_string(2 + i % 5);
    int fd = ConnectFrom(source.c_str(), server.port());
    ASSERT_GE(fd, 0);
    std::string request = i % 3 == 0 ? "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n{"
                          : i % 3 == 1 ? "POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 30000000\r\n\r\n{"
                                       : "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                                             "\r\nContent-Length: 30000000\r\n\r\n{";
    ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    stalled.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // /healthz answers within a second throughout, while a device syncs 100 forms.
  std::atomic<bool> syncing{true};
  double slowest_health = 0;
  int health_checks = 0;
  std::thread health([&] {
    for (int i = 0; i < 200 && syncing; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      client::HttpClient probe(server.url(), once);
      std::string body;
      bool ok = probe.Call("GET", "/healthz", "", &body).ok();
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_TRUE(ok) << body;
      slowest_health = std::max(slowest_health, s);
      ++health_checks;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  auto s = lan.Run({"sync", "--json"});
  double sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  syncing = false;
  health.join();
  EXPECT_EQ(s.code, 0) << s.out << s.err;
  EXPECT_NE(s.out.find("\"sent\":100"), std::string::npos) << s.out;
  EXPECT_LT(sync_seconds, 30.0);
  EXPECT_GT(health_checks, 0);
  EXPECT_LT(slowest_health, 1.0) << "of " << health_checks << " health checks";
  // Every stalled connection is closed by the server within its idle time (3 s) and a margin.
  int closed = 0;
  for (int fd : stalled) {
    char buf[4096];
    timeval tv{8, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) ++closed;
    close(fd);
  }
  EXPECT_EQ(closed, 60);
}

// The check of the exposure section (docs/server.md): many hosts at once. 300
// connections send their headers a byte at a time and 300 send whole headers
// and then stall their bodies (logins and pushes, with and without a token),
// each from an address of its own, with the server's default settings.
// /healthz answers within a second throughout and a device syncs 100 forms
// within 30 s.
TEST(StalledBodyTest, SixHundredHostsSlowHeadersAndStalledBodies) {
  // 600 sockets here and 600 in ocopd (which inherits the limit).
  if (!EnsureOpenFiles(1400)) GTEST_SKIP() << "needs 1,400 open files";
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("thu", "officer", "08800"));
  client::HttpOptions once;
  once.max_attempts = 1;
  client::HttpClient http(server.url(), once);
  std::string login;
  ASSERT_TRUE(http.Call("POST", "/v1/login", R"({"user":"thu","password":"matkhau123"})", &login).ok());
  const std::string token = login.substr(login.find("\"token\":\"") + 9, 64);
  Device lan(dir.Sub("lan"), server.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(lan.NewIdea("Nấm " + std::to_string(i)).empty());

  ExpectACrowdLeavesHealthAndSync(server.url(), server.port(), lan, token, 3);
}

// Reads one HTTP answer (headers and a Content-Length body) from a blocking socket.
std::string ReadAnswer(int fd) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string in;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t at = in.find("Content-Length: ");
      size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
      if (in.size() >= end + 4 + length) return in.substr(0, end + 4 + length);
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

// A connection kept alive after an answer waits for its next request in the
// lobby, not on a thread: four threads, twenty connections that were answered
// once and now send their next headers a byte at a time, and /healthz still
// answers at once. A kept-alive connection also serves its next request, and a
// refused login whose body is still on its way gets its answer, not a reset.
TEST(SlowClientTest, KeptAliveConnectionsWaitInTheLobbyNotOnAThread) {
  TempDir dir;
  std::ofstream(dir.Sub("ocopd.properties")) << "server.threads = 4\nserver.keep_alive_seconds = 20\n";
  ServerProcess server(dir.Sub("server"), {"--config", dir.Sub("ocopd.properties")});
  ASSERT_TRUE(server.running());
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = ConnectFrom("127.0.0.3", server.port());
  ASSERT_GE(fd, 0);
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(send(fd, health.data(), health.size(), MSG_NOSIGNAL), static_cast<ssize_t>(health.size()));
    std::string answer = ReadAnswer(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << "request " << round << " on one connection: " << answer;
  }
  close(fd);

  std::vector<int> dribblers;
  for (int i = 0; i < 20; ++i) {
    int d = ConnectFrom(("127.0.1." + std::to_string(1 + i)).c_str(), server.port());
    ASSERT_GE(d, 0);
    ASSERT_EQ(send(d, health.data(), health.size(), MSG_NOSIGNAL), static_cast<ssize_t>(health.size()));
    ASSERT_EQ(ReadAnswer(d).rfind("HTTP/1.1 200", 0), 0u);
    ASSERT_EQ(send(d, "GET /hea", 8, MSG_NOSIGNAL), 8);
    dribblers.push_back(d);
  }
  client::HttpOptions once;
  once.max_attempts = 1;
  for (int i = 0; i < 5; ++i) {
    for (int d : dribblers) (void)send(d, "l", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    auto t0 = std::chrono::steady_clock::now();
    client::HttpClient probe(server.url(), once);
    std::string body;
    EXPECT_TRUE(probe.Call("GET", "/healthz", "", &body).ok()) << body;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (int d : dribblers) close(d);

  // A login announcing 6,000 bytes (over the 4 KB a login may take) is
  // refused before its body is read; the client, still sending, receives the
  // answer and not a reset: the lobby reads the rest away off the thread.
  int login = ConnectFrom("127.0.0.4", server.port());
  ASSERT_GE(login, 0);
  std::string head = "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 6000\r\n\r\n";
  std::string body = R"({"user":"nobody","password":")" + std::string(5969, 'x') + "\"}";
  ASSERT_EQ(body.size(), 6000u);
  std::string first = head + body.substr(0, 1500);
  ASSERT_EQ(send(login, first.data(), first.size(), MSG_NOSIGNAL), static_cast<ssize_t>(first.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (void)send(login, body.data() + 1500, body.size() - 1500, MSG_NOSIGNAL);
  std::string answer = ReadAnswer(login);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  close(login);
}

}  // namespace
}  // namespace ocop::testing
