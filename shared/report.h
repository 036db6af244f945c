// The weekly report's figures, computed once from records in a scope, for both
// places a coordinator reads them: `ocop report` on a device that synced, and
// the console of `ocopd`. Each side only gathers its records (ReportRecord) and
// calls BuildWeeklyReport; rendering as a terminal table, CSV, a
// self-contained HTML page or JSON is also here, so the two cannot disagree.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"
#include "shared/sheet.h"
#include "shared/status.h"
#include "shared/units.h"

namespace ocop::report {

// One live (not deleted) record as either store holds it.
struct ReportRecord {
  std::string id, form, unit;
  json::Object fields;
  bool conflict = false;
  std::string status() const;
};

struct CommuneFigures {
  std::string code, name;
  std::map<std::string, int> ideas_by_status;  // every status of the idea form, 0 included
  int ideas_total = 0;
  int ideas_received_this_week = 0;  // received_on within the week
  int visits_this_week = 0;          // visited_on within the week
  int confirmations = 0;
  // Products of this commune by their current stars (index 1..5; 0: cannot be ranked).
  std::array<int, 6> products_by_stars{};
  int certificates_valid = 0;  // issued and not expired on the report's day
};

struct WaitingIdea {
  std::string id, commune, product, returned_on, resubmit_from, reason;
};

struct ConfirmationLine {
  std::string id, commune, product, status;
  double labour_ratio = -1, material_ratio = -1;  // -1: not computable
  int labour_points = 0, material_points = 0;
  Label material_band;  // the band of the localisation table the material share falls in
  bool rankable = true;
};

struct VisitLine {
  std::string id, commune, subject, visited_on, purpose;
  std::string latitude, longitude;  // as recorded ("" when none)
};

// A product's current ranking: its latest council result (latest year, then
// highest level: commune < district < province < central).
struct RankingLine {
  std::string idea_id, commune, product, level;
  int year = 0, members = 0;
  double mean_total = 0;
  int stars = 0;  // 0: cannot be ranked
};

struct CertificateLine {
  std::string id, commune, product, level, decision_no, decided_on, valid_until;
  int stars = 0;
};

struct PlanLine {
  std::string id, commune, product, submitted_on;
  long long capital_total_vnd = -1;  // -1: not given
};

struct WeeklyReport {
  std::string unit, unit_name;
  std::string week_start, week_end;  // ISO, Monday..Sunday
  std::vector<CommuneFigures> communes;
  std::vector<WaitingIdea> waiting;
  std::vector<ConfirmationLine> confirmations;
  std::vector<VisitLine> visits_this_week;
  int selected_total = 0;
  int target = 0;  // selected products aimed at (0: no target)
  // Step 5: evaluation and certificates.
  std::vector<RankingLine> ranking;          // one line per ranked product
  int ranked_this_year = 0;                  // products with a council result in the report's year
  int three_stars_or_more = 0;               // products whose current ranking is 3 stars or more
  int star_target = 0;                       // 3-star-and-above products aimed at (0: no target)
  std::vector<CertificateLine> certificates;           // issued and valid on the report's day
  std::vector<CertificateLine> certificates_expiring;  // ... of those, expiring within 6 months
  std::vector<PlanLine> plans_under_review;            // submitted, not yet judged
  std::string last_sync;
};

// One change of one field as either store's history keeps it: the value it
// set (JSON text, "null": removed) and when the store took it (IsoTimestamp,
// UTC). Changes held in a conflict and not applied are left out by the caller.
struct FieldChangeAt {
  std::string field, new_value, at;
};

// The first moment after `day` (ISO) in Vietnam's time, as an IsoTimestamp:
// the next day's 00:00 at UTC+7.
std::string EndOfDayUtc(const std::string& day_iso);

// A past report's records: `records` as they stood at `end` (EndOfDayUtc).
// Every field changed at or after `end` takes the value its last change before
// `end` set (absent when it had none); fields not changed since keep their
// value. A record whose changes all came at or after `end` was recorded later
// (a form handed in that week and typed the next): it stays, as it is now, so
// the week's counts by the forms' own dates hold. A record whose last
// "_deleted" change before `end` deleted it is dropped (a caller passes
// records deleted since with their changes, so they count on days they were
// live). `changes` maps record id to its changes, oldest first; a record with
// no entry is taken as it is. The stores say when they learned of a change:
// statuses are those the report would have shown on that day.
void RewindTo(const std::string& end, const std::map<std::string, std::vector<FieldChangeAt>>& changes,
              std::vector<ReportRecord>* records);

// Figures for the week containing `day` (ISO or dd/mm/yyyy) over `records`,
// for the report of `unit` (names from `units`). Records are taken as given:
// the caller has already limited them to the scope.
Status BuildWeeklyReport(const std::vector<ReportRecord>& records, const UnitTree& units, const std::string& unit,
                         const std::string& day, int target, WeeklyReport* out);

std::string RenderTable(const WeeklyReport& r, const std::string& lang);
std::string RenderCsv(const WeeklyReport& r);
std::string RenderHtml(const WeeklyReport& r, const std::string& lang);
// Every figure, as the console and `ocop report --format json` give it.
std::string RenderJson(const WeeklyReport& r);

// Records of one form as a table for a spreadsheet. By default for people:
// the header in `lang` (labels), the unit by name and code, statuses and
// choices by name, dates dd/mm/yyyy, lists counted. With `codes`: keys and
// codes, ISO dates and lists as JSON (what `ocop import` reads back whole).
// Numbers are number cells either way.
sheet::Table RecordsTable(const FormSchema& schema, const std::vector<ReportRecord>& rows, const UnitTree& units,
                          const std::string& lang, bool codes);

// Records of one form as CSV with keys and codes (RecordsTable with `codes`).
// `bom` prefixes the UTF-8 byte-order mark Excel needs.
std::string RecordsCsv(const FormSchema& schema, const std::vector<ReportRecord>& rows, bool bom);

// RFC 4180 quoting of one CSV cell.
std::string CsvCell(const std::string& s);

}  // namespace ocop::report
