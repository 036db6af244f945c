#include "server/http/http_api.h"

#include <malloc.h>

#include <sstream>

#include "server/http/api_handler.h"
#include "server/http/app_pages.h"
#include "server/http/console_api.h"

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
#include "shared/messages.h"
#include "shared/text.h"
#include "sync/codec.h"
#include "sync/columns.h"

namespace ocop::server {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using json::Object;
using http::ApiHandler;
using http::AuthedApiHandler;
using http::RecordApiHandler;
using http::AuditToJson;

namespace {

class HealthHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    if (!service_.Healthy()) return Status::Unavailable("store is not answering");
    return SendOk(resp, "{\"status\":\"ok\",\"requests\":" + std::to_string(stats_.requests.load()) +
                            ",\"errors\":" + std::to_string(stats_.errors.load()) + "}");
  }
};

// Prometheus' text format: the edge's requests and latency, change sets,
// conflicts, unfinished uploads, free disk, the store's size. For the
// machine itself (a scraper on loopback or behind the proxy) or an administrator.
class MetricsHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    if (!req.clientAddress().host().isLoopback()) {
      AuthUser u;
      Status s = Auth(req, &u);
      if (!s.ok()) return s;
      if (!u.IsAdmin()) return Status::Denied("/metrics is for administrators (or a scraper on this machine)");
    }
    std::ostringstream out;
    stats_.metrics.Render(out);
    out << "# HELP ocop_changesets_total Change sets pushed since start, by outcome.\n"
           "# TYPE ocop_changesets_total counter\n"
        << "ocop_changesets_total{outcome=\"applied\"} " << service_.changesets_applied() << "\n"
        << "ocop_changesets_total{outcome=\"refused\"} " << service_.changesets_refused() << "\n";
    std::vector<ConflictRow> conflicts;
    if (service_.OpenConflictCount(&conflicts).ok())
      out << "# HELP ocop_open_conflicts Conflicts waiting for an administrator.\n# TYPE ocop_open_conflicts gauge\n"
          << "ocop_open_conflicts " << conflicts.size() << "\n";
    auto uploads = service_.uploads().All();
    out << "# HELP ocop_unfinished_uploads Uploads begun and not finished (photos, change-set bodies).\n"
           "# TYPE ocop_unfinished_uploads gauge\nocop_unfinished_uploads "
        << uploads.uploads << "\n# HELP ocop_unfinished_upload_bytes Their declared bytes.\n"
           "# TYPE ocop_unfinished_upload_bytes gauge\nocop_unfinished_upload_bytes "
        << uploads.bytes << "\n";
    out << "# HELP ocop_disk_free_bytes Free bytes where the store and the files are.\n# TYPE ocop_disk_free_bytes gauge\n";
    for (const auto& [dir, free] : service_.FreeSpace())
      if (free >= 0) out << "ocop_disk_free_bytes{dir=\"" << dir << "\"} " << free << "\n";
    if (options_.store_bytes)
      out << "# HELP ocop_store_bytes The store's size on disk.\n# TYPE ocop_store_bytes gauge\nocop_store_bytes "
          << options_.store_bytes() << "\n";
    Send(resp, 200, out.str(), "text/plain; version=0.0.4; charset=utf-8");
    return Status::Ok();
  }
};

// The administrative units the server knows, as CSV: public data, so that a
// device can be set up for any commune of the imported official list.
class UnitsHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    resp.set("X-Ocop-Units", service_.UnitsVersion());
    Send(resp, 200, service_.Units()->ToCsv(), "text/csv; charset=utf-8");
    return Status::Ok();
  }
};

// The definitions published over the built-in ones (form versions, criteria
// sheets, catalogue corrections), each as its file: public like the unit
// list; a device fetches them when the version in a pull answer
// (X-Ocop-Definitions) is not the one it holds.
class DefinitionsHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    resp.set("X-Ocop-Definitions", service_.DefinitionsVersion());
    return SendOk(resp, service_.PublishedDefinitionsJson());
  }
};

class LoginHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    Object::Ptr o;
    Status s = ReadObject(req, &o, http::kMaxLoginBody);
    if (!s.ok()) return s;
    std::string user, password, device, device_key;
    if (!(s = Member(o, "user", true, &user)).ok() || !(s = Member(o, "password", true, &password)).ok() ||
        !(s = Member(o, "device", false, &device)).ok() || !(s = Member(o, "device_key", false, &device_key)).ok())
      return s;
    LoginResult r;
    std::string address = req.clientAddress().host().toString();
    s = service_.Login(user, password, device, &r, address, 0, device_key);
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
    SyncService::InHand in_hand(service_, SyncService::InHand::kPush);
    sync::ChangeSet cs;
    bool binary = req.getContentType().find(sync::kBinaryContentType) != std::string::npos;
    bool columns = req.getContentType().find(sync::kColumnsContentType) != std::string::npos;
    s = columns ? sync::DecodeColumns(body, &cs) : binary ? sync::DecodeBinary(body, &cs) : sync::DecodeJson(body, &cs);
    if (!s.ok()) return s;
    sync::PushResult r;
    body.clear();
    body.shrink_to_fit();
    s = service_.Push(u, std::move(cs), &r);
    if (!s.ok()) return s;
    return SendMessage(resp, std::move(r));
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
    if (applied) {
      bytes.clear();
      bytes.shrink_to_fit();
      // A change set of thousands of forms leaves megabytes of small freed
      // blocks behind; they go back to the system now rather than holding the
      // server's resident memory up for the requests that follow.
      malloc_trim(0);
      return SendMessage(resp, std::move(result));
    }
    resp.set("X-Ocop-Received", std::to_string(received));
    Send(resp, 202, "{\"received\":" + std::to_string(received) + "}");
    return Status::Ok();
  }
};

// A compressed answer this large came from a page of a thousand records or so.
constexpr size_t kTrimAfterBytes = 64 * 1024;

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
        !(s = Member(o, "max_bytes", false, &pr.max_bytes)).ok() ||
        !(s = Member(o, "patch_since", false, &pr.patch_since)).ok())
      return s;
    Packed answer;
    {
      SyncService::InHand in_hand(service_, SyncService::InHand::kPage);
      sync::PullPage page;
      s = service_.Pull(u, pr, &page);
      if (!s.ok()) return s;
      answer = PackMessage(std::move(page));
    }
    // A page of thousands of records leaves megabytes of small freed blocks
    // behind, as a change set does: back to the system before the next.
    if (answer.bytes.size() > kTrimAfterBytes) malloc_trim(0);
    resp.set("X-Ocop-Units", service_.UnitsVersion());
    if (std::string defs = service_.DefinitionsVersion(); !defs.empty()) resp.set("X-Ocop-Definitions", defs);
    Write(resp, 200, answer);
    return Status::Ok();
  }
};

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
    // Each conflict with what its record is (form, commune, title), so the
    // queue names products and communes, not ids.
    std::map<std::string, Object::Ptr> records;
    json::Array::Ptr arr = new json::Array;
    for (const auto& c : rows) {
      Object::Ptr o = ConflictToJson(c);
      auto it = records.find(c.record_id);
      if (it == records.end()) {
        StoredRecord rec;
        std::vector<ConflictRow> ignored;
        Object::Ptr about;
        if (service_.ConflictsOf(u, c.record_id, &rec, &ignored).ok()) about = RecordAbout(rec);
        it = records.emplace(c.record_id, about).first;
      }
      if (it->second) o->set("record", it->second);
      arr->add(o);
    }
    Object out;
    out.set("conflicts", arr);
    return SendOk(resp, json::ToText(out));
  }

  Object::Ptr RecordAbout(const StoredRecord& rec) {
    Object::Ptr about = new Object;
    about->set("form", rec.form);
    about->set("unit", rec.unit);
    const Unit* unit = service_.Units()->Find(rec.unit);
    about->set("unit_name", unit ? unit->name : rec.unit);
    Object::Ptr fields;
    const FormSchema* schema = FormCatalog::Default().Find(rec.form);
    about->set("title", schema && json::ParseObject(rec.fields, &fields).ok() ? RecordTitleOf(*schema, *fields, "vi") : "");
    about->set("title_en", schema && fields ? RecordTitleOf(*schema, *fields, "en") : "");
    return about;
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
    const Unit* unit = service_.Units()->Find(rec.unit);
    out.set("unit_name", unit ? unit->name : rec.unit);
    Object::Ptr parsed;
    const FormSchema* schema = FormCatalog::Default().Find(rec.form);
    out.set("title", schema && json::ParseObject(rec.fields, &parsed).ok() ? RecordTitleOf(*schema, *parsed, "vi") : "");
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

// GET lists the accounts of the caller's scope; POST creates one.
class UsersHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    if (req.getMethod() == "GET") {
      std::vector<UserRow> rows;
      s = service_.ListUsers(u, &rows);
      if (!s.ok()) return s;
      auto units = service_.Units();
      json::Array::Ptr arr = new json::Array;
      for (const auto& r : rows) {
        Object::Ptr o = new Object;
        o->set("name", r.name);
        o->set("role", r.role);
        o->set("unit", r.unit);
        const Unit* unit = units->Find(r.unit);
        o->set("unit_name", unit ? unit->name : r.unit);
        o->set("disabled", r.disabled);
        arr->add(o);
      }
      Object out;
      out.set("users", arr);
      return SendOk(resp, json::ToText(out));
    }
    if (!u.IsAdmin()) return Status::Denied("only administrators manage accounts");
    Object::Ptr o;
    s = ReadObject(req, &o);
    if (!s.ok()) return s;
    std::string name, role, unit, password;
    if (!(s = Member(o, "name", true, &name)).ok() || !(s = Member(o, "role", true, &role)).ok() ||
        !(s = Member(o, "unit", true, &unit)).ok() || !(s = Member(o, "password", true, &password)).ok())
      return s;
    // Every mistake of the form at once, each by its member.
    SyncService::AccountProblems problems;
    s = service_.CheckNewAccount(&u, name, role, unit, password, &problems);
    if (!s.ok()) return s;
    if (!problems.empty()) {
      web::SendFieldErrors(resp, problems);
      return Status::Ok();
    }
    s = service_.AddUserAs(u, name, role, unit, password);
    if (!s.ok()) return s;
    return SendOk(resp, "{\"created\":" + json::Quote(name) + "}");
  }
};

