// The OCOP cycle as rules over a form's status field: which decision moves a
// form from which status to which, who may take it, what it needs. One table,
// checked by the client before it records a decision offline and by the server
// (never trusting the client) when the change arrives.
//
//   idea:          draft ─submit→ submitted ─accept→ accepted ─select→ selected
//                  submitted ─return→ returned ─submit (7 days later)→ submitted
//                  accepted ─reject→ not_selected
//   confirmation:  draft ─confirm→ confirmed ─revoke→ revoked
//   plan:          draft ─submit→ submitted ─approve→ feasible
//                  submitted ─decline→ not_feasible ─submit (revised)→ submitted
//   evaluation:    draft ─score (every criterion scored)→ scored ─reopen→ draft
//   certificate:   issued ─revoke→ revoked
//
// Officers take the commune's decisions, coordinators the selection; the unit
// scope (their own units only) is the server's scope check. Pure; thread-safe.
#pragma once
#include <string>
#include <vector>

#include "shared/json.h"
#include "shared/status.h"

namespace ocop::workflow {

// A field a decision writes besides the status: the day it was taken or the
// account that took it. `keep`: written only when the record has none yet
// (a confirmation confirmed again keeps its first day).
struct Stamp {
  const char* field;
  enum What { kToday, kUser } what;
  bool keep = false;
};

// A decision that may be taken only some days after a field's date, when the
// record comes from a given status (a returned idea is resubmitted a week later).
struct Wait {
  const char* from = nullptr;   // the status it applies from, or nullptr
  const char* field = nullptr;  // the date it counts from
  int days = 0;
};

struct Decision {
  const char* name;  // the command: submit, return, accept, select, reject, confirm, revoke
  const char* form;
  std::vector<std::string> from;
  const char* to;
  const char* role;          // officer or coordinator
  const char* reason_field;  // field that must hold the reason, or nullptr
  std::vector<Stamp> stamps = {};
  Wait wait = {};
};

const std::vector<Decision>& Decisions();
const Decision* Find(const std::string& form, const std::string& name);

// The fields a decision writes on a record holding `fields`: the status, the
// reason (when given) and the stamps. The device recording a decision offline
// uses it, and the table is published to the phone app (/v1/forms) so the
// phone writes the same fields.
json::Object DecisionChanges(const Decision& d, const json::Object& fields, const std::string& reason,
                             const std::string& user, const std::string& today);

// The table as JSON for pages: each decision with its label, reason field,
// stamps and waiting time.
std::string DecisionsJson();

// Days a returned idea waits before it may be resubmitted (Vĩnh Phúc plan).
inline constexpr int kResubmitDays = 7;

// Checks that `role` may move a `form` from status `from` to `to` on `today`
// (ISO date), given the record's fields after the change. Unchanged status is
// always fine. Several decisions taken offline arrive as one change: a path of
// decisions this role may take is accepted; the last step's needs are checked.
// Errors: kPermissionDenied (not this role's decision), kFailedPrecondition
// (no such transition; too early to resubmit), kInvalidArgument (reason missing).
Status CheckTransition(const std::string& form, const std::string& from, const std::string& to,
                       const std::string& role, const json::Object& after, const std::string& today);

// Fields that belong to a status other than `status`: the reason a decision
// recorded (a returned idea's, a declined plan's) is kept only in the statuses
// those decisions lead to, and a returned idea's return date goes once the
// idea is accepted or decided. A conflict resolved to another status takes
// these away, so the record reads as its status says.
std::vector<std::string> FieldsNotOf(const std::string& form, const std::string& status);

}  // namespace ocop::workflow
