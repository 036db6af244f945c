#include "server/http/connection_guard.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace ocop::server {

namespace {

using Counts = GuardedConnectionFactory::Counts;

// Counts the connection for its address while it lives.
class GuardedConnection final : public Poco::Net::HTTPServerConnection {
 public:
  GuardedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, std::shared_ptr<Counts> counts,
                    std::string address, GuardOptions options)
      : HTTPServerConnection(socket, params, handlers), counts_(std::move(counts)), address_(std::move(address)),
        options_(options) {}
  ~GuardedConnection() override {
    std::lock_guard<std::mutex> lock(counts_->mu);
    if (--counts_->by_address[address_] <= 0) counts_->by_address.erase(address_);
  }
  void run() override {
    if (options_.plain_http && !HeadersArriveInTime()) {
      ++counts_->refused;
      Poco::Logger::get("ocopd.http").notice("closed a connection from " + address_ + ": no request headers within " +
                                             std::to_string(options_.header_deadline_ms) + " ms");
      return;  // closing the socket is the answer
    }
    HTTPServerConnection::run();
  }

 private:
  // Peeks (without consuming) until the blank line that ends the headers, a
  // full 16 KB, the peer's close, or the deadline.
  bool HeadersArriveInTime() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.header_deadline_ms);
    std::string buf(16 * 1024, '\0');
    int fd = socket().impl()->sockfd();
    size_t last = 0;
    for (int round = 0; round < 100000; ++round) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      try {
        if (!socket().poll(Poco::Timespan(std::min<int64_t>(left.count(), 200) * 1000), Poco::Net::Socket::SELECT_READ))
          continue;
      } catch (const Poco::Exception&) {
        return false;
      }
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_PEEK);
      if (n <= 0) return false;
      if (static_cast<size_t>(n) == buf.size() || memmem(buf.data(), static_cast<size_t>(n), "\r\n\r\n", 4)) return true;
      // Readable again only when more arrives; until then the same bytes peek
      // back, so wait a little instead of spinning on them.
      if (static_cast<size_t>(n) == last) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      last = static_cast<size_t>(n);
    }
    return false;
  }

  std::shared_ptr<Counts> counts_;
  std::string address_;
  GuardOptions options_;
};

// Closes at once: the address already has its share of connections.
class RefusedConnection final : public Poco::Net::TCPServerConnection {
 public:
  using TCPServerConnection::TCPServerConnection;
  void run() override {}
};

}  // namespace

Poco::Net::TCPServerConnection* GuardedConnectionFactory::createConnection(const Poco::Net::StreamSocket& socket) {
  std::string address;
  try {
    address = socket.peerAddress().host().toString();
  } catch (const Poco::Exception&) {
    return new RefusedConnection(socket);
  }
  {
    std::lock_guard<std::mutex> lock(counts_->mu);
    int& n = counts_->by_address[address];
    bool loopback = address.rfind("127.", 0) == 0 || address == "::1";
    if (n >= options_.max_per_address && (options_.limit_loopback || !loopback)) {
      ++counts_->refused;
      return new RefusedConnection(socket);
    }
    ++n;
  }
  return new GuardedConnection(socket, params_, handlers_, counts_, address, options_);
}

}  // namespace ocop::server
