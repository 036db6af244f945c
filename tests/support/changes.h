// Change sets for server tests: a new idea form as a device would send it.
#pragma once
#include <string>

#include "shared/ids.h"
#include "shared/json.h"
#include "sync/change.h"

namespace ocop::testing {

// Creates an idea form of `product` in `unit`, from device "dev".
inline sync::Change NewIdeaChange(const std::string& unit, const std::string& product) {
  sync::Change c;
  c.change_id = ids::NewUuid();
  c.record_id = ids::NewUuid();
  c.form = "idea";
  c.unit = unit;
  c.op = sync::op::kCreate;
  c.fields = {{"subject_name", "null", "\"HTX\""},        {"subject_kind", "null", "\"cooperative\""},
              {"product_name", "null", json::Quote(product)}, {"product_group", "null", "1"},
              {"description", "null", "\"Ngon\""},         {"status", "null", "\"draft\""}};
  c.device = "dev";
  c.hlc = "001795453200000-00000";
  return c;
}

}  // namespace ocop::testing
