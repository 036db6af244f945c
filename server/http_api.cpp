#include "server/http_api.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <Poco/Logger.h>

#include <cstdio>
#include <ctime>
#include <istream>
#include <vector>

#include "shared/dates.h"
#include "shared/text.h"
#include "sync/codec.h"

namespace ocop::server {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using json::Object;

namespace {

std::string ErrorBody(const Status& s, const std::string& request_id) {
  return std::string("{\"error\":{\"code\":\"") + CodeName(s.code()) + "\",\"message\":" + json::Quote(s.message()) +
         ",\"request_id\":" + json::Quote(request_id) + "}}";
}

// Unique within a run and across restarts: the start time, then a counter.
std::string RequestId(uint64_t n) {
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
    accepts_binary_ = req.get("Accept", "").find(sync::kBinaryContentType) != std::string::npos;
    Status s;
    try {
      s = Handle(req, resp);
    } catch (const std::exception& e) {
      s = Status::Internal(std::string("unexpected error: ") + e.what());
    }
    if (!s.ok()) {
      ++stats_.errors;
      // Every refusal is logged with the request id the client was given, so
      // an officer's report ("request 5f3a-12 failed") leads to its reason.
      std::string line = "request " + request_id_ + " " + req.getMethod() + " " + req.getURI().substr(0, 200) +
                         " from " + req.clientAddress().host().toString() + ": " + CodeName(s.code()) + ": " +
                         s.message().substr(0, 500);
      if (s.code() == Code::kInternal) Poco::Logger::get("ocopd.http").error(line);
      else Poco::Logger::get("ocopd.http").notice(line);
      if (s.code() == Code::kPayloadTooLarge) Drain(req);
      if (retry_after_s_ > 0) resp.set("Retry-After", std::to_string(retry_after_s_));
      else if (s.code() == Code::kUnavailable) resp.set("Retry-After", "1");
      if (!resp.sent()) Send(resp, StatusHttpCode(s.code()), ErrorBody(s, request_id_));
    }
  }

  // Reads and drops what is left of a refused body (up to a bound), so the
  // client, still sending, receives the error instead of a reset connection.
  static void Drain(HTTPServerRequest& req) {
    char buf[65536];
    std::istream& in = req.stream();
    for (size_t total = 0; in && total < 8u * 1024 * 1024; total += static_cast<size_t>(in.gcount()))
      in.read(buf, sizeof buf);
  }

 protected:
  virtual Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) = 0;

  // Reads the body within the size limits, inflating gzip, and checks it is UTF-8.
  Status ReadBody(HTTPServerRequest& req, std::string* out) {
    if (req.getContentLength() != HTTPServerRequest::UNKNOWN_CONTENT_LENGTH &&
        req.getContentLength64() > static_cast<Poco::Int64>(options_.max_body_bytes)) {
      return Status(Code::kPayloadTooLarge, "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes");
    }
    std::string raw;
    std::istream& in = req.stream();
    char buf[65536];
    while (in) {
      in.read(buf, sizeof buf);
      raw.append(buf, static_cast<size_t>(in.gcount()));
      if (raw.size() > options_.max_body_bytes)
        return Status(Code::kPayloadTooLarge, "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes");
    }
    std::string enc = req.get("Content-Encoding", "");
    if (enc == "gzip") {
      Status s = sync::Gunzip(raw, options_.max_inflated_bytes, out);
      if (!s.ok()) return s;
    } else if (enc.empty() || enc == "identity") {
      *out = std::move(raw);
    } else {
      return Status::Invalid("unsupported Content-Encoding '" + enc + "' (use gzip or none)");
    }
    // A binary body is checked field by field when decoded (sync::ValidateChangeSet).
    bool binary = req.getContentType().find(sync::kBinaryContentType) != std::string::npos ||
                  req.getContentType().find("application/octet-stream") != std::string::npos;
    if (!binary && !text::IsValidUtf8(*out)) return Status::Invalid("request body is not valid UTF-8");
    return Status::Ok();
  }

  Status ReadObject(HTTPServerRequest& req, Object::Ptr* out) {
    std::string body;
    Status s = ReadBody(req, &body);
    if (!s.ok()) return s;
    if (body.empty()) return Status::Invalid("request body is empty; expected a JSON object");
    return json::ParseObject(body, out);
  }

  Status Auth(HTTPServerRequest& req, AuthUser* user) {
    std::string h = req.get("Authorization", "");
    const std::string prefix = "Bearer ";
    if (h.compare(0, prefix.size(), prefix) != 0) return Status::Unauth("missing 'Authorization: Bearer <token>' header; log in first");
    return service_.Authenticate(h.substr(prefix.size()), user);
  }

