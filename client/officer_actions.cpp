#include "client/officer_actions.h"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/messages.h"
#include "shared/receipt.h"
#include "shared/text.h"
#include "shared/workflow.h"

namespace ocop::client {

using json::Object;

std::string DeviceRole(LocalStore& store) {
  std::string role = store.Setting("role");
  if (!role.empty()) return role;
  return store.units().Children(store.commune()).empty() ? "officer" : "coordinator";
}

std::string TodayIso() { return dates::IsoDateFromMillis(SystemClock::Get().NowMillis()); }

Status ResolveId(LocalStore& store, const std::string& given, std::string* id) { return store.ResolveId(given, id); }

namespace {

// The decision must start from one of its statuses (the rule table accepts an
// unchanged status, which a decision should not).
Status StartsFrom(const workflow::Decision& d, const std::string& status) {
  for (const auto& f : d.from)
    if (f == status) return Status::Ok();
  std::string list;
  for (const auto& f : d.from) list += (list.empty() ? "" : ", ") + f;
  return Status::Precondition(std::string(d.name) + " applies to a " + d.form + " form that is " + list +
                              "; this one is " + status);
}

// The fields a decision sets besides the status, and the record after it.
Object DecisionChanges(LocalStore& store, const Record& r, const workflow::Decision& d, const std::string& reason) {
  return workflow::DecisionChanges(d, r.fields, reason.empty() ? "" : text::ToNfc(reason), store.Setting("user"),
                                   TodayIso());
}

Object Merged(const Object& fields, const Object& changes) {
  Object after(fields);
  std::vector<std::string> keys;
  changes.getNames(keys);
  for (const auto& k : keys) after.set(k, changes.get(k));
  return after;
}

Label RoleName(const std::string& role) { return msg::TextLabel("role_long." + role); }
Label DecisionLabel(const std::string& name) { return msg::TextLabel("decision." + name); }

// A business plan follows a selected idea: checked here before it is submitted
// offline, and again by the server.
Status CheckPlanIdea(LocalStore& store, const Record& plan) {
  std::string idea_id = plan.fields.has("idea_id") ? plan.fields.getValue<std::string>("idea_id") : "";
  Record idea;
  Status s = store.Get(idea_id, &idea);
  if (s.code() == Code::kNotFound || (s.ok() && idea.form != "idea"))
    return Status::Precondition("the idea " + idea_id + " is not on this device; sync first");
  if (!s.ok()) return s;
  if (idea.status() != "selected")
    return Status::Precondition("the idea " + idea_id + " is not selected (status " + idea.status() +
                                "); a business plan follows a selected idea");
  return Status::Ok();
}

}  // namespace

Status SubmitIdea(LocalStore& store, const std::string& id, Record* after, Label* warning) {
  Record r;
  Status s = store.Get(id, &r);
  if (!s.ok()) return s;
  if (r.form != "idea") return Status::Invalid("only idea forms are submitted; this is a " + r.form);
  const workflow::Decision& d = *workflow::Find("idea", "submit");
  s = StartsFrom(d, r.status());
  if (s.ok()) s = workflow::CheckTransition(r.form, r.status(), d.to, DeviceRole(store), r.fields, TodayIso());
  if (!s.ok()) return s;
  Object changes = DecisionChanges(store, r, d, "");
  *warning = {};
  if (!r.fields.has("receipt_no")) {
    std::string today = TodayIso();
    int year = std::atoi(today.substr(0, 4).c_str());
    std::optional<int64_t> n;
    s = store.NextReceipt(year, &n);
    if (!s.ok()) return s;
    if (n) changes.set("receipt_no", FormatReceipt(store.units(), store.commune(), year, *n));
    else *warning = {"chưa có dải số phiếu: phiếu sẽ được cấp số tự động ở lần đồng bộ tới",
                     "no receipt numbers reserved yet: the form gets its number at the next sync, by itself"};
  }
  return store.Update(id, changes, after, /*allow_system=*/true);
}

std::string RecordTitle(LocalStore& store, const Record& r, const std::string& lang) {
  const FormSchema* schema = store.catalog().Shown(r.form, r.fields);
  if (!schema) return "";
  // A visit or confirmation that names its idea but not the product: the idea's.
  json::Object fields = r.fields;
  auto missing = [&](const char* key) { return !fields.has(key) || !fields.get(key).isString(); };
  if (fields.has("idea_id") && fields.get("idea_id").isString() && (missing("product_name") || missing("subject_name"))) {
    Record idea;
    if (store.Get(fields.getValue<std::string>("idea_id"), &idea).ok())
      for (const char* key : {"product_name", "subject_name"})
        if (missing(key) && idea.fields.has(key)) fields.set(key, idea.fields.get(key));
  }
  return RecordTitleOf(*schema, fields, lang);
}

Status NumberWaitingIdeas(LocalStore& store, int* numbered) {
  *numbered = 0;
  // Runs after every pull: asked of SQLite, not by reading every idea.
  std::vector<std::string> unnumbered;
  Status s = store.UnnumberedIdeas(&unnumbered);
  if (!s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> waiting;  // (submitted at, id)
  for (const std::string& id : unnumbered) {
    // Only the device that received the form numbers it: two devices of one
    // commune must not give one form two numbers.
    std::vector<HistoryEntry> history;
    s = store.History(id, &history);
    if (!s.ok()) return s;
    for (const HistoryEntry& h : history)
      if (h.field == "status" && h.new_value == "\"submitted\"" && h.device == store.device_id()) {
        waiting.emplace_back(h.at, id);
        break;
      }
  }
  std::sort(waiting.begin(), waiting.end());
  const int year = std::atoi(TodayIso().substr(0, 4).c_str());
  for (const auto& [at, id] : waiting) {
    std::optional<int64_t> n;
    s = store.NextReceipt(year, &n);
    if (!s.ok()) return s;
    if (!n) break;  // no block yet: the next sync brings one
    json::Object changes;
    changes.set("receipt_no", FormatReceipt(store.units(), store.commune(), year, *n));
    Record after;
    s = store.Update(id, changes, &after, /*allow_system=*/true);
    if (!s.ok()) return s;
    ++*numbered;
  }
  return Status::Ok();
}

Status TakeDecision(LocalStore& store, const std::string& id, const std::string& name, const std::string& reason,
                    Record* after) {
  Record r;
  Status s = store.Get(id, &r);
  if (!s.ok()) return s;
  const workflow::Decision* d = workflow::Find(r.form, name);
  if (!d) return Status::Invalid("'" + name + "' is not a decision for a " + r.form + " form");
  if (name == "submit" && r.form == "idea") {
    Label ignored;
    return SubmitIdea(store, id, after, &ignored);
  }
  if (name == "submit" && r.form == "plan") {
    s = CheckPlanIdea(store, r);
    if (!s.ok()) return s;
  }
  s = StartsFrom(*d, r.status());
  if (!s.ok()) return s;
  if (!text::IsValidUtf8(reason)) return Status::Invalid("the reason is not valid UTF-8");
  Object changes = DecisionChanges(store, r, *d, reason);
  s = workflow::CheckTransition(r.form, r.status(), d->to, DeviceRole(store), Merged(r.fields, changes), TodayIso());
  if (!s.ok()) return s;
  return store.Update(id, changes, after, /*allow_system=*/true);
}

std::vector<DecisionOption> DecisionsFor(LocalStore& store, const Record& r) {
  std::vector<DecisionOption> out;
  if (r.deleted) return out;
  std::string role = DeviceRole(store), today = TodayIso();
  for (const auto& d : workflow::Decisions()) {
    if (r.form != d.form || !StartsFrom(d, r.status()).ok()) continue;
    DecisionOption o;
    o.name = d.name;
    o.to = d.to;
    o.label = DecisionLabel(d.name);
    o.needs_reason = d.reason_field != nullptr;
    if (role != d.role) {
      Label who = RoleName(d.role);
      o.why_not = {"chỉ " + who.vi + " được thực hiện bước «" + o.label.vi + "»", "only " + who.en + " may " + d.name};
    } else if (d.wait.from && r.status() == d.wait.from) {
      std::string returned = r.fields.has(d.wait.field) && r.fields.get(d.wait.field).isString()
                                 ? r.fields.getValue<std::string>(d.wait.field) : "";
      if (dates::ParseDate(returned)) {
        std::string from = dates::AddDays(returned, d.wait.days);
        if (dates::DaysBetween(today, from) > 0)
          o.why_not = {"nộp lại được từ " + dates::ToDisplay(from), "may be resubmitted from " + dates::ToDisplay(from)};
      }
    }
    o.allowed = o.why_not.vi.empty();
    out.push_back(std::move(o));
  }
  return out;
}

namespace {
std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string Str(const Object& o, const char* key) {
  if (!o.has(key) || o.get(key).isEmpty()) return "";
  return o.get(key).convert<std::string>();
}

// Council levels map to the certificate's issuing level: a commune pre-check
// issues nothing.
bool Issues(const std::string& level) { return level == "district" || level == "province" || level == "central"; }
}  // namespace

Status FindConfirmation(LocalStore& store, const std::string& idea_id, Record* out) {
  ListQuery q;
  q.form = "confirmation";
  q.status = "confirmed";
  std::vector<Record> list;
  Status s = store.List(q, &list);
  if (!s.ok()) return s;
  const Record* best = nullptr;
  for (const auto& r : list)
    if (Str(r.fields, "idea_id") == idea_id && (!best || r.updated_at > best->updated_at)) best = &r;
  if (!best)
    return Status::Precondition("the idea " + idea_id +
                                " has no confirmed confirmation of local labour and raw materials on this device");
  *out = *best;
  return Status::Ok();
}

Status ParseScores(const std::string& text, std::map<std::string, int>* out) {
  std::string item;
  auto take = [&](std::string part) -> Status {
    part = Trim(part);
    if (part.empty()) return Status::Ok();
    size_t eq = part.find('=');
    if (eq == std::string::npos) return Status::Invalid("score '" + part + "' is not CRITERION=POINTS (e.g. A1.3=2)");
    std::string code = Trim(part.substr(0, eq)), points = Trim(part.substr(eq + 1));
    char* end = nullptr;
    long v = std::strtol(points.c_str(), &end, 10);
    if (code.empty() || points.empty() || *end || v < 0 || v > 100)
      return Status::Invalid("score '" + part + "' is not CRITERION=POINTS (e.g. A1.3=2)");
    (*out)[code] = static_cast<int>(v);
    return Status::Ok();
  };
  for (char c : text) {
    if (c == ',' || c == '\n' || c == ';') {
      Status s = take(item);
      if (!s.ok()) return s;
      item.clear();
    } else {
      item += c;
    }
  }
  return take(item);
}

Status RecordScoreSheet(LocalStore& store, const ScoreSheetRequest& req, Record* out) {
  Record idea;
  Status s = store.Get(req.idea_id, &idea);
  if (!s.ok()) return s;
  if (idea.form != "idea") return Status::Invalid("record " + req.idea_id + " is a " + idea.form + " form, not an idea");
  Record confirmation;
  s = FindConfirmation(store, idea.id, &confirmation);
  if (!s.ok()) return s;
  Object fields;
  fields.set("idea_id", idea.id);
  fields.set("confirmation_id", confirmation.id);
  fields.set("product_name", Str(idea.fields, "product_name"));
  fields.set("product_group", Str(idea.fields, "product_group"));
  fields.set("sheet", req.sheet);
  fields.set("level", req.level);
  fields.set("round_year", static_cast<Poco::Int64>(req.year));
  fields.set("member_name", req.member);
  if (!req.notes.empty()) fields.set("notes", req.notes);
  fields.set("evaluated_on", TodayIso());
  json::Array::Ptr list = new json::Array;
  for (const auto& [code, points] : req.scores) {
    Object::Ptr item = new Object;
    item->set("criterion", code);
    item->set("points", static_cast<Poco::Int64>(points));
    list->add(item);
  }
  fields.set("scores", list);
  Record created;
  s = store.Create("evaluation", fields, &created, idea.unit);
  if (!s.ok()) return s;
  *out = created;
  if (!req.finish) return Status::Ok();
  // Not finished: the sheet stays a draft, kept, and the reason is returned.
  return TakeDecision(store, created.id, "score", "", out);
}

Status CouncilResultsFor(LocalStore& store, const std::string& idea_id, std::vector<evaluation::CouncilResult>* out) {
  ListQuery q;
  q.form = "evaluation";
  std::vector<Record> list;
  Status s = store.List(q, &list);
  if (!s.ok()) return s;
  std::vector<evaluation::SheetRecord> sheets;
  for (const auto& r : list)
    if (Str(r.fields, "idea_id") == idea_id) sheets.push_back({r.id, r.unit, r.fields});
  *out = evaluation::CouncilResults(sheets);
  return Status::Ok();
}

Status IssueCertificate(LocalStore& store, const CertificateRequest& req, Record* out) {
  if (!Issues(req.level)) return Status::Invalid("certificates are issued by a district, province or central council, not '" + req.level + "'");
  Record idea;
  Status s = store.Get(req.idea_id, &idea);
  if (!s.ok()) return s;
  std::vector<evaluation::CouncilResult> results;
  s = CouncilResultsFor(store, idea.id, &results);
  if (!s.ok()) return s;
  const evaluation::CouncilResult* found = nullptr;
  for (const auto& r : results)
    if (r.level == req.level && r.year == req.year) found = &r;
  if (!found)
    return Status::Precondition("no council result for this product at level " + req.level + " in " + std::to_string(req.year));
  if (!found->rankable) return Status::Precondition("the product cannot be ranked: all raw materials are imported or of unknown origin");
  if (found->stars < evaluation::kCertifiedFromStars)
    return Status::Precondition("a certificate needs 3 stars or more; the council gave " + std::to_string(found->stars));
  Object fields;
  fields.set("idea_id", idea.id);
  fields.set("product_name", Str(idea.fields, "product_name"));
  if (idea.fields.has("subject_name")) fields.set("subject_name", Str(idea.fields, "subject_name"));
  fields.set("stars", static_cast<Poco::Int64>(found->stars));
  fields.set("level", req.level);
  fields.set("round_year", static_cast<Poco::Int64>(req.year));
  fields.set("mean_points", found->mean_total);
  fields.set("decision_no", req.decision_no);
  fields.set("decided_on", req.decided_on);
  return store.Create("certificate", fields, out, idea.unit);
}

}  // namespace ocop::client
