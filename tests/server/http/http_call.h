// One HTTP exchange with an in-process server on loopback, for the HTTP tests.
#pragma once
#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <string>

namespace ocop::server {

struct Reply {
  int status = 0;
  std::string body;
};

inline Reply HttpCall(int port, const std::string& method, const std::string& path, const std::string& body,
                      const std::string& token = "", const std::string& encoding = "",
                      const std::string& type = "application/json") {
  // A broken exchange (the server closed the connection) is a reply too: status
  // 0 and what broke, so a test names the request instead of dying on it.
  try {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentType(type);
  req.setContentLength(static_cast<std::streamsize>(body.size()));
  if (!token.empty()) req.set("Authorization", "Bearer " + token);
  if (!encoding.empty()) req.set("Content-Encoding", encoding);
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  std::istream& in = session.receiveResponse(resp);
  Reply r;
  r.status = resp.getStatus();
  Poco::StreamCopier::copyToString(in, r.body);
  return r;
  } catch (const Poco::Exception& e) {
    return Reply{0, "connection broken: " + e.displayText()};
  }
}

}  // namespace ocop::server
