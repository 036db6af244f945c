#include "server/http/connection_guard.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>

#include <memory>

#include "server/http/lobby.h"

namespace ocop::server {

namespace {

using Counts = GuardedConnectionFactory::Counts;

// Poco's session, with what it has read ahead in view: a connection may go
// back to the lobby only when nothing of the next request is buffered here.
class Session final : public Poco::Net::HTTPServerSession {
 public:
  using HTTPServerSession::HTTPServerSession;
  bool nothing_buffered() const { return buffered() == 0; }
};

// Counts the connection for its address while it lives.
class GuardedConnection final : public Poco::Net::HTTPServerConnection {
 public:
  GuardedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, std::shared_ptr<Counts> counts,
                    std::string address, http::Lobby* lobby)
      : HTTPServerConnection(socket, params, handlers), params_(std::move(params)), handlers_(std::move(handlers)),
        counts_(std::move(counts)), address_(std::move(address)), lobby_(lobby) {}
  ~GuardedConnection() override {
    std::lock_guard<std::mutex> lock(counts_->mu);
    if (--counts_->by_address[address_] <= 0) counts_->by_address.erase(address_);
  }

  void run() override {
    if (!lobby_) return HTTPServerConnection::run();
    ServeOneThenReturn();
  }

 private:
  // One request, as Poco's loop serves each (its headers are here already),
  // then the socket goes back to the lobby.
  void ServeOneThenReturn() {
    Session session(socket(), params_);
    bool keep_alive = false;
    try {
      if (!session.hasMoreRequests()) return;
      Poco::Net::HTTPServerResponseImpl response(session);
      Poco::Net::HTTPServerRequestImpl request(response, session, params_);
      response.setDate(Poco::Timestamp());
      response.setVersion(request.getVersion());
      response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() && session.canKeepAlive());
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(handlers_->createRequestHandler(request));
      if (!handler) {
        sendErrorResponse(session, Poco::Net::HTTPResponse::HTTP_NOT_IMPLEMENTED);
      } else {
        if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK)
          response.sendContinue();
        handler->handleRequest(request, response);
        keep_alive = params_->getKeepAlive() && response.getKeepAlive() && session.canKeepAlive();
      }
    } catch (const Poco::Net::NoMessageException&) {
      return;  // closed before a request
    } catch (const Poco::Net::MessageException&) {
      sendErrorResponse(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
    } catch (const Poco::Exception&) {
      return;  // the connection broke mid-answer
    }
    Poco::Net::StreamSocket socket = session.detachSocket();  // the session must not close it
    if (keep_alive && session.nothing_buffered()) lobby_->Readmit(socket);
    else lobby_->Linger(socket);
  }

  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  std::shared_ptr<Counts> counts_;
  std::string address_;
  http::Lobby* lobby_;
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
  return new GuardedConnection(socket, params_, handlers_, counts_, address, lobby_);
}

}  // namespace ocop::server
