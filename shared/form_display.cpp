// How form values read to people: numbers grouped as Vietnamese writes them,
// dates dd/mm/yyyy, choices by label, a record's title and its search text
// (declared in forms.h).
#include <cmath>
#include <cstdio>

#include "shared/dates.h"
#include "shared/forms.h"
#include "shared/messages.h"
#include "shared/text.h"

namespace ocop {

using json::Array;
using json::Object;
using json::Var;

std::string NumberText(double n, const std::string& lang, bool group) {
  const bool vi = lang != "en";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", std::fabs(n));
  std::string digits = buf, whole = digits.substr(0, digits.find('.')), frac = digits.substr(digits.find('.') + 1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (group && i > 0 && (whole.size() - i) % 3 == 0) grouped += vi ? '.' : ',';
    grouped += whole[i];
  }
  std::string out = (n < 0 && (whole != "0" || !frac.empty()) ? "-" : "") + grouped;
  if (!frac.empty()) out += (vi ? "," : ".") + frac;
  return out;
}

namespace {
// Years and codes are written as they are (2026, not 2.026).
bool Ungrouped(const FieldDef& f) {
  return f.key.find("year") != std::string::npos || f.key.find("code") != std::string::npos || f.pattern == "digits_dashes";
}
}  // namespace

std::string DisplayValue(const FieldDef& f, const Var& v, const std::string& lang) {
  if (v.isEmpty()) return "";
  switch (f.type) {
    case FieldType::kDate: return dates::ToDisplay(v.convert<std::string>());
    case FieldType::kChoice: {
      std::string s = v.convert<std::string>();
      if (f.key == "status") return msg::StatusName(s, lang);
      for (const auto& c : f.choices)
        if (c.value == s) return c.label.In(lang);
      return s;
    }
    case FieldType::kMultiChoice: {
      if (v.type() != typeid(json::Array::Ptr)) return json::ToText(v);
      auto arr = v.extract<json::Array::Ptr>();
      std::string out;
      for (size_t i = 0; i < arr->size(); ++i) {
        std::string s = arr->get(static_cast<unsigned>(i)).convert<std::string>(), shown = s;
        for (const auto& c : f.choices)
          if (c.value == s) shown = c.label.In(lang);
        out += (out.empty() ? "" : ", ") + shown;
      }
      return out;
    }
    case FieldType::kBool: return v.extract<bool>() ? (lang == "en" ? "yes" : "có") : (lang == "en" ? "no" : "không");
    case FieldType::kText:
    case FieldType::kRef: return v.convert<std::string>();
    case FieldType::kInteger:
    case FieldType::kNumber:
      if (!v.isNumeric()) return json::ToText(v);
      return NumberText(v.convert<double>(), lang, !Ungrouped(f));
    case FieldType::kList: {
      size_t n = v.type() == typeid(json::Array::Ptr) ? v.extract<json::Array::Ptr>()->size() : 0;
      if (!f.items_label.vi.empty()) return std::to_string(n) + " " + f.items_label.In(lang);
      return f.label.In(lang) + " (" + std::to_string(n) + ")";
    }
  }
  return json::ToText(v);
}

std::string RecordTitleOf(const FormSchema& schema, const json::Object& fields, const std::string& lang) {
  auto text = [&](const char* key) {
    return fields.has(key) && fields.get(key).isString() ? fields.getValue<std::string>(key) : std::string();
  };
  std::string product = text("product_name"), subject = text("subject_name"), title;
  if (schema.form == "visit") {
    if (const FieldDef* purpose = schema.Field("purpose"); purpose && fields.has("purpose"))
      title = DisplayValue(*purpose, fields.get("purpose"), lang);
    if (!text("visited_on").empty()) title += (title.empty() ? "" : " ") + dates::ToDisplay(text("visited_on"));
    std::string whom = !product.empty() ? product : subject;
    return whom.empty() ? title : title + " — " + whom;
  }
  title = product;
  if (!subject.empty()) title += (title.empty() ? "" : " — ") + subject;
  return title;
}

std::string DisplayJson(const FieldDef* f, const std::string& json_text, const std::string& lang) {
  Var v;
  if (json_text.empty() || !json::Parse(json_text, &v).ok() || v.isEmpty()) return lang == "en" ? "(empty)" : "(trống)";
  if (!f) return v.isString() ? v.convert<std::string>() : json::ToText(v);
  std::string shown = DisplayValue(*f, v, lang);
  return shown.empty() ? (lang == "en" ? "(empty)" : "(trống)") : shown;
}

std::string SearchText(const FormSchema& schema, const json::Object& fields) {
  std::string all;
  for (const auto& f : schema.fields) {
    if (!fields.has(f.key)) continue;
    if (f.type == FieldType::kText || f.type == FieldType::kRef) {
      all += fields.getValue<std::string>(f.key);
      all += " | ";
    } else if (f.type == FieldType::kChoice && f.key != "status") {
      all += DisplayValue(f, fields.get(f.key), "vi") + " | ";
    } else if (f.type == FieldType::kList) {
      all += json::ToText(fields.get(f.key)) + " | ";
    }
  }
  return text::SearchKey(all);
}


}  // namespace ocop
