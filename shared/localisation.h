// The computed values of a confirmation form: the share of local labour and the
// share of local raw materials (by value), and the points they earn under a
// scoring table loaded from schemas/scoring/ (replaceable when the criteria
// change, as they did from 1048/QĐ-TTg to 148/QĐ-TTg). Computed here, once, so
// every side gets the same figures. Pure functions; thread-safe.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"

namespace ocop {

struct MaterialBand {
  double min_ratio, max_ratio;  // [min, max)
  int points;
  Label label;
};

struct LocalisationTable {
  int version = 0;
  std::vector<MaterialBand> material_bands;
  double labour_min_ratio = 0.5;
  int labour_points = 1;
  std::vector<std::string> unrankable_origins;

  static Status Parse(const std::string& json_text, LocalisationTable* out);
  static const LocalisationTable& Default();  // schemas/scoring/localisation.v1.json
};

struct LocalisationScore {
  std::optional<double> labour_ratio;    // nullopt when there are no workers
  std::optional<double> material_ratio;  // nullopt when materials have no value
  int labour_points = 0;
  int material_points = 0;
  bool rankable = true;  // false when all materials are imported or of unknown origin
  std::string reason;    // why not rankable
};

// Computes from a confirmation's fields.
LocalisationScore ScoreLocalisation(const json::Object& fields, const LocalisationTable& table);
// Sets local_labour_ratio / local_material_ratio on a confirmation (removes them
// when they cannot be computed). No-op for other forms.
void ApplyComputedFields(const std::string& form, json::Object* fields);

}  // namespace ocop
