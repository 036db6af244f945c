#include "shared/forms.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "shared/clock.h"
#include "shared/dates.h"
#include "shared/embedded.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/messages.h"
#include "shared/text.h"

namespace ocop {

using json::Array;
using json::Object;
using json::Var;

const char* FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kText: return "text";
    case FieldType::kInteger: return "integer";
    case FieldType::kNumber: return "number";
    case FieldType::kBool: return "bool";
    case FieldType::kDate: return "date";
    case FieldType::kChoice: return "choice";
    case FieldType::kMultiChoice: return "multichoice";
    case FieldType::kRef: return "ref";
    case FieldType::kList: return "list";
  }
  return "?";
}

const FieldDef* FormSchema::Field(const std::string& key) const {
  for (const auto& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

// ---- schema loading ----

Label ReadLabel(const Object::Ptr& o, const std::string& key) {
  Label l;
  if (o->has(key) && o->isObject(key)) {
    auto lo = o->getObject(key);
    l.vi = lo->optValue<std::string>("vi", "");
    l.en = lo->optValue<std::string>("en", "");
  }
  return l;
}

namespace {

Status ReadField(const Object::Ptr& o, FieldDef* f, const std::string& where) {
  f->key = o->optValue<std::string>("key", "");
  if (f->key.empty()) return Status::Invalid(where + ": a field has no key");
  std::string type = o->optValue<std::string>("type", "");
  static const std::map<std::string, FieldType> kTypes = {
      {"text", FieldType::kText},     {"integer", FieldType::kInteger},
      {"number", FieldType::kNumber}, {"bool", FieldType::kBool},
      {"date", FieldType::kDate},     {"choice", FieldType::kChoice},
      {"multichoice", FieldType::kMultiChoice}, {"ref", FieldType::kRef},
      {"list", FieldType::kList}};
  auto it = kTypes.find(type);
  if (it == kTypes.end()) return Status::Invalid(where + ": field " + f->key + " has unknown type '" + type + "'");
  f->type = it->second;
  f->label = ReadLabel(o, "label");
  f->help = ReadLabel(o, "help");
  f->required = o->optValue<bool>("required", false);
  f->system = o->optValue<bool>("system", false);
  f->computed = o->optValue<bool>("computed", false);
  f->multiline = o->optValue<bool>("multiline", false);
  f->past = o->optValue<bool>("past", false);
  f->max_length = o->optValue<unsigned>("max_length", 0);
  f->max_items = o->optValue<unsigned>("max_items", 0);
  if (o->has("min")) f->has_min = true, f->min = o->getValue<double>("min");
  if (o->has("max")) f->has_max = true, f->max = o->getValue<double>("max");
  f->pattern = o->optValue<std::string>("pattern", "");
  f->ref_form = o->optValue<std::string>("ref_form", "");
  if (o->has("items_label")) f->items_label = ReadLabel(o, "items_label");
  if (o->has("choices")) {
    auto arr = o->getArray("choices");
    for (size_t i = 0; i < arr->size(); ++i) {
      auto co = arr->getObject(static_cast<unsigned>(i));
      f->choices.push_back({co->getValue<std::string>("value"), ReadLabel(co, "label")});
    }
  }
  if ((f->type == FieldType::kChoice || f->type == FieldType::kMultiChoice) && f->choices.empty())
    return Status::Invalid(where + ": choice field " + f->key + " has no choices");
  if (o->has("item_fields")) {
    auto arr = o->getArray("item_fields");
    for (size_t i = 0; i < arr->size(); ++i) {
      FieldDef item;
      Status s = ReadField(arr->getObject(static_cast<unsigned>(i)), &item, where + "." + f->key);
      if (!s.ok()) return s;
      f->item_fields.push_back(std::move(item));
    }
  }
  if (f->type == FieldType::kList && f->item_fields.empty())
    return Status::Invalid(where + ": list field " + f->key + " has no item_fields");
  return Status::Ok();
}

}  // namespace

Status FormCatalog::ParseSchema(const std::string& json_text, FormSchema* out) {
  Object::Ptr o;
  Status s = json::ParseObject(json_text, &o);
  if (!s.ok()) return s;
  try {
    FormSchema schema;
    schema.form = o->getValue<std::string>("form");
    schema.version = o->getValue<int>("version");
    schema.label = ReadLabel(o, "label");
    auto st = o->getArray("statuses");
    for (size_t i = 0; i < st->size(); ++i) schema.statuses.push_back(st->getElement<std::string>(static_cast<unsigned>(i)));
    schema.initial_status = o->getValue<std::string>("initial_status");
    schema.title_field = o->optValue<std::string>("title_field", "");
    auto fields = o->getArray("fields");
    std::set<std::string> keys;
    for (size_t i = 0; i < fields->size(); ++i) {
      FieldDef f;
      s = ReadField(fields->getObject(static_cast<unsigned>(i)), &f, schema.form);
      if (!s.ok()) return s;
      if (!keys.insert(f.key).second) return Status::Invalid(schema.form + ": duplicate field " + f.key);
      schema.fields.push_back(std::move(f));
    }
    // The workflow status is a field like any other, so it merges and conflicts
    // like any other.
    if (keys.count("status") || keys.count(kFormVersionKey))
      return Status::Invalid(schema.form + ": 'status' and '" + kFormVersionKey + "' are the system's own fields");
    if (schema.version < 1) return Status::Invalid(schema.form + ": version must be 1 or more");
    FieldDef status;
    status.key = "status";
    status.type = FieldType::kChoice;
    status.system = true;
    status.label = {"Trạng thái", "Status"};
    for (const auto& v : schema.statuses) status.choices.push_back({v, {v, v}});
    schema.fields.push_back(status);
    FieldDef version;
    version.key = kFormVersionKey;
    version.type = FieldType::kInteger;
    version.system = version.hidden = true;
    version.has_min = true, version.min = 1;
    version.label = {"Phiên bản mẫu phiếu", "Form version"};
    schema.fields.push_back(version);
    if (std::find(schema.statuses.begin(), schema.statuses.end(), schema.initial_status) == schema.statuses.end())
      return Status::Invalid(schema.form + ": initial_status is not one of statuses");
    schema.source = json_text;
    *out = std::move(schema);
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Invalid("form schema: " + e.displayText());
  }
}

int FormVersionOf(const json::Object& fields) {
  if (!fields.has(kFormVersionKey)) return 1;
  const Var& v = fields.get(kFormVersionKey);
  return v.isInteger() ? static_cast<int>(v.convert<Poco::Int64>()) : 0;  // 0: no version there is
}

void StampFormVersion(const FormSchema& schema, json::Object* fields) {
  if (schema.version > 1) fields->set(kFormVersionKey, schema.version);
  else fields->remove(kFormVersionKey);
}

Status FormCatalog::Add(FormSchema schema) {
  auto& versions = forms_[schema.form];
  if (versions.count(schema.version))
    return Status(Code::kAlreadyExists, "form '" + schema.form + "' version " + std::to_string(schema.version) + " is there already");
  int version = schema.version;
  versions.emplace(version, std::move(schema));
  return Status::Ok();
}

const FormSchema* FormCatalog::Find(const std::string& form) const {
  auto it = forms_.find(form);
  return it == forms_.end() || it->second.empty() ? nullptr : &it->second.rbegin()->second;
}

const FormSchema* FormCatalog::Find(const std::string& form, int version) const {
  auto it = forms_.find(form);
  if (it == forms_.end()) return nullptr;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : &v->second;
}

const FormSchema* FormCatalog::ForRecord(const std::string& form, const json::Object& fields) const {
  return Find(form, FormVersionOf(fields));
}

const FormSchema* FormCatalog::Shown(const std::string& form, const json::Object& fields) const {
  const FormSchema* exact = ForRecord(form, fields);
  return exact ? exact : Find(form);
}

FormSchema FormCatalog::AllFields(const std::string& form) const {
  auto versions = Versions(form);
  if (versions.empty()) return {};
  FormSchema all = *versions.back();
  for (auto it = versions.rbegin() + 1; it != versions.rend(); ++it)
    for (const auto& f : (*it)->fields)
      if (!all.Field(f.key)) all.fields.push_back(f);
  return all;
}

std::vector<const FormSchema*> FormCatalog::Versions(const std::string& form) const {
  std::vector<const FormSchema*> out;
  auto it = forms_.find(form);
  if (it != forms_.end())
    for (const auto& [v, schema] : it->second) out.push_back(&schema);
  return out;
}

std::vector<std::string> FormCatalog::Names() const {
  // In the order of the OCOP cycle (the idea form, the commonest, first);
  // forms it does not know after them, by name.
  static const std::vector<std::string> kCycle = {"idea", "confirmation", "visit", "plan", "evaluation", "certificate"};
  std::vector<std::string> out;
  for (const auto& name : kCycle)
    if (forms_.count(name)) out.push_back(name);
  for (const auto& [k, v] : forms_)
    if (std::find(kCycle.begin(), kCycle.end(), k) == kCycle.end()) out.push_back(k);
  return out;
}

namespace {
std::mutex catalogs_mu;
std::atomic<const FormCatalog*> in_force{nullptr};

// Field by field, what a person would notice changed.
std::vector<std::string> FieldChanges(const FieldDef& a, const FieldDef& b) {
  std::vector<std::string> what;
  if (a.label.vi != b.label.vi || a.label.en != b.label.en) what.push_back("label");
  if (a.help.vi != b.help.vi || a.help.en != b.help.en) what.push_back("help");
  if (a.required != b.required) what.push_back("required");
  bool choices = a.choices.size() != b.choices.size();
  for (size_t i = 0; !choices && i < a.choices.size(); ++i)
    choices = a.choices[i].value != b.choices[i].value || a.choices[i].label.vi != b.choices[i].label.vi ||
              a.choices[i].label.en != b.choices[i].label.en;
  if (choices) what.push_back("choices");
  if (a.has_min != b.has_min || a.has_max != b.has_max || a.min != b.min || a.max != b.max ||
      a.max_length != b.max_length || a.max_items != b.max_items || a.pattern != b.pattern || a.past != b.past)
    what.push_back("limits");
  bool items = a.item_fields.size() != b.item_fields.size();
  for (size_t i = 0; !items && i < a.item_fields.size(); ++i)
    items = a.item_fields[i].key != b.item_fields[i].key || !FieldChanges(a.item_fields[i], b.item_fields[i]).empty();
  if (items) what.push_back("items");
  return what;
}

// Same key, same type, all the way down a list's item fields.
Status SameShape(const std::string& form, int version, const FieldDef& was, const FieldDef& now) {
  if (was.type != now.type)
    return Status::Invalid("form '" + form + "': " + msg::FieldName(was) + " was " + FieldTypeName(was.type) + " in version " +
                           std::to_string(version) + " and cannot become " + FieldTypeName(now.type) +
                           " (records written with it must stay readable); publish a new key instead");
  if (was.type == FieldType::kRef && was.ref_form != now.ref_form)
    return Status::Invalid("form '" + form + "': " + msg::FieldName(was) + " names '" + was.ref_form + "' records in version " +
                           std::to_string(version) + " and cannot name '" + now.ref_form + "' ones");
  for (const auto& item : was.item_fields)
    for (const auto& now_item : now.item_fields)
      if (item.key == now_item.key) {
        Status s = SameShape(form, version, item, now_item);
        if (!s.ok()) return s;
      }
  return Status::Ok();
}
}  // namespace

Status CheckPublishable(const FormCatalog& catalog, const FormSchema& next, std::vector<FieldDifference>* differences) {
  differences->clear();
  auto versions = catalog.Versions(next.form);
  if (versions.empty()) return UnknownForm(next.form);
  const FormSchema& newest = *versions.back();
  if (next.version <= newest.version)
    return Status::Invalid("form '" + next.form + "' is at version " + std::to_string(newest.version) +
                           " already: publish version " + std::to_string(newest.version + 1));
  if (next.statuses != newest.statuses || next.initial_status != newest.initial_status)
    return Status::Invalid("form '" + next.form + "': the statuses are the workflow's own and cannot change by publishing");
  for (const FormSchema* old : versions)
    for (const auto& f : old->fields)
      if (const FieldDef* now = next.Field(f.key)) {
        Status s = SameShape(next.form, old->version, f, *now);
        if (!s.ok()) return s;
      }
  for (const auto& f : next.fields) {
    if (f.hidden || f.key == "status") continue;
    const FieldDef* was = newest.Field(f.key);
    if (!was) {
      differences->push_back({FieldDifference::kAdded, f.key, f.label, {}});
    } else if (auto what = FieldChanges(*was, f); !what.empty()) {
      differences->push_back({FieldDifference::kChanged, f.key, f.label, std::move(what)});
    }
  }
  for (const auto& f : newest.fields)
    if (!f.hidden && !next.Field(f.key)) differences->push_back({FieldDifference::kRemoved, f.key, f.label, {}});
  return Status::Ok();
}

const FormCatalog& FormCatalog::Embedded() {
  static const FormCatalog catalog = [] {
    FormCatalog c;
    for (const auto& f : embedded::Files()) {
      if (f.path.rfind("forms/", 0) != 0) continue;
      FormSchema schema;
      Status s = ParseSchema(f.content, &schema);
      if (s.ok()) s = c.Add(std::move(schema));
      if (!s.ok()) {
        std::fprintf(stderr, "broken embedded schema %s: %s\n", f.path.c_str(), s.message().c_str());
        std::abort();
      }
    }
    return c;
  }();
  return catalog;
}

const FormCatalog& FormCatalog::Default() {
  const FormCatalog* c = in_force.load(std::memory_order_acquire);
  return c ? *c : Embedded();
}

Status FormCatalog::Build(const std::vector<std::string>& published, const std::vector<Choice>& sheets,
                          std::unique_ptr<const FormCatalog>* out) {
  auto next = std::make_unique<FormCatalog>(Embedded());
  for (const auto& text : published) {
    FormSchema schema;
    Status s = ParseSchema(text, &schema);
    std::vector<FieldDifference> differences;
    if (s.ok()) s = CheckPublishable(*next, schema, &differences);
    if (s.ok()) s = next->Add(std::move(schema));
    if (!s.ok()) return s;
  }
  // A sheet published after a form version still appears in it: sheets are
  // chosen by id from those in force, whatever version the form is.
  for (auto& [version, schema] : next->forms_["evaluation"])
    for (auto& f : schema.fields) {
      if (f.key != "sheet" || f.type != FieldType::kChoice) continue;
      std::vector<Choice> added;
      for (const auto& sheet : sheets)
        if (std::none_of(f.choices.begin(), f.choices.end(), [&](const Choice& c) { return c.value == sheet.value; }))
          added.push_back(sheet);
      if (added.empty()) continue;
      f.choices.insert(f.choices.end(), added.begin(), added.end());
      // The screens read the form from its file: the file offers them too.
      Object::Ptr o;
      if (!json::ParseObject(schema.source, &o).ok()) continue;
      auto defs = o->getArray("fields");
      for (size_t i = 0; defs && i < defs->size(); ++i) {
        auto def = defs->getObject(static_cast<unsigned>(i));
        if (!def || def->optValue<std::string>("key", "") != "sheet" || !def->has("choices")) continue;
        for (const auto& c : added) {
          Object::Ptr choice = new Object, label = new Object;
          label->set("vi", c.label.vi);
          label->set("en", c.label.en);
          choice->set("value", c.value);
          choice->set("label", label);
          def->getArray("choices")->add(choice);
        }
      }
      schema.source = json::ToText(*o);
    }
  *out = std::move(next);
  return Status::Ok();
}

const FormCatalog& FormCatalog::PutInForce(std::unique_ptr<const FormCatalog> catalog) {
  std::lock_guard<std::mutex> lock(catalogs_mu);
  static std::vector<std::unique_ptr<const FormCatalog>> kept;  // see the header: never freed
  kept.push_back(std::move(catalog));
  in_force.store(kept.back().get(), std::memory_order_release);
  return *kept.back();
}

Status FormCatalog::Install(const std::vector<std::string>& published) {
  std::vector<Choice> sheets;
  for (const auto& id : evaluation::SheetIds()) sheets.push_back({id, evaluation::FindSheet(id)->label});
  std::unique_ptr<const FormCatalog> next;
  Status s = Build(published, sheets, &next);
  if (s.ok()) PutInForce(std::move(next));
  return s;
}

// ---- values ----

namespace {

std::string Name(const FieldDef& f) { return msg::FieldName(f); }

// NUL and other control characters have no place in a form: they cut C strings,
// break CSV exports and terminals, and hide text. A multi-line field keeps
// line breaks (CR LF written as LF) and tabs; nothing else below U+0020, nor
// DEL, nor the C1 controls U+0080–U+009F.
Status RefuseControlCharacters(const FieldDef& f, std::string* s) {
  // Most text has none of the bytes that need a look: left as it is.
  bool look = false;
  for (unsigned char c : *s) look = look || c < 0x20 || c == 0x7F || c == 0xC2;
  if (!look) return Status::Ok();
  std::string kept;
  kept.reserve(s->size());
  for (size_t i = 0; i < s->size(); ++i) {
    unsigned char c = static_cast<unsigned char>((*s)[i]);
    bool c1 = c == 0xC2 && i + 1 < s->size() && static_cast<unsigned char>((*s)[i + 1]) >= 0x80 &&
              static_cast<unsigned char>((*s)[i + 1]) <= 0x9F;
    if (f.multiline && c == '\r' && i + 1 < s->size() && (*s)[i + 1] == '\n') continue;
    if ((c < 0x20 && !(f.multiline && (c == '\n' || c == '\t'))) || c == 0x7F || c1) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", c1 ? static_cast<unsigned char>((*s)[i + 1]) : c);
      return Status::Invalid(Name(f) + (f.multiline ? ": holds the control character " : ": holds a line break or the control character ") + code);
    }
    kept.push_back(static_cast<char>(c));
  }
  *s = std::move(kept);
  return Status::Ok();
}

bool MatchesPattern(const std::string& pattern, const std::string& s) {
  if (pattern == "phone") {
    // Vietnamese numbers: optional +84, then 8-11 digits; spaces and dots allowed.
    std::string digits;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '+' && i == 0) continue;
      if (c == ' ' || c == '.' || c == '-') continue;
      if (c < '0' || c > '9') return false;
      digits.push_back(c);
    }
    return digits.size() >= 8 && digits.size() <= 12;
  }
  if (pattern == "digits_dashes") {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z') || c == '/')) return false;
    return !s.empty();
  }
  if (pattern == "sha256") {
    if (s.size() != 64) return false;
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  }
  if (pattern == "hh_mm") {
    if (s.size() != 5 || s[2] != ':') return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return std::isdigit(static_cast<unsigned char>(s[0])) && std::isdigit(static_cast<unsigned char>(s[1])) &&
           std::isdigit(static_cast<unsigned char>(s[3])) && std::isdigit(static_cast<unsigned char>(s[4])) &&
           h < 24 && m < 60;
  }
  return true;
}

