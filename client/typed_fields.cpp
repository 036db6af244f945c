#include "client/typed_fields.h"

#include "shared/messages.h"

namespace ocop::client {

using json::Array;
using json::Object;
using json::Var;

Status TypedValue(const FieldDef& f, const Var& in, Var* out) {
  if (f.system || f.computed)
    return Status::Invalid("field '" + f.key + "' is set by workflow decisions or computed, not typed");
  if (in.isEmpty()) {
    *out = Var();
    return Status::Ok();
  }
  std::string typed;
  if (in.type() == typeid(Array::Ptr)) {
    typed = json::ToText(in);
    if (in.extract<Array::Ptr>()->size() == 0) {
      *out = Var();
      return Status::Ok();
    }
  } else {
    typed = in.isString() ? in.extract<std::string>() : in.convert<std::string>();
  }
  return ParseInput(f, typed, out);
}

Status TypedFields(const FormSchema& schema, const Object::Ptr& body, bool complete, Object* out,
                   FieldProblems* problems) {
  problems->clear();
  if (!body->has("fields") || body->get("fields").type() != typeid(Object::Ptr))
    return Status::Invalid("the body needs a \"fields\" object");
  auto fields = body->getObject("fields");
  std::vector<std::string> names;
  fields->getNames(names);
  for (const auto& k : names)
    if (!schema.Field(k)) return Status::Invalid("form '" + schema.form + "' has no field '" + k + "'");
  for (const auto& f : schema.fields) {
    if (!fields->has(f.key)) {
      if (complete && f.required && !f.system && !f.computed)
        problems->emplace_back(f.key, Status::Invalid(msg::FieldName(f) + " is required"));
      continue;
    }
    Var v;
    Status s = TypedValue(f, fields->get(f.key), &v);
    if (!s.ok()) problems->emplace_back(f.key, s);
    else if (v.isEmpty() && complete && f.required && !f.system && !f.computed)
      problems->emplace_back(f.key, Status::Invalid(msg::FieldName(f) + " is required"));
    else out->set(f.key, v);
  }
  return Status::Ok();
}

}  // namespace ocop::client
