#include "shared/evaluation.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "shared/dates.h"
#include "shared/embedded.h"

namespace ocop::evaluation {

using json::Object;
using json::Var;

namespace {

std::string Str(const Object& o, const char* key) {
  if (!o.has(key) || o.get(key).isEmpty()) return "";
  return o.get(key).convert<std::string>();
}

std::string Join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}
}  // namespace

const Criterion* CriteriaSheet::Find(const std::string& code) const {
  for (const auto& c : criteria)
    if (c.code == code) return &c;
  return nullptr;
}

int CriteriaSheet::MaxTotal() const {
  int t = 0;
  for (const auto& p : parts) t += p.max;
  return t;
}

Status CriteriaSheet::Parse(const std::string& json_text, CriteriaSheet* out) {
  Object::Ptr o;
  Status s = json::ParseObject(json_text, &o);
  if (!s.ok()) return s;
  try {
    CriteriaSheet sheet;
    sheet.id = o->getValue<std::string>("sheet");
    sheet.decision = o->optValue<std::string>("decision", "");
    sheet.decided_on = o->optValue<std::string>("decided_on", "");
    sheet.replaces = o->optValue<std::string>("replaces", "");
    sheet.source = json_text;
    if (sheet.id.empty() || sheet.id.size() > 40 || sheet.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
      return Status::Invalid("criteria sheet id '" + sheet.id + "': 1 to 40 of a-z, 0-9 and '-'");
    if (!sheet.decided_on.empty() && dates::ParseDate(sheet.decided_on) != sheet.decided_on)
      return Status::Invalid("criteria sheet " + sheet.id + ": decided_on must be a date (yyyy-mm-dd)");
    sheet.label = ReadLabel(o, "label");
    auto groups = o->getArray("product_groups");
    for (size_t i = 0; i < groups->size(); ++i) sheet.product_groups.push_back(groups->getElement<std::string>(i));
    auto parts = o->getArray("parts");
    std::set<std::string> codes;
    for (size_t i = 0; i < parts->size(); ++i) {
      auto p = parts->getObject(i);
      Part part{p->getValue<std::string>("code"), ReadLabel(p, "label"), p->getValue<int>("max")};
      int sum = 0;
      auto sections = p->getArray("sections");
      for (size_t j = 0; j < sections->size(); ++j) {
        auto sec = sections->getObject(j);
        auto list = sec->getArray("criteria");
        for (size_t k = 0; k < list->size(); ++k) {
          auto c = list->getObject(k);
          Criterion crit;
          crit.code = c->getValue<std::string>("code");
          crit.label = ReadLabel(c, "label");
          crit.from = c->optValue<std::string>("from", "");
          crit.part = part.code;
          crit.section = sec->getValue<std::string>("code");
          auto scores = c->getArray("scores");
          for (size_t m = 0; m < scores->size(); ++m) crit.scores.push_back(scores->getElement<int>(m));
          if (crit.scores.empty() || !std::is_sorted(crit.scores.begin(), crit.scores.end()) ||
              std::adjacent_find(crit.scores.begin(), crit.scores.end()) != crit.scores.end() || crit.scores[0] < 0)
            return Status::Invalid("criteria sheet " + sheet.id + ": " + crit.code + " needs distinct ascending scores");
          if (!crit.from.empty() && crit.from != "confirmation.material_points" && crit.from != "confirmation.labour_points")
            return Status::Invalid("criteria sheet " + sheet.id + ": " + crit.code + " has unknown source " + crit.from);
          if (!codes.insert(crit.code).second)
            return Status::Invalid("criteria sheet " + sheet.id + ": " + crit.code + " appears twice");
          sum += crit.Max();
          sheet.criteria.push_back(std::move(crit));
        }
      }
      if (sum != part.max)
        return Status::Invalid("criteria sheet " + sheet.id + ": part " + part.code + " adds up to " + std::to_string(sum) +
                               ", not " + std::to_string(part.max));
      sheet.parts.push_back(std::move(part));
    }
    if (sheet.MaxTotal() != 100)
      return Status::Invalid("criteria sheet " + sheet.id + ": parts add up to " + std::to_string(sheet.MaxTotal()) + ", not 100");
    *out = std::move(sheet);
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Invalid("criteria sheet: " + e.displayText());
  }
}

namespace {
const SheetSet& Embedded() {
  static const SheetSet sheets = [] {
    SheetSet out;
    for (const auto& f : embedded::Files()) {
      if (f.path.rfind("criteria/", 0) != 0) continue;
      CriteriaSheet sheet;
      Status s = CriteriaSheet::Parse(f.content, &sheet);
      if (!s.ok()) {
        std::fprintf(stderr, "broken embedded criteria sheet %s: %s\n", f.path.c_str(), s.message().c_str());
        std::abort();
      }
      out[sheet.id] = std::move(sheet);
    }
    return out;
  }();
  return sheets;
}

std::atomic<const SheetSet*> sheets_in_force{nullptr};

const SheetSet& Sheets() {
  const SheetSet* s = sheets_in_force.load(std::memory_order_acquire);
  return s ? *s : Embedded();
}
}  // namespace

Status BuildSheets(const std::vector<std::string>& published, std::unique_ptr<const SheetSet>* out) {
  auto set = std::make_unique<SheetSet>(Embedded());
  for (const auto& text : published) {
    CriteriaSheet sheet;
    Status s = CriteriaSheet::Parse(text, &sheet);
    if (!s.ok()) return s;
    if (set->count(sheet.id))
      return Status::Invalid("criteria sheet " + sheet.id + " exists already and never changes: publish the corrected sheet under a new id");
    std::string id = sheet.id;
    set->emplace(id, std::move(sheet));
  }
  for (const auto& [id, sheet] : *set)
    if (!sheet.replaces.empty() && (!set->count(sheet.replaces) || sheet.replaces == id))
      return Status::Invalid("criteria sheet " + id + " replaces " + sheet.replaces + ", which there is not");
  *out = std::move(set);
  return Status::Ok();
}

void PutSheetsInForce(std::unique_ptr<const SheetSet> sheets) {
  static std::mutex mu;
  static std::vector<std::unique_ptr<const SheetSet>> kept;  // never freed: see the header
  std::lock_guard<std::mutex> lock(mu);
  kept.push_back(std::move(sheets));
  sheets_in_force.store(kept.back().get(), std::memory_order_release);
}

const CriteriaSheet* FindSheet(const std::string& id) {
  auto it = Sheets().find(id);
  return it == Sheets().end() ? nullptr : &it->second;
}

std::vector<std::string> SheetIds() {
  std::vector<std::string> out;
  for (const auto& [id, s] : Sheets()) out.push_back(id);
  return out;
}

const CriteriaSheet* SheetForYear(int year) {
  const SheetSet& all = Sheets();
  std::set<std::string> replaced;
  for (const auto& [id, s] : all)
    if (!s.replaces.empty()) replaced.insert(s.replaces);
  const CriteriaSheet *best = nullptr, *oldest = nullptr;
  const std::string last_day = std::to_string(year) + "-12-31";
  for (const auto& [id, s] : all) {
    if (replaced.count(id)) continue;
    if (!oldest || s.decided_on < oldest->decided_on) oldest = &s;
    if (s.decided_on <= last_day && (!best || s.decided_on >= best->decided_on)) best = &s;
  }
  return best ? best : oldest;
}

int StarsForTotal(double total) {
  if (total >= 90) return 5;
  if (total >= 70) return 4;
  if (total >= 50) return 3;
  if (total >= 30) return 2;
  return 1;
}

std::map<std::string, int> ScoresOf(const Object& fields) {
  std::map<std::string, int> out;
  if (!fields.has("scores") || fields.get("scores").type() != typeid(json::Array::Ptr)) return out;
  auto list = fields.get("scores").extract<json::Array::Ptr>();
  for (size_t i = 0; i < list->size(); ++i) {
    auto item = list->getObject(i);
    if (!item || !item->has("criterion") || !item->has("points")) continue;
    out[item->getValue<std::string>("criterion")] = static_cast<int>(item->getValue<Poco::Int64>("points"));
  }
  return out;
}

Status CheckSheetFields(const Object& fields) {
  std::string id = Str(fields, "sheet");
  if (id.empty()) return Status::Ok();  // a required field; reported as such when complete
  const CriteriaSheet* sheet = FindSheet(id);
  if (!sheet) return Status::Invalid("unknown criteria sheet '" + id + "'");
  std::string group = Str(fields, "product_group");
  if (!group.empty() && std::find(sheet->product_groups.begin(), sheet->product_groups.end(), group) == sheet->product_groups.end())
    return Status::Invalid("sheet " + id + " does not score product group " + group);
  if (!fields.has("scores") || fields.get("scores").type() != typeid(json::Array::Ptr)) return Status::Ok();
  auto list = fields.get("scores").extract<json::Array::Ptr>();
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    auto item = list->getObject(i);
    if (!item || !item->has("criterion")) continue;  // the list's own checks report it
    std::string code = item->getValue<std::string>("criterion");
    const Criterion* c = sheet->Find(code);
    if (!c) return Status::Invalid("criterion " + code + " is not on sheet " + id);
    if (!seen.insert(code).second) return Status::Invalid("criterion " + code + " appears twice");
    if (!item->has("points")) continue;
    int points = static_cast<int>(item->getValue<Poco::Int64>("points"));
    if (std::find(c->scores.begin(), c->scores.end(), points) == c->scores.end())
      return Status::Invalid("criterion " + code + ": " + std::to_string(points) + " is not an allowed score (allowed: " +
                             Join(c->scores) + ")");
  }
  return Status::Ok();
}

