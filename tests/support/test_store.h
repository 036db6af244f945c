// The store a test runs on. The server tests run twice under CTest: once on
// the embedded SQLite engine, once (entries named "pg.*", OCOP_TEST_ENGINE =
// postgresql) on a throwaway PostgreSQL cluster that CTest starts first
// (tests/support/pg_cluster.sh); each test gets a database of its own.
#pragma once
#include <memory>
#include <string>

#include "server/store/server_store.h"

namespace ocop::testing {

// "postgresql" when OCOP_TEST_ENGINE says so, else "sqlite".
std::string TestEngine();
// The test cluster's connection string without a database name, or "" with
// *why set when no cluster is running.
std::string TestClusterConninfo(std::string* why);
// A new, empty database in the test cluster: its full connection string.
Status NewTestDatabase(std::string* conninfo);
// Opens the store for one test: SQLite in `dir`, or a new PostgreSQL
// database. *skip is set (and nothing opened) when PostgreSQL is asked for
// but not available, with the reason to show.
Status OpenTestStore(const std::string& dir, std::unique_ptr<server::ServerStore>* out, std::string* skip);

// Every table and row of the store OpenTestStore opened for `dir`, as text
// in a fixed order: equal dumps mean an unchanged store.
std::string DumpTestStore(const std::string& dir);

}  // namespace ocop::testing
