#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "client/cli/command.h"
#include "client/officer_actions.h"
#include "shared/dates.h"
#include "shared/localisation.h"
#include "shared/messages.h"
#include "shared/text.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

std::string Args::Get(const std::string& k, const std::string& fallback) const {
  auto it = options.find(k);
  return it == options.end() ? fallback : it->second;
}

std::vector<std::string> Args::All(const std::string& k) const {
  std::vector<std::string> v;
  auto [first, last] = options.equal_range(k);
  for (auto it = first; it != last; ++it) v.push_back(it->second);
  return v;
}

namespace {

std::string DefaultHome() {
  if (const char* h = std::getenv("OCOP_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/ocop";
  return std::string(home ? home : ".") + "/.local/share/ocop";
}

std::string DetectLang(const Args& a) {
  std::string l = a.Get("--lang");
  if (!l.empty()) {
    if (l != "vi" && l != "en") throw UsageError("--lang must be vi or en");
    return l;
  }
  for (const char* var : {"OCOP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::string(v).rfind("en", 0) == 0 ? "en" : "vi";
  }
  return "vi";
}

}  // namespace

Context::Context(const Args& args, std::istream& in_stream, std::ostream& out_stream, std::ostream& err_stream,
                 bool stdin_is_tty, bool stderr_is_tty)
    : a(args), in(in_stream), out(out_stream), err(err_stream), in_tty(stdin_is_tty), err_tty(stderr_is_tty) {
  home = a.Get("--home", DefaultHome());
  lang = DetectLang(a);
  as_json = a.Has("--json");
}

int Context::Fail(const Status& s) {
  if (as_json) {
    err << "{\"error\":{\"code\":\"" << CodeName(s.code()) << "\",\"message\":" << json::Quote(s.message()) << "}}\n";
  } else {
    err << "ocop: " << msg::Localise(s, lang) << "\n";
  }
  return StatusExitCode(s.code());
}

int Context::FailAll(const std::vector<Status>& problems) {
  if (problems.size() == 1) return Fail(problems[0]);
  if (as_json) {
    err << "{\"error\":{\"code\":\"" << CodeName(problems[0].code()) << "\",\"message\":" << json::Quote(problems[0].message())
        << "},\"errors\":[";
    for (size_t i = 0; i < problems.size(); ++i)
      err << (i ? "," : "") << "{\"code\":\"" << CodeName(problems[i].code()) << "\",\"message\":" << json::Quote(problems[i].message()) << "}";
    err << "]}\n";
  } else {
    err << "ocop: " << problems.size() << T(" lỗi, chưa lưu gì:", " problems, nothing saved:") << "\n";
    for (const auto& s : problems) err << "  - " << msg::Localise(s, lang) << "\n";
  }
  return StatusExitCode(problems[0].code());
}

Status Context::OpenStore() {
  if (store) return Status::Ok();
  return LocalStore::Open(home, SystemClock::Get(), &store);
}

void Context::NeedPositional(size_t n, const char* what) {
  if (a.positional.size() < n) throw UsageError(std::string("missing ") + what + " (see ocop --help)");
  if (a.positional.size() > n) throw UsageError("unexpected argument '" + a.positional[n] + "'");
}

Status Context::ResolveId(const std::string& given, std::string* id) { return client::ResolveId(*store, given, id); }

Status Context::TargetRecord(std::string* id, Record* r) {
  NeedPositional(1, "record ID");
  Status s = OpenStore();
  if (s.ok()) s = ResolveId(a.positional[0], id);
  if (s.ok() && r) s = store->Get(*id, r);
  return s;
}

Status Context::CollectFields(const FormSchema& schema, json::Object* fields, bool* any, std::vector<Status>* problems) {
  *any = false;
  std::string from = a.Get("--from");
  if (!from.empty()) {
    std::string text;
    if (from == "-") {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    } else {
      std::ifstream f(from, std::ios::binary);
      if (!f) return Status::Invalid("cannot read " + from);
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    }
    if (text.size() > 4 * 1024 * 1024) return Status::Invalid(from + " is larger than 4 MB");
    if (!text::IsValidUtf8(text)) return Status::Invalid(from + " is not valid UTF-8");
    Object::Ptr o;
    Status s = json::ParseObject(text, &o);
    if (!s.ok()) return Status::Invalid(from + ": " + s.message());
    std::vector<std::string> names;
    o->getNames(names);
    for (const auto& k : names) {
      if (!schema.Field(k)) return Status::Invalid("form '" + schema.form + "' has no field '" + k + "'");
      fields->set(k, o->get(k));
    }
    *any = true;
  }
  for (const auto& kv : a.All("--set")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Status::Invalid("--set needs KEY=VALUE, got '" + kv + "'");
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    const FieldDef* f = schema.Field(key);
    if (!f) return Status::Invalid("form '" + schema.form + "' has no field '" + key + "'");
    Var v;
    Status s = ParseInput(*f, value, &v);
    *any = true;
    if (!s.ok()) {
      problems->push_back(s);
      fields->set(key, Var());  // given, wrongly: not also "required"
      continue;
    }
    fields->set(key, v);  // null clears on edit
  }
  return Status::Ok();
}

void Context::PrintRecord(const Record& r) {
  if (as_json) {
    out << json::ToText(*RecordToJson(r)) << "\n";
    return;
  }
  const FormSchema* schema = store->catalog().Shown(r.form, r.fields);
  const Unit* unit = store->units().Find(r.unit);
  out << (schema ? schema->label.In(lang) : r.form) << "\n";
  out << "  id: " << r.id << "\n";
  out << "  " << T("Đơn vị", "Unit") << ": " << r.unit << (unit ? " " + unit->name : "") << "\n";
  out << "  " << T("Trạng thái", "Status") << ": " << msg::StatusName(r.status(), lang);
  if (r.deleted) out << T(" [đã xoá]", " [deleted]");
  if (r.conflict) out << T(" [XUNG ĐỘT — chờ quản trị viên xử lý]", " [IN CONFLICT — awaiting an administrator]");
  if (r.pending) out << T(" [chưa đồng bộ]", " [not yet synced]");
  out << "\n";
  if (!schema) return;
  for (const auto& f : schema->fields) {
    if (f.key == "status" || f.hidden || !r.fields.has(f.key)) continue;
    Var v = r.fields.get(f.key);
    if (f.type == FieldType::kList && v.type() == typeid(json::Array::Ptr)) {
      auto arr = v.extract<json::Array::Ptr>();
      out << "  " << f.label.In(lang) << ":\n";
      for (size_t i = 0; i < arr->size(); ++i) {
        auto item = arr->getObject(static_cast<unsigned>(i));
        out << "    " << (i + 1) << ".";
        for (const auto& sub : f.item_fields)
          if (item->has(sub.key)) out << " " << sub.label.In(lang) << ": " << DisplayValue(sub, item->get(sub.key), lang) << ";";
        out << "\n";
      }
      continue;
    }
    std::string shown = DisplayValue(f, v, lang);
    if (f.key.find("ratio") != std::string::npos) {
      std::ostringstream pct;
      pct << std::fixed << std::setprecision(1) << v.convert<double>() * 100 << " %";
      shown = pct.str();
    }
    out << "  " << f.label.In(lang) << ": " << shown << "\n";
  }
  if (r.form == "confirmation") {
    auto score = ScoreLocalisation(r.fields, LocalisationTable::Default());
    out << "  " << T("Điểm: lao động ", "Points: labour ") << score.labour_points << T(", nguyên liệu ", ", raw materials ")
         << score.material_points;
    if (!score.rankable) out << T(" — không đủ điều kiện xếp hạng: ", " — cannot be ranked: ") << score.reason;
    out << "\n";
  }
}

int Context::Emit(const std::string& content) {
  std::string path = a.Get("--output");
  if (path.empty()) {
    out << content;
    return 0;
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f || !(f << content) || !f.flush()) return Fail(Status::Invalid("cannot write " + path));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Fail(Status::Invalid("cannot write " + path));
  if (!as_json) err << T("Đã ghi ", "Wrote ") << path << "\n";
  return 0;
}

HttpOptions Context::QuickHttp() {
  HttpOptions o;
  if (store) o.ca_file = store->Setting("ca_file");
  if (!ca_override.empty()) o.ca_file = ca_override;
  const char* attempts = std::getenv("OCOP_HTTP_ATTEMPTS");
  if (attempts) o.max_attempts = std::max(1, std::atoi(attempts));
  const char* backoff = std::getenv("OCOP_HTTP_BACKOFF_MS");
  if (backoff) o.backoff_initial_ms = std::max(0, std::atoi(backoff));
  return o;
}

Status Context::InstallCa() {
  std::string path = a.Get("--ca");
  if (path.empty()) return Status::Ok();
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Invalid("cannot read the CA file " + path);
  std::string pem(1024 * 1024 + 1, '\0');
  f.read(pem.data(), static_cast<std::streamsize>(pem.size()));
  pem.resize(static_cast<size_t>(f.gcount()));
  if (pem.size() > 1024 * 1024 || pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Status::Invalid("--ca " + path + " is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
  ca_override = path;
  if (!store) return Status::Ok();
  std::string kept = home + "/ca.pem";
  std::ofstream kept_file(kept, std::ios::binary | std::ios::trunc);
  kept_file << pem;
  if (!kept_file) return Status::Internal("cannot write " + kept);
  return store->SetSetting("ca_file", kept);
}

Status Context::NeedServer(std::string* url) {
  Status s = OpenStore();
  if (!s.ok()) return s;
  s = InstallCa();
  if (!s.ok()) return s;
  std::string given = a.Get("--server");
  if (!given.empty()) {
    if (given.rfind("http://", 0) != 0 && given.rfind("https://", 0) != 0)
      return Status::Invalid("server URL must start with http:// or https://");
    s = store->SetSetting("server_url", given);
    if (!s.ok()) return s;
  }
  *url = store->Setting("server_url");
  if (url->empty()) return Status::Invalid("no server set: pass --server URL (once)");
  return Status::Ok();
}

std::string Context::ReadPassword() {
  std::string pw;
  if (a.Has("--password-stdin")) {
    std::getline(in, pw);
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
  }
  if (!in_tty) throw UsageError("no terminal to ask for the password: use --password-stdin");
  err << T("Mật khẩu: ", "Password: ") << std::flush;
  termios old{};
  bool restore = tcgetattr(0, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(0, TCSANOW, &quiet);
  }
  std::getline(in, pw);
  if (restore) tcsetattr(0, TCSANOW, &old);
  err << "\n";
  return pw;
}

double Context::ParseDuration(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : "";
  double scale = unit.empty() || unit == "s" ? 1 : unit == "m" || unit == "min" ? 60 : unit == "h" ? 3600 : -1;
  if (text.empty() || end == text.c_str() || scale < 0 || !(v > 0) || v * scale > 7 * 24 * 3600)
    throw UsageError("--deadline must be a duration such as 90s, 10m or 1h (at most 7 days), not '" + text + "'");
  return v * scale;
}

int Context::YearOption() {
  std::string y = a.Get("--year", TodayIso().substr(0, 4));
  char* end = nullptr;
  long v = std::strtol(y.c_str(), &end, 10);
  if (y.empty() || *end || v < 2018 || v > 2100) throw UsageError("--year must be a year from 2018 to 2100");
  return static_cast<int>(v);
}

std::string Context::Decimal(double v) const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << v;
  std::string t = o.str();
  if (lang == "vi") std::replace(t.begin(), t.end(), '.', ',');
  return t;
}

std::string Context::Bytes(int64_t n) const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(n < 10 * 1024 ? 1 : 0);
  if (n < 1024 * 1024) o << n / 1024.0 << " KB";
  else o << std::setprecision(1) << n / (1024.0 * 1024.0) << " MB";
  std::string t = o.str();
  if (lang == "vi") std::replace(t.begin(), t.end(), '.', ',');
  return t;
}

}  // namespace ocop::client::cli