Status CheckComplete(const Object& fields) {
  const CriteriaSheet* sheet = FindSheet(Str(fields, "sheet"));
  if (!sheet) return Status::Invalid("unknown criteria sheet '" + Str(fields, "sheet") + "'");
  auto scores = ScoresOf(fields);
  for (const auto& c : sheet->criteria)
    if (!scores.count(c.code)) return Status::Invalid("criterion " + c.code + " is not scored");
  return Status::Ok();
}

FromConfirmation ScoresFromConfirmation(const CriteriaSheet& sheet, const Object& confirmation) {
  FromConfirmation out;
  LocalisationScore score = ScoreLocalisation(confirmation, LocalisationTable::Default());
  out.rankable = score.rankable;
  if (!score.rankable) out.why_not = "all raw materials are imported or of unknown origin";
  for (const auto& c : sheet.criteria) {
    if (c.from.empty()) continue;
    int points = c.from == "confirmation.material_points" ? score.material_points : score.labour_points;
    // A confirmation below the sheet's lowest step (no materials of value) scores the lowest step.
    if (points < c.scores.front()) points = c.scores.front();
    if (points > c.Max()) points = c.Max();
    out.scores[c.code] = points;
  }
  return out;
}

Status CheckAgainstConfirmation(const Object& sheet_fields, const std::string& confirmation_id,
                                const Object* confirmation) {
  if (!confirmation) return Status::Precondition("the confirmation " + confirmation_id + " is not on the server");
  if (Str(*confirmation, "idea_id") != Str(sheet_fields, "idea_id"))
    return Status::Invalid("the confirmation " + confirmation_id + " is for another idea");
  std::string status = Str(*confirmation, "status");
  if (status != "confirmed")
    return Status::Precondition("the confirmation " + confirmation_id + " is not confirmed (status " + status + ")");
  const CriteriaSheet* sheet = FindSheet(Str(sheet_fields, "sheet"));
  if (!sheet) return Status::Invalid("unknown criteria sheet '" + Str(sheet_fields, "sheet") + "'");
  FromConfirmation expected = ScoresFromConfirmation(*sheet, *confirmation);
  auto scores = ScoresOf(sheet_fields);
  for (const auto& [code, points] : expected.scores) {
    auto it = scores.find(code);
    if (it != scores.end() && it->second != points)
      return Status::Invalid("criterion " + code + " takes its score from the confirmation (" + std::to_string(points) +
                             " points); it cannot be typed");
  }
  if (Str(sheet_fields, "unrankable_reason") != expected.why_not)
    return Status::Invalid(expected.rankable ? std::string("the product can be ranked; its confirmation says so")
                                             : "the product cannot be ranked: " + expected.why_not);
  return Status::Ok();
}

