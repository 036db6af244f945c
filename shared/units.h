// Administrative units as data: a tree of units (code, name, level, parent,
// validity dates). Nothing assumes a number of levels: a coordinator is simply
// an account attached to some unit above communes, and scope is "this unit and
// every unit below it". Codes are permanent: a closed unit stays in the tree with
// its valid_to date so old records keep resolving.
//
// Succession: a unit closed when merged into another names it in succeeded_by.
// Its place in the tree (Path) is then below its successor, so whoever works in
// the new unit sees and edits the records of the units it replaced, and those
// records keep their own codes. `parent` stays what it was, for history.
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
  std::string succeeded_by;  // the unit that took this one over when it closed, or empty
};

class UnitTree {
 public:
  // Adds or replaces a unit. The parent may be added later; Validate() checks.
  Status Add(Unit unit);
  // Checks every parent and successor exists and there are no cycles.
  // `list_only`: the tree is an imported list, to be merged into the tree in
  // force, so a closed or merged unit's parent may be missing from it (a list after a
  // reform no longer has the old districts).
  Status Validate(bool list_only = false) const;

  const Unit* Find(const std::string& code) const;
  // "/26/246/08869/": the codes from the root down, used for prefix scope checks.
  // A unit with a successor lies below it: "/26/99001/08800/".
  std::string Path(const std::string& code) const;
  // The unit in force for `code`: itself, or the end of its successions.
  const Unit* InForce(const std::string& code) const;
  // Whether `code` is `scope` or lies below it.
  bool IsWithin(const std::string& code, const std::string& scope) const;
  // The ancestor of `code` (or `code` itself) whose level is `level`, or nullptr.
  const Unit* AncestorAtLevel(const std::string& code, const std::string& level) const;
  // Units whose parent is `code`, not counting those merged into another.
  std::vector<const Unit*> Children(const std::string& code) const;
  // Units that `code` took over (succeeded_by == code), closed.
  std::vector<const Unit*> Predecessors(const std::string& code) const;
  size_t size() const { return units_.size(); }
  const std::map<std::string, Unit>& all() const { return units_; }

  // Parses a unit list in CSV. Two layouts are understood, told apart by the header:
  //  - ours: code,name,level,parent,valid_from,valid_to[,succeeded_by]
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
  std::vector<Unit> closed;    // codes the list no longer has, or closes: kept, with valid_to (and any successor)
  std::vector<std::pair<Unit, Unit>> renamed;  // (before, after)
  std::vector<std::pair<Unit, Unit>> moved;    // (before, after): a new parent
  size_t unchanged = 0;
};

// Merges an imported list into `current`. Codes are permanent, so nothing is
// removed: a code missing from the list is closed as of `today` (ISO) and old
// records keep resolving; a code the list closes with succeeded_by is closed
// into its successor (as of its valid_to, or today). A code under another
// parent moves there (a level removed by a reform) and is reported in `moved`;
// the server then moves its records' place too. Errors when the merged tree
// would be inconsistent.
Status MergeUnitList(const UnitTree& current, const UnitTree& incoming, const std::string& today, UnitTree* merged,
                     UnitListChange* change);

// Splits one CSV line (RFC 4180 quoting). Exposed for tests.
std::vector<std::string> SplitCsvLine(const std::string& line);

}  // namespace ocop