// Bytes that never change under one SHA-256, which is their ETag: a device
// whose link was cut asks for the rest (Range, with If-Range on the ETag) and
// gets 206 with Content-Range; a Range the bytes cannot meet gets 416, and an
// If-Range naming other bytes gets them whole (200).
void SendRanged(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& content, const std::string& sha) {
  const std::string etag = "\"" + sha + "\"";
  resp.set("ETag", etag);
  resp.set("Accept-Ranges", "bytes");
  const int64_t size = static_cast<int64_t>(content.size());
  int64_t first = 0, last = size - 1;
  std::string if_range = req.get("If-Range", "");
  web::ByteRange range = req.has("Range") && (if_range.empty() || if_range == etag)
                             ? web::ParseByteRange(req.get("Range"), size, &first, &last)
                             : web::ByteRange::kWhole;
  int status = 200;
  if (range == web::ByteRange::kUnsatisfiable) {
    resp.set("Content-Range", "bytes */" + std::to_string(size));
    status = 416;
    first = 0, last = -1;
  } else if (range == web::ByteRange::kPart) {
    resp.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
    status = 206;
  }
  resp.setStatus(static_cast<HTTPResponse::HTTPStatus>(status));
  resp.setContentType("application/octet-stream");
  resp.setContentLength64(last - first + 1);
  resp.send().write(content.data() + first, static_cast<std::streamsize>(last - first + 1));
}