const char* PatternHint(const std::string& pattern) {
  if (pattern == "phone") return "a phone number of 8 to 12 digits";
  if (pattern == "digits_dashes") return "digits, capital letters, '-' and '/'";
  if (pattern == "hh_mm") return "a time as hh:mm";
  if (pattern == "sha256") return "a SHA-256 in 64 lower-case hex digits";
  return "the expected format";
}

std::string FormatNumber(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

Status CheckRange(const FieldDef& f, double d) {
  if (f.has_min && d < f.min) return Status::Invalid(Name(f) + ": " + FormatNumber(d) + " is below the minimum " + FormatNumber(f.min));
  if (f.has_max && d > f.max) return Status::Invalid(Name(f) + ": " + FormatNumber(d) + " is above the maximum " + FormatNumber(f.max));
  return Status::Ok();
}

bool IsChoice(const FieldDef& f, const std::string& v) {
  for (const auto& c : f.choices)
    if (c.value == v) return true;
  return false;
}

// The choices as a person picks them: the Vietnamese label (what the screens
// and the prompt show) and the code (what --set and imports also take).
std::string ChoiceList(const FieldDef& f) {
  std::string s;
  for (const auto& c : f.choices)
    s += (s.empty() ? "" : ", ") + (c.label.vi.empty() || c.label.vi == c.value ? c.value : c.label.vi + " (" + c.value + ")");
  return s;
}

}  // namespace

