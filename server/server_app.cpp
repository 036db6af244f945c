#include "server/server_app.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include "server/review_service.h"
#include "sync/carried.h"
#include "shared/dates.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/PatternFormatter.h>
#include <Poco/SplitterChannel.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <sstream>

#include "server/http/connection_guard.h"
#include "server/http/lobby.h"
#include "server/store/file_store.h"
#include "server/http/http_api.h"
#include "server/store/postgres_server_store.h"
#include "server/store/sqlite_server_store.h"
#include "server/store/store_migration.h"
#include "server/sync_service.h"
#include "shared/forms.h"

namespace ocop::server {

using Poco::Util::Option;
using Poco::Util::OptionSet;

OcopdApp::OcopdApp() { setUnixOptions(true); }

void OcopdApp::initialize(Poco::Util::Application& self) {
  if (config().hasProperty("ocopd.config")) loadConfiguration(config().getString("ocopd.config"));
  ServerApplication::initialize(self);
}

void OcopdApp::defineOptions(OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Option("help", "h", "show this help and exit"));
  options.addOption(Option("config", "c", "read settings from FILE (properties format; see docs/server.md)")
                        .argument("FILE").binding("ocopd.config"));
  options.addOption(Option("port", "p", "listen on port N (0: any free port; default 8080)").argument("N").binding("server.port"));
  options.addOption(Option("host", "", "listen on address ADDR (default 127.0.0.1; 0.0.0.0 for every interface)")
                        .argument("ADDR").binding("server.host"));
  options.addOption(Option("data-dir", "d", "keep the store in DIR (default ./ocopd-data)").argument("DIR").binding("server.data_dir"));
  options.addOption(Option("threads", "", "serve with N threads (default 32)").argument("N").binding("server.threads"));
  options.addOption(Option("max-body", "", "refuse request bodies over N bytes (default 33554432)").argument("N").binding("server.max_body_bytes"));
  options.addOption(Option("log-file", "", "also log to FILE, rotated at 10 MB").argument("FILE").binding("log.file"));
  options.addOption(Option("add-user", "", "create account NAME (password read from standard input) and exit").argument("NAME"));
  options.addOption(Option("role", "", "role of the new account: officer, coordinator or admin").argument("ROLE"));
  options.addOption(Option("unit", "", "unit code of the new account").argument("CODE"));
  options.addOption(Option("import-units", "", "merge the units of a CSV FILE into the store and exit").argument("FILE"));
  options.addOption(Option("publish", "", "publish FILE (JSON): a new version of a form, a criteria sheet or corrections to "
                                          "the message catalogue, after checking it against those in force, and exit "
                                          "(with --check: check and show the differences only)")
                        .argument("FILE"));
  options.addOption(Option("check", "", "with --publish: check the file and show its differences, publish nothing"));
  options.addOption(Option("backup", "", "copy the store, consistent, into FILE (also while ocopd serves) and exit")
                        .argument("FILE"));
  options.addOption(Option("migrate-from-sqlite", "", "copy the SQLite store FILE (ocopd.db) into the configured PostgreSQL "
                                                    "store, check counts and checksums, and exit").argument("FILE"));
  options.addOption(Option("import-changes", "", "apply a device's carried FILE of changes (ocop outbox export) and exit")
                        .argument("FILE"));
  options.addOption(Option("export-scope", "", "write the return file for a device of UNIT (with --for-device, --output) and exit")
                        .argument("UNIT"));
  options.addOption(Option("for-device", "", "the device a return file is for (its id: ocop status)").argument("ID"));
  options.addOption(Option("output", "", "where to write the return file").argument("FILE"));
  options.addOption(Option("since", "", "start the return file at the device's cursor N (default 0: everything)").argument("N"));
}

