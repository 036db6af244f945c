// Records from a spreadsheet: a province's list of ideas kept in Excel, or an
// export edited and brought back. Reading the table is shared by both places
// that import (`ocop import` on a device, the console's upload on ocopd):
// every column is matched to a field, every cell read as a person types it,
// and every bad row reported with its line and reason. Each side then checks
// the rows as its own `new` does and stores them only when every row is good
// (or the bad ones are skipped on request): a half-imported list is worse
// than none.
#pragma once
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"
#include "shared/sheet.h"
#include "shared/status.h"

namespace ocop::sheet {

// The table in a file's bytes: an .xlsx workbook (by its zip signature) or CSV.
Status ReadSheet(const std::string& bytes, Table* out);

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

// One row read: its line, the commune it names ("" when the file has no unit
// column) and the fields typed in it, not yet checked as a whole record.
struct ImportRow {
  size_t line = 0;
  std::string unit;
  json::Object fields;
};

// Headers may be field labels (Vietnamese or English, accents and case
// ignored) or keys; a "Đơn vị"/unit column names each row's commune (its code,
// or "Name (code)" as exports write it). An unknown column refuses the whole
// file. Values are read as a person types them (ParseInput): dd/mm/yyyy or
// Excel dates, choices by label, 1.500.000, có/không; list fields as JSON.
// Rows with a bad cell go to summary->problems, the others to *rows;
// summary->rows counts both.
Status ReadImportRows(const FormSchema& schema, const Table& table, std::vector<ImportRow>* rows, ImportSummary* summary);

}  // namespace ocop::sheet
