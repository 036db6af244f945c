// The officers' phone app (`/app/`): an installable web app, compiled into
// ocopd like the console. It keeps the app, the definitions and the officer's
// records on the phone and syncs through the same /v1 API as `ocop`; the
// server checks every change it sends (docs/app.md).
#pragma once
#include <Poco/Net/HTTPRequestHandler.h>

#include <string>
#include <vector>

#include "server/http/http_api.h"

namespace ocop::server {

// A handler when `segments` (the path split at '/') names the app or one of
// its files, else nullptr.
Poco::Net::HTTPRequestHandler* CreateAppHandler(const std::string& path, const std::vector<std::string>& segments,
                                               const std::string& method, SyncService& service, const ApiOptions& options,
                                               ApiStats& stats);

}  // namespace ocop::server
