// ocopd: the Poco ServerApplication. Owns configuration (file + command line),
// logging (console and a rotating file), the store, the SyncService and the HTTP
// server; serves until SIGTERM/SIGINT, then stops accepting connections and lets
// requests in flight finish.
#pragma once
#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

namespace ocop::server {

class OcopdApp final : public Poco::Util::ServerApplication {
 public:
  OcopdApp();

 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void SetupLogging();
  int AddUser();
  int ImportUnits();
  int Publish();
  int ImportChanges();
  int ExportScope();
  int MigrateFromSqlite();
  bool help_ = false;
  std::string add_user_, role_, unit_, import_units_, backup_, migrate_from_, publish_;
  bool check_only_ = false;
  std::string import_changes_, export_scope_, for_device_, output_, since_;
  bool usage_error_ = false;
  std::string usage_message_;
};

}  // namespace ocop::server
