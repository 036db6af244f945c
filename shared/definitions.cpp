#include "shared/definitions.h"

#include "shared/evaluation.h"
#include "shared/hash.h"
#include "shared/json.h"
#include "shared/messages.h"

namespace ocop::definitions {

Status Identify(const std::string& text, Identity* out) {
  json::Object::Ptr o;
  Status s = json::ParseObject(text, &o);
  if (!s.ok()) return s;
  *out = {};
  try {
    if (o->has("form")) {
      out->kind = kForm;
      out->name = o->getValue<std::string>("form");
      out->version = o->getValue<int>("version");
    } else if (o->has("sheet")) {
      out->kind = kCriteria;
      out->name = o->getValue<std::string>("sheet");
      out->version = 1;  // a sheet never changes: a correction has an id of its own
    } else if (o->has("messages")) {
      out->kind = kCatalogue;
      out->name = "messages";
      out->version = o->getValue<int>("version");
    } else {
      return Status::Invalid("not a definition: a form has \"form\", a criteria sheet \"sheet\", catalogue corrections \"messages\"");
    }
  } catch (const Poco::Exception& e) {
    return Status::Invalid("definition: " + e.displayText());
  }
  out->label = ReadLabel(o, "label");
  if (out->name.empty()) return Status::Invalid("a definition needs a name");
  if (out->version < 1) return Status::Invalid(out->name + ": version must be 1 or more");
  return Status::Ok();
}

namespace {
Status Prepare(const Published& p, bool check_only) {
  std::unique_ptr<const evaluation::SheetSet> sheets;
  Status s = evaluation::BuildSheets(p.criteria, &sheets);
  if (!s.ok()) return s;
  std::vector<Choice> choices;
  for (const auto& [id, sheet] : *sheets) choices.push_back({id, sheet.label});
  std::unique_ptr<const FormCatalog> forms;
  s = FormCatalog::Build(p.forms, choices, &forms);
  if (!s.ok()) return s;
  s = msg::Install(p.catalogue, check_only);  // changes nothing unless it is whole
  if (!s.ok() || check_only) return s;
  evaluation::PutSheetsInForce(std::move(sheets));
  FormCatalog::PutInForce(std::move(forms));
  return Status::Ok();
}
}  // namespace

Status Install(const Published& p) { return Prepare(p, false); }
Status Check(const Published& p) { return Prepare(p, true); }

std::string ToJson(const Published& p, const std::string& version) {
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + "]";
  };
  return "{\"version\":" + json::Quote(version) + ",\"forms\":" + list(p.forms) + ",\"criteria\":" + list(p.criteria) +
         ",\"catalogue\":" + (p.catalogue.empty() ? std::string("null") : p.catalogue) + "}";
}

Status FromJson(const std::string& text, Published* out) {
  *out = {};
  json::Object::Ptr o;
  Status s = json::ParseObject(text, &o);
  if (!s.ok()) return s;
  try {
    for (auto [key, into] : {std::pair<const char*, std::vector<std::string>*>{"forms", &out->forms}, {"criteria", &out->criteria}}) {
      json::Array::Ptr arr = o->getArray(key);
      if (!arr) return Status::Invalid(std::string("definitions: no list '") + key + "'");
      for (size_t i = 0; i < arr->size(); ++i) {
        json::Var v = arr->get(static_cast<unsigned>(i));
        if (v.type() != typeid(json::Object::Ptr)) return Status::Invalid(std::string("definitions: an entry of '") + key + "' is not an object");
        into->push_back(json::ToText(v));
      }
    }
    if (o->has("catalogue") && !o->isNull("catalogue")) {
      if (!o->isObject("catalogue")) return Status::Invalid("definitions: 'catalogue' is not an object");
      out->catalogue = json::ToText(o->get("catalogue"));
    }
  } catch (const Poco::Exception& e) {
    return Status::Invalid("definitions: " + e.displayText());
  }
  return Status::Ok();
}

std::string VersionOf(const Published& p) {
  if (p.empty()) return "";
  return hash::Sha256Hex(ToJson(p, "")).substr(0, 16);
}

}  // namespace ocop::definitions
