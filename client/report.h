// The coordinator's weekly report and exports on the device, computed offline
// from the local store after a sync. The figures and their renderings are
// shared with the server's console (shared/report.h); this file only gathers
// the device's records for them.
#pragma once
#include <string>
#include <vector>

#include "client/local_store.h"
#include "shared/report.h"

namespace ocop::client {

using report::CommuneFigures;
using report::ConfirmationLine;
using report::CsvCell;
using report::RenderCsv;
using report::RenderHtml;
using report::RenderJson;
using report::RenderTable;
using report::WaitingIdea;
using report::WeeklyReport;

// The device's live records of `form` (all forms when empty).
Status GatherReportRecords(LocalStore& store, const std::string& form, std::vector<report::ReportRecord>* out);

// Figures for the week containing `day` over every record on the device. For
// a day before today the records are taken as this device held them at the
// day's end: records it received later are left out and its own changes
// since are taken back. Changes a sync brought since cannot be taken back
// here (the device keeps no past of them); *synced_since counts the records
// they touched, and `ocop report` asks the server instead when it can.
Status BuildWeeklyReport(LocalStore& store, const std::string& day, int target, WeeklyReport* out,
                         int* synced_since = nullptr);

// How an export is written: csv, xlsx or json; labels and words in `lang`
// unless `codes` (report::RecordsTable); `bom` for CSV opened in Excel.
struct ExportOptions {
  std::string format = "csv";
  std::string lang = "vi";
  bool codes = false;
  bool bom = false;
};
// Every record of a form as a spreadsheet (CSV or .xlsx bytes) or a JSON array.
Status ExportForm(LocalStore& store, const std::string& form, const ExportOptions& options, std::string* out);

}  // namespace ocop::client
