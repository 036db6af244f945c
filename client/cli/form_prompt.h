// Walks a form field by field for an officer at a terminal: shows each label (in
// Vietnamese by default), the choices, whether the field is required; re-asks
// with the reason when an answer is invalid; an empty answer skips an optional
// field; "<" goes back to the previous field. At the end it shows everything
// typed and asks before saving (a number edits that field, "h" cancels).
// Works on any streams, so it is tested without a terminal.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"
#include "shared/status.h"

namespace ocop::client {

class FormPrompter {
 public:
  FormPrompter(std::istream& in, std::ostream& out, std::string lang) : in_(in), out_(out), lang_(std::move(lang)) {}
  // Fills `fields` (starting from what it already holds, which is kept).
  // Returns kInvalidArgument if the input ends (or Ctrl-C) before the form is
  // complete, with what was typed left in `fields`; kFailedPrecondition if the
  // officer cancels at the review.
  Status Fill(const FormSchema& schema, json::Object* fields);

 private:
  // `back` is set when the answer was "<" (only where `can_go_back`).
  Status AskField(const FieldDef& f, json::Var* out, bool can_go_back = false, bool* back = nullptr);
  Status AskList(const FieldDef& f, json::Var* out, bool* back);
  Status Review(const FormSchema& schema, const std::vector<const FieldDef*>& asked, json::Object* fields);
  bool ReadLine(std::string* line);
  std::istream& in_;
  std::ostream& out_;
  std::string lang_;
};

}  // namespace ocop::client
