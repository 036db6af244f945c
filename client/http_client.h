// A small libcurl client for the ocopd API: JSON in and out, gzip both ways
// (handled here, so bytes on the wire are counted exactly), timeouts that suit
// slow links (a connect timeout and a low-speed limit rather than a total time
// limit), and retries with exponential backoff on network errors, 5xx and 429 —
// never on other 4xx, which would fail the same way again.
// Not thread-safe: one per thread.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "shared/status.h"

namespace ocop::client {

struct HttpOptions {
  long connect_timeout_s = 10;
  long low_speed_bytes = 50;  // abort a transfer slower than this...
  long low_speed_time_s = 30;   // ...for this long
  int max_attempts = 4;
  long backoff_initial_ms = 500;
  long backoff_max_ms = 8000;
  size_t gzip_threshold = 1024;  // compress request bodies from this size on
  std::string ca_file;  // HTTPS: trust this CA (PEM) instead of the system's store
};

struct HttpStats {
  int64_t requests = 0;  // HTTP exchanges attempted, retries included
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
};

class HttpClient {
 public:
  HttpClient(std::string base_url, HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void set_token(std::string token) { token_ = std::move(token); }
  void set_max_attempts(int n) { options_.max_attempts = n; }
  // Called while a request moves bytes (those of the request so far); return
  // false to abort it (Ctrl-C). The abort comes back as kCancelled-like
  // kUnavailable with `cancelled()` true.
  using TransferWatch = std::function<bool(int64_t sent, int64_t received)>;
  void set_transfer_watch(TransferWatch w) { watch_ = std::move(w); }
  bool cancelled() const { return cancelled_; }
  // Bytes the last attempt received before it ended (also when it was cut).
  int64_t last_bytes_received() const { return last_received_; }
  // HTTP status of the last answer (0 if none arrived).
  long last_status() const { return last_status_; }
  // The Retry-After of the last answer, in seconds (0: none).
  int64_t last_retry_after_s() const { return last_retry_after_s_; }
  // The version of the server's unit list its last answer named (its
  // X-Ocop-Units header; empty when it named none).
  const std::string& last_units_version() const { return last_units_version_; }
  // X-Ocop-Definitions of the last answer: the version of the definitions
  // the server published (empty: it named none, nothing is published).
  const std::string& last_definitions_version() const { return last_definitions_version_; }
  // What the server said it reads besides gzip and the binary encoding
  // (its X-OCOP-Encodings header, e.g. "columns, zstd"), as of its last
  // answer; set from what a device remembers before the first request.
  const std::string& peer_encodings() const { return peer_encodings_; }
  void set_peer_encodings(std::string e) { peer_encodings_ = std::move(e); }
  bool PeerReads(const std::string& encoding) const;
  // Sends `body` (JSON, may be empty for GET) and returns the answer's body.
  // A non-2xx answer becomes a Status with the server's code and message;
  // network failure after all attempts becomes kUnavailable.
  Status Call(const std::string& method, const std::string& path, const std::string& body, std::string* response);
  // The same with other media types: `content_type` of the body, `accept` for
  // the answer; *response_type receives the answer's Content-Type.
  Status Call(const std::string& method, const std::string& path, const std::string& body,
              const std::string& content_type, const std::string& accept, std::string* response,
              std::string* response_type);
  // Downloads `path` into the file `dest`, continuing from the bytes it holds
  // (Range from its size, If-Range on `etag`); whatever arrives before a cut
  // stays in `dest` for the next attempt. One attempt; *complete is true when
  // the answer ended whole (the caller checks the bytes). With `etag` empty
  // (bytes the caller cannot name beforehand, such as a return file), the
  // ETag of the answer that started `dest` is kept beside it in
  // `dest`.etag and named on the next attempt; without one, it starts over.
  Status Download(const std::string& path, const std::string& dest, const std::string& etag, bool* complete);
  // The ETag Download kept beside `dest` ("" when none).
  static std::string KeptEtag(const std::string& dest);
  const HttpStats& stats() const { return stats_; }

 private:
  void CommonOptions(void* curl);
  Status AnswerError(long status, const std::string& text, bool* retryable);
  Status Once(const std::string& method, const std::string& path, const std::string& body,
              const std::string& content_type, const std::string& accept, std::string* response,
              std::string* response_type, bool* retryable);
  std::string base_url_;
  HttpOptions options_;
  std::string token_;
  void* curl_ = nullptr;
  HttpStats stats_;
  TransferWatch watch_;
  bool cancelled_ = false;
  int64_t last_received_ = 0;
  long last_status_ = 0;
  int64_t last_retry_after_s_ = 0;
  std::string last_units_version_;
  std::string last_definitions_version_;
  std::string peer_encodings_;
};

}  // namespace ocop::client
