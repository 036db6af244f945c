// Receipt numbers of idea forms: "<n>/PĐK-<province>-<district>-<year>", as the
// communes wrote them on paper. Several devices of one commune hand them out
// offline at once, so <n> must never be chosen by looking at what the device has
// seen. Instead the server reserves *blocks* of numbers to a device (at login and
// whenever a sync finds the device's block running low); a device gives out
// numbers only from blocks it holds. Blocks never overlap because the server
// allocates them in one transaction from one counter per (district, year) — the
// scope the number names (ReceiptScope).
// A device with no block left records the form without a number and numbers it
// at its next sync; see docs/receipts.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "shared/units.h"

namespace ocop {

struct ReceiptBlock {
  std::string commune;
  int year = 0;
  int64_t first = 0;  // inclusive
  int64_t last = 0;   // inclusive
};

// Formats a receipt number. The province and district are the commune's
// ancestors at those levels; a missing level (two-tier units) is left out.
std::string FormatReceipt(const UnitTree& units, const std::string& commune, int year, int64_t n);
// What FormatReceipt writes between <n> and <year>, "/PĐK-26-253-": the phone
// app is given it with its scope and writes n + suffix + year.
std::string ReceiptSuffix(const UnitTree& units, const std::string& commune);

// The unit a number is unique in — what FormatReceipt writes: the commune's
// district, or its province in two-tier trees. Every commune of a district
// draws from the district's one counter; two communes counting apart would
// both write "1/PĐK-26-253-2026".
std::string ReceiptScope(const UnitTree& units, const std::string& commune);
// The communes (leaf units) under a scope, the scope itself if it has none.
std::vector<std::string> ReceiptScopeCommunes(const UnitTree& units, const std::string& scope);

}  // namespace ocop