Status CheckValue(const FieldDef& f, const Var& in, Var* out) {
  if (in.isEmpty()) {
    *out = Var();
    return Status::Ok();
  }
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kRef:
    case FieldType::kDate:
    case FieldType::kChoice: {
      if (!in.isString()) return Status::Invalid(Name(f) + ": expected a string, got " + json::ToText(in));
      std::string s = in.convert<std::string>();
      if (s.size() > kMaxTextBytes) return Status::Invalid(Name(f) + ": text longer than " + std::to_string(kMaxTextBytes) + " bytes");
      if (!text::IsValidUtf8(s)) return Status::Invalid(Name(f) + ": text is not valid UTF-8");
      s = text::ToNfc(s);
      if (f.type == FieldType::kText) {
        Status controls = RefuseControlCharacters(f, &s);
        if (!controls.ok()) return controls;
        if (f.max_length && text::Length(s) > f.max_length)
          return Status::Invalid(Name(f) + ": longer than " + std::to_string(f.max_length) + " characters");
        if (!f.pattern.empty() && !s.empty() && !MatchesPattern(f.pattern, s))
          return Status::Invalid(Name(f) + ": '" + s + "' is not " + PatternHint(f.pattern));
        if (s.empty()) { *out = Var(); return Status::Ok(); }
      } else if (f.type == FieldType::kRef) {
        if (!ids::IsUuid(s)) return Status::Invalid(Name(f) + ": '" + s + "' is not a record id");
      } else if (f.type == FieldType::kDate) {
        auto iso = dates::ParseDate(s);
        if (!iso) return Status::Invalid(Name(f) + ": '" + s + "' is not a date (dd/mm/yyyy or yyyy-mm-dd)");
        s = *iso;
        // OCOP began in 2018; a date before 1990 or from 2100 on is a typing slip.
        if (s < "1990-01-01" || s >= "2100-01-01")
          return Status::Invalid(Name(f) + ": " + dates::ToDisplay(s) + " is not a plausible date (1990 to 2099)");
        if (f.past && s > dates::AddDays(dates::IsoDateFromMillis(SystemClock::Get().NowMillis()), 1))
          return Status::Invalid(Name(f) + ": " + dates::ToDisplay(s) + " is in the future");
      } else {
        if (!IsChoice(f, s)) return Status::Invalid(Name(f) + ": '" + s + "' is not one of " + ChoiceList(f));
      }
      *out = s;
      return Status::Ok();
    }
    case FieldType::kInteger: {
      if (!in.isNumeric() || in.type() == typeid(bool)) return Status::Invalid(Name(f) + ": expected an integer, got " + json::ToText(in));
      double d = in.convert<double>();
      if (d != std::floor(d)) return Status::Invalid(Name(f) + ": expected a whole number, got " + FormatNumber(d));
      Status s = CheckRange(f, d);
      if (!s.ok()) return s;
      *out = static_cast<Poco::Int64>(d);
      return Status::Ok();
    }
    case FieldType::kNumber: {
      if (!in.isNumeric() || in.type() == typeid(bool)) return Status::Invalid(Name(f) + ": expected a number, got " + json::ToText(in));
      double d = in.convert<double>();
      if (!std::isfinite(d)) return Status::Invalid(Name(f) + ": not a finite number");
      Status s = CheckRange(f, d);
      if (!s.ok()) return s;
      *out = d;
      return Status::Ok();
    }
    case FieldType::kBool:
      if (in.type() != typeid(bool)) return Status::Invalid(Name(f) + ": expected true or false, got " + json::ToText(in));
      *out = in;
      return Status::Ok();
    case FieldType::kMultiChoice: {
      if (in.type() != typeid(Array::Ptr)) return Status::Invalid(Name(f) + ": expected a list of choices");
      auto arr = in.extract<Array::Ptr>();
      Array::Ptr norm = new Array;
      std::set<std::string> seen;
      for (size_t i = 0; i < arr->size(); ++i) {
        Var e = arr->get(static_cast<unsigned>(i));
        if (!e.isString()) return Status::Invalid(Name(f) + ": list items must be strings");
        std::string v = e.convert<std::string>();
        if (!IsChoice(f, v)) return Status::Invalid(Name(f) + ": '" + v + "' is not one of " + ChoiceList(f));
        if (seen.insert(v).second) norm->add(v);
      }
      *out = norm;
      return Status::Ok();
    }
    case FieldType::kList: {
      if (in.type() != typeid(Array::Ptr)) return Status::Invalid(Name(f) + ": expected a list of objects");
      auto arr = in.extract<Array::Ptr>();
      if (f.max_items && arr->size() > f.max_items)
        return Status::Invalid(Name(f) + ": more than " + std::to_string(f.max_items) + " items");
      Array::Ptr norm = new Array;
      for (size_t i = 0; i < arr->size(); ++i) {
        Var e = arr->get(static_cast<unsigned>(i));
        std::string where = Name(f) + " item " + std::to_string(i + 1);
        if (e.type() != typeid(Object::Ptr)) return Status::Invalid(where + ": expected an object");
        auto item = e.extract<Object::Ptr>();
        Object::Ptr nitem = new Object;
        std::vector<std::string> names;
        item->getNames(names);
        for (const auto& k : names) {
          const FieldDef* sub = nullptr;
          for (const auto& s : f.item_fields)
            if (s.key == k) sub = &s;
          // "item_id" gives an item identity so that lists merge item by item.
          if (k == "item_id") {
            Var idv = item->get(k);
            if (!idv.isString() || !ids::IsUuid(idv.convert<std::string>()))
              return Status::Invalid(where + ": item_id must be a record id");
            nitem->set(k, idv);
            continue;
          }
          if (!sub) return Status::Invalid(where + ": unknown key '" + k + "'");
          Var v;
          Status s = CheckValue(*sub, item->get(k), &v);
          if (!s.ok()) return Status::Invalid(where + ": " + s.message());
          if (!v.isEmpty()) nitem->set(k, v);
        }
        for (const auto& sub : f.item_fields)
          if (sub.required && !nitem->has(sub.key))
            return Status::Invalid(where + ": field '" + sub.key + "' is required");
        if (item->has("value_vnd") && item->has("local_value_vnd") &&
            nitem->getValue<double>("local_value_vnd") > nitem->getValue<double>("value_vnd"))
          return Status::Invalid(where + ": local_value_vnd is larger than value_vnd");
        if (!nitem->has("item_id")) nitem->set("item_id", ids::NewUuid());
        norm->add(nitem);
      }
      *out = norm;
      return Status::Ok();
    }
  }
  return Status::Internal("unhandled field type");
}

