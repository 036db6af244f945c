#include "shared/sheet_import.h"

#include <cstdlib>
#include <map>

#include "shared/dates.h"
#include "shared/text.h"
#include "shared/xlsx.h"

namespace ocop::sheet {

namespace {

// What a column holds.
struct Column {
  enum Kind { kField, kUnit, kIgnored } kind = kIgnored;
  const FieldDef* field = nullptr;
};

// The columns exports write that an import does not take (the store sets them).
bool ExportOnly(const std::string& folded) {
  for (const char* name : {"id", "ma phieu", "record id", "status", "trang thai", "conflict", "xung dot", "in conflict"})
    if (folded == text::Fold(name)) return true;
  return false;
}

bool IsUnitColumn(const std::string& folded) {
  return folded == "unit" || folded == text::Fold("Đơn vị") || folded == text::Fold("Mã đơn vị");
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "Xã Đôn Nhân (08800)" or "08800": the code.
std::string UnitCode(const std::string& cell) {
  size_t open = cell.rfind('('), close = cell.rfind(')');
  if (open != std::string::npos && close != std::string::npos && close > open) return Trim(cell.substr(open + 1, close - open - 1));
  return Trim(cell);
}

// Excel keeps dates as days since 30/12/1899; a date column may come as one.
bool ExcelSerialDate(const Cell& cell, std::string* iso) {
  if (!cell.number || cell.text.empty() || cell.text.find_first_not_of("0123456789.") != std::string::npos) return false;
  long days = std::strtol(cell.text.c_str(), nullptr, 10);
  if (days < 1 || days > 2958465) return false;  // up to 31/12/9999
  *iso = dates::AddDays("1899-12-30", days);
  return true;
}

}  // namespace

Status ReadSheet(const std::string& bytes, Table* out) {
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04", 4) == 0) return xlsx::Read(bytes, out);
  return FromCsv(bytes, out);
}


Status ReadImportRows(const FormSchema& schema, const Table& table, std::vector<ImportRow>* rows, ImportSummary* out) {
  *out = ImportSummary();
  rows->clear();
  const std::string& form = schema.form;
  // The header: every column is a field (by key or label), the unit, or an export-only column.
  std::vector<Column> columns;
  std::map<const FieldDef*, std::string> taken;
  bool has_unit = false;
  for (const std::string& raw : table.header) {
    std::string name = Trim(raw), folded = text::Fold(name);
    Column col;
    if (name.empty()) {
      columns.push_back(col);
      continue;
    }
    for (const auto& f : schema.fields)
      if (text::Fold(f.key) == folded || text::Fold(f.label.vi) == folded || text::Fold(f.label.en) == folded) col.field = &f;
    if (col.field && (col.field->system || col.field->computed || col.field->key == "status")) {
      out->ignored_columns.push_back(name);  // set by the workflow or computed, never imported
    } else if (col.field) {
      if (taken.count(col.field))
        return Status::Invalid("columns '" + taken[col.field] + "' and '" + name + "' are the same field");
      taken[col.field] = name;
      col.kind = Column::kField;
    } else if (IsUnitColumn(folded)) {
      if (has_unit) return Status::Invalid("two unit columns");
      has_unit = true;
      col.kind = Column::kUnit;
    } else if (ExportOnly(folded)) {
      out->ignored_columns.push_back(name);
    } else {
      return Status::Invalid("column '" + name + "' is no field of the form «" + schema.label.vi +
                             "»: columns are the fields' labels, as exports write them, or their keys");
    }
    columns.push_back(col);
  }
  if (taken.empty()) return Status::Invalid("no column of the file is a field of the " + form + " form");

  for (size_t i = 0; i < table.rows.size(); ++i) {
    const auto& row = table.rows[i];
    ImportRow r;
    r.line = i < table.row_lines.size() ? table.row_lines[i] : i + 2;
    ++out->rows;
    size_t before = out->problems.size();
    for (size_t c = 0; c < row.size() && c < columns.size(); ++c) {
      const Column& col = columns[c];
      std::string typed = Trim(row[c].text);
      if (typed.empty() || col.kind == Column::kIgnored) continue;
      if (col.kind == Column::kUnit) {
        r.unit = UnitCode(typed);
        continue;
      }
      std::string iso;
      if (col.field->type == FieldType::kDate && ExcelSerialDate(row[c], &iso)) typed = iso;
      json::Var v;
      Status s = ParseInput(*col.field, typed, &v);
      if (!s.ok()) out->problems.push_back({r.line, s.message()});
      else if (!v.isEmpty()) r.fields.set(col.field->key, v);
    }
    if (row.size() > columns.size())
      for (size_t c = columns.size(); c < row.size(); ++c)
        if (!Trim(row[c].text).empty()) {
          out->problems.push_back({r.line, "a value in a column with no header"});
          break;
        }
    if (out->problems.size() == before) rows->push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace ocop::sheet
