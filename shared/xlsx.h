// One sheet of an Office Open XML workbook (.xlsx), written and read with
// Poco's Zip and XML: what Excel and LibreOffice open, and what a province's
// OCOP list arrives as. Only what a table needs: text and number cells, a bold
// header row; formulas are read as their cached values.
#pragma once
#include <string>

#include "shared/sheet.h"
#include "shared/status.h"

namespace ocop::xlsx {

// The workbook's bytes: one sheet named `sheet_name` (cut to Excel's 31
// characters, with []:*?/\ replaced), the header in bold, numbers as numbers.
std::string Write(const sheet::Table& table, const std::string& sheet_name);

// The first sheet of a workbook: its first non-empty row is the header. Bounded
// (sheet::kMaxRows, kMaxColumns, kMaxCellBytes; 64 MB inflated per part);
// a file that is not a workbook, or is damaged, is refused with the reason.
Status Read(const std::string& bytes, sheet::Table* out);

}  // namespace ocop::xlsx