namespace {
// A typed decimal as Vietnamese writes it, in the C locale's form for strtod:
// "," before the decimals and "." between thousands ("1.500,5", "2.000"),
// also the other way round when both appear ("1,500.5"). One "." followed by
// exactly three digits is a thousands dot ("2.000" is two thousand), unless
// the whole part is 0 ("0.125"); with other counts of digits it is a decimal
// point ("21.4512", "12.5"). Text that is no number is left for strtod to refuse.
std::string DecimalText(std::string t) {
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == ' ' || c == '_'; }), t.end());
  const auto dots = std::count(t.begin(), t.end(), '.'), commas = std::count(t.begin(), t.end(), ',');
  auto drop = [&](char c) { t.erase(std::remove(t.begin(), t.end(), c), t.end()); };
  if (dots && commas) {
    const bool comma_decimal = t.rfind(',') > t.rfind('.');
    drop(comma_decimal ? '.' : ',');
    std::replace(t.begin(), t.end(), ',', '.');
  } else if (commas == 1) {
    std::replace(t.begin(), t.end(), ',', '.');
  } else if (commas > 1 || dots > 1) {
    drop(commas ? ',' : '.');
  } else if (dots == 1) {
    const size_t at = t.find('.');
    const std::string whole = t.substr(0, at), after = t.substr(at + 1);
    const bool zero = whole.empty() || whole == "0" || whole == "-0" || whole == "+0";
    const bool three_digits = after.size() == 3 && std::all_of(after.begin(), after.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (three_digits && !zero) drop('.');
  }
  return t;
}
}  // namespace

