// The plumbing every endpoint of ocopd shares: request ids and logging,
// bounded bodies (gzip inflated within limits, UTF-8 checked), JSON errors with
// the HTTP status of their code, and authentication: a bearer token (devices)
// or the console's session cookie, which must come with its CSRF header on any
// request that changes something. Handlers derive from these.
#pragma once
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <istream>
#include <limits>
#include <string>

#include "server/http/body_gate.h"
#include "server/http/http_api.h"
#include "server/sync_service.h"
#include "shared/json.h"
#include "shared/messages.h"
#include "shared/text.h"
#include "shared/web/pages.h"
#include "sync/codec.h"
#include "sync/columns.h"

namespace ocop::server::http {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using json::Object;

// The console's session cookie: the same kind of token a device holds, kept
// where the page's scripts cannot read it.
inline const std::string kSessionCookie = "ocop_session";
// A login (device or console) is a name, a password and a device id: the only
// bodies taken without a token, so they are kept small.
inline constexpr size_t kMaxLoginBody = 4 * 1024;

inline std::string ErrorBody(const Status& s, const std::string& request_id) {
  // "message" is the core's English; "message_vi" the catalogue's Vietnamese.
  return std::string("{\"error\":{\"code\":\"") + CodeName(s.code()) + "\",\"message\":" + json::Quote(s.message()) +
         ",\"message_vi\":" + json::Quote(msg::Localise(s, "vi")) +
         ",\"message_en\":" + json::Quote(msg::Localise(s, "en")) + ",\"request_id\":" + json::Quote(request_id) + "}}";
}

// Unique within a run and across restarts: the start time, then a counter.
inline std::string RequestId(uint64_t n) {
  static const std::string boot = [] {
    char b[16];
    std::snprintf(b, sizeof b, "%x", static_cast<unsigned>(std::time(nullptr)) & 0xfffff);
    return std::string(b);
  }();
  return boot + "-" + std::to_string(n);
}

// Shared plumbing of every endpoint.
class ApiHandler : public HTTPRequestHandler {
 public:
  ApiHandler(SyncService& service, const ApiOptions& options, ApiStats& stats)
      : service_(service), options_(options), stats_(stats) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    auto n = static_cast<uint64_t>(++stats_.requests);
    request_id_ = RequestId(n);
    resp.set("X-Request-Id", request_id_);
    accepts_gzip_ = req.get("Accept-Encoding", "").find("gzip") != std::string::npos;
    accepts_zstd_ = req.get("Accept-Encoding", "").find("zstd") != std::string::npos;
    accepts_binary_ = req.get("Accept", "").find(sync::kBinaryContentType) != std::string::npos;
    accepts_columns_ = req.get("Accept", "").find(sync::kColumnsContentType) != std::string::npos;
    // What this server reads besides gzip and the binary encoding: devices
    // send their change sets so once they have seen it (docs/protocol.md).
    resp.set("X-OCOP-Encodings", "columns, zstd");
    auto started = std::chrono::steady_clock::now();
    Status s;
    try {
      s = Handle(req, resp);
    } catch (const std::exception& e) {
      s = Status::Internal(std::string("unexpected error: ") + e.what());
    }
    Finish(req, resp, s);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::string& uri = req.getURI();
    std::string route = RouteLabel(uri.substr(0, uri.find('?')));
    int status = s.ok() ? static_cast<int>(resp.getStatus()) : StatusHttpCode(s.code());
    stats_.metrics.Record(route, status, seconds);
    // The access log: one line a request, with its id (which the client was given), route, account and time.
    auto& access = Poco::Logger::get("ocopd.access");
    if (access.information())
      access.information("request " + request_id_ + " " + req.getMethod() + " " + route + " " + std::to_string(status) +
                         " " + (account_.empty() ? "-" : account_) + " " + std::to_string(static_cast<int64_t>(seconds * 1000)) +
                         " ms from " + req.clientAddress().host().toString());
  }

