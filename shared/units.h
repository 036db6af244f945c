// Administrative units as data: a tree of units (code, name, level, parent,
// validity dates). Nothing assumes a number of levels: a coordinator is simply
// an account attached to some unit above communes, and scope is "this unit and
// every unit below it". Codes are permanent: a closed unit stays in the tree with
// its valid_to date so old records keep resolving.
// Not thread-safe for writes; const methods may be called concurrently.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "shared/status.h"

namespace ocop {

struct Unit {
  std::string code;
  std::string name;
  std::string level;  // "province", "district", "commune", or whatever the data says
  std::string parent;  // empty for a root
  std::string valid_from;  // ISO date or empty
  std::string valid_to;    // ISO date or empty (still valid)
};

class UnitTree {
 public:
  // Adds or replaces a unit. The parent may be added later; Validate() checks.
  Status Add(Unit unit);
  // Checks every parent exists and there are no cycles.
  Status Validate() const;

  const Unit* Find(const std::string& code) const;
  // "/26/246/08869/": the codes from the root down, used for prefix scope checks.
  std::string Path(const std::string& code) const;
  // Whether `code` is `scope` or lies below it.
  bool IsWithin(const std::string& code, const std::string& scope) const;
  // The ancestor of `code` (or `code` itself) whose level is `level`, or nullptr.
  const Unit* AncestorAtLevel(const std::string& code, const std::string& level) const;
  std::vector<const Unit*> Children(const std::string& code) const;
  size_t size() const { return units_.size(); }
  const std::map<std::string, Unit>& all() const { return units_; }

  // Parses a unit list in CSV. Two layouts are understood, told apart by the header:
  //  - ours: code,name,level,parent,valid_from,valid_to
  //  - the official list as exported by the statistics office, with the columns
  //    "Tỉnh Thành Phố","Mã TP","Quận Huyện","Mã QH","Phường Xã","Mã PX","Cấp".
  // Errors name the line.
  static Status ParseCsv(const std::string& csv, UnitTree* out);
  // The sample tree for Vĩnh Phúc embedded from schemas/units/.
  static const UnitTree& Sample();
  // The tree in our CSV layout (what ParseCsv reads back).
  std::string ToCsv() const;

 private:
  std::map<std::string, Unit> units_;
};

// What importing an official unit list changes in the tree in force.
struct UnitListChange {
  std::vector<Unit> added;     // codes new in the list (or closed before and listed again)
  std::vector<Unit> closed;    // codes the list no longer has: kept, with valid_to set
  std::vector<std::pair<Unit, Unit>> renamed;  // (before, after)
  std::vector<std::pair<Unit, Unit>> moved;    // (before, after): a new parent
  size_t unchanged = 0;
};

// Merges an imported list into `current`. Codes are permanent, so nothing is
// removed: a code missing from the list is closed as of `today` (ISO) and old
// records keep resolving. A code that moves to another parent is reported in
// `moved` and keeps its old parent in `merged`: records carry their unit's path,
// so a move is not something an import may do silently. Errors when the
// merged tree would be inconsistent.
Status MergeUnitList(const UnitTree& current, const UnitTree& incoming, const std::string& today, UnitTree* merged,
                     UnitListChange* change);

// Splits one CSV line (RFC 4180 quoting). Exposed for tests.
std::vector<std::string> SplitCsvLine(const std::string& line);

}  // namespace ocop
