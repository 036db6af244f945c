// The coordinator's weekly report and exports, computed offline from the local
// store after a sync. The figures are built once (BuildWeeklyReport) and then
// rendered as a terminal table, CSV for the province's spreadsheets, or a
// self-contained HTML page (inline styles and bar charts, no external resource).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "client/local_store.h"

namespace ocop::client {

struct CommuneFigures {
  std::string code, name;
  std::map<std::string, int> ideas_by_status;  // every status of the idea form, 0 included
  int ideas_total = 0;
  int ideas_received_this_week = 0;  // received_on within the week
  int visits_this_week = 0;          // visited_on within the week
  int confirmations = 0;
};

struct WaitingIdea {
  std::string id, commune, product, returned_on, resubmit_from, reason;
};

struct ConfirmationLine {
  std::string id, commune, product, status;
  double labour_ratio = -1, material_ratio = -1;  // -1: not computable
  int labour_points = 0, material_points = 0;
  bool rankable = true;
};

struct WeeklyReport {
  std::string unit, unit_name;
  std::string week_start, week_end;  // ISO, Monday..Sunday
  std::vector<CommuneFigures> communes;
  std::vector<WaitingIdea> waiting;
  std::vector<ConfirmationLine> confirmations;
  int selected_total = 0;
  int target = 0;  // selected products aimed at (0: no target)
  std::string last_sync;
};

// Figures for the week containing `day` (ISO date).
Status BuildWeeklyReport(LocalStore& store, const std::string& day, int target, WeeklyReport* out);

std::string RenderTable(const WeeklyReport& r, const std::string& lang);
std::string RenderCsv(const WeeklyReport& r);
std::string RenderHtml(const WeeklyReport& r, const std::string& lang);

// Every record of a form as CSV (one column per field; lists as JSON) or as a
// JSON array. `bom` prefixes the UTF-8 byte-order mark some spreadsheets need.
Status ExportForm(LocalStore& store, const std::string& form, const std::string& format, bool bom, std::string* out);

// RFC 4180 quoting of one CSV cell.
std::string CsvCell(const std::string& s);

}  // namespace ocop::client
