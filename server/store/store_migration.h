// Moving a province from the embedded store to PostgreSQL:
// `ocopd --migrate-from-sqlite FILE`. Every table is copied in one PostgreSQL
// transaction and checked before it commits: the row count and a SHA-256 of
// every row (in key order, every column) must be equal on both sides, or
// nothing is kept.
#pragma once
#include <string>
#include <vector>

#include "shared/status.h"

namespace ocop::server {

struct TableCopy {
  std::string table;
  int64_t rows = 0;
  std::string sha256;  // of the rows, equal on both sides
};

// Copies the SQLite store `sqlite_file` (brought to the current schema first,
// as ocopd would on start) into the PostgreSQL database `conninfo`, whose
// schema must be current (PostgresServerStore::Open) and which must hold no
// accounts, records or change sets yet (its unit list is replaced).
Status MigrateSqliteToPostgres(const std::string& sqlite_file, const std::string& conninfo,
                               std::vector<TableCopy>* report);

}  // namespace ocop::server
