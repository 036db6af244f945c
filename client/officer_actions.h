// What an officer or coordinator does to a record on the device — find it by a
// short id, take a workflow decision, learn which decisions are open now — in
// one place under both faces of the client: the command line (cli.cpp) and the
// browser screens (ui_server.cpp). Each decision is checked with the same rule
// table the server checks (shared/workflow.h) before it is recorded offline.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "client/local_store.h"
#include "shared/evaluation.h"
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

// What a person calls a record, in `lang`: an idea by its product and
// subject; a visit by its purpose and date and the idea's product; other
// forms by their product (or their idea's). Never an id.
std::string RecordTitle(LocalStore& store, const Record& r, const std::string& lang);

// Ideas this device received (submitted here) before it held any receipt
// number get one now, oldest first, from the reserved blocks; the sync calls
// this after each pull, so nobody has to submit again. *numbered counts them.
Status NumberWaitingIdeas(LocalStore& store, int* numbered);

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

// ---- Step 5: evaluation and certificates ----

// The confirmed confirmation of an idea on this device (the latest one).
Status FindConfirmation(LocalStore& store, const std::string& idea_id, Record* out);

// One council member's score sheet for a product, recorded offline. The
// localisation criteria are filled from the confirmation (never typed);
// `finish` also takes the "score" decision, which needs every criterion.
struct ScoreSheetRequest {
  std::string idea_id;  // full id
  std::string sheet = "148-2023";
  std::string level;    // commune, district, province, central
  int year = 0;
  std::string member;
  std::map<std::string, int> scores;  // criterion code -> points
  std::string notes;
  bool finish = false;
};
Status RecordScoreSheet(LocalStore& store, const ScoreSheetRequest& request, Record* out);
// "A1.3=3,A1.4=2" (or one per line) -> {A1.3: 3, A1.4: 2}.
Status ParseScores(const std::string& text, std::map<std::string, int>* out);

// The council results for an idea from the sheets on this device.
Status CouncilResultsFor(LocalStore& store, const std::string& idea_id, std::vector<evaluation::CouncilResult>* out);

// A certificate for a product the council at `level` ranked 3 stars or more
// in `year`: its stars and mean come from that result, never typed.
struct CertificateRequest {
  std::string idea_id, level, decision_no, decided_on;
  int year = 0;
};
Status IssueCertificate(LocalStore& store, const CertificateRequest& request, Record* out);

}  // namespace ocop::client