Status ParseInput(const FieldDef& f, const std::string& typed_raw, Var* out) {
  if (!text::IsValidUtf8(typed_raw)) return Status::Invalid(Name(f) + ": text is not valid UTF-8");
  std::string typed = text::ToNfc(typed_raw);
  // Trim surrounding spaces: they are never meaningful in a typed answer.
  size_t a = typed.find_first_not_of(" \t\r\n"), b = typed.find_last_not_of(" \t\r\n");
  typed = a == std::string::npos ? "" : typed.substr(a, b - a + 1);
  if (typed.empty()) {
    *out = Var();
    return Status::Ok();
  }
  // A reference is typed as a person knows the record (a prefix, an id without
  // hyphens, a receipt number): the device's store resolves it to the full id
  // and checks the record is there (LocalStore::ResolveReferences).
  if (f.type == FieldType::kRef) {
    if (typed.size() > 200) return Status::Invalid(Name(f) + ": '" + typed.substr(0, 40) + "…' is not a record id");
    *out = typed;
    return Status::Ok();
  }
  Var v;
  switch (f.type) {
    case FieldType::kInteger:
    case FieldType::kNumber: {
      // Accept Vietnamese thousands separators "1.500.000" for integers.
      std::string t = typed;
      if (f.type == FieldType::kInteger) {
        std::string stripped;
        for (char c : t)
          if (c != '.' && c != ' ' && c != '_') stripped.push_back(c);
        t = stripped;
      } else {
        t = DecimalText(t);
      }
      char* end = nullptr;
      errno = 0;
      double d = std::strtod(t.c_str(), &end);
      if (t.empty() || *end != '\0' || errno == ERANGE)
        return Status::Invalid(Name(f) + ": '" + typed + "' is not a number");
      if (f.type == FieldType::kInteger) {
        if (d != std::floor(d)) return Status::Invalid(Name(f) + ": '" + typed + "' is not a whole number");
        v = static_cast<Poco::Int64>(d);
      } else {
        v = d;
      }
      break;
    }
    case FieldType::kBool: {
      std::string t = text::Fold(typed);
      if (t == "yes" || t == "true" || t == "1" || t == "co" || t == "y" || t == "c") v = true;
      else if (t == "no" || t == "false" || t == "0" || t == "khong" || t == "n" || t == "k") v = false;
      else return Status::Invalid(Name(f) + ": answer có/không (yes/no)");
      break;
    }
    case FieldType::kChoice: {
      v = typed;
      if (!IsChoice(f, typed)) {
        char* end = nullptr;
        long n = std::strtol(typed.c_str(), &end, 10);
        if (*end == '\0' && n >= 1 && n <= static_cast<long>(f.choices.size())) {
          v = f.choices[static_cast<size_t>(n - 1)].value;
        } else {
          std::string ft = text::Fold(typed);
          for (const auto& c : f.choices)
            if (text::Fold(c.label.vi) == ft || text::Fold(c.label.en) == ft) v = c.value;
        }
      }
      break;
    }
    case FieldType::kMultiChoice: {
      Array::Ptr arr = new Array;
      size_t pos = 0;
      while (pos <= typed.size()) {
        size_t comma = typed.find(',', pos);
        std::string part = typed.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t pa = part.find_first_not_of(' '), pb = part.find_last_not_of(' ');
        part = pa == std::string::npos ? "" : part.substr(pa, pb - pa + 1);
        if (!part.empty()) {
          Var one;
          FieldDef single = f;
          single.type = FieldType::kChoice;
          Status s = ParseInput(single, part, &one);
          if (!s.ok()) return s;
          arr->add(one);
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      v = arr;
      break;
    }
    case FieldType::kList: {
      Status s = json::Parse(typed, &v);
      if (!s.ok()) return Status::Invalid(Name(f) + ": expected a JSON list of objects (" + s.message() + ")");
      break;
    }
    default:
      v = typed;
  }
  return CheckValue(f, v, out);
}

Status UnknownForm(const std::string& form) {
  std::string names;
  for (const auto& n : FormCatalog::Default().Names()) names += (names.empty() ? "" : ", ") + n;
  return Status::Invalid("unknown form '" + form + "' (choose " + names + ")");
}

namespace {
Status CheckCrossField(const FormSchema& schema, const Object& fields) {
  auto larger = [&](const char* a, const char* b) {
    return fields.has(a) && fields.has(b) && fields.getValue<Poco::Int64>(a) > fields.getValue<Poco::Int64>(b);
  };
  auto name = [&](const char* key) {
    const FieldDef* f = schema.Field(key);
    return f ? msg::FieldName(*f) : "field '" + std::string(key) + "'";
  };
  for (const char* part : {"workers_local", "workers_women", "workers_ethnic_minority"})
    if (larger(part, "workers_total")) return Status::Invalid(name(part) + " is larger than " + name("workers_total"));
  if (schema.form == "plan") {
    if (larger("workers_local", "workers")) return Status::Invalid(name("workers_local") + " is larger than " + name("workers"));
    // The sources of capital may be given in part; together they never exceed the total.
    if (fields.has("capital_total_vnd")) {
      Poco::Int64 sum = 0;
      for (const char* part : {"capital_own_vnd", "capital_loan_vnd", "capital_support_vnd"})
        if (fields.has(part)) sum += fields.getValue<Poco::Int64>(part);
      Poco::Int64 total = fields.getValue<Poco::Int64>("capital_total_vnd");
      if (sum > total)
        return Status::Invalid("the sources of capital add up to " + std::to_string(sum) + " VND, more than " +
                               name("capital_total_vnd") + " " + std::to_string(total));
    }
    if (fields.has("start_on") && fields.has("finish_on") &&
        fields.getValue<std::string>("finish_on") < fields.getValue<std::string>("start_on"))
      return Status::Invalid(name("finish_on") + " is before " + name("start_on"));
  }
  // Form-specific rules that need data beyond one field (the criteria sheets).
  if (schema.form == "evaluation") return evaluation::CheckSheetFields(fields);
  return Status::Ok();
}
}  // namespace

Status ValidateRecord(const FormSchema& schema, Object* fields, Completeness completeness,
                      bool allow_system) {
  std::vector<std::string> names;
  fields->getNames(names);
  for (const auto& k : names) {
    const FieldDef* f = schema.Field(k);
    if (!f) return Status::Invalid("form '" + schema.form + "' has no field '" + k + "'");
    if (f->computed) {
      fields->remove(k);  // recomputed by the domain layer; never trusted from input
      continue;
    }
    if (f->system && !allow_system)
      return Status::Invalid(msg::FieldName(*f) + " is set by workflow commands, not directly");
    Var v;
    Status s = CheckValue(*f, fields->get(k), &v);
    if (!s.ok()) return s;
    if (v.isEmpty()) fields->remove(k);
    else fields->set(k, v);
  }
  if (completeness == Completeness::kComplete) return CheckRequiredAndCrossField(schema, *fields);
  return CheckCrossField(schema, *fields);
}

Status CheckRequiredAndCrossField(const FormSchema& schema, const Object& fields) {
  for (const auto& f : schema.fields)
    if (f.required && !fields.has(f.key))
      return Status::Invalid(msg::FieldName(f) + " is required");
  return CheckCrossField(schema, fields);
}

}  // namespace ocop
