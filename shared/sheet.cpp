#include "shared/sheet.h"

#include "shared/text.h"

namespace ocop::sheet {

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",;\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  return out + "\"";
}

std::string ToCsv(const Table& table, bool bom) {
  std::string out = bom ? "\xEF\xBB\xBF" : "";
  for (size_t i = 0; i < table.header.size(); ++i) out += (i ? "," : "") + CsvCell(table.header[i]);
  out += "\n";
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvCell(row[i].text);
    out += "\n";
  }
  return out;
}

Status FromCsv(std::string_view text, Table* out) {
  *out = Table();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (!text::IsValidUtf8(text)) return Status::Invalid("the file is not UTF-8 text (save it as CSV UTF-8)");
  // The separator: whichever of ',' and ';' the header line (outside quotes) has more of.
  char sep = ',';
  {
    size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (char c : text) {
      if (c == '"') quoted = !quoted;
      else if (!quoted && (c == '\n' || c == '\r')) break;
      else if (!quoted && c == ',') ++commas;
      else if (!quoted && c == ';') ++semicolons;
    }
    if (semicolons > commas) sep = ';';
  }
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, cell_was_quoted = false;
  size_t line = 1, row_line = 1;
  auto end_row = [&]() -> Status {
    row.push_back(std::move(cell));
    cell.clear();
    bool blank = row.size() == 1 && row[0].empty() && !cell_was_quoted;
    cell_was_quoted = false;
    if (!blank) {
      if (row.size() > kMaxColumns)
        return Status::Invalid("line " + std::to_string(row_line) + ": more than " + std::to_string(kMaxColumns) + " columns");
      if (out->header.empty()) {
        out->header = std::move(row);
      } else {
        if (out->rows.size() >= kMaxRows)
          return Status::Invalid("the file has more than " + std::to_string(kMaxRows) + " rows; split it");
        std::vector<Cell> cells;
        for (auto& c : row) cells.push_back({std::move(c), false});
        out->rows.push_back(std::move(cells));
        out->row_lines.push_back(row_line);
      }
    }
    row.clear();
    row_line = line;
    return Status::Ok();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
    } else if (c == '"' && cell.empty()) {
      quoted = cell_was_quoted = true;
    } else if (c == sep) {
      row.push_back(std::move(cell));
      cell.clear();
      cell_was_quoted = false;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      Status s = end_row();
      if (!s.ok()) return s;
    } else {
      cell.push_back(c);
    }
    if (cell.size() > kMaxCellBytes)
      return Status::Invalid("line " + std::to_string(line) + ": a cell longer than " + std::to_string(kMaxCellBytes) + " bytes");
  }
  if (quoted) return Status::Invalid("line " + std::to_string(row_line) + ": a quote is opened and never closed");
  if (!cell.empty() || !row.empty()) {
    Status s = end_row();
    if (!s.ok()) return s;
  }
  if (out->header.empty()) return Status::Invalid("the file is empty: no header line");
  return Status::Ok();
}

}  // namespace ocop::sheet