Status FillFromConfirmation(const Object& confirmation, Object* sheet_fields) {
  const CriteriaSheet* sheet = FindSheet(Str(*sheet_fields, "sheet"));
  if (!sheet) return Status::Invalid("unknown criteria sheet '" + Str(*sheet_fields, "sheet") + "'");
  FromConfirmation from = ScoresFromConfirmation(*sheet, confirmation);
  // Items are changed in place (they keep their item ids, so a later edit of
  // one criterion merges as a field of that item); missing ones are added.
  json::Array::Ptr list;
  if (sheet_fields->has("scores") && sheet_fields->get("scores").type() == typeid(json::Array::Ptr))
    list = sheet_fields->get("scores").extract<json::Array::Ptr>();
  else
    list = new json::Array;
  std::set<std::string> set;
  for (size_t i = 0; i < list->size(); ++i) {
    auto item = list->getObject(i);
    if (!item || !item->has("criterion")) continue;
    auto it = from.scores.find(item->getValue<std::string>("criterion"));
    if (it == from.scores.end()) continue;
    item->set("points", static_cast<Poco::Int64>(it->second));
    set.insert(it->first);
  }
  for (const auto& [code, points] : from.scores) {
    if (set.count(code)) continue;
    Object::Ptr item = new Object;
    item->set("criterion", code);
    item->set("points", static_cast<Poco::Int64>(points));
    list->add(item);
  }
  sheet_fields->set("scores", list);
  if (from.rankable) sheet_fields->remove("unrankable_reason");
  else sheet_fields->set("unrankable_reason", from.why_not);
  return Status::Ok();
}

