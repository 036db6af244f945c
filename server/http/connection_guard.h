// Keeps slow or hostile clients from holding every server thread. Poco serves
// each connection on a pool thread, and its socket timeout is per read, so a
// client that sends one byte a second would keep a thread for ever. In front
// of Poco's HTTP connection this factory refuses (closes at once) a
// connection from an address that already holds `max_per_address` being
// served, so one host cannot take the pool.
//
// Slow request headers are the lobby's (http/lobby.h). With a lobby (plain
// HTTP) a connection reaches this factory, and a thread, only with its headers
// whole, and holds the thread for that one request: kept alive, it goes back
// to the lobby to wait for the next one; closing, it goes there to have its
// unread bytes read away. Without (TLS) Poco's own loop serves it.
#pragma once
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ocop::server {

namespace http {
class Lobby;
}

struct GuardOptions {
  int max_per_address = 8;
  // Loopback is this machine (a reverse proxy, the benchmarks): not limited
  // unless asked, or a proxy in front would be throttled as one client.
  bool limit_loopback = false;
};

class GuardedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  GuardedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                           GuardOptions options)
      : params_(std::move(params)), handlers_(std::move(handlers)), options_(options),
        counts_(std::make_shared<Counts>()) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override;

  struct Counts {
    std::mutex mu;
    std::map<std::string, int> by_address;
    std::atomic<int64_t> refused{0};
  };
  int64_t refused() const { return counts_->refused.load(); }
  // Set once, before the first connection.
  void set_lobby(http::Lobby* lobby) { lobby_ = lobby; }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  GuardOptions options_;
  std::shared_ptr<Counts> counts_;
  http::Lobby* lobby_ = nullptr;
};

}  // namespace ocop::server
