#include "client/http_client.h"

#include <strings.h>

#include <string_view>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <thread>

#include "shared/json.h"
#include "sync/codec.h"

namespace ocop::client {

namespace {
struct Received {
  std::string body;
  std::string content_encoding;
  std::string content_type;
  std::string encodings;  // X-OCOP-Encodings: what the server reads besides gzip and the binary encoding
  std::string retry_after;
  std::string units_version;  // X-Ocop-Units: the version of the server's unit list
  std::string definitions_version;  // X-Ocop-Definitions: the version of the definitions it published
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<Received*>(user)->body.append(data, size * n);
  return size * n;
}

// The value of the header `key` ("name:", lower case) in one header line,
// trimmed, into *out; nothing when the line is another header's.
void HeaderValue(const std::string& line, std::string_view key, std::string* out) {
  if (line.size() < key.size() || strncasecmp(line.c_str(), key.data(), key.size()) != 0) return;
  size_t b = line.find_first_not_of(" \t", key.size()), e = line.find_last_not_of(" \t\r\n");
  *out = b == std::string::npos || e < b ? "" : line.substr(b, e - b + 1);
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* rec = static_cast<Received*>(user);
  // These are compared as tokens: case does not matter, so it is dropped.
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"content-encoding:", &rec->content_encoding},
                          {"content-type:", &rec->content_type},
                          {"x-ocop-encodings:", &rec->encodings},
                          {"retry-after:", &rec->retry_after},
                          {"x-ocop-units:", &rec->units_version},
                          {"x-ocop-definitions:", &rec->definitions_version}}) {
    std::string v;
    HeaderValue(line, key, &v);
    if (v.empty()) continue;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    *out = v;
  }
  return size * n;
}

int OnTransfer(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* watch = static_cast<HttpClient::TransferWatch*>(user);
  return (*watch)(static_cast<int64_t>(ulnow), static_cast<int64_t>(dlnow)) ? 0 : 1;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};
}  // namespace

HttpClient::HttpClient(std::string base_url, HttpOptions options) : base_url_(std::move(base_url)), options_(options) {
  static CurlGlobal global;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status HttpClient::Call(const std::string& method, const std::string& path, const std::string& body,
                        std::string* response) {
  std::string type;
  return Call(method, path, body, "application/json", "application/json", response, &type);
}

Status HttpClient::Call(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type, const std::string& accept, std::string* response,
                        std::string* response_type) {
  long delay = options_.backoff_initial_ms;
  Status last;
  cancelled_ = false;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    bool retryable = false;
    last = Once(method, path, body, content_type, accept, response, response_type, &retryable);
    if (last.ok() || !retryable || cancelled_) return last;
    if (attempt < options_.max_attempts) {
      // A busy server says how long to wait (429, 503): never less than that.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(delay, last_retry_after_s_ * 1000)));
      delay = std::min(delay * 2, options_.backoff_max_ms);
    }
  }
  return last;
}

// Timeouts that suit slow links, Ctrl-C, and TLS verified always.
void HttpClient::CommonOptions(void* handle) {
  CURL* c = static_cast<CURL*>(handle);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (watch_) {
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnTransfer);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &watch_);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  // HTTPS: always verify the server (peer and name) against the system store
  // or the CA given at `ocop init --ca FILE`.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
}

