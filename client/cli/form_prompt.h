// Walks a form field by field for an officer at a terminal: shows each label (in
// Vietnamese by default), the choices, whether the field is required; re-asks
// with the reason when an answer is invalid; an empty answer skips an optional
// field. Works on any streams, so it is tested without a terminal.
#pragma once
#include <iosfwd>
#include <string>

#include "shared/forms.h"
#include "shared/json.h"
#include "shared/status.h"

namespace ocop::client {

class FormPrompter {
 public:
  FormPrompter(std::istream& in, std::ostream& out, std::string lang) : in_(in), out_(out), lang_(std::move(lang)) {}
  // Fills `fields` (starting from what it already holds, which is kept).
  // Returns kInvalidArgument if the input ends before the form is complete.
  Status Fill(const FormSchema& schema, json::Object* fields);

 private:
  Status AskField(const FieldDef& f, json::Var* out);
  Status AskList(const FieldDef& f, json::Var* out);
  bool ReadLine(std::string* line);
  std::istream& in_;
  std::ostream& out_;
  std::string lang_;
};

}  // namespace ocop::client