  // Answers a refusal: logged with its reason, the body drained or the
  // connection closed, Retry-After where it helps, the JSON error.
  void Finish(HTTPServerRequest& req, HTTPServerResponse& resp, const Status& s) {
    if (!s.ok()) {
      ++stats_.errors;
      // Every refusal is logged with the request id the client was given, so
      // an officer's report ("request 5f3a-12 failed") leads to its reason.
      std::string line = "request " + request_id_ + " " + req.getMethod() + " " + req.getURI().substr(0, 200) +
                         " from " + req.clientAddress().host().toString() + ": " + CodeName(s.code()) + ": " +
                         s.message().substr(0, 500);
      if (s.code() == Code::kInternal) Poco::Logger::get("ocopd.http").error(line);
      else Poco::Logger::get("ocopd.http").notice(line);
      // An unread body would be taken for the next request on this
      // connection (and browsers see a reset): it is read away when it is
      // small and arriving; a big or stalled one would hold this thread, so
      // the connection is closed instead.
      bool unread_body = body_ == Body::kUnread && (req.getChunkedTransferEncoding() ||
                                                     (req.hasContentLength() && req.getContentLength64() > 0));
      if (body_ == Body::kBroken || (unread_body && (req.getChunkedTransferEncoding() || req.getContentLength64() > kMaxDrain)))
        resp.setKeepAlive(false);
      else if (unread_body && (options_.lingering_close || !Drain(req)))  // the client reads the error, not a reset
        resp.setKeepAlive(false);  // what was not drained must not be read as the next request
      if (retry_after_s_ > 0) resp.set("Retry-After", std::to_string(retry_after_s_));
      else if (s.code() == Code::kUnavailable) resp.set("Retry-After", "1");
      else if (s.code() == Code::kInsufficientStorage) resp.set("Retry-After", "600");
      if (!resp.sent()) Send(resp, StatusHttpCode(s.code()), ErrorBody(s, request_id_));
    }
  }

  // Reads and drops what is left of a refused body of at most kMaxDrain
  // bytes, so the client, still sending, receives the error instead of a
  // reset connection; false if it was not read to its end. A drain costs this
  // thread at most 15 s (a slow honest link sends 1 MB in about two minutes:
  // its connection is closed instead, and it sends again).
  static constexpr Poco::Int64 kMaxDrain = 1024 * 1024;
  static bool Drain(HTTPServerRequest& req) {
    std::string ignored;
    Status s = web::ReadBody(req, static_cast<size_t>(kMaxDrain), &ignored, web::BodyPace{3000, 3000, 512, 15000});
    return s.ok() && (!req.hasContentLength() || static_cast<Poco::Int64>(ignored.size()) == req.getContentLength64());
  }