void OcopdApp::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    help_ = true;
    stopOptionsProcessing();
  } else if (name == "add-user") {
    add_user_ = value;
  } else if (name == "role") {
    role_ = value;
  } else if (name == "unit") {
    unit_ = value;
  } else if (name == "import-units") {
    import_units_ = value;
  } else if (name == "publish") {
    publish_ = value;
  } else if (name == "check") {
    check_only_ = true;
  } else if (name == "migrate-from-sqlite") {
    migrate_from_ = value;
  } else if (name == "backup") {
    backup_ = value;
  } else if (name == "import-changes") {
    import_changes_ = value;
  } else if (name == "export-scope") {
    export_scope_ = value;
  } else if (name == "for-device") {
    for_device_ = value;
  } else if (name == "output") {
    output_ = value;
  } else if (name == "since") {
    since_ = value;
  }
}

void OcopdApp::SetupLogging() {
  Poco::AutoPtr<Poco::SplitterChannel> splitter(new Poco::SplitterChannel);
  Poco::AutoPtr<Poco::PatternFormatter> fmt(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %t"));
  Poco::AutoPtr<Poco::FormattingChannel> console(new Poco::FormattingChannel(fmt, new Poco::ConsoleChannel));
  splitter->addChannel(console);
  std::string file = config().getString("log.file", "");
  if (!file.empty()) {
    Poco::AutoPtr<Poco::FileChannel> fc(new Poco::FileChannel(file));
    fc->setProperty("rotation", config().getString("log.rotation", "10 M"));
    fc->setProperty("archive", "timestamp");
    fc->setProperty("purgeCount", config().getString("log.keep", "5"));
    splitter->addChannel(new Poco::FormattingChannel(fmt, fc));
  }
  Poco::Logger::root().setChannel(splitter);
  Poco::Logger::root().setLevel(config().getString("log.level", "information"));
}

namespace {

// Every waiting or served connection is a file: a soft limit of 1,024 (the
// usual default) would refuse connections long before the lobby's bound.
void RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= files.rlim_max) return;
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, 65536);
  setrlimit(RLIMIT_NOFILE, &files);
}

// The configured engine: the embedded SQLite file in the data directory
// (default), or PostgreSQL (store.engine = postgresql, store.postgresql = a
// libpq connection string) for several ocopd on one database.
Status OpenStore(Poco::Util::LayeredConfiguration& config, std::unique_ptr<ServerStore>* store) {
  std::string engine = config.getString("store.engine", "sqlite");
  if (engine == "sqlite") {
    std::unique_ptr<SqliteServerStore> sqlite;
    Status s = SqliteServerStore::Open(config.getString("server.data_dir", "ocopd-data"), &sqlite);
    if (s.ok()) *store = std::move(sqlite);
    return s;
  }
  if (engine == "postgresql") {
    PostgresOptions options;
    options.conninfo = config.getString("store.postgresql", "");
    options.pool_size = config.getInt("store.pool_size", options.pool_size);
    std::unique_ptr<PostgresServerStore> postgres;
    Status s = PostgresServerStore::Open(options, &postgres);
    if (s.ok()) *store = std::move(postgres);
    return s;
  }
  return Status::Invalid("store.engine must be sqlite or postgresql, not '" + engine + "'");
}

// Where the bytes of photos and resumable push bodies live: the data
// directory, or files.dir — with several ocopd, one directory they all reach,
// so that an upload cut on one replica resumes on another.
std::string BytesDir(Poco::Util::LayeredConfiguration& config, const std::string& what) {
  return config.getString("files.dir", config.getString("server.data_dir", "ocopd-data")) + "/" + what;
}

// The whole of a file named on the command line (a unit list, a definition:
// small), or false after saying it cannot be read.
bool ReadInputFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "ocopd: cannot read " << path << "\n";
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

