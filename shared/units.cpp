#include "shared/units.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "shared/dates.h"
#include "shared/embedded.h"
#include "shared/text.h"

namespace ocop {

Status UnitTree::Add(Unit unit) {
  if (unit.code.empty()) return Status::Invalid("unit code is empty");
  for (char c : unit.code)
    if (c < '0' || c > '9') return Status::Invalid("unit code '" + unit.code + "' is not digits");
  if (unit.name.empty()) return Status::Invalid("unit " + unit.code + " has no name");
  if (!text::IsValidUtf8(unit.name)) return Status::Invalid("unit " + unit.code + ": name is not UTF-8");
  unit.name = text::ToNfc(unit.name);
  std::string code = unit.code;
  units_[code] = std::move(unit);
  return Status::Ok();
}

namespace {
// The next unit up a unit's place in the tree: its successor when it has one.
const std::string& Above(const Unit& u) { return u.succeeded_by.empty() ? u.parent : u.succeeded_by; }
}  // namespace

Status UnitTree::Validate(bool list_only) const {
  for (const auto& [code, unit] : units_) {
    if (!unit.succeeded_by.empty()) {
      if (unit.succeeded_by == code) return Status::Invalid("unit " + code + " cannot succeed itself");
      if (!Find(unit.succeeded_by))
        return Status::Invalid("unit " + code + ": successor " + unit.succeeded_by + " not found");
    }
    std::set<std::string> seen;
    const Unit* u = &unit;
    while (!u->parent.empty() || !u->succeeded_by.empty()) {
      if (!seen.insert(u->code).second) return Status::Invalid("unit " + code + ": parent or successor cycle");
      if (!u->parent.empty() && !Find(u->parent)) {
        if (list_only && (!u->valid_to.empty() || !u->succeeded_by.empty())) break;
        return Status::Invalid("unit " + u->code + ": parent " + u->parent + " not found");
      }
      const Unit* p = Find(Above(*u));
      if (!p) break;
      u = p;
    }
  }
  return Status::Ok();
}

const Unit* UnitTree::Find(const std::string& code) const {
  auto it = units_.find(code);
  return it == units_.end() ? nullptr : &it->second;
}

std::string UnitTree::Path(const std::string& code) const {
  std::vector<std::string> chain;
  const Unit* u = Find(code);
  for (int guard = 0; u && guard < 64; ++guard) {
    chain.push_back(u->code);
    u = Above(*u).empty() ? nullptr : Find(Above(*u));
  }
  std::string path = "/";
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) path += *it + "/";
  return path;
}

bool UnitTree::IsWithin(const std::string& code, const std::string& scope) const {
  if (!Find(code) || !Find(scope)) return false;
  std::string p = Path(code), s = Path(scope);
  return p.compare(0, s.size(), s) == 0;
}

const Unit* UnitTree::AncestorAtLevel(const std::string& code, const std::string& level) const {
  const Unit* u = Find(code);
  for (int guard = 0; u && guard < 64; ++guard) {
    if (u->level == level) return u;
    u = u->parent.empty() ? nullptr : Find(u->parent);
  }
  return nullptr;
}

const Unit* UnitTree::InForce(const std::string& code) const {
  const Unit* u = Find(code);
  for (int guard = 0; u && !u->succeeded_by.empty() && guard < 64; ++guard) u = Find(u->succeeded_by);
  return u;
}

std::vector<const Unit*> UnitTree::Children(const std::string& code) const {
  std::vector<const Unit*> out;
  for (const auto& [c, u] : units_)
    if (u.parent == code && u.succeeded_by.empty()) out.push_back(&u);
  return out;
}

std::vector<const Unit*> UnitTree::Predecessors(const std::string& code) const {
  std::vector<const Unit*> out;
  for (const auto& [c, u] : units_)
    if (u.succeeded_by == code) out.push_back(&u);
  return out;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  cells.push_back(cur);
  return cells;
}

namespace {
std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}
int IndexOf(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (text::Fold(Trim(header[i])) == text::Fold(name)) return static_cast<int>(i);
  return -1;
}
}  // namespace

