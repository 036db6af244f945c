#include "shared/web/pages.h"

#include <Poco/DeflatingStream.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <fstream>
#include <istream>
#include <ostream>

#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "shared/evaluation.h"
#include "shared/forms.h"
#include "shared/hash.h"
#include "shared/json.h"
#include "shared/messages.h"
#include "shared/workflow.h"

namespace ocop::web {

namespace common {
const std::vector<embedded::File>& Files();  // generated (cmake/ocop_embed.cmake)
}

const std::vector<embedded::File>& CommonAssets() { return common::Files(); }

std::string ContentType(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".webmanifest")) return "application/manifest+json";
  if (ends(".wasm")) return "application/wasm";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".csv")) return "text/csv; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  return "application/octet-stream";
}

std::string ContentSecurityPolicy(bool webassembly) {
  return std::string("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'") +
         (webassembly ? " 'wasm-unsafe-eval'" : "") +
         "; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
}

void AddSecurityHeaders(Poco::Net::HTTPServerResponse& resp) {
  resp.set("Content-Security-Policy", ContentSecurityPolicy(false));
  resp.set("X-Content-Type-Options", "nosniff");
  resp.set("X-Frame-Options", "DENY");
  resp.set("Referrer-Policy", "no-referrer");
  resp.set("Cache-Control", "no-store");
}

namespace {
// An embedded file gzip-compressed, once per process: embedded files live as
// long as the process, so their address is the key.
const std::string& Gzipped(const embedded::File& f) {
  static std::mutex mu;
  static std::map<const embedded::File*, std::string> packed;
  std::lock_guard<std::mutex> lock(mu);
  auto it = packed.find(&f);
  if (it != packed.end()) return it->second;
  std::ostringstream out;
  {
    Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
    deflate.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
    deflate.close();
  }
  return packed.emplace(&f, out.str()).first->second;
}
}  // namespace

bool SendAsset(Poco::Net::HTTPServerResponse& resp, const std::vector<const std::vector<embedded::File>*>& sets,
               const std::string& path, const std::string& csp, bool gzip) {
  for (const auto* set : sets)
    for (const auto& f : *set)
      if (f.path == path) {
        const std::string type = ContentType(path);
        const bool packs = gzip && f.content.size() > 1024 && type.rfind("image/", 0) != 0;
        if (packs) {
          resp.set("Content-Encoding", "gzip");
          resp.set("Vary", "Accept-Encoding");
        }
        SendText(resp, 200, type, packs ? Gzipped(f) : f.content, "", csp);
        return true;
      }
  return false;
}

void SendText(Poco::Net::HTTPServerResponse& resp, int http_status, const std::string& type, const std::string& body,
              const std::string& download_name, const std::string& csp) {
  AddSecurityHeaders(resp);
  if (!csp.empty()) resp.set("Content-Security-Policy", csp);
  resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(http_status));
  resp.setContentType(type);
  if (!download_name.empty()) resp.set("Content-Disposition", "attachment; filename=\"" + download_name + "\"");
  resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
  resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

void SendJson(Poco::Net::HTTPServerResponse& resp, int http_status, const std::string& body) {
  SendText(resp, http_status, "application/json", body);
}

void SendError(Poco::Net::HTTPServerResponse& resp, const Status& status, const std::string& field) {
  std::string f = field.empty() ? msg::FieldOfMessage(status.message()) : field;
  std::string body = "{\"error\":{\"code\":\"" + std::string(CodeName(status.code())) +
                     "\",\"message\":" + json::Quote(status.message()) +
                     ",\"message_vi\":" + json::Quote(msg::Localise(status, "vi")) +
                     ",\"message_en\":" + json::Quote(msg::Localise(status, "en")) + (f.empty() ? "" : ",\"field\":" + json::Quote(f)) +
                     "}}";
  SendJson(resp, StatusHttpCode(status.code()), body);
}

void SendFieldErrors(Poco::Net::HTTPServerResponse& resp, const std::vector<std::pair<std::string, Status>>& problems) {
  auto one = [](const std::string& field, const Status& s) {
    return "{\"code\":\"" + std::string(CodeName(s.code())) + "\",\"message\":" + json::Quote(s.message()) +
           ",\"message_vi\":" + json::Quote(msg::Localise(s, "vi")) + ",\"message_en\":" + json::Quote(msg::Localise(s, "en")) +
           ",\"field\":" + json::Quote(field) + "}";
  };
  if (problems.empty()) return;
  std::string all;
  for (const auto& [field, s] : problems) all += (all.empty() ? "" : ",") + one(field, s);
  const std::string first = one(problems[0].first, problems[0].second);
  SendJson(resp, StatusHttpCode(problems[0].second.code()),
           "{\"error\":" + first.substr(0, first.size() - 1) + ",\"errors\":[" + all + "]}}");
}

