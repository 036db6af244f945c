#include "shared/receipt.h"

namespace ocop {

std::string FormatReceipt(const UnitTree& units, const std::string& commune, int year, int64_t n) {
  std::string s = std::to_string(n) + "/PĐK";
  if (const Unit* p = units.AncestorAtLevel(commune, "province")) s += "-" + p->code;
  if (const Unit* d = units.AncestorAtLevel(commune, "district")) s += "-" + d->code;
  s += "-" + std::to_string(year);
  return s;
}

}  // namespace ocop
