// Where a new connection waits, without a thread, until its request headers
// have arrived. Poco serves each connection on a pool thread from the moment
// it is accepted, so hundreds of hosts sending their headers a byte at a time
// would hold every thread and fill the queue behind them: /healthz and honest
// devices would be refused. The lobby accepts connections itself and watches
// them with one epoll loop; a connection goes on to Poco's dispatcher (and a
// thread) only once its headers are complete (peeked, not consumed), and is
// closed when they do not arrive within the deadline.
//
// The request threads give connections back: one kept alive waits here for its
// next request (Readmit), and one to be closed waits here while the client's
// unread bytes are read away (Linger: the answer was sent and the write side
// shut, so the client reads the answer, not a reset). Neither holds a thread.
//
// Under TLS the bytes are encrypted and cannot be peeked: connections go on at
// once (a proxy in front does this job there, docs/server.md).
#pragma once
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ocop::server::http {

struct LobbyOptions {
  int header_deadline_ms = 10000;
  // Connections waiting for their headers at once; past it the one that has
  // waited longest is closed (it is the likeliest to be a slow one).
  int max_waiting = 4096;
  // Connections one address may have waiting (loopback exempt unless asked,
  // as in GuardOptions: a proxy on this machine is every client).
  int max_waiting_per_address = 8;
  bool limit_loopback = false;
  bool plain_http = true;
  // A closing connection's unread bytes are read away for this long, up to
  // `linger_max_bytes`, then it is closed whatever is left.
  int linger_ms = 5000;
  // A connection kept alive after an answer waits this long for its next request.
  int keep_alive_ms = 5000;
  int64_t linger_max_bytes = 1024 * 1024;
};

class Lobby {
 public:
  Lobby(Poco::Net::ServerSocket& socket, Poco::Net::TCPServerConnectionFactory::Ptr factory, Poco::ThreadPool& pool,
        Poco::Net::TCPServerParams::Ptr params, LobbyOptions options);
  ~Lobby();
  Lobby(const Lobby&) = delete;
  Lobby& operator=(const Lobby&) = delete;

  void Start();
  // Stops accepting, closes the connections still waiting and lets requests
  // in flight finish (the pool is joined by the caller).
  void Stop();

  // From request threads (thread-safe): the connection comes back to the lobby.
  void Readmit(const Poco::Net::StreamSocket& socket);
  void Linger(const Poco::Net::StreamSocket& socket);

  int64_t waiting() const { return waiting_.load(); }
  int64_t closed_for_deadline() const { return closed_for_deadline_.load(); }
  int64_t closed_for_room() const { return closed_for_room_.load(); }

 private:
  void Run();
  void Post(const Poco::Net::StreamSocket& socket, bool linger);

  Poco::Net::ServerSocket& socket_;
  Poco::Net::TCPServerDispatcher* dispatcher_;
  LobbyOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd that tells the loop to stop
  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::mutex inbox_mu_;
  std::vector<std::pair<Poco::Net::StreamSocket, bool>> inbox_;  // (socket, linger)
  std::atomic<int64_t> waiting_{0}, closed_for_deadline_{0}, closed_for_room_{0};
};

}  // namespace ocop::server::http
