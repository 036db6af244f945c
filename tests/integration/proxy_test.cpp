// The documented nginx configuration (docs/deploy/nginx-ocop.conf), as it is
// in the repository but for its addresses and certificate, in front of a real
// ocopd, and HAProxy's (docs/deploy/haproxy.cfg) the same way: the same six
// hundred misbehaving hosts as the bare server's test, /healthz through the
// proxy within a second, and a device syncing through it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <fstream>
#include <utility>
#include <vector>
#include <sstream>
#include <thread>

#include "client/http_client.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"
#include "tests/integration/hostile_crowd.h"

namespace ocop::testing {
namespace {

const char* kNginx = "/usr/sbin/nginx";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A documented configuration's text with its lines rewritten: each line
// holding a key of `edits` becomes that value ("" drops the line), keeping
// its indentation. (No std::regex: GCC 12 warns inside it at -O1.)
std::string Rewritten(const std::string& path, const std::vector<std::pair<std::string, std::string>>& edits) {
  std::ifstream in(std::string(OCOP_SOURCE_DIR) + "/" + path);
  std::string out, line;
  while (std::getline(in, line)) {
    bool dropped = false;
    for (const auto& [holds, becomes] : edits) {
      if (line.find(holds) == std::string::npos) continue;
      if (becomes.empty()) dropped = true;
      else line = line.substr(0, line.find_first_not_of(' ')) + becomes;
      break;
    }
    if (!dropped) out += line + "\n";
  }
  return out;
}

// The repository's nginx configuration with the test's addresses: the
// upstream is this ocopd, the listener plain HTTP on loopback (no certificate).
std::string NginxConfig(const std::string& dir, int listen_port, int ocopd_port) {
  std::string site = Rewritten("docs/deploy/nginx-ocop.conf",
                               {{"server 10.0.0.12:8080", ""},
                                {"server 10.0.0.11:8080", "server 127.0.0.1:" + std::to_string(ocopd_port) + " max_fails=2 fail_timeout=10s;"},
                                {"listen 443 ssl;", "listen 127.0.0.1:" + std::to_string(listen_port) + ";"},
                                {"ssl_certificate", ""}});
  std::string conf = "daemon on;\nworker_processes 1;\nworker_rlimit_nofile 8192;\npid " + dir + "/nginx.pid;\n" +
                     "error_log " + dir + "/error.log;\n" + (geteuid() == 0 ? "user root;\n" : "") +
                     "events { worker_connections 4096; }\nhttp {\n  access_log off;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    conf += std::string("  ") + temp + "_temp_path " + dir + "/" + temp + ";\n";
  return conf + site + "\n}\n";
}

// HAProxy's configuration likewise: the listener plain HTTP on loopback, one
// backend server, this ocopd.
std::string HaproxyConfig(int listen_port, int ocopd_port) {
  return Rewritten("docs/deploy/haproxy.cfg",
                   {{"bind :443 ssl crt", "bind 127.0.0.1:" + std::to_string(listen_port)},
                    {"server ocopd2", ""},
                    {"server ocopd3", ""},
                    {"server ocopd1 10.0.0.11:8080", "server ocopd1 127.0.0.1:" + std::to_string(ocopd_port) + " check"}});
}

// Six hundred misbehaving hosts against the proxy at `port`; a device syncs
// 100 forms through it while /healthz is asked every 100 ms.
void CrowdAgainstProxy(const TempDir& dir, int port) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  client::HttpOptions once;
  once.max_attempts = 1;
  std::string login;
  for (int i = 0; i < 50; ++i) {  // the proxy may take a moment to listen
    if (client::HttpClient(url, once).Call("POST", "/v1/login", R"({"user":"thu","password":"matkhau123"})", &login).ok())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(login.find("\"token\":\""), std::string::npos) << login;
  const std::string token = login.substr(login.find("\"token\":\"") + 9, 64);
  Device lan(dir.Sub("lan"), url);
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(lan.NewIdea("Nấm " + std::to_string(i)).empty());

  ExpectACrowdLeavesHealthAndSync(url, port, lan, token, 5);
}

TEST(ProxyTest, BehindTheDocumentedNginxSixHundredHostsLeaveHealthAndSync) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << "nginx is not installed (scripts/setup-deps.sh --tests installs it)";
  if (!EnsureOpenFiles(1400)) GTEST_SKIP() << "needs 1,400 open files";
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("thu", "officer", "08800"));
  const int port = FreePort();
  const std::string conf = dir.Sub("nginx.conf");
  std::ofstream(conf) << NginxConfig(dir.path(), port, server.port());
  auto test_conf = RunProgram(kNginx, {"-t", "-c", conf, "-p", dir.path()});
  ASSERT_EQ(test_conf.code, 0) << "the documented configuration does not load: " << test_conf.err;
  auto started = RunProgram(kNginx, {"-c", conf, "-p", dir.path()});
  ASSERT_EQ(started.code, 0) << started.err;
  struct Stop {
    std::string conf, prefix;
    ~Stop() { RunProgram(kNginx, {"-c", conf, "-p", prefix, "-s", "stop"}); }
  } stop{conf, dir.path()};
  CrowdAgainstProxy(dir, port);
}

TEST(ProxyTest, BehindTheDocumentedHaproxySixHundredHostsLeaveHealthAndSync) {
  const char* haproxy = "/usr/sbin/haproxy";
  if (access(haproxy, X_OK) != 0) GTEST_SKIP() << "HAProxy is not installed (scripts/setup-deps.sh --tests installs it)";
  if (!EnsureOpenFiles(2600)) GTEST_SKIP() << "needs 2,600 open files";
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("thu", "officer", "08800"));
  const int port = FreePort();
  const std::string conf = dir.Sub("haproxy.cfg"), pid = dir.Sub("haproxy.pid");
  std::ofstream(conf) << HaproxyConfig(port, server.port());
  auto check = RunProgram(haproxy, {"-c", "-f", conf});
  ASSERT_EQ(check.code, 0) << "the documented configuration does not load: " << check.out << check.err;
  auto started = RunProgram(haproxy, {"-D", "-f", conf, "-p", pid});
  ASSERT_EQ(started.code, 0) << started.out << started.err;
  struct Stop {
    std::string pid;
    ~Stop() {
      std::ifstream in(pid);
      int p = 0;
      if (in >> p && p > 0) kill(p, SIGTERM);
    }
  } stop{pid};
  CrowdAgainstProxy(dir, port);
}

}  // namespace
}  // namespace ocop::testing
