#include "tests/integration/link_emulator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>

namespace ocop::testing {

namespace {
using Clock = std::chrono::steady_clock;

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 16 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One direction of the link: bytes wait in flight until the time the link
// would have delivered them (serialised at the rate, plus the latency).
struct Direction {
  struct Piece {
    Clock::time_point due;
    std::string bytes;
  };
  std::deque<Piece> in_flight;
  Clock::time_point line_free = Clock::now();  // when the sender's side of the link is idle again
  size_t queued = 0;
  bool source_closed = false;

  void Take(std::string bytes, const LinkProfile& p) {
    auto now = Clock::now();
    auto start = std::max(now, line_free);
    auto serialise = std::chrono::microseconds(static_cast<int64_t>(bytes.size()) * 1000000 / p.bytes_per_second);
    line_free = start + serialise;
    queued += bytes.size();
    in_flight.push_back({line_free + std::chrono::milliseconds(p.one_way_latency_ms), std::move(bytes)});
  }
};
}  // namespace

LinkEmulator::LinkEmulator(int upstream_port, LinkProfile profile)
    : upstream_port_(upstream_port), profile_(profile), rng_state_(profile.seed * 2654435761u + 1) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Small kernel buffers, as on a phone's link: loopback's megabytes would let
  // a sender think it sent what is only queued (accepted sockets inherit it).
  int small = 16 * 1024;
  setsockopt(listen_fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

LinkEmulator::~LinkEmulator() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : carriers_) t.join();
}

void LinkEmulator::Accept() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    ++connections_;
    int64_t cut = 0;
    if (profile_.cut_max_bytes > 0 && (profile_.cut_connections < 0 || connections_ <= profile_.cut_connections)) {
      rng_state_ = rng_state_ * 6364136223846793005ull + 1442695040888963407ull;
      int64_t span = std::max<int64_t>(1, profile_.cut_max_bytes - profile_.cut_min_bytes + 1);
      cut = profile_.cut_min_bytes + static_cast<int64_t>((rng_state_ >> 33) % static_cast<uint64_t>(span));
    }
    std::lock_guard<std::mutex> lock(mu_);
    carriers_.emplace_back([this, client, cut] { Carry(client, cut); });
  }
}

void LinkEmulator::Carry(int client, int64_t cut_after) {
  int server = ConnectLoopback(upstream_port_);
  if (server < 0) {
    close(client);
    return;
  }
  Direction up, down;  // up: client → server
  int64_t delivered = 0;
  bool cut = false;
  char buf[1024];  // small reads, so pacing is smooth
  auto deliver = [&](Direction& d, int to, std::atomic<int64_t>& counter) {
    auto now = Clock::now();
    while (!d.in_flight.empty() && d.in_flight.front().due <= now && !cut) {
      std::string& bytes = d.in_flight.front().bytes;
      size_t n = bytes.size();
      if (cut_after > 0 && delivered + static_cast<int64_t>(n) >= cut_after) {
        n = static_cast<size_t>(cut_after - delivered);
        cut = true;
      }
      if (n > 0 && send(to, bytes.data(), n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) return false;
      delivered += static_cast<int64_t>(n);
      counter += static_cast<int64_t>(n);
      d.queued -= bytes.size();
      d.in_flight.pop_front();
    }
    return true;
  };
  while (!stop_ && !cut) {
    pollfd fds[2] = {{client, static_cast<short>(up.queued < 65536 && !up.source_closed ? POLLIN : 0), 0},
                     {server, static_cast<short>(down.queued < 65536 && !down.source_closed ? POLLIN : 0), 0}};
    poll(fds, 2, 5);
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
      Direction& d = i == 0 ? up : down;
      if (n <= 0) d.source_closed = true;
      else d.Take(std::string(buf, static_cast<size_t>(n)), profile_);
    }
    if (!deliver(up, server, up_) || !deliver(down, client, down_)) break;
    // A side that closed and whose bytes have all arrived ends the connection.
    if ((up.source_closed && up.in_flight.empty()) || (down.source_closed && down.in_flight.empty())) break;
  }
  if (cut) ++cuts_;
  close(client);
  close(server);
}

}  // namespace ocop::testing
