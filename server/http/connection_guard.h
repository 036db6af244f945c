// Keeps slow or hostile clients from holding every server thread. Poco serves
// each connection on a pool thread, and its socket timeout is per read, so a
// client that sends one byte a second would keep a thread for ever. In front
// of Poco's HTTP connection this factory:
//  - refuses (closes at once) a connection from an address that already holds
//    `max_per_address` connections, so one host cannot take the pool;
//  - on plain HTTP, gives a new connection `header_deadline` to deliver its
//    first request's headers in full (peeked, not consumed), else closes it.
// What is left (many slow hosts at once) is what a reverse proxy in front is
// for (docs/deploy); the checks here make one misbehaving device harmless.
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

struct GuardOptions {
  int max_per_address = 8;
  // Loopback is this machine (a reverse proxy, the benchmarks): not limited
  // unless asked, or a proxy in front would be throttled as one client.
  bool limit_loopback = false;
  int header_deadline_ms = 10000;
  bool plain_http = true;  // false under TLS: the bytes on the socket are encrypted
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

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  GuardOptions options_;
  std::shared_ptr<Counts> counts_;
};

}  // namespace ocop::server
