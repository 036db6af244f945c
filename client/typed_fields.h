// Values as the officer's screens and the phone app send them, converted and
// checked by the same ParseInput the command line uses, every problem at once: each field
// refused and each required field left empty is named, so the page can mark
// them all beside their fields instead of one per save.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "shared/forms.h"
#include "shared/json.h"

namespace ocop::client {

// (field key, why) for each field that is wrong.
using FieldProblems = std::vector<std::pair<std::string, Status>>;

// One value as typed in the page: text (as --set takes it), a list of row
// objects (for a list field), or null (cleared).
Status TypedValue(const FieldDef& f, const json::Var& in, json::Var* out);

// The body's "fields" object, typed values converted into `out`. A body
// without that object is an error (returned); wrong values and, when
// `complete` (a new record), required fields left empty go to `problems`,
// in the form's order.
Status TypedFields(const FormSchema& schema, const json::Object::Ptr& body, bool complete, json::Object* out,
                   FieldProblems* problems);

}  // namespace ocop::client
