#include "shared/localisation.h"

#include <cmath>
#include <cstdlib>

#include "shared/embedded.h"
#include "shared/evaluation.h"

namespace ocop {

Status LocalisationTable::Parse(const std::string& json_text, LocalisationTable* out) {
  json::Object::Ptr o;
  Status s = json::ParseObject(json_text, &o);
  if (!s.ok()) return s;
  try {
    LocalisationTable t;
    t.version = o->getValue<int>("version");
    auto bands = o->getArray("material_bands");
    for (size_t i = 0; i < bands->size(); ++i) {
      auto b = bands->getObject(static_cast<unsigned>(i));
      MaterialBand band{b->getValue<double>("min_ratio"), b->getValue<double>("max_ratio"),
                        b->getValue<int>("points"), {}};
      if (b->has("label")) {
        auto l = b->getObject("label");
        band.label = {l->optValue<std::string>("vi", ""), l->optValue<std::string>("en", "")};
      }
      t.material_bands.push_back(band);
    }
    t.labour_min_ratio = o->getValue<double>("labour_min_ratio");
    t.labour_points = o->getValue<int>("labour_points");
    auto un = o->getArray("unrankable_origins");
    for (size_t i = 0; i < un->size(); ++i) t.unrankable_origins.push_back(un->getElement<std::string>(static_cast<unsigned>(i)));
    *out = std::move(t);
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Invalid("scoring table: " + e.displayText());
  }
}

const LocalisationTable& LocalisationTable::Default() {
  static const LocalisationTable table = [] {
    LocalisationTable t;
    auto text = embedded::Find("scoring/localisation.v1.json");
    if (!text || !Parse(*text, &t).ok()) {
      std::fprintf(stderr, "broken embedded scoring table\n");
      std::abort();
    }
    return t;
  }();
  return table;
}

namespace {
// Ratios are stored rounded to 4 decimals so that every machine stores the same text.
double Round4(double r) { return std::round(r * 10000.0) / 10000.0; }
}  // namespace

LocalisationScore ScoreLocalisation(const json::Object& fields, const LocalisationTable& table) {
  LocalisationScore score;
  if (fields.has("workers_total") && fields.has("workers_local")) {
    double total = fields.getValue<double>("workers_total");
    double local = fields.getValue<double>("workers_local");
    if (total > 0) score.labour_ratio = Round4(local / total);
  }
  bool labour_ok = score.labour_ratio && *score.labour_ratio >= table.labour_min_ratio;
  // The older rule also grants the labour point when income reaches the commune standard.
  if (!labour_ok && fields.has("income_per_worker_vnd") && fields.has("commune_income_standard_vnd")) {
    double standard = fields.getValue<double>("commune_income_standard_vnd");
    labour_ok = standard > 0 && fields.getValue<double>("income_per_worker_vnd") >= standard;
  }
  score.labour_points = labour_ok ? table.labour_points : 0;

  if (fields.has("materials") && fields.get("materials").type() == typeid(json::Array::Ptr)) {
    auto arr = fields.getArray("materials");
    double value = 0, local = 0;
    size_t unrankable = 0;
    for (size_t i = 0; i < arr->size(); ++i) {
      auto m = arr->getObject(static_cast<unsigned>(i));
      value += m->optValue<double>("value_vnd", 0);
      local += m->optValue<double>("local_value_vnd", 0);
      std::string origin = m->optValue<std::string>("origin", "unknown");
      for (const auto& u : table.unrankable_origins)
        if (u == origin) ++unrankable;
    }
    if (value > 0) score.material_ratio = Round4(local / value);
    if (arr->size() > 0 && unrankable == arr->size()) {
      score.rankable = false;
      score.reason = "all raw materials are imported or of unknown origin";
    }
    if (score.material_ratio && score.rankable)
      for (const auto& b : table.material_bands)
        if (*score.material_ratio >= b.min_ratio && *score.material_ratio < b.max_ratio)
          score.material_points = b.points;
  }
  return score;
}

void ApplyComputedFields(const std::string& form, json::Object* fields) {
  if (form == "evaluation" || form == "certificate") return evaluation::ApplyComputed(form, fields);
  if (form != "confirmation") return;
  auto score = ScoreLocalisation(*fields, LocalisationTable::Default());
  if (score.labour_ratio) fields->set("local_labour_ratio", *score.labour_ratio);
  else fields->remove("local_labour_ratio");
  if (score.material_ratio) fields->set("local_material_ratio", *score.material_ratio);
  else fields->remove("local_material_ratio");
}

}  // namespace ocop
