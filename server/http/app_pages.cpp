#include "server/http/app_pages.h"

#include <Poco/Base64Decoder.h>

#include <iterator>
#include <sstream>

#include "server/http/api_handler.h"
#include "shared/web/pages.h"

namespace ocop::server {
namespace app_assets {
const std::vector<embedded::File>& Files();  // generated from server/http/app/
}  // namespace app_assets
namespace app_core_assets {
const std::vector<embedded::File>& Files();  // app_core.js and .wasm, from client/app_core/
}  // namespace app_core_assets

namespace {

// The app's files, with images kept as base64 text in the tree (the embedder
// reads text) and decoded once here.
const std::vector<embedded::File>& AppFiles() {
  static const std::vector<embedded::File> files = [] {
    std::vector<embedded::File> out, all = app_assets::Files();
    all.insert(all.end(), app_core_assets::Files().begin(), app_core_assets::Files().end());
    for (const auto& f : all) {
      const std::string b64 = ".b64";
      if (f.path.size() > b64.size() && f.path.compare(f.path.size() - b64.size(), b64.size(), b64) == 0) {
        std::istringstream in(f.content);
        Poco::Base64Decoder decoder(in);
        std::string bytes((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
        out.push_back({f.path.substr(0, f.path.size() - b64.size()), bytes});
      } else {
        out.push_back(f);
      }
    }
    return out;
  }();
  return files;
}

}  // namespace

Poco::Net::HTTPRequestHandler* CreateAppHandler(const std::string& path, const std::vector<std::string>& seg,
                                               const std::string& m, SyncService& service, const ApiOptions& options,
                                               ApiStats& stats) {
  if (seg.empty() || seg[0] != "app" || m != "GET") return nullptr;
  // The app compiles its rules (WebAssembly): the one thing its policy allows beyond the console's.
  auto page = [&](std::string asset) {
    return new http::PageHandler(service, options, stats, "/app/", AppFiles(), asset, web::ContentSecurityPolicy(true));
  };
  if (seg.size() == 1) return page(path == "/app/" ? "index.html" : "");
  if (seg.size() == 2) return page(seg[1]);
  return nullptr;
}

}  // namespace ocop::server