Status OpenService(Poco::Util::LayeredConfiguration& config, std::unique_ptr<ServerStore>* store,
                   std::unique_ptr<SyncService>* service) {
  Status s = OpenStore(config, store);
  if (!s.ok()) return s;
  UnitTree units;
  s = (*store)->LoadUnits(&units);
  if (!s.ok()) return s;
  if (units.size() == 0) {
    // A new store starts with the sample unit tree; import the official list with --import-units.
    s = (*store)->SaveUnits(UnitTree::Sample());
    if (!s.ok()) return s;
    units = UnitTree::Sample();
  }
  ServiceLimits limits;
  limits.pbkdf2_iterations = config.getInt("auth.pbkdf2_iterations", limits.pbkdf2_iterations);
  limits.token_ttl_ms = config.getInt64("auth.token_ttl_hours", 24 * 30) * 3600 * 1000;
  limits.max_file_bytes = config.getInt64("files.max_bytes", limits.max_file_bytes);
  limits.min_free_bytes = config.getInt64("files.min_free_bytes", limits.min_free_bytes);
  limits.uploads.max_open = config.getInt("uploads.max_open_per_account", limits.uploads.max_open);
  limits.uploads.max_bytes = config.getInt64("uploads.max_bytes_per_account", limits.uploads.max_bytes);
  limits.max_sessions_per_account = config.getInt("auth.max_sessions_per_account", limits.max_sessions_per_account);
  limits.max_devices_per_account = config.getInt("auth.max_devices_per_account", limits.max_devices_per_account);
  *service = std::make_unique<SyncService>(**store, std::move(units), SystemClock::Get(), limits);
  bool taken = false;
  return (*service)->RefreshDefinitions(&taken);  // what was published over the built-in definitions
}

std::string ReadPasswordFromStdin() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int OcopdApp::AddUser() {
  if (role_.empty() || unit_.empty()) {
    std::cerr << "ocopd: --add-user needs --role officer|coordinator|admin and --unit CODE\n";
    return EXIT_USAGE;
  }
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  Status s = OpenService(config(), &store, &service);
  if (s.ok()) {
    if (isatty(0)) std::cerr << "Password for " << add_user_ << ": " << std::flush;
    std::string password = ReadPasswordFromStdin();
    s = service->AddUser(add_user_, role_, unit_, password);
  }
  if (!s.ok()) {
    std::cerr << "ocopd: " << s.message() << "\n";
    return s.code() == Code::kInvalidArgument ? EXIT_DATAERR : EXIT_SOFTWARE;
  }
  std::cout << "created " << role_ << " " << add_user_ << " for unit " << unit_ << "\n";
  return EXIT_OK;
}

int OcopdApp::ImportChanges() {
  std::ifstream in(import_changes_, std::ios::binary);
  if (!in) {
    std::cerr << "ocopd: cannot read " << import_changes_ << "\n";
    return EXIT_NOINPUT;
  }
  std::string bytes;
  char buf[65536];
  while (in && bytes.size() <= sync::carried::kMaxFileBytes) {
    in.read(buf, sizeof buf);
    bytes.append(buf, static_cast<size_t>(in.gcount()));
  }
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  Status s = OpenService(config(), &store, &service);
  FileStore files(BytesDir(config(), "files"));
  if (s.ok()) s = files.Init();
  if (s.ok()) service->set_files(&files);
  CarriedImport result;
  if (s.ok()) s = service->ImportCarried(bytes, nullptr, &result);
  if (!s.ok()) {
    std::cerr << "ocopd: " << import_changes_ << " refused: " << s.message() << "\n";
    return EXIT_DATAERR;
  }
  int refused = 0;
  size_t applied = 0, merged = 0, conflicts = 0;
  for (const auto& set : result.sets) {
    if (!set.status.ok()) {
      ++refused;
      std::cerr << "ocopd: change set " << set.changeset_id << " refused: " << set.status.message() << "\n";
      continue;
    }
    for (const auto& o : set.result.outcomes) {
      if (o.result == sync::outcome::kApplied) ++applied;
      else if (o.result == sync::outcome::kMerged) ++merged;
      else if (o.result == sync::outcome::kConflict) ++conflicts;
    }
  }
  std::cout << "imported " << result.sets.size() - static_cast<size_t>(refused) << " change sets from device "
            << result.device << " (" << result.user << ", unit " << result.unit << "): " << applied << " applied, "
            << merged << " merged, " << conflicts << " in conflict; " << refused << " refused; photos: "
            << result.photos_stored << " stored, " << result.photos_refused << " refused"
            << (result.photo_error.empty() ? "" : " (" + result.photo_error + ")") << "\n";
  return refused == 0 && result.photos_refused == 0 ? EXIT_OK : EXIT_DATAERR;
}

