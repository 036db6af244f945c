// What the console reads and the few things it changes beyond sync: the weekly
// report of a user's scope (the same computation as `ocop report`, in
// shared/report.h), record search and one record with its history and open
// conflicts, CSV exports, and importing the statistics office's unit list.
// Every read is limited to the caller's scope, as pulls are.
//
// Thread-safe: no state of its own beyond what SyncService and the store guard.
#pragma once
#include <string>
#include <vector>

#include "server/store/server_store.h"
#include "server/sync_service.h"
#include "shared/clock.h"
#include "shared/report.h"
#include "shared/sheet_import.h"
#include "shared/units.h"

namespace ocop::server {

struct RecordQuery {
  std::string text;    // words, each must occur (case, accents and -n/-ng ignored)
  std::string form;    // "" for every form
  std::string status;  // "" for any
  std::string unit;    // a unit within the caller's scope; "" for all of it
  bool conflicts_only = false;
  int limit = 200;     // 1..1000
};

struct RecordDetail {
  StoredRecord record;
  std::vector<ConflictRow> open_conflicts;
  std::vector<AuditRow> history;
};

class ReviewService {
 public:
  ReviewService(SyncService& sync, ServerStore& store, const Clock& clock)
      : sync_(sync), store_(store), clock_(clock) {}

  // The weekly report of the user's unit, for the week holding `day` ("" = today).
  // For a past day the records are taken as they stood at its end
  // (report::RewindTo over the audit trail).
  Status WeeklyReport(const AuthUser& user, const std::string& day, int target, report::WeeklyReport* out);
  // Matching live records, most recently changed first; *total counts every
  // match, also those past the limit.
  Status Search(const AuthUser& user, const RecordQuery& query, std::vector<StoredRecord>* out, size_t* total);
  Status Detail(const AuthUser& user, const std::string& record_id, RecordDetail* out);
  // Every live record of a form in the user's scope (or below `unit`), as a
  // spreadsheet: `format` csv or xlsx; labels and words in `lang` unless
  // `codes` (report::RecordsTable); `bom` for CSV opened in Excel.
  struct ExportOptions {
    std::string format = "csv", lang = "vi";
    bool codes = false, bom = false;
  };
  Status Export(const AuthUser& user, const std::string& form, const std::string& unit, const ExportOptions& options,
                std::string* out);
  // Records of a form from a spreadsheet (CSV or .xlsx bytes), read as
  // shared/sheet_import.h says and each row checked as a push from a device
  // would be; stored as change sets of the user only when every row is good
  // (or with `skip_bad`), nothing with `dry_run`. Rows name their commune in a
  // unit column; an officer's rows may leave it out. Each problem has its line.
  Status ImportRecords(const AuthUser& user, const std::string& form, const std::string& bytes,
                       const sheet::ImportOptions& options, sheet::ImportSummary* out);
  // Reads an official unit list (CSV, either layout UnitTree::ParseCsv knows)
  // and says what it would change; with `apply`, installs it. Administrators
  // only; every unit it adds, closes, renames or moves must lie within the
  // administrator's scope, and a list that moves a unit is not applied.
  Status ImportUnits(const AuthUser& admin, const std::string& csv, bool apply, UnitListChange* out);

  // Today in Vietnam (ISO).
  std::string Today() const;

 private:
  // Calls fn for each live record under `path_prefix` (deleted ones too with
  // `with_deleted`), in pages.
  Status ForEachRecord(const std::string& path_prefix, const std::function<Status(StoredRecord&)>& fn,
                       bool with_deleted = false);
  Status ScopePath(const AuthUser& user, const std::string& unit, std::string* path);

  SyncService& sync_;
  ServerStore& store_;
  const Clock& clock_;
};

}  // namespace ocop::server
