#include "tests/integration/hostile_crowd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <gtest/gtest.h>

#include "client/http_client.h"
#include "tests/integration/harness.h"

namespace ocop::testing {

int ConnectFrom(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  to.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool EnsureOpenFiles(unsigned needed) {
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < needed) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, std::max<rlim_t>(needed, 4096));
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return files.rlim_cur >= needed;
}

HostileCrowd::HostileCrowd(int port, const std::string& token, int slow_headers, int stalled_bodies) {
  // 127.0.10.1 … : 200 addresses per third octet.
  auto address = [](int i) { return "127.0." + std::to_string(10 + i / 200) + "." + std::to_string(1 + i % 200); };
  for (int i = 0; i < slow_headers && connected_; ++i) {
    int fd = ConnectFrom(address(i).c_str(), port);
    if (fd < 0) connected_ = false;
    else slow_.push_back(fd);
  }
  for (int i = slow_headers; i < slow_headers + stalled_bodies && connected_; ++i) {
    int fd = ConnectFrom(address(i).c_str(), port);
    if (fd < 0) {
      connected_ = false;
      break;
    }
    std::string request = i % 3 == 0 ? "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n{"
                          : i % 3 == 1 ? "POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 30000000\r\n\r\n{"
                                       : "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                                             "\r\nContent-Length: 30000000\r\n\r\n{";
    (void)send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    stalled_.push_back(fd);
  }
  drip_ = std::thread([this] {
    const std::string request = "POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    for (size_t b = 0; b < request.size() - 1 && !done_; ++b) {
      for (int fd : slow_) (void)send(fd, request.data() + b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      for (int t = 0; t < 3 && !done_; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

HostileCrowd::~HostileCrowd() {
  done_ = true;
  drip_.join();
  for (int fd : slow_) close(fd);
  for (int fd : stalled_) close(fd);
}

int HostileCrowd::ClosedSlowHeaders(int wait_s) {
  done_ = true;
  if (drip_.joinable()) drip_.join();
  int closed = 0;
  for (int fd : slow_) {
    char buf[512];
    timeval tv{wait_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) ++closed;
  }
  drip_ = std::thread([] {});
  return closed;
}

HealthProbe ProbeHealthWhile(const std::string& url, const std::function<void()>& work, double min_seconds) {
  HealthProbe result;
  std::atomic<bool> working{true};
  auto t0 = std::chrono::steady_clock::now();
  std::thread probe([&] {
    client::HttpOptions once;
    once.max_attempts = 1;
    for (int i = 0; i < 1000; ++i) {
      bool more = working || std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < min_seconds;
      if (!more) break;
      auto start = std::chrono::steady_clock::now();
      client::HttpClient http(url, once);
      std::string body;
      if (!http.Call("GET", "/healthz", "", &body).ok()) ++result.failures;
      result.slowest_s =
          std::max(result.slowest_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      ++result.checks;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  work();
  working = false;
  probe.join();
  return result;
}

void ExpectACrowdLeavesHealthAndSync(const std::string& url, int port, const Device& lan, const std::string& token,
                                     int close_wait_s) {
  HostileCrowd crowd(port, token, 300, 300);
  ASSERT_TRUE(crowd.connected());
  RunResult s;
  double sync_seconds = 0;
  // Probed past the header deadline (10 s), while the slow ones are closed.
  HealthProbe health = ProbeHealthWhile(url, [&] {
    auto t0 = std::chrono::steady_clock::now();
    s = lan.Run({"sync", "--json"});
    sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }, 12);
  EXPECT_EQ(s.code, 0) << s.out << s.err;
  EXPECT_NE(s.out.find("\"sent\":100"), std::string::npos) << s.out;
  EXPECT_LT(sync_seconds, 30.0);
  EXPECT_GT(health.checks, 20);
  EXPECT_EQ(health.failures, 0) << "of " << health.checks;
  EXPECT_LT(health.slowest_s, 1.0) << "of " << health.checks << " health checks";
  EXPECT_EQ(crowd.ClosedSlowHeaders(close_wait_s), 300) << "each is closed at the header deadline";
}

}  // namespace ocop::testing
