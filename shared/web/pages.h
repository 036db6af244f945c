// The one way both browser faces are served — `ocop ui` on the device and the
// console of `ocopd`: static pages compiled into the binary (no asset from
// outside), JSON answers in the API's error shape, strict security headers,
// cookie sessions with a CSRF header. Each face keeps its own routes; this is
// the HTTP edge they share. Thread-safe (no state).
#pragma once
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <vector>

#include "shared/embedded.h"
#include "shared/status.h"

namespace ocop::web {

// The pages and scripts both faces use (shared/web/assets/: ocop.css, ocop.js).
const std::vector<embedded::File>& CommonAssets();

// Content type from a file name's extension (text types in UTF-8).
std::string ContentType(const std::string& path);

// Headers every answer carries: a Content-Security-Policy that allows only this
// origin (no inline script, nothing fetched from elsewhere), no sniffing, no
// framing, no referrer.
void AddSecurityHeaders(Poco::Net::HTTPServerResponse& resp);
// That policy; `webassembly` lets the page compile WebAssembly (the phone
// app's rules), still with no inline script and no eval.
std::string ContentSecurityPolicy(bool webassembly);

// Sends an embedded file, or false when `path` names none of `sets`; `csp`
// replaces the default policy; `gzip` (the browser takes it) sends text
// compressed (the phone app's WebAssembly travels at a third of its size).
bool SendAsset(Poco::Net::HTTPServerResponse& resp, const std::vector<const std::vector<embedded::File>*>& sets,
               const std::string& path, const std::string& csp = "", bool gzip = false);
void SendJson(Poco::Net::HTTPServerResponse& resp, int http_status, const std::string& body);
// {"error": {"code", "message", "field"?}} with the status's HTTP code.
void SendError(Poco::Net::HTTPServerResponse& resp, const Status& status, const std::string& field = "");
// Several fields wrong at once (a form saved with many mistakes): 400 with the
// first as "error" and every one, each with its field, in "errors".
void SendFieldErrors(Poco::Net::HTTPServerResponse& resp, const std::vector<std::pair<std::string, Status>>& problems);
// `download_name` makes it an attachment; `csp` replaces the default policy.
void SendText(Poco::Net::HTTPServerResponse& resp, int http_status, const std::string& type, const std::string& body,
              const std::string& download_name = "", const std::string& csp = "");

// How a body must keep arriving: a client that stops, or trickles a byte now
// and then, would otherwise hold a server thread for as long as it likes.
// The floor is far below a 2G link (GPRS carries some 2,500 bytes a second),
// and a resumable upload sent again continues where it was.
struct BodyPace {
  int64_t idle_ms = 10000;         // no byte for this long: kRequestTimeout
  int64_t grace_ms = 10000;        // then the average must stay above:
  double min_bytes_per_s = 256;
  int64_t deadline_ms = 0;         // the whole body within this (0: no bound)
};

// Reads the body, refusing more than `limit` bytes (declared or sent), and a
// body that arrives slower than `pace` (kRequestTimeout, HTTP 408; *out then
// holds what did arrive). A body cut short by the peer is returned as far as
// it came.
Status ReadBody(Poco::Net::HTTPServerRequest& req, size_t limit, std::string* out, const BodyPace& pace = {});

// The value of cookie `name`, or "".
std::string ReadCookie(const Poco::Net::HTTPServerRequest& req, const std::string& name);
// A session cookie: HttpOnly, SameSite=Strict, Path=/, Secure when served over
// HTTPS. An empty value with max_age 0 deletes it.
std::string SessionCookie(const std::string& name, const std::string& value, bool secure, int max_age_s);

// The token a page must send in X-OCOP-CSRF with every request that changes
// something: derived from the session secret, which a page of another origin
// cannot read (HttpOnly cookie), so it cannot forge the header either.
std::string CsrfToken(const std::string& session_secret);
// True for GET/HEAD, or when X-OCOP-CSRF matches the session's token.
bool CsrfOk(const Poco::Net::HTTPServerRequest& req, const std::string& session_secret);

// The form schemas as the validator reads them (schemas/forms/*.json and the
// versions published since), and the status names in both languages:
// {"forms": [newest of each], "older": [earlier versions], "criteria": {...},
// "statuses": {...}}.
// Pages build their editors and views from this, so labels, limits and
// choices cannot drift from the checks.
std::string FormsJson();

// `n` random bytes from the OS, hex.
std::string RandomHex(size_t n);

// A Range request header over a resource of `size` bytes (RFC 9110 §14):
// "bytes=N-", "bytes=N-M" or "bytes=-K". kWhole: no usable single range (absent,
// several, another unit): send it all. kUnsatisfiable: 416.
enum class ByteRange { kWhole, kPart, kUnsatisfiable };
ByteRange ParseByteRange(const std::string& header, int64_t size, int64_t* first, int64_t* last);

}  // namespace ocop::web