  void Send(HTTPServerResponse& resp, int status, const std::string& body,
            const std::string& type = "application/json; charset=utf-8") {
    resp.setStatus(static_cast<HTTPResponse::HTTPStatus>(status));
    resp.setContentType(type);
    if (accepts_gzip_ && body.size() > 1024) {
      std::string z = sync::Gzip(body);
      resp.set("Content-Encoding", "gzip");
      resp.setContentLength64(static_cast<Poco::Int64>(z.size()));
      resp.send().write(z.data(), static_cast<std::streamsize>(z.size()));
    } else {
      resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
      resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
    }
  }
  Status SendOk(HTTPServerResponse& resp, const std::string& body) {
    Send(resp, 200, body);
    return Status::Ok();
  }
  // Answers with the binary encoding when the client asked for it, else JSON.
  template <class Message>
  Status SendMessage(HTTPServerResponse& resp, const Message& m) {
    if (accepts_binary_) {
      Send(resp, 200, sync::EncodeBinary(m), sync::kBinaryContentType);
      return Status::Ok();
    }
    return SendOk(resp, sync::EncodeJson(m));
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
  bool accepts_binary_ = false;
  std::string request_id_;
  int64_t retry_after_s_ = 0;  // set with a 429: when the client may try again
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

class HealthHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    if (!service_.Healthy()) return Status::Unavailable("store is not answering");
    return SendOk(resp, "{\"status\":\"ok\",\"requests\":" + std::to_string(stats_.requests.load()) +
                            ",\"errors\":" + std::to_string(stats_.errors.load()) + "}");
  }
};

// The administrative units the server knows, as CSV: public data, so that a
// device can be set up for any commune of the imported official list.
class UnitsHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    Send(resp, 200, service_.units().ToCsv(), "text/csv; charset=utf-8");
    return Status::Ok();
  }
};

class LoginHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    Object::Ptr o;
    Status s = ReadObject(req, &o);
    if (!s.ok()) return s;
    std::string user, password, device;
    if (!(s = Member(o, "user", true, &user)).ok() || !(s = Member(o, "password", true, &password)).ok() ||
        !(s = Member(o, "device", false, &device)).ok())
      return s;
    LoginResult r;
    std::string address = req.clientAddress().host().toString();
    s = service_.Login(user, password, device, &r, address);
    if (s.code() == Code::kResourceExhausted) retry_after_s_ = (service_.LoginWaitMs(user, address) + 999) / 1000;
    if (!s.ok()) return s;
    Object out;
    out.set("token", r.token);
    out.set("expires_at", dates::IsoTimestamp(r.expires_ms));
    out.set("user", r.user);
    out.set("role", r.role);
    out.set("unit", r.unit);
    return SendOk(resp, json::ToText(out));
  }
};

class LogoutHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    std::string h = req.get("Authorization", "");
    if (h.rfind("Bearer ", 0) != 0) return Status::Unauth("missing bearer token");
    Status s = service_.Logout(h.substr(7));
    if (!s.ok()) return s;
    return SendOk(resp, "{}");
  }
};

class MeHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    Object out;
    out.set("user", u.name);
    out.set("role", u.role);
    out.set("unit", u.unit);
    return SendOk(resp, json::ToText(out));
  }
};

class PushHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    std::string body;
    s = ReadBody(req, &body);
    if (!s.ok()) return s;
    sync::ChangeSet cs;
    bool binary = req.getContentType().find(sync::kBinaryContentType) != std::string::npos;
    s = binary ? sync::DecodeBinary(body, &cs) : sync::DecodeJson(body, &cs);
    if (!s.ok()) return s;
    sync::PushResult r;
    s = service_.Push(u, cs, &r);
    if (!s.ok()) return s;
    return SendMessage(resp, r);
  }
};

// GET says how much of a change-set body has arrived; PUT ?offset=N&size=S
// appends raw bytes and, with the last byte, applies the change set and
// answers the push answer (docs/protocol.md, "Resumable push").
class PushBodyHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;  // id_ is the body's SHA-256
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    int64_t received = 0;
    Status s;
    if (req.getMethod() == "GET") {
      s = service_.PushBodyReceived(id_, &received);
      if (!s.ok()) return s;
      return SendOk(resp, "{\"received\":" + std::to_string(received) + "}");
    }
    int64_t offset = 0, size = 0;
    if (!(s = QueryNumber(req, "offset", &offset)).ok() || !(s = QueryNumber(req, "size", &size)).ok()) return s;
    if (!(s = service_.PushBodyReceived(id_, &received)).ok()) return s;
    if (received < size && !(s = RefuseWrongOffset(resp, received, offset)).ok()) return s;
    std::string bytes;
    s = ReadBody(req, &bytes);
    if (!s.ok()) return s;
    bool applied = false;
    sync::PushResult result;
    s = service_.AppendPushBody(u, id_, size, offset, bytes, &received, &applied, &result);
    if (!s.ok()) return s;
    if (applied) return SendMessage(resp, result);
    resp.set("X-Ocop-Received", std::to_string(received));
    Send(resp, 202, "{\"received\":" + std::to_string(received) + "}");
    return Status::Ok();
  }
};

class PullHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    Object::Ptr o;
    s = ReadObject(req, &o);
    if (!s.ok()) return s;
    PullRequest pr;
    if (!(s = Member(o, "since", false, &pr.since)).ok() || !(s = Member(o, "limit", false, &pr.limit)).ok() ||
        !(s = Member(o, "reserve_receipts", false, &pr.reserve_receipts)).ok() ||
        !(s = Member(o, "receipt_year", false, &pr.receipt_year)).ok() ||
        !(s = Member(o, "max_bytes", false, &pr.max_bytes)).ok())
      return s;
    sync::PullPage page;
    s = service_.Pull(u, pr, &page);
    if (!s.ok()) return s;
    return SendMessage(resp, page);
  }
};

Object::Ptr AuditToJson(const AuditRow& a) {
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

class HistoryHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    std::vector<AuditRow> rows;
    s = service_.History(u, id_, &rows);
    if (!s.ok()) return s;
    json::Array::Ptr arr = new json::Array;
    for (const auto& a : rows) arr->add(AuditToJson(a));
    Object out;
    out.set("record_id", id_);
    out.set("entries", arr);
    return SendOk(resp, json::ToText(out));
  }
};

Object::Ptr ConflictToJson(const ConflictRow& c) {
  Object::Ptr o = new Object;
  o->set("id", c.id);
  o->set("record_id", c.record_id);
  o->set("field", c.field);
  o->set("base", c.base_value);
  o->set("current", c.current_value);
  o->set("incoming", c.incoming_value);
  Object::Ptr cur = new Object;
  cur->set("author", c.current_author);
  cur->set("device", c.current_device);
  cur->set("change_id", c.current_change_id);
  o->set("current_by", cur);
  Object::Ptr inc = new Object;
  inc->set("author", c.incoming_author);
  inc->set("device", c.incoming_device);
  inc->set("change_id", c.incoming_change_id);
  inc->set("hlc", c.incoming_hlc);
  o->set("incoming_by", inc);
  o->set("created_at", c.created_at);
  return o;
}

class ConflictListHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    std::vector<ConflictRow> rows;
    s = service_.ListConflicts(u, &rows);
    if (!s.ok()) return s;
    json::Array::Ptr arr = new json::Array;
    for (const auto& c : rows) arr->add(ConflictToJson(c));
    Object out;
    out.set("conflicts", arr);
    return SendOk(resp, json::ToText(out));
  }
};

class ConflictShowHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    StoredRecord rec;
    std::vector<ConflictRow> rows;
    s = service_.ConflictsOf(u, id_, &rec, &rows);
    if (!s.ok()) return s;
    json::Array::Ptr arr = new json::Array;
    for (const auto& c : rows) arr->add(ConflictToJson(c));
    Object out;
    out.set("record_id", rec.id);
    out.set("form", rec.form);
    out.set("unit", rec.unit);
    out.set("fields", rec.fields);
    out.set("deleted", rec.deleted);
    out.set("conflicts", arr);
    return SendOk(resp, json::ToText(out));
  }
};

class ResolveHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    Object::Ptr o;
    s = ReadObject(req, &o);
    if (!s.ok()) return s;
    if (!o->has("decisions") || !o->isArray("decisions")) return Status::Invalid("missing 'decisions' (a list)");
    auto arr = o->getArray("decisions");
    std::vector<FieldResolution> decisions;
    for (size_t i = 0; i < arr->size(); ++i) {
      if (!arr->isObject(static_cast<unsigned>(i))) return Status::Invalid("each decision must be an object");
      auto d = arr->getObject(static_cast<unsigned>(i));
      FieldResolution fr;
      if (!(s = Member(d, "field", true, &fr.field)).ok() || !(s = Member(d, "take", true, &fr.take)).ok()) return s;
      if (fr.take == "value") {
        if (!d->has("value")) return Status::Invalid("decision for '" + fr.field + "' takes a value but gives none");
        fr.value = json::ToText(d->get("value"));
      }
      decisions.push_back(fr);
    }
    sync::RecordState rs;
    s = service_.Resolve(u, id_, decisions, &rs);
    if (!s.ok()) return s;
    Object out;
    out.set("record_id", rs.id);
    out.set("version", rs.version);
    out.set("fields", rs.fields);
    out.set("deleted", rs.deleted);
    return SendOk(resp, json::ToText(out));
  }
};

class UsersHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    if (!u.IsAdmin()) return Status::Denied("only administrators manage accounts");
    Object::Ptr o;
    s = ReadObject(req, &o);
    if (!s.ok()) return s;
    std::string name, role, unit, password;
    if (!(s = Member(o, "name", true, &name)).ok() || !(s = Member(o, "role", true, &role)).ok() ||
        !(s = Member(o, "unit", true, &unit)).ok() || !(s = Member(o, "password", true, &password)).ok())
      return s;
    if (!service_.units().IsWithin(unit, u.unit)) return Status::Denied("unit " + unit + " is outside your scope");
    s = service_.AddUser(name, role, unit, password);
    if (!s.ok()) return s;
    return SendOk(resp, "{\"created\":" + json::Quote(name) + "}");
  }
};

// POST starts or resumes an upload, PUT ?offset=N appends a chunk, GET reads.
class FileHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;  // id_ is the SHA-256
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    if (req.getMethod() == "GET") {
      std::string content;
      s = service_.ReadFile(u, id_, &content);
      if (!s.ok()) return s;
      Send(resp, 200, content, "application/octet-stream");
      return Status::Ok();
    }
    int64_t received = 0, size = 0;
    if (req.getMethod() == "POST") {
      Object::Ptr o;
      s = ReadObject(req, &o);
      if (!s.ok()) return s;
      std::string record_id;
      if (!(s = Member(o, "size", true, &size)).ok() || !(s = Member(o, "record_id", true, &record_id)).ok()) return s;
      s = service_.BeginUpload(u, id_, size, record_id, &received);
    } else {
      int64_t offset = 0;
      s = QueryNumber(req, "offset", &offset);
      if (!s.ok()) return s;
      s = RefuseWrongOffset(resp, service_.FileReceived(id_), offset);
      if (!s.ok()) return s;
      std::string bytes;
      s = ReadBody(req, &bytes);
      if (!s.ok()) return s;
      // A connection cut mid-chunk leaves a short body: what arrived is kept
      // (the SHA-256 is checked when the file is complete), so the client
      // continues from the byte the link dropped at.
      s = service_.AppendUpload(u, id_, offset, bytes, &received, &size);
    }
    if (!s.ok()) return s;
    return SendOk(resp, "{\"received\":" + std::to_string(received) + ",\"size\":" + std::to_string(size) +
                            ",\"complete\":" + (received == size ? "true" : "false") + "}");
  }
};

class ErrorHandler final : public ApiHandler {
 public:
  ErrorHandler(SyncService& s, const ApiOptions& o, ApiStats& st, Status error)
      : ApiHandler(s, o, st), error_(std::move(error)) {}
  Status Handle(HTTPServerRequest&, HTTPServerResponse&) override { return error_; }

 private:
  Status error_;
};

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

}  // namespace

Poco::Net::HTTPRequestHandler* ApiRouter::createRequestHandler(const HTTPServerRequest& req) {
  std::string path;
  try {
    path = Poco::URI(req.getURI()).getPath();
  } catch (const Poco::Exception&) {
    return new ErrorHandler(service_, options_, stats_, Status::Invalid("malformed request URI"));
  }
  const std::string& m = req.getMethod();
  auto seg = Segments(path);
  auto method_is = [&](const char* want) { return m == want; };
  auto wrong_method = [&]() {
    return new ErrorHandler(service_, options_, stats_,
                            Status(Code::kInvalidArgument, "method " + m + " is not allowed on " + path));
  };
  if (seg.size() == 1 && seg[0] == "healthz") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new HealthHandler(service_, options_, stats_)) : wrong_method();
  if (seg.size() >= 2 && seg[0] == "v1") {
    const std::string& r = seg[1];
    if (seg.size() == 2 && r == "units") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new UnitsHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "login") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new LoginHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "logout") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new LogoutHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "me") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new MeHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "push") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new PushHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 3 && r == "push")
      return (m == "GET" || m == "PUT") ? static_cast<HTTPRequestHandler*>(new PushBodyHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 2 && r == "pull") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new PullHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "users") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new UsersHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 4 && r == "records" && seg[3] == "history")
      return method_is("GET") ? static_cast<HTTPRequestHandler*>(new HistoryHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 3 && r == "files")
      return (m == "GET" || m == "POST" || m == "PUT") ? static_cast<HTTPRequestHandler*>(new FileHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 2 && r == "conflicts") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new ConflictListHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 3 && r == "conflicts") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new ConflictShowHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 4 && r == "conflicts" && seg[3] == "resolve")
      return method_is("POST") ? static_cast<HTTPRequestHandler*>(new ResolveHandler(service_, options_, stats_, seg[2])) : wrong_method();
  }
  return new ErrorHandler(service_, options_, stats_, Status::NotFound("no endpoint " + m + " " + path));
}

}  // namespace ocop::server
