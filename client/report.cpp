#include "client/report.h"

#include <sstream>

#include "shared/xlsx.h"

namespace ocop::client {

Status GatherReportRecords(LocalStore& store, const std::string& form, std::vector<report::ReportRecord>* out) {
  ListQuery q;
  q.form = form;
  std::vector<Record> rows;
  Status s = store.List(q, &rows);
  if (!s.ok()) return s;
  out->clear();
  out->reserve(rows.size());
  for (auto& r : rows) out->push_back({r.id, r.form, r.unit, std::move(r.fields), r.conflict});
  return Status::Ok();
}

Status BuildWeeklyReport(LocalStore& store, const std::string& day, int target, WeeklyReport* out) {
  std::vector<report::ReportRecord> records;
  Status s = GatherReportRecords(store, "", &records);
  if (!s.ok()) return s;
  s = report::BuildWeeklyReport(records, store.units(), store.commune(), day, target, out);
  if (s.ok()) out->last_sync = store.Setting("last_sync");
  return s;
}

Status ExportForm(LocalStore& store, const std::string& form, const ExportOptions& options, std::string* out) {
  const FormSchema* schema = store.catalog().Find(form);
  if (!schema) return UnknownForm(form);
  const std::string& format = options.format;
  const bool bom = options.bom;
  if (format != "csv" && format != "json" && format != "xlsx") return Status::Invalid("--format must be csv, xlsx or json");
  if (format == "csv" || format == "xlsx") {
    std::vector<report::ReportRecord> rows;
    Status s = GatherReportRecords(store, form, &rows);
    if (!s.ok()) return s;
    sheet::Table table = report::RecordsTable(*schema, rows, store.units(), options.lang, options.codes);
    *out = format == "csv" ? sheet::ToCsv(table, bom) : xlsx::Write(table, options.codes ? form : schema->label.In(options.lang));
    return Status::Ok();
  }
  ListQuery q;
  q.form = form;
  std::vector<Record> rows;
  Status s = store.List(q, &rows);
  if (!s.ok()) return s;
  std::ostringstream o;
  if (bom) o << "\xEF\xBB\xBF";
  o << "[";
  for (size_t i = 0; i < rows.size(); ++i) o << (i ? "," : "") << json::ToText(*RecordToJson(rows[i]));
  o << "]\n";
  *out = o.str();
  return Status::Ok();
}

}  // namespace ocop::client
