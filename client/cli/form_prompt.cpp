#include "client/cli/form_prompt.h"

#include <istream>
#include <ostream>

namespace ocop::client {

using json::Var;

bool FormPrompter::ReadLine(std::string* line) {
  if (!std::getline(in_, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

Status FormPrompter::Fill(const FormSchema& schema, json::Object* fields) {
  bool en = lang_ == "en";
  out_ << schema.label.In(lang_) << "\n"
       << (en ? "(* required; press Enter to leave an optional field empty)\n"
              : "(* bắt buộc; nhấn Enter để bỏ qua mục không bắt buộc)\n");
  for (const auto& f : schema.fields) {
    if (f.system || f.computed || fields->has(f.key)) continue;
    Var v;
    Status s = f.type == FieldType::kList ? AskList(f, &v) : AskField(f, &v);
    if (!s.ok()) return s;
    if (!v.isEmpty()) fields->set(f.key, v);
  }
  return Status::Ok();
}

Status FormPrompter::AskField(const FieldDef& f, Var* out) {
  bool en = lang_ == "en";
  for (int attempt = 0; attempt < 100; ++attempt) {
    out_ << f.label.In(lang_) << (f.required ? " *" : "");
    if (!f.help.In(lang_).empty()) out_ << "\n  " << f.help.In(lang_);
    if (!f.choices.empty()) {
      out_ << "\n";
      for (size_t i = 0; i < f.choices.size(); ++i)
        out_ << "  " << (i + 1) << ". " << f.choices[i].label.In(lang_) << " (" << f.choices[i].value << ")\n";
      if (f.type == FieldType::kMultiChoice) out_ << (en ? "  (several: 1,3,4)" : "  (chọn nhiều: 1,3,4)");
    }
    if (f.type == FieldType::kDate) out_ << " [dd/mm/yyyy]";
    if (f.type == FieldType::kBool) out_ << (en ? " [yes/no]" : " [có/không]");
    out_ << ": " << std::flush;
    std::string line;
    if (!ReadLine(&line)) return Status::Invalid(en ? "input ended before the form was complete" : "dữ liệu nhập kết thúc trước khi điền xong phiếu");
    Status s = ParseInput(f, line, out);
    if (!s.ok()) {
      out_ << "  ! " << s.message() << "\n";
      continue;
    }
    if (out->isEmpty() && f.required) {
      out_ << (en ? "  ! this field is required\n" : "  ! mục này bắt buộc\n");
      continue;
    }
    return Status::Ok();
  }
  return Status::Invalid("too many invalid answers for field '" + f.key + "'");
}

Status FormPrompter::AskList(const FieldDef& f, Var* out) {
  bool en = lang_ == "en";
  json::Array::Ptr items = new json::Array;
  for (size_t n = 0; f.max_items == 0 || n < f.max_items; ++n) {
    out_ << f.label.In(lang_) << ": " << (en ? "add an item? [yes/no]: " : "thêm một mục? [có/không]: ") << std::flush;
    std::string line;
    if (!ReadLine(&line)) return Status::Invalid("input ended before the form was complete");
    FieldDef yn;
    yn.key = f.key;
    yn.type = FieldType::kBool;
    Var more;
    if (!ParseInput(yn, line, &more).ok() || more.isEmpty()) {
      if (line.empty()) break;
      out_ << (en ? "  ! answer yes or no\n" : "  ! trả lời có hoặc không\n");
      --n;
      continue;
    }
    if (!more.extract<bool>()) break;
    json::Object::Ptr item = new json::Object;
    for (const auto& sub : f.item_fields) {
      Var v;
      Status s = AskField(sub, &v);
      if (!s.ok()) return s;
      if (!v.isEmpty()) item->set(sub.key, v);
    }
    json::Array::Ptr one = new json::Array;
    one->add(item);
    Var checked;
    Status s = CheckValue(f, Var(one), &checked);
    if (!s.ok()) {
      out_ << "  ! " << s.message() << "\n";
      --n;
      continue;
    }
    items->add(checked.extract<json::Array::Ptr>()->get(0));
  }
  if (items->size() > 0) *out = items;
  return Status::Ok();
}

}  // namespace ocop::client