int OcopdApp::ExportScope() {
  if (for_device_.empty() || output_.empty()) {
    std::cerr << "ocopd: --export-scope UNIT needs --for-device ID and --output FILE\n";
    return EXIT_USAGE;
  }
  int64_t since = 0;
  if (!since_.empty()) {
    if (since_.size() > 15 || since_.find_first_not_of("0123456789") != std::string::npos) {
      std::cerr << "ocopd: --since must be a cursor (a whole number, from ocop status)\n";
      return EXIT_USAGE;
    }
    since = std::stoll(since_);
  }
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  Status s = OpenService(config(), &store, &service);
  std::string bytes;
  int64_t records = 0;
  if (s.ok()) s = service->ExportReturn(for_device_, since, &bytes, &records);
  if (s.ok()) {
    // The device's scope is its account's unit: saying another one is a mistake worth stopping on.
    sync::carried::CarriedFile header;
    s = sync::carried::Read(bytes, &header);
    if (s.ok() && header.unit != export_scope_)
      s = Status::Invalid("device " + for_device_ + " belongs to " + header.user + " of unit " + header.unit + ", not " +
                          export_scope_);
  }
  if (s.ok()) {
    std::string tmp = output_ + ".part";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out || std::rename(tmp.c_str(), output_.c_str()) != 0) s = Status::Internal("cannot write " + output_);
  }
  if (!s.ok()) {
    std::cerr << "ocopd: " << s.message() << "\n";
    return s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound ? EXIT_DATAERR : EXIT_CANTCREAT;
  }
  std::cout << "wrote " << output_ << ": " << records << " records for device " << for_device_ << " ("
            << bytes.size() << " bytes)\n";
  return EXIT_OK;
}

int OcopdApp::ImportUnits() {
  std::string csv;
  if (!ReadInputFile(import_units_, &csv)) return EXIT_NOINPUT;
  UnitTree units;
  Status s = UnitTree::ParseCsv(csv, &units);
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  if (s.ok()) s = OpenService(config(), &store, &service);
  // The same merge as the console's import: codes are permanent, missing ones
  // are closed (on a new store, the sample list's), mergers close codes into
  // their successors, and units move; records follow their units.
  UnitTree current;
  if (s.ok()) s = store->LoadUnits(&current);
  UnitListChange change;
  UnitTree merged;
  if (s.ok())
    s = MergeUnitList(current, units, dates::IsoDateFromMillis(SystemClock::Get().NowMillis()), &merged, &change);
  if (s.ok()) s = store->SaveUnits(merged);
  bool refreshed = false;
  int64_t placed = 0;
  if (s.ok()) s = service->RefreshUnits(&refreshed);
  if (s.ok()) s = service->PlaceRecords(&placed);
  if (!s.ok()) {
    std::cerr << "ocopd: " << s.message() << "\n";
    return EXIT_DATAERR;
  }
  std::cout << "imported " << units.size() << " units: " << change.added.size() << " new, " << change.closed.size()
            << " closed, " << change.renamed.size() << " renamed, " << change.moved.size() << " moved, "
            << change.unchanged << " unchanged; " << placed << " records placed under their unit's new place\n";
  return EXIT_OK;
}

