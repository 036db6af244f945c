// A table of cells as spreadsheets exchange it: a form's records for export,
// the rows of an import. CSV here (RFC 4180); xlsx in shared/xlsx.h. Provinces
// keep their OCOP lists in Excel, so both directions matter.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "shared/status.h"

namespace ocop::sheet {

struct Cell {
  std::string text;     // as a person reads it (CSV), or a number's plain digits when `number`
  bool number = false;  // stored as a number in xlsx (sums and sorting work there)
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
  std::vector<size_t> row_lines;  // read tables: the line (CSV) or row (xlsx) each row came from
};

// Bounds on what is read: an import is a province's list, not a database.
inline constexpr size_t kMaxRows = 100000;
inline constexpr size_t kMaxColumns = 200;
inline constexpr size_t kMaxCellBytes = 64 * 1024;

// One CSV cell, quoted when it holds a separator (',' or ';'), a quote or a line break.
std::string CsvCell(const std::string& s);

// CSV with a header line; cells quoted where needed. `bom`: starts with a UTF-8
// BOM so that Excel reads Vietnamese correctly.
std::string ToCsv(const Table& table, bool bom);

// Reads CSV: a BOM is skipped; the separator is ',' or ';' (Excel in a
// Vietnamese locale writes ';'), taken from the header line; quotes, doubled
// quotes, line breaks inside quotes, CRLF or LF. Blank lines are skipped.
// Errors name the line. Text must be UTF-8.
Status FromCsv(std::string_view text, Table* out);

}  // namespace ocop::sheet