 protected:
  virtual Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) = 0;

  // Reads the body within the size limits (`limit`, else the server's), at a
  // pace (web::BodyPace) and only with a slot of the body gate; inflates gzip
  // or zstd, and checks it is UTF-8.
  // A body cut short by the peer comes back as far as it came (a resumable
  // upload keeps it); one that stalls or trickles is refused whole (408): its
  // request may still be running when the device has already sent again, and
  // bytes appended then would move the offset under it.
  Status ReadBody(HTTPServerRequest& req, std::string* out, size_t limit = 0) {
    if (limit == 0) limit = options_.max_body_bytes;
    if (req.getContentLength() != HTTPServerRequest::UNKNOWN_CONTENT_LENGTH &&
        req.getContentLength64() > static_cast<Poco::Int64>(limit)) {
      return Status(Code::kPayloadTooLarge, "request body is larger than " + std::to_string(limit) + " bytes");
    }
    BodyGate::Slot slot;
    if (options_.body_gate &&
        !options_.body_gate->Enter(req.clientAddress().host().toString(), !authenticated_, &slot)) {
      retry_after_s_ = 2;
      return Status::Unavailable("the server is receiving too many request bodies at once; try again in a moment");
    }
    body_ = Body::kBroken;  // until it has arrived whole
    std::string raw;
    Status read = web::ReadBody(req, limit, &raw, options_.body_pace);
    if (read.ok()) body_ = Body::kComplete;
    if (!read.ok()) {
      if (read.code() == Code::kPayloadTooLarge)
        return Status(Code::kPayloadTooLarge, "request body is larger than " + std::to_string(limit) + " bytes");
      return read;
    }
    std::string enc = req.get("Content-Encoding", "");
    if (enc == "gzip") {
      Status s = sync::Gunzip(raw, options_.max_inflated_bytes, out);
      if (!s.ok()) return s;
    } else if (enc == "zstd") {
      Status s = sync::Unzstd(raw, options_.max_inflated_bytes, out);
      if (!s.ok()) return s;
    } else if (enc.empty() || enc == "identity") {
      *out = std::move(raw);
    } else {
      return Status::Invalid("unsupported Content-Encoding '" + enc + "' (use gzip, zstd or none)");
    }
    // A binary body is checked field by field when decoded (sync::ValidateChangeSet).
    bool binary = req.getContentType().find(sync::kBinaryContentType) != std::string::npos ||
                  req.getContentType().find(sync::kColumnsContentType) != std::string::npos ||
                  req.getContentType().find("application/octet-stream") != std::string::npos;
    if (!binary && !text::IsValidUtf8(*out)) return Status::Invalid("request body is not valid UTF-8");
    return Status::Ok();
  }

  Status ReadObject(HTTPServerRequest& req, Object::Ptr* out, size_t limit = 0) {
    std::string body;
    Status s = ReadBody(req, &body, limit);
    if (!s.ok()) return s;
    if (body.empty()) return Status::Invalid("request body is empty; expected a JSON object");
    return json::ParseObject(body, out);
  }

  Status Auth(HTTPServerRequest& req, AuthUser* user) {
    std::string h = req.get("Authorization", "");
    const std::string prefix = "Bearer ";
    if (h.compare(0, prefix.size(), prefix) == 0) {
      Status s = service_.Authenticate(h.substr(prefix.size()), user);
      authenticated_ = s.ok();
      if (s.ok()) account_ = user->name;
      return s;
    }
    std::string session = web::ReadCookie(req, kSessionCookie);
    if (session.empty()) return Status::Unauth("missing 'Authorization: Bearer <token>' header; log in first");
    // A cookie is sent by the browser whoever made the page: a change needs
    // the header only this origin's pages can compute.
    if (!web::CsrfOk(req, session))
      return Status::Denied("missing or wrong X-OCOP-CSRF header; reload the console page");
    Status s = service_.Authenticate(session, user);
    authenticated_ = s.ok();
    if (s.ok()) account_ = user->name;
    return s;
  }

  // Takes the body: compressed, its plain bytes are freed before the answer
  // travels, which on a slow link takes seconds.
  // An answer as it travels: compressed when the client reads zstd or gzip.
  struct Packed {
    std::string bytes, type, encoding;
  };
  // Takes the body: its plain bytes are freed once compressed.
  Packed Pack(std::string body, const std::string& type = "application/json; charset=utf-8") {
    Packed p{std::move(body), type, ""};
    if ((accepts_zstd_ || accepts_gzip_) && p.bytes.size() > 1024) {
      std::string z = accepts_zstd_ ? sync::Zstd(p.bytes) : sync::Gzip(p.bytes);
      p.bytes.swap(z);
      p.encoding = accepts_zstd_ ? "zstd" : "gzip";
    }
    return p;
  }
  // The binary or column encoding when the client asked for it, else JSON.
  // Takes the message: it is freed once encoded.
  template <class Message>
  Packed PackMessage(Message m) {
    std::string body, type = "application/json; charset=utf-8";
    if constexpr (requires { sync::EncodeColumns(m); }) {
      if (accepts_columns_) body = sync::EncodeColumns(m), type = sync::kColumnsContentType;
    }
    if (body.empty() && accepts_binary_) body = sync::EncodeBinary(m), type = sync::kBinaryContentType;
    if (body.empty()) body = sync::EncodeJson(m);
    m = Message();
    return Pack(std::move(body), type);
  }
  void Write(HTTPServerResponse& resp, int status, const Packed& p) {
    if (body_ == Body::kBroken) resp.setKeepAlive(false);  // what is left of a stalled body must not be read as a request
    resp.setStatus(static_cast<HTTPResponse::HTTPStatus>(status));
    resp.setContentType(p.type);
    if (!p.encoding.empty()) resp.set("Content-Encoding", p.encoding);
    resp.setContentLength64(static_cast<Poco::Int64>(p.bytes.size()));
    resp.send().write(p.bytes.data(), static_cast<std::streamsize>(p.bytes.size()));
  }
  void Send(HTTPServerResponse& resp, int status, std::string body,
            const std::string& type = "application/json; charset=utf-8") {
    Write(resp, status, Pack(std::move(body), type));
  }
  Status SendOk(HTTPServerResponse& resp, std::string body) {
    Send(resp, 200, std::move(body));
    return Status::Ok();
  }
  // Answers with the message (PackMessage). It and its plain encoding are
  // freed before the answer travels, which on a slow link takes seconds; a
  // pull page is a few MB.
  template <class Message>
  Status SendMessage(HTTPServerResponse& resp, Message m) {
    Write(resp, 200, PackMessage(std::move(m)));
    return Status::Ok();
  }

  // A resumed upload must continue at the byte the server has. Checked before
  // the body is read: the answer reaches the client while it is still
  // sending, so it stops at once instead of sending a chunk that is refused.
  static Status RefuseWrongOffset(HTTPServerResponse& resp, int64_t have, int64_t offset) {
    if (have < 0 || have == offset) return Status::Ok();
    resp.setKeepAlive(false);
    return Status::Precondition("upload continues at byte " + std::to_string(have) + ", not " + std::to_string(offset));
  }

  // Reads ?key=N (a non-negative integer) from the request's query.
  static Status QueryNumber(HTTPServerRequest& req, const std::string& key, int64_t* out) {
    std::string text;
    for (const auto& [k, v] : Poco::URI(req.getURI()).getQueryParameters())
      if (k == key) text = v;
    if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
      return Status::Invalid("this request needs ?" + key + "=N (a number of bytes)");
    *out = std::stoll(text);
    return Status::Ok();
  }

  // Reads a typed member of a request object, with a clear error.
  template <class T>
  static Status Member(const Object::Ptr& o, const std::string& key, bool required, T* out) {
    if (!o->has(key) || o->get(key).isEmpty()) {
      return required ? Status::Invalid("missing '" + key + "'") : Status::Ok();
    }
    json::Var v = o->get(key);
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.isString()) return Status::Invalid("'" + key + "' must be a string");
      *out = v.convert<std::string>();
    } else {
      if (!v.isInteger() || v.type() == typeid(bool)) return Status::Invalid("'" + key + "' must be an integer");
      Poco::Int64 n = v.convert<Poco::Int64>();
      if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) return Status::Invalid("'" + key + "' is out of range");
      *out = static_cast<T>(n);
    }
    return Status::Ok();
  }

  SyncService& service_;
  const ApiOptions& options_;
  ApiStats& stats_;
  bool accepts_gzip_ = false;
  bool accepts_zstd_ = false;
  bool accepts_binary_ = false;
  bool accepts_columns_ = false;
  std::string request_id_;
  int64_t retry_after_s_ = 0;  // set with a 429: when the client may try again
  // Whether the request's body was read: a refusal drains a small unread body
  // (keeping the connection), and closes the connection otherwise.
  enum class Body { kUnread, kComplete, kBroken } body_ = Body::kUnread;
  bool authenticated_ = false;  // a valid token or session came with the request
  std::string account_;         // whose, for the access log
};