// POST starts or resumes an upload, PUT ?offset=N appends a chunk, GET reads.
class FileHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;  // id_ is the SHA-256
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    Status s;
    if (req.getMethod() == "GET") {
      std::string content;
      s = service_.ReadFile(u, id_, &content);
      if (!s.ok()) return s;
      // Photos are compressed already: sent as they are, so ranges are bytes of the file.
      SendRanged(req, resp, content, id_);
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

// A device's carried file of changes (sync/carried.h), brought by a
// signed-in user whose scope covers it: applied as the device that wrote it.
class CarriedHandler final : public AuthedApiHandler {
  using AuthedApiHandler::AuthedApiHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    std::string bytes;
    Status s = web::ReadBody(req, kMaxCarriedUpload, &bytes);
    if (!s.ok()) return s;
    CarriedImport result;
    s = service_.ImportCarried(bytes, &u, &result);
    if (!s.ok()) return s;
    json::Array::Ptr sets = new json::Array;
    for (const auto& set : result.sets) {
      Object::Ptr o = new Object;
      o->set("changeset_id", set.changeset_id);
      if (set.status.ok()) {
        Object::Ptr counts = new Object;
        for (const auto& oc : set.result.outcomes)
          counts->set(oc.result, counts->optValue<int64_t>(oc.result, 0) + 1);
        o->set("outcomes", counts);
      } else {
        o->set("refused", set.status.message());
        o->set("refused_vi", msg::Localise(set.status, "vi"));
        o->set("refused_en", msg::Localise(set.status, "en"));
      }
      sets->add(o);
    }
    Object out;
    out.set("device", result.device);
    out.set("user", result.user);
    out.set("unit", result.unit);
    out.set("change_sets", sets);
    out.set("photos_stored", result.photos_stored);
    out.set("photos_refused", result.photos_refused);
    return SendOk(resp, json::ToText(out));
  }
  static constexpr size_t kMaxCarriedUpload = 64 * 1024 * 1024;
};

// GET /v1/return/{device}?since=N: the device's return file, for a signed-in
// user whose scope covers it to carry (a coordinator's laptop at the district).
class ReturnFileHandler final : public RecordApiHandler {
  using RecordApiHandler::RecordApiHandler;  // id_ is the device id
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    int64_t since = 0;
    std::string text;
    for (const auto& [k, v] : Poco::URI(req.getURI()).getQueryParameters())
      if (k == "since") text = v;
    if (!text.empty()) {
      Status q = QueryNumber(req, "since", &since);
      if (!q.ok()) return q;
    }
    // A coordinator's link that was cut asks for the rest of the same file:
    // If-Range names it by its SHA-256, and the server keeps it a day.
    std::string if_range = req.get("If-Range", ""), wanted;
    if (req.has("Range") && if_range.size() == 66 && if_range.front() == '"' && if_range.back() == '"')
      wanted = if_range.substr(1, 64);
    std::string bytes, sha;
    Status s = service_.ReturnFile(id_, since, u, wanted, &bytes, &sha);
    if (!s.ok()) return s;
    SendRanged(req, resp, bytes, sha);
    return Status::Ok();
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
  if (review_) {
    if (auto* h = CreateConsoleHandler(path, seg, m, service_, *review_, options_, stats_)) return h;
  }
  if (auto* h = CreateAppHandler(path, seg, m, service_, options_, stats_)) return h;
  if (seg.size() == 1 && seg[0] == "healthz") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new HealthHandler(service_, options_, stats_)) : wrong_method();
  if (seg.size() == 1 && seg[0] == "metrics") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new MetricsHandler(service_, options_, stats_)) : wrong_method();
  if (seg.size() >= 2 && seg[0] == "v1") {
    const std::string& r = seg[1];
    if (seg.size() == 2 && r == "units") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new UnitsHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "definitions")
      return method_is("GET") ? static_cast<HTTPRequestHandler*>(new DefinitionsHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "login") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new LoginHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "logout") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new LogoutHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "me") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new MeHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "push") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new PushHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 3 && r == "push")
      return (m == "GET" || m == "PUT") ? static_cast<HTTPRequestHandler*>(new PushBodyHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 3 && r == "return") return method_is("GET") ? static_cast<HTTPRequestHandler*>(new ReturnFileHandler(service_, options_, stats_, seg[2])) : wrong_method();
    if (seg.size() == 2 && r == "carried") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new CarriedHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "pull") return method_is("POST") ? static_cast<HTTPRequestHandler*>(new PullHandler(service_, options_, stats_)) : wrong_method();
    if (seg.size() == 2 && r == "users") return (m == "GET" || m == "POST") ? static_cast<HTTPRequestHandler*>(new UsersHandler(service_, options_, stats_)) : wrong_method();
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
