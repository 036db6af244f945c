// Records from a spreadsheet: a province's list of ideas kept in Excel, or an
// export edited and brought back. Every row is checked as `ocop new` checks a
// form, every bad row is reported with its line and reason, and nothing is
// stored unless every row is good (or the bad ones are skipped on request):
// a half-imported list is worse than none.
#pragma once
#include <string>
#include <vector>

#include "client/local_store.h"
#include "shared/sheet.h"

namespace ocop::client {

// The table in a file's bytes: an .xlsx workbook (by its zip signature) or CSV.
Status ReadSheet(const std::string& bytes, sheet::Table* out);

struct ImportOptions {
  bool dry_run = false;   // check every row, store nothing
  bool skip_bad = false;  // store the good rows even when some are bad
};

struct ImportProblem {
  size_t line = 0;      // the row's line (CSV) or row number (xlsx); 1 is the header
  std::string message;  // the core's English, localised at the edge (msg::Localise)
};

struct ImportSummary {
  size_t rows = 0, good = 0, stored = 0;
  std::vector<ImportProblem> problems;
  std::vector<std::string> ignored_columns;  // export-only columns (id, status…) and system fields
};

// Headers may be field labels (Vietnamese or English, accents and case
// ignored) or keys; a "Đơn vị"/unit column names each row's commune (its code,
// or "Name (code)" as exports write it). An unknown column refuses the whole
// file. Values are read as a person types them (ParseInput): dd/mm/yyyy or
// Excel dates, choices by label, 1.500.000, có/không; list fields as JSON.
Status ImportRecords(LocalStore& store, const std::string& form, const sheet::Table& table, const ImportOptions& options,
                     ImportSummary* out);

}  // namespace ocop::client