Status HttpClient::Once(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type, const std::string& accept, std::string* response,
                        std::string* response_type, bool* retryable) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Internal("libcurl failed to initialise");
  curl_easy_reset(c);
  std::string url = base_url_ + path;
  Received rec;
  std::string payload = body;
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
  headers = curl_slist_append(headers, "Accept-Encoding: zstd, gzip");
  headers = curl_slist_append(headers, "Expect:");
  if (!token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
  // Photos are compressed already; compress only the messages: zstd when the
  // server said it reads it, gzip otherwise.
  if (payload.size() >= options_.gzip_threshold && content_type != "application/octet-stream") {
    bool zstd = PeerReads("zstd");
    payload = zstd ? sync::Zstd(body) : sync::Gzip(body);
    headers = curl_slist_append(headers, zstd ? "Content-Encoding: zstd" : "Content-Encoding: gzip");
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &rec);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &rec);
  CommonOptions(c);
  ++stats_.requests;
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_off_t up = 0, down = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
  stats_.bytes_sent += up;
  stats_.bytes_received += down;
  last_received_ = down;
  last_status_ = 0;
  last_retry_after_s_ = 0;
  last_units_version_.clear();
  last_definitions_version_.clear();
  static const bool trace = std::getenv("OCOP_HTTP_TRACE") != nullptr;
  if (trace) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    std::fprintf(stderr, "ocop: %s %s: %ld, %lld bytes up, %lld down%s%s\n", method.c_str(), path.c_str(), code,
                 static_cast<long long>(up), static_cast<long long>(down), rc == CURLE_OK ? "" : ", ",
                 rc == CURLE_OK ? "" : curl_easy_strerror(rc));
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    cancelled_ = true;
    return Status::Unavailable("stopped by the user");
  }
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
    // Not a link problem: retrying would fail the same way, and nothing was sent.
    return Status::Denied("the server " + base_url_ + " is not who it claims to be, or its certificate is not trusted (" +
                          curl_easy_strerror(rc) + "); give the CA that signed it with `ocop init --server URL --ca FILE`");
  }
  if (rc != CURLE_OK) {
    *retryable = true;
    return Status::Unavailable(std::string("no connection to ") + base_url_ + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  last_status_ = status;
  // Seconds only (the server never sends a date); bounded, so a wrong header cannot park a device for days.
  if (!rec.retry_after.empty() && rec.retry_after.size() < 8 &&
      rec.retry_after.find_first_not_of("0123456789") == std::string::npos)
    last_retry_after_s_ = std::min<int64_t>(std::stoll(rec.retry_after), 3600);
  peer_encodings_ = rec.encodings;  // every answer says it again (a server may be replaced by an older one)
  if (rec.units_version.size() <= 64) last_units_version_ = rec.units_version;
  if (rec.definitions_version.size() <= 64) last_definitions_version_ = rec.definitions_version;
  std::string text;
  if (rec.content_encoding == "gzip" || rec.content_encoding == "zstd") {
    // A page is at most a few MB; an answer inflating past 128 MB is not ours to hold.
    Status s = rec.content_encoding == "gzip" ? sync::Gunzip(rec.body, 128 * 1024 * 1024, &text)
                                              : sync::Unzstd(rec.body, 128 * 1024 * 1024, &text);
    if (!s.ok()) {
      *retryable = true;
      return Status::Unavailable("server answer was cut short: " + s.message());
    }
  } else {
    text = std::move(rec.body);
  }
  if (status >= 200 && status < 300) {
    *response = std::move(text);
    *response_type = rec.content_type;
    return Status::Ok();
  }
  return AnswerError(status, text, retryable);
}

Status HttpClient::AnswerError(long status, const std::string& text, bool* retryable) {
  // 507: the server's disk is full. Sending again now would only fill the link.
  *retryable = (status >= 500 && status != 507) || status == 429 || status == 408;
  // The server's error body says what was wrong.
  json::Object::Ptr o;
  Code code = status == 401 ? Code::kUnauthenticated
              : status == 403 ? Code::kPermissionDenied
              : status == 404 ? Code::kNotFound
              : status >= 500 ? Code::kUnavailable
                              : Code::kInvalidArgument;
  std::string message = "server answered HTTP " + std::to_string(status);
  if (json::ParseObject(text, &o).ok() && o->has("error") && o->isObject("error")) {
    auto e = o->getObject("error");
    Code named;
    if (CodeFromName(e->optValue<std::string>("code", ""), &named)) code = named;
    message = e->optValue<std::string>("message", message);
  }
  if (status >= 500 || status == 408) code = status == 507 ? Code::kInsufficientStorage : Code::kUnavailable;
  return Status(code, message);
}

namespace {
// Where a download's body goes: the partial file when the answer is the
// file (200 or 206), else a bounded string for the error message.
struct DownloadSink {
  CURL* curl = nullptr;
  FILE* file = nullptr;
  bool decided = false, to_file = false;
  bool restart = false;  // 200 to a ranged request: the whole file comes again
  std::string error_body;
  int64_t written = 0;
  bool write_failed = false;
  std::string etag;  // of the answer, when it names one
};

size_t OnDownloadHeader(char* data, size_t size, size_t n, void* user) {
  HeaderValue(std::string(data, size * n), "etag:", &static_cast<DownloadSink*>(user)->etag);  // its case kept
  return size * n;
}

size_t OnDownload(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<DownloadSink*>(user);
  if (!sink->decided) {
    long code = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &code);
    sink->decided = true;
    sink->to_file = code == 200 || code == 206;
    if (code == 200 && sink->restart && (std::fflush(sink->file) != 0 || ftruncate(fileno(sink->file), 0) != 0)) {
      sink->write_failed = true;
      return 0;
    }
  }
  if (!sink->to_file) {
    if (sink->error_body.size() < 64 * 1024) sink->error_body.append(data, size * n);
    return size * n;
  }
  if (std::fwrite(data, 1, size * n, sink->file) != size * n) {
    sink->write_failed = true;
    return 0;
  }
  sink->written += static_cast<int64_t>(size * n);
  return size * n;
}
}  // namespace

