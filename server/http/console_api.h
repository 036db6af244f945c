// The console of ocopd (`/console/`) and the endpoints only it needs: a
// cookie session, forms, the weekly report of one's scope, record search and
// detail, CSV exports, the accounts list and changes, and the unit-list
// import. Handlers parse, call one ReviewService or SyncService method, and
// render; every rule (roles, scope) lives in those services. See docs/console.md.
#pragma once
#include <Poco/Net/HTTPRequestHandler.h>

#include <string>
#include <vector>

#include "server/http/http_api.h"
#include "server/review_service.h"

namespace ocop::server {

// A handler when `segments` (the path split at '/') names a console page or
// endpoint, else nullptr.
Poco::Net::HTTPRequestHandler* CreateConsoleHandler(const std::string& path, const std::vector<std::string>& segments,
                                                   const std::string& method,
                                                   SyncService& service, ReviewService& review,
                                                   const ApiOptions& options, ApiStats& stats);

}  // namespace ocop::server