int OcopdApp::Publish() {
  std::string definition;
  if (!ReadInputFile(publish_, &definition)) return EXIT_NOINPUT;
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  Status s = OpenService(config(), &store, &service);
  SyncService::Publication pub;
  if (s.ok()) s = service->Publish("ocopd --publish", definition, check_only_, &pub);
  if (!s.ok()) {
    std::cerr << "ocopd: " << (check_only_ ? "" : "not published: ") << s.message() << "\n";
    return EXIT_DATAERR;
  }
  const auto& what = pub.what;
  std::cout << (pub.published ? "published " : "can be published: ")
            << (what.kind == definitions::kForm       ? "form " + what.name + " version " + std::to_string(what.version)
                : what.kind == definitions::kCriteria ? "criteria sheet " + what.name
                                                      : "message catalogue corrections version " + std::to_string(what.version))
            << (what.label.vi.empty() ? "" : " (" + what.label.vi + ")") << "\n";
  if (!pub.replaces.empty()) std::cout << "  replaces criteria sheet " << pub.replaces << " for councils from now on\n";
  for (const auto& d : pub.differences) {
    const char* kind = d.kind == FieldDifference::kAdded ? "+ new field " : d.kind == FieldDifference::kRemoved ? "- removed " : "~ changed ";
    std::cout << "  " << kind << d.key << " (" << d.label.vi << ")";
    for (size_t i = 0; i < d.what.size(); ++i) std::cout << (i ? ", " : ": ") << d.what[i];
    std::cout << "\n";
  }
  if (what.kind == definitions::kForm && pub.differences.empty()) std::cout << "  no field changes\n";
  if (pub.published)
    std::cout << "devices take it at their next sync; a running ocopd takes it within store.refresh_seconds (30 s)\n";
  return EXIT_OK;
}

int OcopdApp::MigrateFromSqlite() {
  if (config().getString("store.engine", "sqlite") != "postgresql") {
    std::cerr << "ocopd: --migrate-from-sqlite copies into PostgreSQL: set store.engine = postgresql and "
                 "store.postgresql in the configuration (docs/deploy/cluster.md)\n";
    return EXIT_USAGE;
  }
  std::unique_ptr<ServerStore> store;
  Status s = OpenStore(config(), &store);  // connects and brings the schema up to date
  std::vector<TableCopy> report;
  if (s.ok()) s = MigrateSqliteToPostgres(migrate_from_, config().getString("store.postgresql", ""), &report);
  if (!s.ok()) {
    std::cerr << "ocopd: migration refused, nothing was written: " << s.message() << "\n";
    return s.code() == Code::kNotFound ? EXIT_NOINPUT : EXIT_DATAERR;
  }
  std::cout << "copied " << migrate_from_ << " into PostgreSQL; rows and SHA-256 checked equal on both sides:\n";
  for (const auto& t : report)
    std::cout << "  " << t.table << std::string(t.table.size() < 18 ? 18 - t.table.size() : 1, ' ') << t.rows
              << " rows  sha256 " << t.sha256.substr(0, 16) << "\n";
  std::cout << "photos: copy " << migrate_from_ << "'s files/ directory into files.dir (or the data directory)\n";
  return EXIT_OK;
}

