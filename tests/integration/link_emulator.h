// A slow, dropping mobile link on loopback, for tests and benchmarks: a TCP
// proxy that carries each direction at a fixed rate, delays it by a one-way
// latency, and cuts every connection after a random number of bytes (both
// directions counted), as a 2G/3G link in a village does. Only loopback
// addresses are used; every loop is bounded by the connection's life.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ocop::testing {

struct LinkProfile {
  int64_t bytes_per_second = 8000;  // each direction (64 kbit/s)
  int one_way_latency_ms = 300;     // half the round trip
  int64_t cut_min_bytes = 0;        // 0: never cut
  int64_t cut_max_bytes = 0;
  uint64_t seed = 1;                // where the cuts fall, reproducibly
  int64_t cut_connections = -1;     // cut only the first N connections (-1: all)
};

class LinkEmulator {
 public:
  LinkEmulator(int upstream_port, LinkProfile profile);
  ~LinkEmulator();
  LinkEmulator(const LinkEmulator&) = delete;
  LinkEmulator& operator=(const LinkEmulator&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int64_t bytes_up() const { return up_.load(); }      // client → server, delivered
  int64_t bytes_down() const { return down_.load(); }  // server → client, delivered
  int64_t connections() const { return connections_.load(); }
  int64_t cuts() const { return cuts_.load(); }

 private:
  void Accept();
  void Carry(int client, int64_t cut_after);

  int upstream_port_;
  LinkProfile profile_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> up_{0}, down_{0}, connections_{0}, cuts_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> carriers_;
  uint64_t rng_state_;
};

}  // namespace ocop::testing
