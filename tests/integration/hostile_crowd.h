// Many hosts misbehaving at once, for the exposure tests (docs/server.md):
// connections from addresses of their own on 127.0.0.0/8 that send their
// headers a byte at a time, or whole headers announcing a big body and then
// one byte. Everything stays on loopback.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ocop::testing {

// A TCP connection to 127.0.0.1:port from `source` (another "host" on loopback); -1 on failure.
int ConnectFrom(const char* source, int port);

// Raises this process's open-file limit (children inherit it); false when the
// hard limit is below `needed`.
bool EnsureOpenFiles(unsigned needed);

class HostileCrowd {
 public:
  // `slow_headers` connections dripping a request a byte every 300 ms, and
  // `stalled_bodies` whose bodies stall after one byte: a third logins, a
  // third pushes without a token, a third pushes with `token`.
  HostileCrowd(int port, const std::string& token, int slow_headers, int stalled_bodies);
  ~HostileCrowd();
  bool connected() const { return connected_; }
  // How many slow-header connections the other side has closed (each waited for up to `wait_s`).
  int ClosedSlowHeaders(int wait_s);

 private:
  std::vector<int> slow_, stalled_;
  std::atomic<bool> done_{false};
  std::thread drip_;
  bool connected_ = true;
};

struct HealthProbe {
  double slowest_s = 0;
  int checks = 0;
  int failures = 0;
};
// Asks `url`/healthz every 100 ms (a new connection each time) while `work`
// runs and until `min_seconds` have passed.
HealthProbe ProbeHealthWhile(const std::string& url, const std::function<void()>& work, double min_seconds);

class Device;
// The exposure check (docs/server.md): 300 slow-header and 300 stalled-body
// connections against `port` while `lan` (100 forms waiting) syncs through
// `url` and /healthz is asked every 100 ms for at least 12 s: the sync
// delivers all within 30 s, /healthz never fails nor takes a second, and the
// other side closes every slow-header connection (waited for `close_wait_s`).
void ExpectACrowdLeavesHealthAndSync(const std::string& url, int port, const Device& lan, const std::string& token,
                                     int close_wait_s);

}  // namespace ocop::testing