std::string HttpClient::KeptEtag(const std::string& dest) {
  std::string etag;
  if (std::FILE* e = std::fopen((dest + ".etag").c_str(), "rb")) {
    char buf[200];
    etag.assign(buf, std::fread(buf, 1, sizeof buf, e));
    std::fclose(e);
  }
  return etag;
}

Status HttpClient::Download(const std::string& path, const std::string& dest, const std::string& etag, bool* complete) {
  *complete = false;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Internal("libcurl failed to initialise");
  struct stat st {};
  int64_t offset = stat(dest.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  // Bytes named by the server's ETag, kept beside the partial file.
  const std::string etag_file = dest + ".etag";
  std::string if_range = etag.empty() ? KeptEtag(dest) : etag;
  if (if_range.empty() && offset > 0 && truncate(dest.c_str(), 0) == 0) offset = 0;  // unnamed bytes: start over
  FILE* f = std::fopen(dest.c_str(), "ab");
  if (!f) return Status::Internal("cannot write " + dest);
  curl_easy_reset(c);
  std::string url = base_url_ + path;
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/octet-stream");
  headers = curl_slist_append(headers, "Accept-Encoding: identity");
  if (!token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
  if (offset > 0) {
    headers = curl_slist_append(headers, ("Range: bytes=" + std::to_string(offset) + "-").c_str());
    headers = curl_slist_append(headers, ("If-Range: " + if_range).c_str());
  }
  DownloadSink sink;
  sink.curl = c;
  sink.file = f;
  sink.restart = offset > 0;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnDownload);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnDownloadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  CommonOptions(c);
  ++stats_.requests;
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  // What arrived is kept, cut or not: the next attempt asks for the rest.
  bool flushed = std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  std::fclose(f);
  curl_off_t down = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
  stats_.bytes_received += down;
  last_received_ = down;
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  last_status_ = status;
  if (sink.write_failed || !flushed) return Status::Internal("cannot write " + dest + " (is the disk full?)");
  if (etag.empty() && status == 200 && sink.decided) {
    // A whole answer started `dest` again: later attempts name its bytes.
    std::FILE* e = std::fopen(etag_file.c_str(), "wb");
    bool kept = e && std::fwrite(sink.etag.data(), 1, sink.etag.size(), e) == sink.etag.size();
    if (e) std::fclose(e);
    if (!kept) return Status::Internal("cannot write " + etag_file);
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    cancelled_ = true;
    return Status::Unavailable("stopped by the user");
  }
  if (rc != CURLE_OK) return Status::Unavailable(std::string("no connection to ") + base_url_ + ": " + curl_easy_strerror(rc));
  if (status == 200 || status == 206) {
    *complete = true;
    return Status::Ok();
  }
  if (status == 416) {
    // The partial is not a prefix the server can continue (longer than the
    // file): start again from nothing.
    if (truncate(dest.c_str(), 0) != 0) return Status::Internal("cannot write " + dest);
    return Status::Unavailable("the partial download did not fit the file; starting it again");
  }
  bool retryable = false;
  return AnswerError(status, sink.error_body, &retryable);
}

bool HttpClient::PeerReads(const std::string& encoding) const {
  // A comma-separated list of tokens, e.g. "columns, zstd".
  size_t at = 0;
  while (at < peer_encodings_.size()) {
    size_t end = peer_encodings_.find(',', at);
    if (end == std::string::npos) end = peer_encodings_.size();
    std::string token = peer_encodings_.substr(at, end - at);
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (token == encoding) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace ocop::client
