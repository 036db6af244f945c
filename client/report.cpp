#include "client/report.h"

#include <set>
#include <sstream>

#include "shared/dates.h"

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

namespace {

// The records as this device held them at `end`: each field it changed since
// goes back to the value it had before its first change since (the old value
// the device wrote down), and deleted records come back if it deleted them
// since (report::RewindTo keeps records made later as they are).
Status GatherAsOf(LocalStore& store, const std::string& end, std::vector<report::ReportRecord>* out, int* synced_since) {
  std::map<std::string, std::vector<HistoryEntry>> local;
  Status s = store.LocalChangesSince(end, &local);
  if (!s.ok()) return s;
  ListQuery q;
  q.include_deleted = true;
  std::vector<Record> rows;
  s = store.List(q, &rows);
  if (!s.ok()) return s;
  std::map<std::string, std::vector<report::FieldChangeAt>> changes;
  out->clear();
  for (auto& r : rows) {
    const bool made_later = r.created_at >= end;  // kept as it is
    auto it = made_later ? local.end() : local.find(r.id);
    if (it == local.end()) {
      if (r.deleted) continue;
      // Written since, and not by this device: a sync brought it.
      if (!made_later && r.updated_at >= end && synced_since) ++*synced_since;
    } else {
      // RewindTo takes the value a field's last change before `end` set: the
      // old value of its first change since stands for it.
      auto& list = changes[r.id];
      std::set<std::string> seen;
      for (const auto& h : it->second)
        if (seen.insert(h.field).second) list.push_back({h.field, h.old_value, ""});
      for (const auto& h : it->second) list.push_back({h.field, h.new_value, h.at});
      if (synced_since && r.updated_at > it->second.back().at) ++*synced_since;
    }
    out->push_back({r.id, r.form, r.unit, std::move(r.fields), r.conflict});
  }
  report::RewindTo(end, changes, out);
  return Status::Ok();
}

}  // namespace

Status BuildWeeklyReport(LocalStore& store, const std::string& day, int target, WeeklyReport* out,
                         int* synced_since) {
  if (synced_since) *synced_since = 0;
  const std::string today = dates::IsoDateFromMillis(store.clock().NowMillis());
  std::optional<std::string> day_iso = dates::ParseDate(day);
  std::vector<report::ReportRecord> records;
  Status s;
  if (!day_iso || *day_iso >= today) {
    s = GatherReportRecords(store, "", &records);
  } else {
    s = GatherAsOf(store, report::EndOfDayUtc(*day_iso), &records, synced_since);
  }
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
    sheet::Table table = report::RecordsTable(store.catalog().AllFields(form), rows, store.units(), options.lang, options.codes);
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