int OcopdApp::main(const std::vector<std::string>& args) {
  if (help_) {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[--config FILE] [--port N] [--data-dir DIR]\n"
                  "       ocopd --add-user NAME --role officer|coordinator|admin --unit CODE < password");
    help.setHeader("The OCOP sync server: receives change sets from ocop clients, merges them field by field, "
                   "queues conflicts for administrators, and serves pulls. API: /v1 (docs/api.md); health: GET /healthz.");
    help.format(std::cout);
    return EXIT_OK;
  }
  if (!args.empty()) {
    std::cerr << "ocopd: unexpected argument '" << args.front() << "' (see ocopd --help)\n";
    return EXIT_USAGE;
  }
  if (!add_user_.empty()) return AddUser();
  if (!import_units_.empty()) return ImportUnits();
  if (!publish_.empty()) return Publish();
  if (!import_changes_.empty()) return ImportChanges();
  if (!export_scope_.empty()) return ExportScope();
  if (!migrate_from_.empty()) return MigrateFromSqlite();
  if (!backup_.empty()) {
    if (config().getString("store.engine", "sqlite") != "sqlite") {
      std::cerr << "ocopd: --backup copies the embedded SQLite store; with store.engine = postgresql back up the "
                   "database with pg_dump (docs/deploy/cluster.md)\n";
      return EXIT_USAGE;
    }
    Status b = SqliteServerStore::Backup(config().getString("server.data_dir", "ocopd-data"), backup_);
    if (!b.ok()) {
      std::cerr << "ocopd: backup failed: " << b.message() << "\n";
      return EXIT_CANTCREAT;
    }
    std::cout << "backed up the store to " << backup_ << " (photos: copy " << config().getString("server.data_dir", "ocopd-data")
              << "/files as well)\n";
    return EXIT_OK;
  }

  SetupLogging();
  auto& log = Poco::Logger::get("ocopd");
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<SyncService> service;
  Status s = OpenService(config(), &store, &service);
  if (!s.ok()) {
    log.error("cannot open the store: " + s.message());
    return EXIT_SOFTWARE;
  }
  FileStore files(BytesDir(config(), "files"));
  s = files.Init();
  if (!s.ok()) {
    log.error(s.message());
    return EXIT_SOFTWARE;
  }
  service->set_files(&files);
  files.RemoveOlderThan(ServiceLimits{}.uploads.expire_ms / 1000, /*partials_only=*/true);  // photos never finished
  FileStore push_bodies(BytesDir(config(), "pushes"));
  s = push_bodies.Init();
  if (!s.ok()) {
    log.error(s.message());
    return EXIT_SOFTWARE;
  }
  push_bodies.RemoveOlderThan(24 * 3600);
  // Pushes and uploads are refused (507) while the store's or the files' disk is nearly full.
  service->set_space_floor({config().getString("server.data_dir", "ocopd-data"), BytesDir(config(), "files")});
  service->set_push_bodies(&push_bodies);
  int port = config().getInt("server.port", 8080);
  if (port < 0 || port > 65535) {
    std::cerr << "ocopd: --port must be between 0 and 65535\n";
    return EXIT_USAGE;
  }
  std::string host = config().getString("server.host", "127.0.0.1");
  ApiOptions api;
  api.max_body_bytes = static_cast<size_t>(config().getInt64("server.max_body_bytes", static_cast<Poco::Int64>(api.max_body_bytes)));
  // Bodies read at once, and how they must keep arriving (http/body_gate.h, web::BodyPace).
  http::BodyGate::Policy gate;
  gate.max_total = config().getInt("server.body_readers", std::max(1, config().getInt("server.threads", 32) / 2));
  gate.max_per_address = config().getInt("server.body_readers_per_address", gate.max_per_address);
  gate.max_anonymous_per_address = config().getInt("server.login_bodies_per_address", gate.max_anonymous_per_address);
  gate.max_anonymous_total = config().getInt("server.login_bodies", std::max(1, gate.max_total / 2));
  api.body_gate = std::make_shared<http::BodyGate>(gate);
  api.body_pace.idle_ms = config().getInt64("server.body_idle_seconds", api.body_pace.idle_ms / 1000) * 1000;
  api.body_pace.min_bytes_per_s = config().getDouble("server.body_min_bytes_per_second", api.body_pace.min_bytes_per_s);
  if (config().getString("store.engine", "sqlite") == "sqlite") {
    std::string db = config().getString("server.data_dir", "ocopd-data") + "/ocopd.db";
    api.store_bytes = [db] {
      int64_t total = 0;
      for (const char* suffix : {"", "-wal"}) {
        struct stat st;
        if (stat((db + suffix).c_str(), &st) == 0) total += static_cast<int64_t>(st.st_size);
      }
      return total;
    };
  }
  // HTTPS when a certificate and key are configured (docs/server.md, README):
  // passwords and tokens must not cross a mobile network in clear text.
  std::string cert = config().getString("tls.certificate", ""), key = config().getString("tls.private_key", "");
  if (cert.empty() != key.empty()) {
    std::cerr << "ocopd: tls.certificate and tls.private_key go together\n";
    return EXIT_CONFIG;
  }
  RaiseOpenFileLimit();
  Poco::Net::SocketAddress address(host, static_cast<Poco::UInt16>(port));
  std::unique_ptr<Poco::Net::ServerSocket> socket_holder;
  if (!cert.empty()) {
    Poco::Net::initializeSSL();
    try {
      Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, cert, "",
                                                           Poco::Net::Context::VERIFY_NONE, 9, false,
                                                           "HIGH:!aNULL:!MD5:!RC4:@STRENGTH");
      ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      socket_holder = std::make_unique<Poco::Net::SecureServerSocket>(address, 1024, ctx);
    } catch (const Poco::Exception& e) {
      std::cerr << "ocopd: cannot use the TLS certificate or key: " << e.displayText() << "\n";
      return EXIT_CONFIG;
    }
  } else {
    socket_holder = std::make_unique<Poco::Net::ServerSocket>(address, 1024);
  }
  Poco::Net::ServerSocket& socket = *socket_holder;
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(config().getInt("server.threads", 32));
  params->setMaxQueued(config().getInt("server.max_queued", 256));
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(config().getInt("server.timeout_seconds", 60), 0));
  Poco::ThreadPool pool(2, params->getMaxThreads());
  // Idle keep-alive connections hold a thread: let them go after a few seconds.
  params->setKeepAliveTimeout(Poco::Timespan(config().getInt("server.keep_alive_seconds", 5), 0));
  GuardOptions guard;
  guard.max_per_address = config().getInt("server.max_connections_per_address", guard.max_per_address);
  guard.limit_loopback = config().getBool("server.limit_loopback", false);
  http::LobbyOptions lobby_options;
  lobby_options.header_deadline_ms = config().getInt("server.header_deadline_ms", lobby_options.header_deadline_ms);
  lobby_options.max_waiting = config().getInt("server.max_waiting_connections", lobby_options.max_waiting);
  lobby_options.max_waiting_per_address = guard.max_per_address;
  lobby_options.limit_loopback = guard.limit_loopback;
  lobby_options.plain_http = cert.empty();
  api.lingering_close = lobby_options.plain_http;
  ReviewService review(*service, *store, SystemClock::Get());
  lobby_options.keep_alive_ms = static_cast<int>(params->getKeepAliveTimeout().totalMilliseconds());
  Poco::SharedPtr<GuardedConnectionFactory> connections =
      new GuardedConnectionFactory(params, new ApiRouter(*service, api, &review), guard);
  http::Lobby server(socket, connections, pool, params, lobby_options);
  if (lobby_options.plain_http) connections->set_lobby(&server);
  server.Start();
  std::string url = (cert.empty() ? "http://" : "https://") + socket.address().toString();
  log.information("ocopd listening on " + url + " (data in " + config().getString("server.data_dir", "ocopd-data") + ")");
  std::cout << "ocopd listening on " << url << "\nconsole: " << url << "/console/" << std::endl;
  // Another process may publish a form (ocopd --publish) or, with a shared
  // database, another replica import a unit list: look for both now and then.
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread units_watch;
  const bool shared_db = config().getString("store.engine", "sqlite") != "sqlite";
  int refresh_s = config().getInt("store.refresh_seconds", config().getInt("store.units_refresh_seconds", 30));
  if (refresh_s > 0)
    units_watch = std::thread([&] {
      std::unique_lock<std::mutex> lock(stop_mu);
      while (!stop_cv.wait_for(lock, std::chrono::seconds(refresh_s), [&] { return stopping; })) {
        bool changed = false;
        Status r = shared_db ? service->RefreshUnits(&changed) : Status::Ok();
        if (!r.ok()) log.warning("units not refreshed from the store: " + r.message());
        else if (changed) log.information("took the unit list another replica imported");
        r = service->RefreshDefinitions(&changed);
        if (!r.ok()) log.warning("definitions not refreshed from the store: " + r.message());
        else if (changed) log.information("took the definitions published meanwhile (version " + service->DefinitionsVersion() + ")");
      }
    });
  waitForTerminationRequest();
  if (units_watch.joinable()) {
    {
      std::lock_guard<std::mutex> lock(stop_mu);
      stopping = true;
    }
    stop_cv.notify_all();
    units_watch.join();
  }
  log.information("stopping: finishing requests in flight");
  server.Stop();
  pool.joinAll();
  if (!cert.empty()) Poco::Net::uninitializeSSL();
  log.information("stopped");
  return EXIT_OK;
}

}  // namespace ocop::server
