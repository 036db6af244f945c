#include "client/cli/form_prompt.h"

#include "shared/text.h"

#include <cstdlib>
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
       << (en ? "(* required; press Enter to leave an optional field empty; < goes back to the previous field)\n"
              : "(* bắt buộc; nhấn Enter để bỏ qua mục không bắt buộc; < để quay lại mục trước)\n");
  std::vector<const FieldDef*> ask;
  for (const auto& f : schema.fields)
    if (!f.system && !f.computed && !fields->has(f.key)) ask.push_back(&f);
  for (size_t i = 0, steps = 0; i < ask.size() && steps < 10000; ++steps) {
    Var v;
    bool back = false;
    Status s = ask[i]->type == FieldType::kList ? AskList(*ask[i], &v, &back) : AskField(*ask[i], &v, true, &back);
    if (!s.ok()) return s;
    if (back) {
      if (i > 0) fields->remove(ask[--i]->key);
      continue;
    }
    if (v.isEmpty()) fields->remove(ask[i]->key);
    else fields->set(ask[i]->key, v);
    ++i;
  }
  return Review(schema, ask, fields);
}

Status FormPrompter::Review(const FormSchema& schema, const std::vector<const FieldDef*>& asked, json::Object* fields) {
  bool en = lang_ == "en";
  for (int round = 0; round < 100; ++round) {
    out_ << "\n" << (en ? "Check before saving — " : "Kiểm tra trước khi lưu — ") << schema.label.In(lang_) << ":\n";
    for (size_t i = 0; i < asked.size(); ++i) {
      const FieldDef& f = *asked[i];
      std::string shown = fields->has(f.key) ? DisplayValue(f, fields->get(f.key), lang_) : "";
      out_ << "  " << (i + 1) << ". " << f.label.In(lang_) << ": " << (shown.empty() ? (en ? "(empty)" : "(trống)") : shown) << "\n";
    }
    out_ << (en ? "Save? Enter or y = save, a number = change that field, c = cancel: "
                : "Lưu phiếu? Enter hoặc c = lưu, một số = sửa mục đó, h = huỷ: ")
         << std::flush;
    std::string line;
    if (!ReadLine(&line)) return Status::Invalid(en ? "input ended before the form was complete" : "dữ liệu nhập kết thúc trước khi điền xong phiếu");
    std::string answer = text::Fold(line);
    if (answer.empty() || answer == (en ? "y" : "c") || answer == "yes" || answer == "co" || answer == "luu") return Status::Ok();
    if (answer == (en ? "c" : "h") || answer == "cancel" || answer == "huy")
      return Status::Precondition("the form was not saved: cancelled at the review");
    char* end = nullptr;
    long n = std::strtol(answer.c_str(), &end, 10);
    if (*end || n < 1 || static_cast<size_t>(n) > asked.size()) {
      out_ << (en ? "  ! give a field's number, Enter to save or c to cancel\n" : "  ! gõ số của mục, Enter để lưu hoặc h để huỷ\n");
      continue;
    }
    const FieldDef& f = *asked[static_cast<size_t>(n - 1)];
    Var v;
    bool back = false;
    Status s = f.type == FieldType::kList ? AskList(f, &v, &back) : AskField(f, &v);
    if (!s.ok()) return s;
    if (back) continue;
    if (v.isEmpty()) fields->remove(f.key);
    else fields->set(f.key, v);
  }
  return Status::Invalid("too many answers at the review");
}

Status FormPrompter::AskField(const FieldDef& f, Var* out, bool can_go_back, bool* back) {
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
    if (can_go_back && line == "<") {
      *back = true;
      return Status::Ok();
    }
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

Status FormPrompter::AskList(const FieldDef& f, Var* out, bool* back) {
  bool en = lang_ == "en";
  json::Array::Ptr items = new json::Array;
  for (size_t n = 0; f.max_items == 0 || n < f.max_items; ++n) {
    out_ << f.label.In(lang_) << ": " << (en ? "add an item? [yes/no]: " : "thêm một mục? [có/không]: ") << std::flush;
    std::string line;
    if (!ReadLine(&line)) return Status::Invalid("input ended before the form was complete");
    if (line == "<" && n == 0) {
      *back = true;
      return Status::Ok();
    }
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
