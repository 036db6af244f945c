// libFuzzer target: a form file read with `ocop new FORM --from FILE`, validated
// against each embedded form schema (an evaluation's criteria checks included);
// and form schema and criteria sheet files themselves.
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/evaluation.h"
#include "shared/forms.h"
#include "shared/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ocop::json::Object::Ptr o;
  if (ocop::json::ParseObject(text, &o).ok()) {
    const auto& catalog = ocop::FormCatalog::Default();
    for (const auto& name : catalog.Names()) {
      ocop::json::Object copy(*o);
      (void)ocop::ValidateRecord(*catalog.Find(name), &copy, ocop::Completeness::kComplete, false);
    }
  }
  ocop::FormSchema schema;
  (void)ocop::FormCatalog::ParseSchema(text, &schema);
  ocop::evaluation::CriteriaSheet sheet;
  (void)ocop::evaluation::CriteriaSheet::Parse(text, &sheet);
  return 0;
}
