#include "shared/receipt.h"

namespace ocop {

std::string ReceiptSuffix(const UnitTree& units, const std::string& commune) {
  std::string s = "/PĐK";
  if (const Unit* p = units.AncestorAtLevel(commune, "province")) s += "-" + p->code;
  if (const Unit* d = units.AncestorAtLevel(commune, "district")) s += "-" + d->code;
  return s + "-";
}

std::string FormatReceipt(const UnitTree& units, const std::string& commune, int year, int64_t n) {
  return std::to_string(n) + ReceiptSuffix(units, commune) + std::to_string(year);
}

std::string ReceiptScope(const UnitTree& units, const std::string& commune) {
  if (const Unit* d = units.AncestorAtLevel(commune, "district")) return d->code;
  if (const Unit* p = units.AncestorAtLevel(commune, "province")) return p->code;
  return commune;
}

std::vector<std::string> ReceiptScopeCommunes(const UnitTree& units, const std::string& scope) {
  std::vector<std::string> out, to_visit{scope};
  // Bounded by the tree: every unit is visited once (a tree has no cycles).
  while (!to_visit.empty() && out.size() <= units.size()) {
    std::string code = to_visit.back();
    to_visit.pop_back();
    auto children = units.Children(code);
    if (children.empty()) out.push_back(code);
    for (const Unit* c : children) to_visit.push_back(c->code);
  }
  return out;
}

}  // namespace ocop
