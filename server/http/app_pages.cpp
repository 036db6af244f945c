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

namespace {

using http::ApiHandler;
using http::HTTPServerRequest;
using http::HTTPServerResponse;

// The app's files, with images kept as base64 text in the tree (the embedder
// reads text) and decoded once here.
const std::vector<embedded::File>& AppFiles() {
  static const std::vector<embedded::File> files = [] {
    std::vector<embedded::File> out;
    for (const auto& f : app_assets::Files()) {
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

class AppPageHandler final : public ApiHandler {
 public:
  AppPageHandler(SyncService& s, const ApiOptions& o, ApiStats& st, std::string asset)
      : ApiHandler(s, o, st), asset_(std::move(asset)) {}
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override {
    if (asset_.empty()) {  // "/app": the app's relative links and its scope need the slash
      resp.set("Location", "/app/");
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_FOUND);
      resp.setContentLength(0);
      resp.send();
      return Status::Ok();
    }
    if (web::SendAsset(resp, {&web::CommonAssets(), &AppFiles()}, asset_)) return Status::Ok();
    return Status::NotFound("no app file " + asset_);
  }

 private:
  std::string asset_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* CreateAppHandler(const std::string& path, const std::vector<std::string>& seg,
                                               const std::string& m, SyncService& service, const ApiOptions& options,
                                               ApiStats& stats) {
  if (seg.empty() || seg[0] != "app" || m != "GET") return nullptr;
  if (seg.size() == 1) return new AppPageHandler(service, options, stats, path == "/app/" ? "index.html" : "");
  if (seg.size() == 2) return new AppPageHandler(service, options, stats, seg[1]);
  return nullptr;
}

}  // namespace ocop::server
