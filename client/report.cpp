#include "client/report.h"

#include <sstream>

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

Status ExportForm(LocalStore& store, const std::string& form, const std::string& format, bool bom, std::string* out) {
  const FormSchema* schema = store.catalog().Find(form);
  if (!schema) return UnknownForm(form);
  if (format != "csv" && format != "json") return Status::Invalid("--format must be csv or json");
  if (format == "csv") {
    std::vector<report::ReportRecord> rows;
    Status s = GatherReportRecords(store, form, &rows);
    if (!s.ok()) return s;
    *out = report::RecordsCsv(*schema, rows, bom);
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