Status UnitTree::ParseCsv(const std::string& csv_in, UnitTree* out) {
  std::string csv = csv_in;
  if (csv.rfind("\xEF\xBB\xBF", 0) == 0) csv.erase(0, 3);  // spreadsheet BOM
  if (!text::IsValidUtf8(csv)) return Status::Invalid("unit list is not valid UTF-8");
  std::istringstream in(csv);
  std::string line;
  if (!std::getline(in, line)) return Status::Invalid("unit list is empty");
  auto header = SplitCsvLine(line);
  UnitTree tree;
  int line_no = 1;
  int official_tp = IndexOf(header, "Mã TP");
  if (official_tp >= 0) {
    int tp_name = IndexOf(header, "Tỉnh Thành Phố"), qh = IndexOf(header, "Mã QH"),
        qh_name = IndexOf(header, "Quận Huyện"), px = IndexOf(header, "Mã PX"),
        px_name = IndexOf(header, "Phường Xã");
    if (tp_name < 0 || qh < 0 || qh_name < 0 || px < 0 || px_name < 0)
      return Status::Invalid("official unit list: header lacks one of Tỉnh Thành Phố, Mã QH, Quận Huyện, Mã PX, Phường Xã");
    int need = std::max({official_tp, tp_name, qh, qh_name, px, px_name});
    while (std::getline(in, line)) {
      ++line_no;
      if (Trim(line).empty()) continue;
      auto cells = SplitCsvLine(line);
      if (static_cast<int>(cells.size()) <= need)
        return Status::Invalid("unit list line " + std::to_string(line_no) + ": too few columns");
      Unit p{Trim(cells[official_tp]), Trim(cells[tp_name]), "province", "", "", "", ""};
      Unit d{Trim(cells[qh]), Trim(cells[qh_name]), "district", p.code, "", "", ""};
      Unit c{Trim(cells[px]), Trim(cells[px_name]), "commune", d.code, "", "", ""};
      for (Unit* u : {&p, &d, &c}) {
        if (u->code.empty()) continue;  // a province-level row without communes
        if (tree.Find(u->code)) continue;
        Status s = tree.Add(*u);
        if (!s.ok()) return Status::Invalid("unit list line " + std::to_string(line_no) + ": " + s.message());
      }
    }
  } else {
    const char* cols[] = {"code", "name", "level", "parent", "valid_from", "valid_to", "succeeded_by"};
    int idx[7];
    for (int i = 0; i < 7; ++i) {
      idx[i] = IndexOf(header, cols[i]);
      if (idx[i] < 0 && i < 4)
        return Status::Invalid(std::string("unit list header lacks column '") + cols[i] + "'");
    }
    while (std::getline(in, line)) {
      ++line_no;
      if (Trim(line).empty() || line[0] == '#') continue;
      auto cells = SplitCsvLine(line);
      auto cell = [&](int i) { return idx[i] >= 0 && idx[i] < static_cast<int>(cells.size()) ? Trim(cells[idx[i]]) : std::string(); };
      if (static_cast<int>(cells.size()) <= std::max({idx[0], idx[1], idx[2], idx[3]}))
        return Status::Invalid("unit list line " + std::to_string(line_no) + ": too few columns");
      std::string at = "unit list line " + std::to_string(line_no) + ": ";
      Unit u{cell(0), cell(1), cell(2), cell(3), cell(4), cell(5), cell(6)};
      for (std::string* date : {&u.valid_from, &u.valid_to}) {
        if (date->empty()) continue;
        auto iso = dates::ParseDate(*date);
        if (!iso) return Status::Invalid(at + "'" + *date + "' is not a date (dd/mm/yyyy or yyyy-mm-dd)");
        *date = *iso;
      }
      for (char ch : u.succeeded_by)
        if (ch < '0' || ch > '9') return Status::Invalid(at + "succeeded_by '" + u.succeeded_by + "' is not a unit code");
      Status s = tree.Add(std::move(u));
      if (!s.ok()) return Status::Invalid(at + s.message());
    }
  }
  Status v = tree.Validate(/*list_only=*/true);
  if (!v.ok()) return v;
  *out = std::move(tree);
  return Status::Ok();
}

std::string UnitTree::ToCsv() const {
  auto cell = [](const std::string& v) {
    if (v.find_first_of(",\"") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out = "code,name,level,parent,valid_from,valid_to,succeeded_by\n";
  for (const auto& [code, u] : units_)
    out += cell(u.code) + "," + cell(u.name) + "," + cell(u.level) + "," + cell(u.parent) + "," + cell(u.valid_from) +
           "," + cell(u.valid_to) + "," + cell(u.succeeded_by) + "\n";
  return out;
}

const UnitTree& UnitTree::Sample() {
  static const UnitTree tree = [] {
    UnitTree t;
    auto csv = embedded::Find("units/vinh_phuc.csv");
    if (csv) (void)ParseCsv(*csv, &t);
    return t;
  }();
  return tree;
}

Status MergeUnitList(const UnitTree& current, const UnitTree& incoming, const std::string& today, UnitTree* merged,
                     UnitListChange* change) {
  UnitListChange c;
  UnitTree out;
  for (const auto& [code, now] : incoming.all()) {
    const Unit* before = current.Find(code);
    Unit u = now;
    if (!u.succeeded_by.empty() && u.valid_to.empty()) u.valid_to = today;  // merged into its successor
    if (!before) {
      c.added.push_back(u);
    } else {
      if (u.valid_from.empty()) u.valid_from = before->valid_from;
      // A list that only leaves a merged unit's successor out keeps it.
      if (u.succeeded_by.empty() && !u.valid_to.empty() && before->valid_to == u.valid_to) u.succeeded_by = before->succeeded_by;
      bool moved = before->parent != u.parent;
      bool closed_now = before->valid_to.empty() && !u.valid_to.empty();
      if (moved) c.moved.push_back({*before, u});
      if (closed_now || (!u.succeeded_by.empty() && u.succeeded_by != before->succeeded_by)) c.closed.push_back(u);
      else if (!before->valid_to.empty() && u.valid_to.empty()) c.added.push_back(u);
      else if (before->name != u.name) c.renamed.push_back({*before, u});
      else if (!moved) ++c.unchanged;
    }
    Status s = out.Add(u);
    if (!s.ok()) return s;
  }
  for (const auto& [code, before] : current.all()) {
    if (incoming.Find(code)) continue;
    Unit u = before;
    if (u.valid_to.empty()) {
      u.valid_to = today;
      c.closed.push_back(u);
    } else {
      ++c.unchanged;
    }
    Status s = out.Add(u);
    if (!s.ok()) return s;
  }
  Status s = out.Validate();
  if (!s.ok()) return s;
  *merged = std::move(out);
  *change = std::move(c);
  return Status::Ok();
}

}  // namespace ocop
