// Score sheets for tests: every criterion of a sheet given one chosen step.
#pragma once
#include <algorithm>
#include <string>

#include "shared/evaluation.h"

namespace ocop::evaluation_test {

// A sheet scoring every criterion at its `step`-th allowed score (clamped to
// the last), with the fields an evaluation record needs.
inline json::Object CompleteSheet(const std::string& sheet_id, size_t step, json::Object fields = json::Object()) {
  const evaluation::CriteriaSheet* sheet = evaluation::FindSheet(sheet_id);
  json::Array::Ptr list = new json::Array;
  for (const auto& c : sheet->criteria) {
    json::Object::Ptr item = new json::Object;
    item->set("criterion", c.code);
    item->set("points", static_cast<Poco::Int64>(c.scores[std::min(step, c.scores.size() - 1)]));
    list->add(item);
  }
  fields.set("sheet", sheet_id);
  fields.set("scores", list);
  return fields;
}

// Sets one criterion's score in a sheet's fields.
inline void SetScore(json::Object* fields, const std::string& code, int points) {
  auto list = fields->get("scores").extract<json::Array::Ptr>();
  for (size_t i = 0; i < list->size(); ++i)
    if (list->getObject(i)->getValue<std::string>("criterion") == code)
      list->getObject(i)->set("points", static_cast<Poco::Int64>(points));
}

}  // namespace ocop::evaluation_test
