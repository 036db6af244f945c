// The HTTP edge of ocopd: one Poco HTTPRequestHandler per endpoint, routed by
// ApiRouter. Handlers parse and check the request, call one SyncService method
// and render the answer; errors are JSON {"error": {"code", "message"}} with the
// HTTP status of the code (shared/status.h). The API is documented in docs/api.md.
#pragma once
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "server/http/body_gate.h"
#include "server/http/metrics.h"
#include "server/sync_service.h"
#include "shared/web/pages.h"

namespace ocop::server {

class ReviewService;

struct ApiOptions {
  size_t max_body_bytes = 32 * 1024 * 1024;      // as received (possibly gzip)
  size_t max_inflated_bytes = 128 * 1024 * 1024;  // after gunzip
  // Bodies read at once (total, per address) and how they must keep arriving;
  // copies of these options share the one gate.
  std::shared_ptr<http::BodyGate> body_gate = std::make_shared<http::BodyGate>();
  web::BodyPace body_pace;
  // A refused request's unread body is read away after the answer by the
  // connection lobby (http/lobby.h), off the request thread; without it (TLS)
  // a small body is drained on the thread.
  bool lingering_close = false;
  // The store's size on disk for /metrics (the embedded SQLite file); unset: not reported.
  std::function<int64_t()> store_bytes;
};

// Counters shown by /healthz and /metrics.
struct ApiStats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> errors{0};
  http::RequestMetrics metrics;
};

// The factory creates a new handler per request (Poco deletes it afterwards).
// It does not own the service, which must outlive the HTTP server.
class ApiRouter final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  // With `review`, the console (/console/) and its endpoints are served too.
  ApiRouter(SyncService& service, ApiOptions options, ReviewService* review = nullptr)
      : service_(service), options_(options), review_(review) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;
  ApiStats& stats() { return stats_; }

 private:
  SyncService& service_;
  ApiOptions options_;
  ReviewService* review_;
  ApiStats stats_;
};

}  // namespace ocop::server
