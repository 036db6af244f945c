#include "server/http/metrics.h"

#include <vector>

#include "shared/hash.h"
#include "shared/ids.h"

namespace ocop::server::http {

std::string RouteLabel(const std::string& path) {
  if (path == "/healthz" || path == "/metrics") return path;
  if (path == "/console" || path.rfind("/console/", 0) == 0) return "/console/*";
  if (path == "/app" || path.rfind("/app/", 0) == 0) return "/app/*";
  if (path.rfind("/v1/", 0) != 0) return "other";
  std::vector<std::string> parts;
  size_t at = 1;
  while (at <= path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  if (parts.size() < 2 || parts.size() > 4) return "other";
  static const char* kKnown[] = {"units", "login", "logout", "me",        "push",    "return",
                                 "carried", "pull", "users",  "records", "files", "conflicts"};
  bool known = false;
  for (const char* k : kKnown) known = known || parts[1] == k;
  if (!known) return "other";
  std::string label = "/v1/" + parts[1];
  for (size_t i = 2; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (hash::IsSha256Hex(p)) label += "/{sha}";
    else if (ids::IsUuid(p)) label += "/{id}";
    else if (p == "history" || p == "resolve") label += "/" + p;
    else return "other";
  }
  return label;
}

void RequestMetrics::Record(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  Latency& l = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++l.le[i];
  ++l.count;
  l.sum += seconds;
}

void RequestMetrics::Render(std::ostream& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out << "# HELP ocop_http_requests_total Requests answered, by route and HTTP status.\n"
         "# TYPE ocop_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "ocop_http_requests_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP ocop_http_request_duration_seconds Time from the request's headers to its answer, by route.\n"
         "# TYPE ocop_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out << "ocop_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
          << l.le[i] << "\n";
    out << "ocop_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << l.count << "\n"
        << "ocop_http_request_duration_seconds_sum{route=\"" << route << "\"} " << l.sum << "\n"
        << "ocop_http_request_duration_seconds_count{route=\"" << route << "\"} " << l.count << "\n";
  }
}

}  // namespace ocop::server::http