std::string CertificateValidUntil(const std::string& decided_on) {
  return dates::AddDays(dates::AddMonths(decided_on, kCertificateMonths), -1);
}

void ApplyComputed(const std::string& form, Object* fields) {
  if (form == "evaluation") {
    auto scores = ScoresOf(*fields);
    if (scores.empty()) {
      fields->remove("total_points");
      fields->remove("stars");
      return;
    }
    int total = 0;
    for (const auto& [code, points] : scores) total += points;
    fields->set("total_points", static_cast<Poco::Int64>(total));
    bool complete = CheckComplete(*fields).ok() && CheckSheetFields(*fields).ok();
    if (complete && Str(*fields, "unrankable_reason").empty())
      fields->set("stars", static_cast<Poco::Int64>(StarsForTotal(total)));
    else
      fields->remove("stars");
  } else if (form == "certificate") {
    std::string decided = Str(*fields, "decided_on");
    if (dates::ParseDate(decided) && decided.size() == 10) fields->set("valid_until", CertificateValidUntil(decided));
    else fields->remove("valid_until");
  }
}

std::vector<CouncilResult> CouncilResults(const std::vector<SheetRecord>& sheets) {
  struct Acc {
    CouncilResult r;
    double sum = 0;
  };
  std::map<std::tuple<std::string, int, std::string>, Acc> by;
  for (const auto& s : sheets) {
    if (Str(s.fields, "status") != "scored" || !s.fields.has("total_points")) continue;
    int year = s.fields.has("round_year") ? static_cast<int>(s.fields.getValue<Poco::Int64>("round_year")) : 0;
    auto key = std::make_tuple(Str(s.fields, "idea_id"), year, Str(s.fields, "level"));
    Acc& a = by[key];
    a.r.idea_id = std::get<0>(key);
    a.r.year = year;
    a.r.level = std::get<2>(key);
    if (a.r.product.empty()) a.r.product = Str(s.fields, "product_name");
    if (a.r.unit.empty()) a.r.unit = s.unit;
    a.r.members++;
    a.sum += s.fields.getValue<double>("total_points");
    if (!Str(s.fields, "unrankable_reason").empty()) a.r.rankable = false;
  }
  std::vector<CouncilResult> out;
  for (auto& [key, a] : by) {
    a.r.mean_total = std::round(a.sum / a.r.members * 10.0) / 10.0;
    a.r.stars = a.r.rankable ? StarsForTotal(a.r.mean_total) : 0;
    out.push_back(a.r);
  }
  return out;
}

}  // namespace ocop::evaluation