// An endpoint for signed-in users: the bearer token is checked before
// HandleAs runs, once, here.
class AuthedApiHandler : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;

 protected:
  virtual Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& user) = 0;

 private:
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) final {
    AuthUser user;
    Status s = Auth(req, &user);
    if (!s.ok()) return s;
    return HandleAs(req, resp, user);
  }
};

// An endpoint about one record (or file), whose id is part of the path.
class RecordApiHandler : public AuthedApiHandler {
 public:
  RecordApiHandler(SyncService& s, const ApiOptions& o, ApiStats& st, std::string id)
      : AuthedApiHandler(s, o, st), id_(std::move(id)) {}

 protected:
  std::string id_;
};

// One audited field change as the API answers it (history, record detail).
inline Object::Ptr AuditToJson(const AuditRow& a) {
  Object::Ptr o = new Object;
  o->set("change_id", a.change_id);
  o->set("field", a.field);
  o->set("old", a.old_value);
  o->set("new", a.new_value);
  o->set("author", a.author);
  o->set("device", a.device);
  o->set("hlc", a.hlc);
  o->set("at", a.at);
  o->set("kind", a.kind);
  return o;
}


// A page face compiled into ocopd (the console, the phone app): its files and
// the shared toolkit's, with the strict security headers SendAsset sets. An
// empty `asset` is the face's root without its slash ("/app"), sent on to
// `root` ("/app/"): relative links and a service worker's scope need it.
class PageHandler final : public ApiHandler {
 public:
  PageHandler(SyncService& s, const ApiOptions& o, ApiStats& st, const char* root,
              const std::vector<embedded::File>& files, std::string asset, std::string csp = "")
      : ApiHandler(s, o, st), root_(root), files_(files), asset_(std::move(asset)), csp_(std::move(csp)) {}
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    if (asset_.empty()) {
      resp.set("Location", root_);
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_FOUND);
      resp.setContentLength(0);
      resp.send();
      return Status::Ok();
    }
    if (web::SendAsset(resp, {&web::CommonAssets(), &files_}, asset_, csp_, accepts_gzip_)) return Status::Ok();
    return Status::NotFound("no file " + asset_ + " under " + root_);
  }

 private:
  const char* root_;
  const std::vector<embedded::File>& files_;
  std::string asset_;
  std::string csp_;
};

}  // namespace ocop::server::http
