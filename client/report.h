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

// Figures for the week containing `day` over every record on the device.
Status BuildWeeklyReport(LocalStore& store, const std::string& day, int target, WeeklyReport* out);

// Every record of a form as CSV (one column per field; lists as JSON) or as a
// JSON array. `bom` prefixes the UTF-8 byte-order mark some spreadsheets need.
Status ExportForm(LocalStore& store, const std::string& form, const std::string& format, bool bom, std::string* out);

}  // namespace ocop::client
