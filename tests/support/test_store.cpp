#include "tests/support/test_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include <sqlite3.h>

#include "server/store/pg.h"
#include "server/store/postgres_server_store.h"
#include "server/store/sqlite_server_store.h"

namespace ocop::testing {

std::string TestEngine() {
  const char* e = std::getenv("OCOP_TEST_ENGINE");
  return e && std::string(e) == "postgresql" ? "postgresql" : "sqlite";
}

std::string TestClusterConninfo(std::string* why) {
  std::string dir = OCOP_PG_DIR;
  std::ifstream in(dir + "/conninfo");
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    *why = "no PostgreSQL test cluster at " + dir +
           " (CTest starts it with tests/support/pg_cluster.sh; is PostgreSQL installed?)";
    return "";
  }
  return line;
}

Status NewTestDatabase(std::string* conninfo) {
  std::string why;
  std::string base = TestClusterConninfo(&why);
  if (base.empty()) return Status::Unavailable(why);
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
  std::unique_ptr<pg::Conn> admin;
  Status s = pg::Conn::Connect(base + " dbname=postgres", &admin);
  if (!s.ok()) return s;
  s = admin->Script("CREATE DATABASE " + name);
  if (!s.ok()) return s;
  *conninfo = base + " dbname=" + name;
  return Status::Ok();
}

namespace {
std::mutex opened_mu;
std::map<std::string, std::string> opened;  // test directory -> its PostgreSQL database

std::string DumpSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open " + path;
  }
  std::string out;
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  for (const auto& t : tables) {
    out += "== " + t + "\n";
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\" ORDER BY 1").c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const void* b = sqlite3_column_blob(st, i);
        out.append(b ? static_cast<const char*>(b) : "NULL", b ? static_cast<size_t>(sqlite3_column_bytes(st, i)) : 4);
        out += "|";
      }
      out += "\n";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

std::string DumpPostgres(const std::string& conninfo) {
  std::unique_ptr<pg::Conn> c;
  Status s = pg::Conn::Connect(conninfo, &c);
  if (!s.ok()) return s.message();
  pg::Result tables;
  s = c->Exec("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name", {},
              &tables);
  if (!s.ok()) return s.message();
  std::string out;
  for (int t = 0; t < tables.rows(); ++t) {
    std::string name = tables.Text(t, 0);
    out += "== " + name + "\n";
    pg::Result rows;
    s = c->Exec("SELECT * FROM \"" + name + "\" ORDER BY 1", {}, &rows);
    if (!s.ok()) return s.message();
    for (int r = 0; r < rows.rows(); ++r) {
      for (int i = 0; i < rows.columns(); ++i) {
        out += rows.IsNull(r, i) ? "NULL" : rows.Text(r, i);
        out += "|";
      }
      out += "\n";
    }
  }
  return out;
}
}  // namespace

std::string DumpTestStore(const std::string& dir) {
  std::string conninfo;
  {
    std::lock_guard<std::mutex> lock(opened_mu);
    auto it = opened.find(dir);
    if (it != opened.end()) conninfo = it->second;
  }
  return conninfo.empty() ? DumpSqlite(dir + "/ocopd.db") : DumpPostgres(conninfo);
}

Status OpenTestStore(const std::string& dir, std::unique_ptr<server::ServerStore>* out, std::string* skip) {
  skip->clear();
  if (TestEngine() == "sqlite") {
    std::unique_ptr<server::SqliteServerStore> store;
    Status s = server::SqliteServerStore::Open(dir, &store);
    if (s.ok()) *out = std::move(store);
    return s;
  }
  std::string why;
  if (TestClusterConninfo(&why).empty()) {
    *skip = why;
    return Status::Ok();
  }
  server::PostgresOptions options;
  Status s = NewTestDatabase(&options.conninfo);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(opened_mu);
    opened[dir] = options.conninfo;
  }
  std::unique_ptr<server::PostgresServerStore> store;
  s = server::PostgresServerStore::Open(options, &store);
  if (s.ok()) *out = std::move(store);
  return s;
}

}  // namespace ocop::testing
