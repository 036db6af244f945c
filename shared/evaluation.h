// Evaluation and star ranking (the cycle's step 5), as data and pure functions.
//
// A criteria sheet (schemas/criteria/<id>.json) is versioned data like a form
// schema: parts A/B/C with their points, sections, and criteria each with the
// scores a member may give. Criteria marked `from` take their score from the
// product's confirmation of local labour and raw materials (localisation.h),
// never typed. One evaluation record is one council member's sheet; a
// council's result is the mean of its members' scored sheets, so two members'
// sheets never touch the same record and never conflict.
//
// Used by the device (to fill the confirmation's criteria and check a sheet
// before it is recorded) and by the server (which checks the same things
// against its own copy of the confirmation). Thread-safe once loaded.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"
#include "shared/localisation.h"
#include "shared/status.h"

namespace ocop::evaluation {

struct Criterion {
  std::string code;  // "A1.3"
  Label label;
  std::vector<int> scores;  // allowed, ascending
  std::string from;         // "" or "confirmation.material_points" / "confirmation.labour_points"
  std::string part, section;
  int Max() const { return scores.empty() ? 0 : scores.back(); }
};

struct Part {
  std::string code;
  Label label;
  int max = 0;
};

struct CriteriaSheet {
  std::string id;  // "148-2023"
  std::string decision;
  std::string decided_on;  // ISO date of the decision (the year a council chooses by)
  // The sheet this one corrects ("148-2023" for "148-2023-r2"): councils
  // choose the correction from then on; sheets scored on the old one keep it.
  std::string replaces;
  std::string source;  // the definition file, as published
  Label label;
  std::vector<std::string> product_groups;  // the groups this sheet scores
  std::vector<Part> parts;
  std::vector<Criterion> criteria;  // in sheet order

  const Criterion* Find(const std::string& code) const;
  int MaxTotal() const;
  // Parses and checks a sheet: unique codes, ascending scores, each part's
  // criteria adding up to its points, 100 in all.
  static Status Parse(const std::string& json_text, CriteriaSheet* out);
};

// The sheets in force (the embedded ones and those published) by id; nullptr if unknown.
const CriteriaSheet* FindSheet(const std::string& id);
std::vector<std::string> SheetIds();
// The sheet a council of `year` scores with: of the sheets no other replaces,
// the one decided last, not after that year (the oldest if all are later).
const CriteriaSheet* SheetForYear(int year);

// Sheets published over the embedded ones. A published sheet has an id of its
// own: an id in force already is refused (a sheet once used never changes).
using SheetSet = std::map<std::string, CriteriaSheet>;
Status BuildSheets(const std::vector<std::string>& published, std::unique_ptr<const SheetSet>* out);
// Puts a set made by BuildSheets in force. Sets are kept for the life of the
// process, so sheets a request holds stay valid.
void PutSheetsInForce(std::unique_ptr<const SheetSet> sheets);

// Stars for a total (0..100): <30 → 1, 30–49 → 2, 50–69 → 3, 70–89 → 4, 90–100 → 5.
int StarsForTotal(double total);

// A sheet's scores as the record keeps them: list of {criterion, points}.
std::map<std::string, int> ScoresOf(const json::Object& fields);
// The evaluation record's field checks beyond single values: the sheet exists
// and scores this product group; every scored criterion is on the sheet, once,
// with an allowed score. Partial sheets are fine (drafts).
Status CheckSheetFields(const json::Object& fields);
// Every criterion scored: needed before a sheet counts (the "score" decision).
Status CheckComplete(const json::Object& fields);

// The criteria that come from the confirmation, as {code: points}, and whether
// the product may be ranked at all (not when all materials are imported or of
// unknown origin). `why_not` is English, for msg::Localise.
struct FromConfirmation {
  std::map<std::string, int> scores;
  bool rankable = true;
  std::string why_not;
};
FromConfirmation ScoresFromConfirmation(const CriteriaSheet& sheet, const json::Object& confirmation);
// Checks a sheet against the confirmation it names: the confirmation is of the
// same idea and confirmed, and the criteria it decides carry its scores.
Status CheckAgainstConfirmation(const json::Object& sheet_fields, const std::string& confirmation_id,
                                const json::Object* confirmation);
// Writes the confirmation's scores and rankability into a sheet's fields;
// criteria it adds have no item id yet (validation gives them one).
Status FillFromConfirmation(const json::Object& confirmation, json::Object* sheet_fields);

// Computed fields of an evaluation record: total_points, stars (absent when the
// product cannot be ranked). Of a certificate: valid_until (36 months).
void ApplyComputed(const std::string& form, json::Object* fields);

inline constexpr int kCertificateMonths = 36;
inline constexpr int kCertifiedFromStars = 3;
// The last day a certificate decided on `decided_on` (ISO) is valid.
std::string CertificateValidUntil(const std::string& decided_on);

// One council's result: the scored sheets of one product, level and year.
struct CouncilResult {
  std::string idea_id, level, product;
  int year = 0;
  int members = 0;
  double mean_total = 0;  // rounded to one decimal, as announced
  int stars = 0;          // 0 when the product cannot be ranked
  bool rankable = true;
  std::string unit;  // the commune of the sheets
};
struct SheetRecord {
  std::string id, unit;
  json::Object fields;  // an evaluation record's fields (status included)
};
// Results of every council found in `sheets` (only "scored" sheets count),
// ordered by product, year, level.
std::vector<CouncilResult> CouncilResults(const std::vector<SheetRecord>& sheets);

}  // namespace ocop::evaluation
