// The phone app's share of the C++ core, compiled to WebAssembly
// (scripts/build-app-core.sh): what an officer types is read and checked on
// the phone by the same code `ocop` and `ocop ui` use — ParseInput through
// TypedFields for each typed value, CheckValue for values the app sets itself
// (photos, GPS), ValidateRecord for the record as a whole — against the
// definitions the server published. The server checks every change again.
//
// Two calls, JSON text in and out (the page keeps the strings it gets only
// until the next call):
//   ocop_install(GET /v1/definitions answer) -> {"ok":true} | {"error":{...}}
//   ocop_check({"form", "before": fields|null, "typed": {key: text|rows|null},
//               "values": {key: value}})
//     -> {"fields": the record after, normalised} | {"errors": [{field, message, message_vi, message_en}]}
#include <emscripten.h>

#include <string>
#include <utility>
#include <vector>

#include "client/typed_fields.h"
#include "shared/definitions.h"
#include "shared/forms.h"
#include "shared/json.h"
#include "shared/messages.h"

namespace {

using namespace ocop;
using json::Object;
using json::Var;

std::string Problem(const std::string& field, const Status& s) {
  Object o;
  o.set("field", field.empty() ? msg::FieldOfMessage(s.message()) : field);
  o.set("message", s.message());
  o.set("message_vi", msg::Localise(s, "vi"));
  o.set("message_en", msg::Localise(s, "en"));
  return json::ToText(o);
}

std::string Errors(const std::vector<std::pair<std::string, Status>>& problems) {
  std::string all;
  for (const auto& [field, s] : problems) all += (all.empty() ? "" : ",") + Problem(field, s);
  return "{\"errors\":[" + all + "]}";
}

std::string Check(const std::string& request) {
  Object::Ptr body;
  Status s = json::ParseObject(request, &body);
  if (!s.ok()) return Errors({{"", s}});
  const std::string form = body->has("form") && body->get("form").isString() ? body->getValue<std::string>("form") : "";
  const bool creating = !body->has("before") || body->get("before").isEmpty();
  Object before;
  if (!creating) {
    if (body->get("before").type() != typeid(Object::Ptr))
      return Errors({{"", Status::Invalid("\"before\" must be the record's fields")}});
    before = *body->getObject("before");
  }
  const FormCatalog& catalog = FormCatalog::Default();
  const FormSchema* schema = creating ? catalog.Find(form) : catalog.ForRecord(form, before);
  if (!schema) return Errors({{"", UnknownForm(form)}});

  // Typed values, every wrong one at once, as the officer screens read them.
  Object typed;
  std::vector<std::pair<std::string, Status>> problems;
  Object::Ptr typed_body = new Object;
  typed_body->set("fields", body->has("typed") ? body->get("typed") : Var(Object::Ptr(new Object)));
  s = client::TypedFields(*schema, typed_body, creating, &typed, &problems);
  if (!s.ok()) return Errors({{"", s}});
  if (!problems.empty()) return Errors(problems);

  Object after = before;
  std::vector<std::string> names;
  typed.getNames(names);
  for (const auto& k : names) {
    if (typed.get(k).isEmpty()) after.remove(k);
    else after.set(k, typed.get(k));
  }
  // Values the app sets itself (photos, GPS, status): checked one by one.
  if (body->has("values") && body->get("values").type() == typeid(Object::Ptr)) {
    Object::Ptr values = body->getObject("values");
    names.clear();
    values->getNames(names);
    for (const auto& k : names) {
      const FieldDef* f = schema->Field(k);
      if (!f) return Errors({{k, Status::Invalid("form '" + form + "' has no field '" + k + "'")}});
      Var v;
      s = CheckValue(*f, values->get(k), &v);
      if (!s.ok()) return Errors({{k, s}});
      if (v.isEmpty()) after.remove(k);
      else after.set(k, v);
    }
  }
  if (creating) StampFormVersion(*schema, &after);
  // The record as a whole: required fields, the rules across fields.
  s = ValidateRecord(*schema, &after, Completeness::kComplete, /*allow_system=*/true);
  if (!s.ok()) return Errors({{"", s}});
  return "{\"fields\":" + json::ToText(after) + "}";
}

std::string InstallDefinitions(const std::string& text) {
  definitions::Published published;
  Status s = definitions::FromJson(text, &published);
  if (s.ok()) s = definitions::Install(published);
  if (!s.ok()) return "{\"error\":" + Problem("", s) + "}";
  return "{\"ok\":true}";
}

// The answer handed to the page; valid until the next call (one thread).
std::string answer;

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* ocop_check(const char* request) {
  try {
    answer = Check(request ? request : "");
  } catch (const std::exception& e) {
    answer = Errors({{"", Status::Internal(std::string("unexpected error: ") + e.what())}});
  }
  return answer.c_str();
}

EMSCRIPTEN_KEEPALIVE const char* ocop_install(const char* definitions_json) {
  try {
    answer = InstallDefinitions(definitions_json ? definitions_json : "");
  } catch (const std::exception& e) {
    answer = "{\"error\":" + Problem("", Status::Internal(std::string("unexpected error: ") + e.what())) + "}";
  }
  return answer.c_str();
}

}  // extern "C"
