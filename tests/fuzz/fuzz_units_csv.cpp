// libFuzzer target: an uploaded unit list (ocopd --import-units, ocop init --units).
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string csv(reinterpret_cast<const char*>(data), size);
  ocop::UnitTree tree;
  if (ocop::UnitTree::ParseCsv(csv, &tree).ok()) (void)tree.ToCsv();
  return 0;
}
