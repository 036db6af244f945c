// What an officer or coordinator does to a record on the device — find it by a
// short id, take a workflow decision, learn which decisions are open now — in
// one place under both faces of the client: the command line (cli.cpp) and the
// browser screens (ui_server.cpp). Each decision is checked with the same rule
// table the server checks (shared/workflow.h) before it is recorded offline.
#pragma once
#include <string>
#include <vector>

#include "client/local_store.h"
#include "shared/forms.h"

namespace ocop::client {

// The role this device acts in: the logged-in user's, else what its unit
// implies (a commune's device: officer; a district's or province's: coordinator).
std::string DeviceRole(LocalStore& store);

// Today in Vietnam (ISO), from the store's clock.
std::string TodayIso();

// Accepts a full id or a unique prefix of at least 8 characters.
Status ResolveId(LocalStore& store, const std::string& given, std::string* id);

// The commune received an idea form: status submitted, the receipt date, the
// receiving user, and a receipt number from the device's reserved block.
// *warning is set (Vietnamese, English) when the device holds no number yet.
Status SubmitIdea(LocalStore& store, const std::string& id, Record* after, Label* warning);

// Any other decision (return, accept, select, reject, confirm, revoke), with
// its reason when the decision needs one.
Status TakeDecision(LocalStore& store, const std::string& id, const std::string& decision, const std::string& reason,
                    Record* after);

// One decision as a screen offers it: allowed now, or the rule that stops it.
struct DecisionOption {
  std::string name, to;
  Label label;      // the button
  bool allowed = false;
  Label why_not;    // the rule, when not allowed (e.g. "nộp lại được từ 01/12/2026")
  bool needs_reason = false;
};

// The decisions that lead out of the record's status, in table order.
std::vector<DecisionOption> DecisionsFor(LocalStore& store, const Record& record);

}  // namespace ocop::client
