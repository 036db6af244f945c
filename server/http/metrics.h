// Counters of the HTTP edge for GET /metrics (Prometheus' text format):
// requests by route and status, and their latency in buckets. Routes are
// labelled by their pattern (/v1/files/{sha}), never by what a client wrote,
// so a scanner cannot grow the set of series. Thread-safe.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>

namespace ocop::server::http {

// The route's pattern for a request path: "/v1/push/{sha}", "/console/*", or
// "other" for anything that is not an endpoint.
std::string RouteLabel(const std::string& path);

class RequestMetrics {
 public:
  static constexpr std::array<double, 8> kBuckets = {0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30};
  void Record(const std::string& route, int status, double seconds);
  // Writes the counters and histograms, with their HELP and TYPE lines.
  void Render(std::ostream& out) const;

 private:
  struct Latency {
    std::array<int64_t, kBuckets.size()> le{};  // cumulative: each counts the requests at or under its bound
    int64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Latency> latency_;
};

}  // namespace ocop::server::http
