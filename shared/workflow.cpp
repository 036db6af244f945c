#include "shared/workflow.h"

#include <deque>
#include <map>
#include <set>

#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/messages.h"

namespace ocop::workflow {

const std::vector<Decision>& Decisions() {
  using W = Stamp::What;
  // A returned idea waits this long before it may be submitted again.
  static const Wait resubmit{"returned", "returned_on", kResubmitDays};
  static const std::vector<Decision> table = {
      {"submit", "idea", {"draft", "returned"}, "submitted", "officer", nullptr,
       {{"received_on", W::kToday}, {"received_by", W::kUser}}, resubmit},
      {"return", "idea", {"submitted"}, "returned", "officer", "decision_reason", {{"returned_on", W::kToday}}},
      {"accept", "idea", {"submitted"}, "accepted", "officer", nullptr},
      {"select", "idea", {"accepted"}, "selected", "coordinator", nullptr},
      {"reject", "idea", {"accepted"}, "not_selected", "coordinator", "decision_reason"},
      {"confirm", "confirmation", {"draft"}, "confirmed", "officer", nullptr,
       {{"confirmed_on", W::kToday, true}, {"confirmed_by", W::kUser, true}}},
      {"revoke", "confirmation", {"confirmed"}, "revoked", "officer", "revoked_reason"},
      {"submit", "plan", {"draft", "not_feasible"}, "submitted", "officer", nullptr, {{"submitted_on", W::kToday}}},
      {"approve", "plan", {"submitted"}, "feasible", "coordinator", nullptr,
       {{"decided_on", W::kToday}, {"decided_by", W::kUser}}},
      {"decline", "plan", {"submitted"}, "not_feasible", "coordinator", "decision_reason",
       {{"decided_on", W::kToday}, {"decided_by", W::kUser}}},
      {"score", "evaluation", {"draft"}, "scored", "coordinator", nullptr, {{"evaluated_on", W::kToday, true}}},
      {"reopen", "evaluation", {"scored"}, "draft", "coordinator", "reopen_reason"},
      {"revoke", "certificate", {"issued"}, "revoked", "coordinator", "revoked_reason"},
  };
  return table;
}

const Decision* Find(const std::string& form, const std::string& name) {
  for (const auto& d : Decisions())
    if (form == d.form && name == d.name) return &d;
  return nullptr;
}

namespace {
// The decisions of `form` leading out of `status`.
std::vector<const Decision*> Out(const std::string& form, const std::string& status) {
  std::vector<const Decision*> out;
  for (const auto& d : Decisions())
    if (form == d.form)
      for (const auto& f : d.from)
        if (f == status) out.push_back(&d);
  return out;
}

std::string Allowed(const std::string& form, const std::string& status) {
  std::string s;
  for (const Decision* d : Out(form, status)) s += (s.empty() ? "" : ", ") + std::string(d->name) + " (→ " + d->to + ")";
  return s.empty() ? "none" : s;
}
}  // namespace

Status CheckTransition(const std::string& form, const std::string& from, const std::string& to,
                       const std::string& role, const json::Object& after, const std::string& today) {
  if (from == to) return Status::Ok();
  // Breadth-first over the decisions, remembering the last step that reached each status.
  std::map<std::string, const Decision*> reached_by;
  std::map<std::string, const Decision*> reached_by_anyone;
  std::deque<std::string> queue = {from};
  std::set<std::string> seen = {from};
  while (!queue.empty()) {
    std::string s = queue.front();
    queue.pop_front();
    for (const Decision* d : Out(form, s)) {
      if (!reached_by_anyone.count(d->to)) reached_by_anyone[d->to] = d;
      if (role != d->role) continue;
      if (seen.insert(d->to).second) {
        reached_by[d->to] = d;
        queue.push_back(d->to);
      }
    }
  }
  auto it = reached_by.find(to);
  if (it == reached_by.end()) {
    auto other = reached_by_anyone.find(to);
    if (other != reached_by_anyone.end())
      return Status::Denied("only a " + std::string(other->second->role) + " may " + other->second->name + " the " +
                            form + " form (" + from + " → " + to + ")");
    return Status::Precondition("the " + form + " form cannot go from '" + from + "' to '" + to + "'; from '" + from +
                                "' it may: " + Allowed(form, from));
  }
  const Decision* last = it->second;
  if (last->reason_field) {
    bool has = after.has(last->reason_field) && !after.get(last->reason_field).isEmpty() &&
               !after.get(last->reason_field).convert<std::string>().empty();
    if (!has)
      return Status::Invalid(std::string("to ") + last->name + " the " + form + " form, give the reason (field '" +
                             last->reason_field + "', --reason)");
  }
  if (form == "evaluation" && std::string(last->name) == "score") {
    // A sheet counts for the council only when every criterion has its score.
    Status complete = evaluation::CheckComplete(after);
    if (!complete.ok()) return complete;
  }
  const Wait& wait = last->wait;
  if (wait.from && from == wait.from) {
    // Resubmission of a returned idea: not before the waiting time is over.
    if (!after.has(wait.field) || !after.get(wait.field).isString())
      return Status::Precondition("a " + from + " " + form + " form has no '" + wait.field + "' date");
    std::string returned = after.getValue<std::string>(wait.field);
    if (!dates::ParseDate(returned) || !dates::ParseDate(today)) return Status::Invalid("bad date in the workflow check");
    long waited = dates::DaysBetween(returned, today);
    if (waited < wait.days)
      return Status::Precondition("returned on " + dates::ToDisplay(returned) + ", it may be resubmitted " +
                                  std::to_string(wait.days) + " days later; only " + std::to_string(waited) +
                                  " have passed");
  }
  return Status::Ok();
}

json::Object DecisionChanges(const Decision& d, const json::Object& fields, const std::string& reason,
                             const std::string& user, const std::string& today) {
  json::Object changes;
  changes.set("status", std::string(d.to));
  if (d.reason_field && !reason.empty()) changes.set(d.reason_field, reason);
  for (const Stamp& st : d.stamps) {
    if (st.keep && fields.has(st.field)) continue;
    const std::string& value = st.what == Stamp::kToday ? today : user;
    if (!value.empty()) changes.set(st.field, value);
  }
  return changes;
}

std::string DecisionsJson() {
  json::Array out;
  for (const auto& d : Decisions()) {
    json::Object o;
    o.set("name", std::string(d.name));
    o.set("form", std::string(d.form));
    json::Array from;
    for (const auto& f : d.from) from.add(f);
    o.set("from", from);
    o.set("to", std::string(d.to));
    o.set("role", std::string(d.role));
    if (d.reason_field) o.set("reason_field", std::string(d.reason_field));
    const Label& label = msg::TextLabel(std::string("decision.") + d.name);
    json::Object l;
    l.set("vi", label.vi);
    l.set("en", label.en);
    o.set("label", l);
    json::Array stamps;
    for (const Stamp& st : d.stamps) {
      json::Object s;
      s.set("field", std::string(st.field));
      s.set("value", std::string(st.what == Stamp::kToday ? "today" : "user"));
      if (st.keep) s.set("keep", true);
      stamps.add(s);
    }
    o.set("stamps", stamps);
    if (d.wait.from) {
      json::Object w;
      w.set("from", std::string(d.wait.from));
      w.set("field", std::string(d.wait.field));
      w.set("days", d.wait.days);
      o.set("wait", w);
    }
    out.add(o);
  }
  return json::ToText(json::Var(out));
}

std::vector<std::string> FieldsNotOf(const std::string& form, const std::string& status) {
  std::map<std::string, std::set<std::string>> reason_statuses;  // reason field -> statuses that keep it
  for (const auto& d : Decisions())
    if (form == d.form && d.reason_field) reason_statuses[d.reason_field].insert(d.to);
  std::vector<std::string> out;
  for (const auto& [field, statuses] : reason_statuses)
    if (!statuses.count(status)) out.push_back(field);
  if (form == "idea" && (status == "accepted" || status == "selected" || status == "not_selected")) out.push_back("returned_on");
  return out;
}

}  // namespace ocop::workflow