Status ReadBody(Poco::Net::HTTPServerRequest& req, size_t limit, std::string* out, const BodyPace& pace) {
  out->clear();
  if (req.hasContentLength() && req.getContentLength64() > static_cast<Poco::Int64>(limit))
    return Status(Code::kPayloadTooLarge, "the body is larger than " + std::to_string(limit / 1024) + " KB");
  // Each read waits at most pace.idle_ms for bytes (the server's socket
  // timeout is for whole requests); reads are small so the rate is checked often.
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&req);
  if (impl) impl->socket().setReceiveTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(pace.idle_ms) * 1000));
  auto started = std::chrono::steady_clock::now();
  std::istream& in = req.stream();
  char buf[16384];
  try {
    while (in) {
      in.read(buf, sizeof buf);
      out->append(buf, static_cast<size_t>(in.gcount()));
      if (out->size() > limit)
        return Status(Code::kPayloadTooLarge, "the body is larger than " + std::to_string(limit / 1024) + " KB");
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      if ((ms > pace.grace_ms && static_cast<double>(out->size()) < pace.min_bytes_per_s * static_cast<double>(ms) / 1000) ||
          (pace.deadline_ms > 0 && ms > pace.deadline_ms))
        return Status(Code::kRequestTimeout, "the request body arrived too slowly (" + std::to_string(out->size()) +
                                                 " bytes in " + std::to_string(ms / 1000) + " s); send it again");
    }
  } catch (const Poco::TimeoutException&) {
    return Status(Code::kRequestTimeout, "the request body stopped arriving (nothing for " +
                                             std::to_string(pace.idle_ms / 1000) + " s); send it again");
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("the connection broke while the body arrived: " + e.displayText());
  }
  // A body cut short (the link dropped) ends the stream early: what arrived is
  // returned, so a resumable upload keeps it; the caller checks the length.
  return Status::Ok();
}

std::string ReadCookie(const Poco::Net::HTTPServerRequest& req, const std::string& name) {
  Poco::Net::NameValueCollection cookies;
  req.getCookies(cookies);
  return cookies.get(name, "");
}

std::string SessionCookie(const std::string& name, const std::string& value, bool secure, int max_age_s) {
  std::string c = name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}

std::string CsrfToken(const std::string& session_secret) {
  return hash::Sha256Hex("ocop-csrf:" + session_secret).substr(0, 32);
}

bool CsrfOk(const Poco::Net::HTTPServerRequest& req, const std::string& session_secret) {
  const std::string& m = req.getMethod();
  if (m == "GET" || m == "HEAD") return true;
  return !session_secret.empty() && req.get("X-OCOP-CSRF", "") == CsrfToken(session_secret);
}

std::string RandomHex(size_t n) {
  std::ifstream r("/dev/urandom", std::ios::binary);
  std::string bytes(n, '\0');
  r.read(bytes.data(), static_cast<std::streamsize>(n));
  if (!r) throw std::runtime_error("cannot read /dev/urandom");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string FormsJson() {
  std::string out = "{\"forms\":[";
  bool first = true;
  for (const auto& name : FormCatalog::Default().Names()) {
    out += (first ? "" : ",") + FormCatalog::Default().Find(name)->source;
    first = false;
  }
  // Earlier versions still in use by records written with them: a record is
  // shown and edited with its own version (its fields' form_version).
  out += "],\"older\":[";
  first = true;
  for (const auto& name : FormCatalog::Default().Names()) {
    auto versions = FormCatalog::Default().Versions(name);
    for (size_t i = 0; i + 1 < versions.size(); ++i) {
      out += (first ? "" : ",") + versions[i]->source;
      first = false;
    }
  }
  // The criteria sheets, so the pages can lay a score sheet out as on paper.
  out += "],\"criteria\":{";
  first = true;
  for (const auto& id : evaluation::SheetIds()) {  // the embedded and the published ones
    out += (first ? "" : ",") + json::Quote(id) + ":" + evaluation::FindSheet(id)->source;
    first = false;
  }
  out += "},\"statuses\":{";
  std::set<std::string> statuses;
  for (const auto& name : FormCatalog::Default().Names())
    for (const auto& st : FormCatalog::Default().Find(name)->statuses) statuses.insert(st);
  first = true;
  for (const auto& k : statuses) {
    const Label& l = msg::StatusName(k);
    out += (first ? "" : ",") + json::Quote(k) + ":{\"vi\":" + json::Quote(l.vi) + ",\"en\":" + json::Quote(l.en) + "}";
    first = false;
  }
  // The decisions, so the phone app writes what a device writes (shared/workflow.h).
  return out + "},\"decisions\":" + workflow::DecisionsJson() + "}";
}

ByteRange ParseByteRange(const std::string& header, int64_t size, int64_t* first, int64_t* last) {
  const std::string unit = "bytes=";
  if (header.compare(0, unit.size(), unit) != 0 || header.find(',') != std::string::npos) return ByteRange::kWhole;
  std::string spec = header.substr(unit.size());
  size_t dash = spec.find('-');
  if (dash == std::string::npos) return ByteRange::kWhole;
  auto number = [](const std::string& digits, int64_t* out) {
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::stoll(digits);
    return true;
  };
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  int64_t x = 0, y = 0;
  if (a.empty()) {  // the last K bytes
    if (!number(b, &y)) return ByteRange::kWhole;
    if (y == 0 || size == 0) return ByteRange::kUnsatisfiable;
    *first = std::max<int64_t>(0, size - y);
    *last = size - 1;
    return ByteRange::kPart;
  }
  if (!number(a, &x) || (!b.empty() && !number(b, &y))) return ByteRange::kWhole;
  if (!b.empty() && y < x) return ByteRange::kWhole;
  if (x >= size) return ByteRange::kUnsatisfiable;
  *first = x;
  *last = b.empty() ? size - 1 : std::min(y, size - 1);
  return ByteRange::kPart;
}

}  // namespace ocop::web
