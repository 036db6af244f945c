#include "shared/report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>

#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/messages.h"
#include "shared/localisation.h"
#include "shared/workflow.h"

namespace ocop::report {

namespace {

std::string Field(const ReportRecord& r, const std::string& key) {
  if (!r.fields.has(key) || r.fields.get(key).isEmpty()) return "";
  return r.fields.get(key).isString() ? r.fields.getValue<std::string>(key) : json::ToText(r.fields.get(key));
}

bool InWeek(const std::string& iso, const WeeklyReport& r) {
  return !iso.empty() && iso >= r.week_start && iso <= r.week_end;
}

// "80,0 %" in Vietnamese, "80.0%" in English.
std::string Pct(double ratio, const std::string& lang) {
  if (ratio < 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, lang == "en" ? "%.1f%%" : "%.1f %%", ratio * 100);
  std::string s = buf;
  if (lang != "en") std::replace(s.begin(), s.end(), '.', ',');
  return s;
}

std::string Html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

const std::vector<std::string>& IdeaStatuses() { return FormCatalog::Default().Find("idea")->statuses; }

// Councils rank upwards: a later level's result supersedes an earlier one's.
int LevelRank(const std::string& level) {
  if (level == "commune") return 0;
  if (level == "district") return 1;
  if (level == "province") return 2;
  if (level == "central") return 3;
  return -1;
}

std::string Stars(int n) {
  if (n <= 0) return "-";
  std::string out;
  for (int i = 0; i < n; ++i) out += "★";
  return out;
}

std::string Number(double v, const std::string& lang) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (lang != "en") std::replace(s.begin(), s.end(), '.', ',');
  return s;
}

std::string Vnd(long long v) {
  if (v < 0) return "-";
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string ReportRecord::status() const {
  return fields.has("status") && fields.get("status").isString() ? fields.getValue<std::string>("status") : "";
}

std::string EndOfDayUtc(const std::string& day_iso) {
  // 00:00 of the next day at UTC+7 is 17:00 UTC of this one.
  return day_iso + "T17:00:00.000Z";
}

void RewindTo(const std::string& end, const std::map<std::string, std::vector<FieldChangeAt>>& changes,
              std::vector<ReportRecord>* records) {
  std::vector<ReportRecord> kept;
  kept.reserve(records->size());
  for (auto& r : *records) {
    auto it = changes.find(r.id);
    if (it == changes.end() || it->second.empty()) {
      kept.push_back(std::move(r));
      continue;
    }
    const auto& list = it->second;
    bool existed = false;
    std::map<std::string, const FieldChangeAt*> last_before;  // field -> its last change before `end`
    std::set<std::string> changed_since;
    for (const auto& c : list) {
      if (c.at < end) {
        existed = true;
        last_before[c.field] = &c;
      } else {
        changed_since.insert(c.field);
      }
    }
    if (!existed) {  // recorded later: it belongs to the report by its own dates, as it is now
      kept.push_back(std::move(r));
      continue;
    }
    auto deleted = last_before.find("_deleted");
    if (deleted != last_before.end() && deleted->second->new_value == "true") continue;  // already deleted then
    for (const auto& field : changed_since) {
      if (field.empty() || field[0] == '_') continue;  // _deleted and the like are not fields
      auto before = last_before.find(field);
      json::Var value;
      if (before != last_before.end() && before->second->new_value != "null" &&
          json::Parse(before->second->new_value, &value).ok()) {
        r.fields.set(field, value);
      } else {
        r.fields.remove(field);
      }
    }
    kept.push_back(std::move(r));
  }
  *records = std::move(kept);
}

Status BuildWeeklyReport(const std::vector<ReportRecord>& records, const UnitTree& units, const std::string& unit,
                         const std::string& day, int target, WeeklyReport* out) {
  auto iso = dates::ParseDate(day);
  if (!iso) return Status::Invalid("'" + day + "' is not a date (dd/mm/yyyy or yyyy-mm-dd)");
  if (target < 0) return Status::Invalid("the target must not be negative");
  WeeklyReport r;
  // 1970-01-01 was a Thursday: Monday is 3 days before.
  long since_epoch = dates::DaysBetween("1970-01-01", *iso);
  long weekday = ((since_epoch + 3) % 7 + 7) % 7;  // 0 = Monday
  r.week_start = dates::AddDays(*iso, -weekday);
  r.week_end = dates::AddDays(r.week_start, 6);
  r.unit = unit;
  const Unit* u = units.Find(unit);
  r.unit_name = u ? u->name : unit;
  r.target = target;

  std::vector<const ReportRecord*> rows;
  for (const auto& rec : records) rows.push_back(&rec);
  std::sort(rows.begin(), rows.end(), [](const ReportRecord* a, const ReportRecord* b) { return a->id < b->id; });
  std::map<std::string, CommuneFigures> by_commune;
  auto figures = [&](const std::string& record_code) -> CommuneFigures& {
    // A commune merged into another counts in the commune in force (unless
    // this is the report of the merged commune itself).
    const Unit* in_force = record_code == unit ? nullptr : units.InForce(record_code);
    const std::string& code = in_force ? in_force->code : record_code;
    auto it = by_commune.find(code);
    if (it != by_commune.end()) return it->second;
    CommuneFigures f;
    f.code = code;
    const Unit* cu = units.Find(code);
    f.name = cu ? cu->name : code;
    for (const auto& st : IdeaStatuses()) f.ideas_by_status[st] = 0;
    return by_commune.emplace(code, f).first->second;
  };
  // Every commune of the scope has its row, records or not: a commune with
  // nothing this week is news too.
  std::function<void(const std::string&)> every_commune = [&](const std::string& code) {
    auto children = units.Children(code);
    if (children.empty()) {
      if (code != unit || units.Find(code)) figures(code);
      return;
    }
    for (const Unit* c : children) every_commune(c->code);
  };
  if (units.Find(unit)) every_commune(unit);
  // A confirmation or visit named by its idea's product when it has none of its own.
  std::map<std::string, const ReportRecord*> ideas;
  for (const ReportRecord* rec : rows)
    if (rec->form == "idea") ideas[rec->id] = rec;
  auto of_idea = [&](const ReportRecord& rec, const char* key) {
    std::string own = Field(rec, key);
    if (!own.empty()) return own;
    auto it = ideas.find(Field(rec, "idea_id"));
    return it == ideas.end() ? std::string() : Field(*it->second, key);
  };
  const LocalisationTable& table = LocalisationTable::Default();
  std::vector<evaluation::SheetRecord> sheets;
  for (const ReportRecord* rec : rows) {
    CommuneFigures& f = figures(rec->unit);
    if (rec->form == "idea") {
      ++f.ideas_total;
      ++f.ideas_by_status[rec->status()];
      if (InWeek(Field(*rec, "received_on"), r)) ++f.ideas_received_this_week;
      if (rec->status() == "selected") ++r.selected_total;
      if (rec->status() == "returned") {
        std::string returned = Field(*rec, "returned_on");
        r.waiting.push_back({rec->id, rec->unit, Field(*rec, "product_name"), returned,
                             returned.empty() ? "" : dates::AddDays(returned, workflow::kResubmitDays),
                             Field(*rec, "decision_reason")});
      }
    } else if (rec->form == "visit") {
      if (InWeek(Field(*rec, "visited_on"), r)) {
        ++f.visits_this_week;
        std::string whom = of_idea(*rec, "product_name");
        if (whom.empty()) whom = of_idea(*rec, "subject_name");
        r.visits_this_week.push_back({rec->id, rec->unit, whom, Field(*rec, "visited_on"),
                                      Field(*rec, "purpose"), Field(*rec, "latitude"), Field(*rec, "longitude")});
      }
    } else if (rec->form == "confirmation") {
      ++f.confirmations;
      auto score = ScoreLocalisation(rec->fields, table);
      ConfirmationLine line{rec->id, rec->unit, of_idea(*rec, "product_name"), rec->status(),
                            score.labour_ratio.value_or(-1), score.material_ratio.value_or(-1),
                            score.labour_points, score.material_points, {}, score.rankable};
      for (const auto& band : table.material_bands)
        if (score.material_ratio && *score.material_ratio >= band.min_ratio && *score.material_ratio < band.max_ratio)
          line.material_band = band.label;
      r.confirmations.push_back(line);
    } else if (rec->form == "evaluation") {
      sheets.push_back({rec->id, rec->unit, rec->fields});
    } else if (rec->form == "certificate") {
      std::string until = Field(*rec, "valid_until");
      if (rec->status() != "issued" || until.empty() || until < *iso) continue;  // revoked or expired
      ++f.certificates_valid;
      CertificateLine c{rec->id, rec->unit, Field(*rec, "product_name"), Field(*rec, "level"), Field(*rec, "decision_no"),
                        Field(*rec, "decided_on"), until, std::atoi(Field(*rec, "stars").c_str())};
      r.certificates.push_back(c);
      if (until <= dates::AddMonths(*iso, 6)) r.certificates_expiring.push_back(c);
    } else if (rec->form == "plan") {
      if (rec->status() != "submitted") continue;
      std::string capital = Field(*rec, "capital_total_vnd");
      r.plans_under_review.push_back({rec->id, rec->unit, Field(*rec, "product_name"), Field(*rec, "submitted_on"),
                                      capital.empty() ? -1 : std::atoll(capital.c_str())});
    }
  }
  // Each product's current ranking: its latest council (year, then level).
  std::map<std::string, RankingLine> current;
  std::string year = iso->substr(0, 4);
  std::set<std::string> ranked_this_year;
  for (const auto& c : evaluation::CouncilResults(sheets)) {
    RankingLine line{c.idea_id, c.unit, c.product, c.level, c.year, c.members, c.mean_total, c.stars};
    if (std::to_string(c.year) == year) ranked_this_year.insert(c.idea_id);
    auto it = current.find(c.idea_id);
    if (it == current.end() || std::make_pair(c.year, LevelRank(c.level)) >
                                   std::make_pair(it->second.year, LevelRank(it->second.level)))
      current[c.idea_id] = line;
  }
  for (auto& [idea, line] : current) {
    ++figures(line.commune).products_by_stars[static_cast<size_t>(line.stars)];
    if (line.stars >= evaluation::kCertifiedFromStars) ++r.three_stars_or_more;
    r.ranking.push_back(line);
  }
  r.ranked_this_year = static_cast<int>(ranked_this_year.size());
  std::sort(r.certificates_expiring.begin(), r.certificates_expiring.end(),
            [](const CertificateLine& a, const CertificateLine& b) { return a.valid_until < b.valid_until; });
  for (auto& [code, f] : by_commune) r.communes.push_back(f);
  *out = std::move(r);
  return Status::Ok();
}

namespace {
std::string T(const char* id, const std::string& lang, const std::vector<std::string>& args = {}) {
  return msg::Text(id, lang, args);
}
// A commune by its name (the report's rows carry every commune of the scope).
std::string NameOf(const WeeklyReport& r, const std::string& code) {
  for (const auto& f : r.communes)
    if (f.code == code) return f.name;
  return code;
}

// Step 5 of the cycle as text: ranking, certificates, plans under review.
void RenderCycleText(const WeeklyReport& r, const std::string& lang, std::ostringstream& o) {
  std::string year = r.week_start.substr(0, 4);
  o << T("star_ranking", lang) << ": " << T("ranked_this_year", lang, {year}) << " " << r.ranked_this_year << "; "
    << T("ranked_3_plus", lang) << " " << r.three_stars_or_more;
  if (r.star_target > 0) o << " / " << T("target_3_plus", lang) << " " << r.star_target;
  o << "\n";
  if (r.ranking.empty()) o << "  " << T("no_ranking_yet", lang) << "\n";
  for (const auto& l : r.ranking)
    o << "  " << l.commune << "  " << l.product << "  " << T("level", lang) << " " << T(("level." + l.level).c_str(), lang)
      << " " << l.year << "  " << l.members << " " << T("members", lang) << "  " << Number(l.mean_total, lang) << " "
      << T("points", lang) << "  " << (l.stars > 0 ? Stars(l.stars) : T("cannot_be_ranked", lang)) << "\n";
  o << "\n" << T("certificates", lang) << ": " << r.certificates.size() << "\n";
  o << T("certificates_expiring", lang) << ":\n";
  if (r.certificates_expiring.empty()) o << "  " << T("no_certificates_expiring", lang) << "\n";
  for (const auto& c : r.certificates_expiring)
    o << "  " << NameOf(r, c.commune) << "  " << c.product << "  " << Stars(c.stars) << "  " << T("decision_no", lang) << " "
      << c.decision_no << " (" << dates::ToDisplay(c.decided_on) << ")  " << T("valid_until", lang) << " "
      << dates::ToDisplay(c.valid_until) << "\n";
  o << "\n" << T("plans_under_review", lang) << ":\n";
  if (r.plans_under_review.empty()) o << "  " << T("no_plans_under_review", lang) << "\n";
  for (const auto& p : r.plans_under_review)
    o << "  " << NameOf(r, p.commune) << "  " << p.product << "  " << T("submitted_on", lang) << " " << dates::ToDisplay(p.submitted_on)
      << "  " << T("capital", lang) << " " << Vnd(p.capital_total_vnd) << "\n";
}

void RenderCycleHtml(const WeeklyReport& r, const std::string& lang, std::ostringstream& o) {
  std::string year = r.week_start.substr(0, 4);
  o << "<h2>" << T("star_ranking", lang) << "</h2><p>" << T("ranked_this_year", lang, {year}) << ": "
    << r.ranked_this_year << " · " << T("ranked_3_plus", lang) << ": " << r.three_stars_or_more;
  if (r.star_target > 0) o << " / " << T("target_3_plus", lang) << " " << r.star_target;
  o << "</p>";
  if (r.ranking.empty()) {
    o << "<p>" << T("no_ranking_yet", lang) << "</p>";
  } else {
    o << "<table><tr><th>" << T("commune", lang) << "</th><th>" << T("product", lang) << "</th><th>" << T("level", lang)
      << "</th><th>" << T("year", lang) << "</th><th>" << T("members", lang) << "</th><th>" << T("points", lang)
      << "</th><th>" << T("stars", lang) << "</th></tr>";
    for (const auto& l : r.ranking)
      o << "<tr><td>" << l.commune << "</td><td>" << Html(l.product) << "</td><td>" << T(("level." + l.level).c_str(), lang)
        << "</td><td>" << l.year << "</td><td>" << l.members << "</td><td>" << Number(l.mean_total, lang) << "</td><td>"
        << (l.stars > 0 ? Stars(l.stars) : T("cannot_be_ranked", lang)) << "</td></tr>";
    o << "</table>";
  }
  o << "<h2>" << T("certificates", lang) << ": " << r.certificates.size() << "</h2><h3>" << T("certificates_expiring", lang)
    << "</h3>";
  if (r.certificates_expiring.empty()) {
    o << "<p>" << T("no_certificates_expiring", lang) << "</p>";
  } else {
    o << "<table><tr><th>" << T("commune", lang) << "</th><th>" << T("product", lang) << "</th><th>" << T("stars", lang)
      << "</th><th>" << T("decision_no", lang) << "</th><th>" << T("valid_until", lang) << "</th></tr>";
    for (const auto& c : r.certificates_expiring)
      o << "<tr><td>" << Html(NameOf(r, c.commune)) << "</td><td>" << Html(c.product) << "</td><td>" << Stars(c.stars) << "</td><td>"
        << Html(c.decision_no) << " (" << dates::ToDisplay(c.decided_on) << ")</td><td>" << dates::ToDisplay(c.valid_until)
        << "</td></tr>";
    o << "</table>";
  }
  o << "<h2>" << T("plans_under_review", lang) << "</h2>";
  if (r.plans_under_review.empty()) {
    o << "<p>" << T("no_plans_under_review", lang) << "</p>";
  } else {
    o << "<table><tr><th>" << T("commune", lang) << "</th><th>" << T("product", lang) << "</th><th>"
      << T("submitted_on", lang) << "</th><th>" << T("capital", lang) << "</th></tr>";
    for (const auto& p : r.plans_under_review)
      o << "<tr><td>" << Html(NameOf(r, p.commune)) << "</td><td>" << Html(p.product) << "</td><td>" << dates::ToDisplay(p.submitted_on)
        << "</td><td>" << Vnd(p.capital_total_vnd) << "</td></tr>";
    o << "</table>";
  }
}
}  // namespace

std::string RenderTable(const WeeklyReport& r, const std::string& lang) {
  bool en = lang == "en";
  std::ostringstream o;
  o << (en ? "Weekly OCOP report: " : "Báo cáo OCOP tuần: ") << r.unit_name << " (" << r.unit << "), "
    << dates::ToDisplay(r.week_start) << " – " << dates::ToDisplay(r.week_end) << "\n";
  o << (en ? "Last sync: " : "Đồng bộ lần cuối: ") << (r.last_sync.empty() ? "-" : dates::TimestampToDisplay(r.last_sync))
    << "\n\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-26s %6s", en ? "commune" : "xã", en ? "ideas" : "ý tưởng");
  o << line;
  for (const auto& st : IdeaStatuses()) {
    std::snprintf(line, sizeof line, " %12s", msg::StatusName(st, lang).c_str());
    o << line;
  }
  o << "  " << (en ? "new/week visits/week confirmations" : "mới/tuần thăm/tuần xác nhận") << "\n";
  for (const auto& f : r.communes) {
    std::snprintf(line, sizeof line, "%-26s %6d", (f.code + " " + f.name).substr(0, 40).c_str(), f.ideas_total);
    o << line;
    for (const auto& st : IdeaStatuses()) {
      std::snprintf(line, sizeof line, " %12d", f.ideas_by_status.at(st));
      o << line;
    }
    std::snprintf(line, sizeof line, "  %8d %11d %13d", f.ideas_received_this_week, f.visits_this_week, f.confirmations);
    o << line << "\n";
  }
  o << "\n" << (en ? "Returned, waiting for resubmission:" : "Trả lại, chờ nộp lại:") << "\n";
  if (r.waiting.empty()) o << "  -\n";
  for (const auto& w : r.waiting)
    o << "  " << NameOf(r, w.commune) << "  " << w.product << "  " << (en ? "returned " : "trả lại ") << dates::ToDisplay(w.returned_on)
      << ", " << (en ? "may resubmit from " : "được nộp lại từ ") << dates::ToDisplay(w.resubmit_from) << "  (" << w.reason
      << ")\n";
  o << "\n" << (en ? "Confirmations (local labour / local raw materials):" : "Xác nhận (lao động / nguyên liệu địa phương):")
    << "\n";
  if (r.confirmations.empty()) o << "  -\n";
  for (const auto& c : r.confirmations)
    o << "  " << NameOf(r, c.commune) << "  " << (c.product.empty() ? "—" : c.product) << "  " << msg::StatusName(c.status, lang) << "  "
      << Pct(c.labour_ratio, lang) << " / " << Pct(c.material_ratio, lang) << "  " << (en ? "points " : "điểm ") << c.labour_points
      << "+" << c.material_points << (c.rankable ? "" : (en ? "  (cannot be ranked)" : "  (không đủ điều kiện xếp hạng)"))
      << "\n";
  o << "\n" << (en ? "Selected ideas: " : "Ý tưởng được chọn: ") << r.selected_total;
  if (r.target > 0) o << (en ? " of a target of " : " / mục tiêu ") << r.target;
  o << "\n";
  RenderCycleText(r, lang, o);
  return o.str();
}

std::string CsvCell(const std::string& s) { return sheet::CsvCell(s); }

std::string RenderCsv(const WeeklyReport& r) {
  std::ostringstream o;
  o << "week_start,week_end,commune,commune_name,ideas_total";
  for (const auto& st : IdeaStatuses()) o << ",ideas_" << st;
  o << ",ideas_received_this_week,visits_this_week,confirmations,products_unrankable,products_1_star,products_2_stars,"
       "products_3_stars,products_4_stars,products_5_stars,certificates_valid\n";
  for (const auto& f : r.communes) {
    o << r.week_start << "," << r.week_end << "," << f.code << "," << CsvCell(f.name) << "," << f.ideas_total;
    for (const auto& st : IdeaStatuses()) o << "," << f.ideas_by_status.at(st);
    o << "," << f.ideas_received_this_week << "," << f.visits_this_week << "," << f.confirmations;
    for (int n : f.products_by_stars) o << "," << n;
    o << "," << f.certificates_valid << "\n";
  }
  return o.str();
}

std::string RenderHtml(const WeeklyReport& r, const std::string& lang) {
  bool en = lang == "en";
  int max_ideas = 1;
  for (const auto& f : r.communes) max_ideas = std::max(max_ideas, f.ideas_total);
  static const char* kColors[] = {"#9e9e9e", "#1e88e5", "#fb8c00", "#43a047", "#2e7d32", "#e53935"};
  std::ostringstream o;
  o << "<!DOCTYPE html><html lang=\"" << (en ? "en" : "vi") << "\"><head><meta charset=\"utf-8\"><title>OCOP "
    << Html(r.unit_name) << " " << r.week_start << "</title><style>"
    << "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}"
    << "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
    << ".bar{display:flex;height:18px;width:360px;background:#f3f3f3}.bar div{height:18px}"
    << ".legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}"
    << "@media print{body{margin:0}}</style></head><body>";
  o << "<h1>" << (en ? "Weekly OCOP report" : "Báo cáo OCOP tuần") << ": " << Html(r.unit_name) << "</h1><p>"
    << dates::ToDisplay(r.week_start) << " – " << dates::ToDisplay(r.week_end) << " · "
    << (en ? "last sync " : "đồng bộ lần cuối ") << Html(r.last_sync.empty() ? "-" : dates::TimestampToDisplay(r.last_sync))
    << "</p>";
  o << "<h2>" << (en ? "Idea forms by commune" : "Phiếu ý tưởng theo xã") << "</h2><div class=\"legend\">";
  for (size_t i = 0; i < IdeaStatuses().size(); ++i)
    o << "<span><i class=\"sw\" style=\"background:" << kColors[i % 6] << "\"></i>"
      << Html(msg::StatusName(IdeaStatuses()[i], lang)) << "</span>";
  o << "</div><table><tr><th>" << (en ? "commune" : "xã") << "</th><th>" << (en ? "ideas" : "ý tưởng") << "</th><th>"
    << (en ? "by status" : "theo trạng thái") << "</th><th>" << (en ? "new this week" : "mới trong tuần") << "</th><th>"
    << (en ? "visits this week" : "thăm trong tuần") << "</th><th>" << (en ? "confirmations" : "xác nhận") << "</th></tr>";
  for (const auto& f : r.communes) {
    o << "<tr><td>" << f.code << " " << Html(f.name) << "</td><td>" << f.ideas_total << "</td><td><div class=\"bar\">";
    for (size_t i = 0; i < IdeaStatuses().size(); ++i) {
      int n = f.ideas_by_status.at(IdeaStatuses()[i]);
      if (n > 0)
        o << "<div title=\"" << Html(msg::StatusName(IdeaStatuses()[i], lang)) << ": " << n << "\" style=\"width:" << (360 * n / max_ideas)
          << "px;background:" << kColors[i % 6] << "\"></div>";
    }
    o << "</div></td><td>" << f.ideas_received_this_week << "</td><td>" << f.visits_this_week << "</td><td>"
      << f.confirmations << "</td></tr>";
  }
  o << "</table><h2>" << (en ? "Returned, waiting for resubmission" : "Trả lại, chờ nộp lại") << "</h2><table><tr><th>"
    << (en ? "commune" : "xã") << "</th><th>" << (en ? "product" : "sản phẩm") << "</th><th>"
    << (en ? "returned" : "ngày trả") << "</th><th>" << (en ? "may resubmit from" : "được nộp lại từ") << "</th><th>"
    << (en ? "reason" : "lý do") << "</th></tr>";
  if (r.waiting.empty()) o << "<tr><td colspan=\"5\">" << (en ? "none" : "không có") << "</td></tr>";
  for (const auto& w : r.waiting)
    o << "<tr><td>" << Html(NameOf(r, w.commune)) << "</td><td>" << Html(w.product) << "</td><td>" << dates::ToDisplay(w.returned_on)
      << "</td><td>" << dates::ToDisplay(w.resubmit_from) << "</td><td>" << Html(w.reason) << "</td></tr>";
  o << "</table><h2>" << (en ? "Confirmations" : "Xác nhận tỷ lệ địa phương") << "</h2><table><tr><th>"
    << (en ? "commune" : "xã") << "</th><th>" << (en ? "product" : "sản phẩm") << "</th><th>"
    << (en ? "status" : "trạng thái") << "</th><th>" << (en ? "local labour" : "lao động") << "</th><th>"
    << (en ? "local raw materials" : "nguyên liệu") << "</th><th>" << (en ? "points" : "điểm") << "</th></tr>";
  if (r.confirmations.empty()) o << "<tr><td colspan=\"6\">" << (en ? "none" : "không có") << "</td></tr>";
  for (const auto& c : r.confirmations)
    o << "<tr><td>" << Html(NameOf(r, c.commune)) << "</td><td>" << Html(c.product.empty() ? "—" : c.product) << "</td><td>"
      << Html(msg::StatusName(c.status, lang))
      << "</td><td>" << Pct(c.labour_ratio, lang) << "</td><td>" << Pct(c.material_ratio, lang) << "</td><td>" << c.labour_points
      << "+" << c.material_points << "</td></tr>";
  o << "</table><h2>" << (en ? "Progress" : "Tiến độ") << "</h2><p>" << (en ? "Selected ideas: " : "Ý tưởng được chọn: ")
    << r.selected_total;
  if (r.target > 0) {
    int pct = std::min(100, 100 * r.selected_total / r.target);
    o << " / " << r.target << "</p><div class=\"bar\"><div style=\"width:" << (360 * pct / 100)
      << "px;background:#43a047;color:#fff;white-space:nowrap;padding-left:4px\">" << r.selected_total << "/" << r.target
      << "</div></div><p>" << pct << "%";
  }
  o << "</p>";
  RenderCycleHtml(r, lang, o);
  o << "</body></html>\n";
  return o.str();
}

std::string RenderJson(const WeeklyReport& r) {
  using json::Array;
  using json::Object;
  Object o;
  o.set("unit", r.unit);
  o.set("unit_name", r.unit_name);
  o.set("week_start", r.week_start);
  o.set("week_end", r.week_end);
  o.set("target", r.target);
  o.set("selected_total", r.selected_total);
  o.set("last_sync", r.last_sync);
  Array::Ptr communes = new Array;
  for (const auto& f : r.communes) {
    Object::Ptr c = new Object;
    c->set("code", f.code);
    c->set("name", f.name);
    c->set("ideas_total", f.ideas_total);
    Object::Ptr by = new Object;
    for (const auto& [st, n] : f.ideas_by_status) by->set(st, n);
    c->set("ideas_by_status", by);
    c->set("ideas_received_this_week", f.ideas_received_this_week);
    c->set("visits_this_week", f.visits_this_week);
    c->set("confirmations", f.confirmations);
    Array::Ptr stars = new Array;
    for (int n : f.products_by_stars) stars->add(n);
    c->set("products_by_stars", stars);  // [cannot be ranked, 1★, 2★, 3★, 4★, 5★]
    c->set("certificates_valid", f.certificates_valid);
    communes->add(c);
  }
  o.set("communes", communes);
  Array::Ptr waiting = new Array;
  for (const auto& w : r.waiting) {
    Object::Ptr x = new Object;
    x->set("id", w.id);
    x->set("commune", w.commune);
    x->set("product", w.product);
    x->set("returned_on", w.returned_on);
    x->set("resubmit_from", w.resubmit_from);
    x->set("reason", w.reason);
    waiting->add(x);
  }
  o.set("waiting", waiting);
  Array::Ptr confirmations = new Array;
  for (const auto& c : r.confirmations) {
    Object::Ptr x = new Object;
    x->set("id", c.id);
    x->set("commune", c.commune);
    x->set("product", c.product);
    x->set("status", c.status);
    if (c.labour_ratio >= 0) x->set("labour_ratio", c.labour_ratio);
    if (c.material_ratio >= 0) x->set("material_ratio", c.material_ratio);
    x->set("labour_points", c.labour_points);
    x->set("material_points", c.material_points);
    Object::Ptr band = new Object;
    band->set("vi", c.material_band.vi);
    band->set("en", c.material_band.en);
    x->set("material_band", band);
    x->set("rankable", c.rankable);
    confirmations->add(x);
  }
  o.set("confirmations", confirmations);
  Array::Ptr visits = new Array;
  for (const auto& v : r.visits_this_week) {
    Object::Ptr x = new Object;
    x->set("id", v.id);
    x->set("commune", v.commune);
    x->set("subject", v.subject);
    x->set("visited_on", v.visited_on);
    x->set("purpose", v.purpose);
    x->set("latitude", v.latitude);
    x->set("longitude", v.longitude);
    visits->add(x);
  }
  o.set("visits_this_week", visits);
  o.set("ranked_this_year", r.ranked_this_year);
  o.set("three_stars_or_more", r.three_stars_or_more);
  o.set("star_target", r.star_target);
  Array::Ptr ranking = new Array;
  for (const auto& l : r.ranking) {
    Object::Ptr x = new Object;
    x->set("idea_id", l.idea_id);
    x->set("commune", l.commune);
    x->set("product", l.product);
    x->set("level", l.level);
    x->set("year", l.year);
    x->set("members", l.members);
    x->set("mean_total", l.mean_total);
    x->set("stars", l.stars);
    ranking->add(x);
  }
  o.set("ranking", ranking);
  auto certs = [](const std::vector<CertificateLine>& list) {
    Array::Ptr out = new Array;
    for (const auto& c : list) {
      Object::Ptr x = new Object;
      x->set("id", c.id);
      x->set("commune", c.commune);
      x->set("product", c.product);
      x->set("stars", c.stars);
      x->set("level", c.level);
      x->set("decision_no", c.decision_no);
      x->set("decided_on", c.decided_on);
      x->set("valid_until", c.valid_until);
      out->add(x);
    }
    return out;
  };
  o.set("certificates", certs(r.certificates));
  o.set("certificates_expiring", certs(r.certificates_expiring));
  Array::Ptr plans = new Array;
  for (const auto& p : r.plans_under_review) {
    Object::Ptr x = new Object;
    x->set("id", p.id);
    x->set("commune", p.commune);
    x->set("product", p.product);
    x->set("submitted_on", p.submitted_on);
    if (p.capital_total_vnd >= 0) x->set("capital_total_vnd", static_cast<Poco::Int64>(p.capital_total_vnd));
    plans->add(x);
  }
  o.set("plans_under_review", plans);
  return json::ToText(o);
}

sheet::Table RecordsTable(const FormSchema& schema, const std::vector<ReportRecord>& rows, const UnitTree& units,
                          const std::string& lang, bool codes) {
  const bool en = lang == "en";
  sheet::Table t;
  if (codes) t.header = {"id", "unit", "status", "conflict"};
  else t.header = {en ? "Record id" : "Mã phiếu", en ? "Unit" : "Đơn vị", en ? "Status" : "Trạng thái",
                   en ? "In conflict" : "Xung đột"};
  // The form version a record was written with is for machines (codes) only.
  auto column = [codes](const FieldDef& f) { return f.key != "status" && (codes || !f.hidden); };
  for (const auto& f : schema.fields)
    if (column(f)) t.header.push_back(codes ? f.key : f.label.In(lang));
  for (const auto& r : rows) {
    std::vector<sheet::Cell> row;
    const Unit* unit = units.Find(r.unit);
    row.push_back({r.id, false});
    row.push_back({codes || !unit ? r.unit : unit->name + " (" + r.unit + ")", false});
    row.push_back({codes ? r.status() : msg::StatusName(r.status(), lang), false});
    row.push_back({codes ? (r.conflict ? "true" : "false") : (r.conflict ? (en ? "yes" : "có") : ""), false});
    for (const auto& f : schema.fields) {
      if (!column(f)) continue;
      bool has = r.fields.has(f.key) && !r.fields.get(f.key).isEmpty();
      json::Var v = has ? r.fields.get(f.key) : json::Var();
      if (has && (f.type == FieldType::kInteger || f.type == FieldType::kNumber) && v.isNumeric()) {
        row.push_back({json::ToText(v), true});
      } else if (codes || !has) {
        row.push_back({Field(r, f.key), false});
      } else {
        row.push_back({DisplayValue(f, v, lang), false});
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string RecordsCsv(const FormSchema& schema, const std::vector<ReportRecord>& rows, bool bom) {
  static const UnitTree kNoUnits;
  return sheet::ToCsv(RecordsTable(schema, rows, kNoUnits, "en", /*codes=*/true), bom);
}

}  // namespace ocop::report
