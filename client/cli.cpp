#include "client/cli.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "client/form_prompt.h"
#include "client/http_client.h"
#include "client/local_store.h"
#include "client/officer_actions.h"
#include "client/report.h"
#include "client/carried_files.h"
#include "client/sync_client.h"
#include "client/ui_server.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/localisation.h"
#include "shared/messages.h"
#include "shared/receipt.h"
#include "shared/text.h"
#include "shared/workflow.h"

namespace ocop::client {

using json::Object;
using json::Var;

namespace {

constexpr int kExitUsage = 2;

const char* kHelp = R"(ocop — ghi phiếu OCOP không cần mạng, đồng bộ khi có mạng
      records OCOP forms offline and syncs them with the ocopd server

Usage: ocop [--home DIR] [--json] [--lang vi|en] COMMAND [ARGS]

Local (no network needed):
  init --commune CODE [--server URL] [--ca FILE] [--units FILE.csv]
                                       create this device's store for a commune (a
                                       coordinator gives their unit's code); the unit
                                       list comes from the server when it answers
  units [--refresh]                    the units this device knows (--refresh: the server's)
  new FORM [--set KEY=VALUE]... [--from FILE|-] [--unit COMMUNE]
                                       record a form (idea, confirmation, visit);
                                       with no values on a terminal, asks field by field;
                                       --unit: the commune, on a coordinator's device
  edit ID --set KEY=VALUE...           change fields (KEY= clears a field)
  delete ID                            delete a record (synced as a tombstone)
  show ID [--with-files]               show one record (--with-files: fetch its photos)
  list [FORM] [--search TEXT] [--status S] [--conflicts] [--deleted] [--limit N]
                                       list records; search ignores case and accents
  history ID [--local]                 every change: who, when, device, old -> new
  submit ID                            receive an idea form: receipt number, date
  return ID --reason TEXT | accept ID  the commune's decision on a submitted idea
  select ID | reject ID --reason TEXT  the coordinator's decision on an accepted idea
  confirm ID | revoke ID --reason TEXT a local-labour and raw-material confirmation
  submit PLAN_ID                       a business plan (new plan --set idea_id=...) for a
                                       selected idea
  approve ID | decline ID --reason TEXT the coordinator's review of a business plan
  criteria [SHEET]                     the criteria of a score sheet (148-2023, 1048-2019)
  score IDEA_ID --member NAME --level commune|district|province|central [--year Y]
        [--sheet 148-2023] --scores A1.3=3,A1.4=2,... [--notes TEXT] [--finish]
                                       one council member's sheet; A1.1 and A1.2 come
                                       from the confirmation; --finish needs every criterion
  reopen SHEET_ID --reason TEXT        a finished sheet back to draft, to correct it
  council IDEA_ID                      the councils' results: members, mean, stars
  certify IDEA_ID --level district|province|central [--year Y] --decision-no NO
          --decided-on DD/MM/YYYY      a certificate for a 3-star-or-more result (36 months)
  forms [FORM]                         the fields of each form
  report [--date D] [--format table|csv|html|json] [--target N] [--star-target N] [--output FILE] [--bom]
                                       the weekly report of this device's unit
  export FORM [--format csv|json] [--bom] [--output FILE]
                                       every record of a form in scope
  status                               pending changes, last sync, open conflicts

Online:
  login --user NAME [--password-stdin] [--server URL] [--ca FILE] [--insecure]
                                       an https:// server is checked against the system's
                                       CAs or --ca FILE; a password is never sent over
                                       plain http:// except to this machine or --insecure
  logout
  sync [--with-files] [--deadline D]   push local changes, upload attached photos, pull the
                                       server's; every part resumes where a dropped link
                                       left it, and sync keeps trying until done or D
                                       (default 10m; e.g. 90s, 1h); Ctrl-C stops and keeps
                                       what arrived; --with-files also fetches every file
  attach ID FILE [--caption TEXT]      attach a photo to a site visit (offline)
  ui [--port N] [--host ADDR] [--open] the same work in a browser, served by this device
                                       (127.0.0.1:8470 by default, no network needed);
                                       another --host needs a password (--password-stdin)
  outbox [discard]                     changes waiting to be sent; after the server
                                       refused them, discard puts the records back
  outbox export --output FILE [--with-files]
                                       with no link at all: the waiting changes (and
                                       photos) in one signed file to carry to the district
  import-changes FILE                  another device's carried file, pushed for it at
                                       this device's next sync (a coordinator's laptop)
  export-return --for-device ID --output FILE [--since N]
                                       (online) the server's return file for a commune
                                       device, to carry to it
  import-pull FILE                     the return file the server wrote for this device
                                       (ocopd --export-scope): decisions, others' edits
  file SHA256 [--output FILE]          a file's bytes, fetched from the server if needed
  conflicts list | show ID | resolve ID [--take FIELD=current|incoming]... [--set FIELD=VALUE]...
                                       (administrators)

Options:
  --home DIR     where the store lives (or OCOP_HOME; default ~/.local/share/ocop)
  --json         machine-readable output
  --lang vi|en   language of labels and messages (default: vi, or en for an English locale)

IDs may be shortened to any unique prefix of at least 8 characters.
Exit codes: 0 done, 2 usage error, 3 invalid input, 4 not found, 5 no connection,
6 refused by the server, 1 other failure.
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;  // --key VALUE
  std::set<std::string> flags;                      // --flag

  std::string Get(const std::string& k, const std::string& fallback = "") const {
    auto it = options.find(k);
    return it == options.end() ? fallback : it->second;
  }
  std::vector<std::string> All(const std::string& k) const {
    std::vector<std::string> v;
    auto [a, b] = options.equal_range(k);
    for (auto it = a; it != b; ++it) v.push_back(it->second);
    return v;
  }
  bool Has(const std::string& f) const { return flags.count(f) > 0; }
};

const std::set<std::string> kValueOptions = {"--home", "--lang", "--commune", "--server", "--user", "--set",
                                             "--from", "--search", "--status", "--limit", "--take", "--reason",
                                             "--unit", "--date", "--format", "--target", "--star-target", "--output", "--caption",
                                             "--units", "--deadline", "--ca", "--port", "--host", "--for-device", "--since",
                                             "--member", "--level", "--year", "--sheet", "--scores", "--notes",
                                             "--decision-no", "--decided-on"};
const std::set<std::string> kFlags = {"--json", "--help", "--password-stdin", "--insecure", "--conflicts", "--deleted",
                                      "--local", "--interactive", "--version", "--bom",
                                      "--with-files", "--refresh", "--open", "--finish"};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Args Parse(const std::vector<std::string>& argv) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string value;
      size_t eq = arg.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      if (kValueOptions.count(arg)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) throw UsageError("option " + arg + " needs a value");
          value = argv[++i];
        }
        a.options.emplace(arg, value);
      } else if (kFlags.count(arg)) {
        if (inline_value) throw UsageError("option " + arg + " takes no value");
        a.flags.insert(arg);
      } else {
        throw UsageError("unknown option " + arg);
      }
    } else if (a.command.empty()) {
      a.command = arg;
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

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

class Cli {
 public:
  Cli(const Args& a, std::istream& in, std::ostream& out, std::ostream& err, bool in_tty, bool err_tty)
      : a_(a), in_(in), out_(out), err_(err), in_tty_(in_tty), err_tty_(err_tty) {
    home_ = a.Get("--home", DefaultHome());
    lang_ = DetectLang(a);
    json_ = a.Has("--json");
  }

  int Run() {
    const std::string& c = a_.command;
    if (c == "init") return Init();
    if (c == "new") return New();
    if (c == "edit") return Edit();
    if (c == "delete") return Delete();
    if (c == "show") return Show();
    if (c == "list") return List();
    if (c == "history") return History();
    if (c == "submit") return Submit();
    if (c == "return" || c == "accept" || c == "select" || c == "reject" || c == "confirm" || c == "revoke" ||
        c == "approve" || c == "decline" || c == "reopen")
      return Decide(c);
    if (c == "score") return Score();
    if (c == "council") return Council();
    if (c == "certify") return Certify();
    if (c == "criteria") return Criteria();
    if (c == "forms") return Forms();
    if (c == "report") return Report();
    if (c == "attach") return Attach();
    if (c == "outbox") return Outbox();
    if (c == "import-changes") return ImportChanges();
    if (c == "import-pull") return ImportPull();
    if (c == "export-return") return ExportReturn();
    if (c == "file") return File();
    if (c == "export") return Export();
    if (c == "units") return Units();
    if (c == "status") return StatusCmd();
    if (c == "login") return Login();
    if (c == "logout") return Logout();
    if (c == "sync") return Sync();
    if (c == "ui") return Ui();
    if (c == "conflicts") return Conflicts();
    throw UsageError("unknown command '" + c + "' (see ocop --help)");
  }

 private:
  std::string T(const char* vi, const char* en) const { return lang_ == "en" ? en : vi; }

  int Fail(const Status& s) {
    if (json_) {
      err_ << "{\"error\":{\"code\":\"" << CodeName(s.code()) << "\",\"message\":" << json::Quote(s.message()) << "}}\n";
    } else {
      err_ << "ocop: " << msg::Localise(s, lang_) << "\n";
    }
    return StatusExitCode(s.code());
  }

  Status OpenStore() {
    if (store_) return Status::Ok();
    return LocalStore::Open(home_, SystemClock::Get(), &store_);
  }

  void NeedPositional(size_t n, const char* what) {
    if (a_.positional.size() < n) throw UsageError(std::string("missing ") + what + " (see ocop --help)");
    if (a_.positional.size() > n) throw UsageError("unexpected argument '" + a_.positional[n] + "'");
  }

  Status ResolveId(const std::string& given, std::string* id) { return client::ResolveId(*store_, given, id); }

  // The record named by the one positional argument: opens the store, resolves
  // a short id, loads the record (when `r` is given).
  Status TargetRecord(std::string* id, Record* r = nullptr) {
    NeedPositional(1, "record ID");
    Status s = OpenStore();
    if (s.ok()) s = ResolveId(a_.positional[0], id);
    if (s.ok() && r) s = store_->Get(*id, r);
    return s;
  }

  // --from FILE|- then --set KEY=VALUE pairs, typed by the form's schema.
  Status CollectFields(const FormSchema& schema, Object* fields, bool* any) {
    *any = false;
    std::string from = a_.Get("--from");
    if (!from.empty()) {
      std::string text;
      if (from == "-") {
        std::stringstream ss;
        ss << in_.rdbuf();
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
    for (const auto& kv : a_.All("--set")) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return Status::Invalid("--set needs KEY=VALUE, got '" + kv + "'");
      std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
      const FieldDef* f = schema.Field(key);
      if (!f) return Status::Invalid("form '" + schema.form + "' has no field '" + key + "'");
      Var v;
      Status s = ParseInput(*f, value, &v);
      if (!s.ok()) return s;
      fields->set(key, v);  // null clears on edit
      *any = true;
    }
    return Status::Ok();
  }

  void PrintRecord(const Record& r) {
    if (json_) {
      out_ << json::ToText(*RecordToJson(r)) << "\n";
      return;
    }
    const FormSchema* schema = store_->catalog().Find(r.form);
    const Unit* unit = store_->units().Find(r.unit);
    out_ << (schema ? schema->label.In(lang_) : r.form) << "\n";
    out_ << "  id: " << r.id << "\n";
    out_ << "  " << T("Đơn vị", "Unit") << ": " << r.unit << (unit ? " " + unit->name : "") << "\n";
    out_ << "  " << T("Trạng thái", "Status") << ": " << msg::StatusName(r.status(), lang_);
    if (r.deleted) out_ << T(" [đã xoá]", " [deleted]");
    if (r.conflict) out_ << T(" [XUNG ĐỘT — chờ quản trị viên xử lý]", " [IN CONFLICT — awaiting an administrator]");
    if (r.pending) out_ << T(" [chưa đồng bộ]", " [not yet synced]");
    out_ << "\n";
    if (!schema) return;
    for (const auto& f : schema->fields) {
      if (f.key == "status" || !r.fields.has(f.key)) continue;
      Var v = r.fields.get(f.key);
      if (f.type == FieldType::kList && v.type() == typeid(json::Array::Ptr)) {
        auto arr = v.extract<json::Array::Ptr>();
        out_ << "  " << f.label.In(lang_) << ":\n";
        for (size_t i = 0; i < arr->size(); ++i) {
          auto item = arr->getObject(static_cast<unsigned>(i));
          out_ << "    " << (i + 1) << ".";
          for (const auto& sub : f.item_fields)
            if (item->has(sub.key)) out_ << " " << sub.label.In(lang_) << ": " << DisplayValue(sub, item->get(sub.key), lang_) << ";";
          out_ << "\n";
        }
        continue;
      }
      std::string shown = DisplayValue(f, v, lang_);
      if (f.key.find("ratio") != std::string::npos) {
        std::ostringstream pct;
        pct << std::fixed << std::setprecision(1) << v.convert<double>() * 100 << " %";
        shown = pct.str();
      }
      out_ << "  " << f.label.In(lang_) << ": " << shown << "\n";
    }
    if (r.form == "confirmation") {
      auto score = ScoreLocalisation(r.fields, LocalisationTable::Default());
      out_ << "  " << T("Điểm: lao động ", "Points: labour ") << score.labour_points << T(", nguyên liệu ", ", raw materials ")
           << score.material_points;
      if (!score.rankable) out_ << T(" — không đủ điều kiện xếp hạng: ", " — cannot be ranked: ") << score.reason;
      out_ << "\n";
    }
  }

  int Init() {
    NeedPositional(0, "");
    std::string commune = a_.Get("--commune");
    if (commune.empty()) throw UsageError("init needs --commune CODE (see `ocop units`)");
    // The unit list: a file given with --units, else the server's (so any
    // commune of the imported official list works), else the embedded sample.
    UnitTree fetched;
    const UnitTree* units = &UnitTree::Sample();
    std::string note;
    std::string csv;
    if (!a_.Get("--units").empty()) {
      std::ifstream f(a_.Get("--units"), std::ios::binary);
      if (!f) return Fail(Status::Invalid("cannot read " + a_.Get("--units")));
      std::stringstream ss;
      ss << f.rdbuf();
      csv = ss.str();
    } else if (!a_.Get("--server").empty()) {
      Status ca = InstallCa();  // checked now, kept once the store exists
      if (!ca.ok()) return Fail(ca);
      HttpOptions quick = QuickHttp();
      quick.max_attempts = 1;
      quick.connect_timeout_s = 5;
      HttpClient http(a_.Get("--server"), quick);
      std::string type;
      Status s = http.Call("GET", "/v1/units", "", "application/json", "text/csv", &csv, &type);
      if (!s.ok()) {
        csv.clear();
        note = T("(không lấy được danh mục đơn vị từ máy chủ; dùng danh mục mẫu)",
                 "(could not fetch the unit list from the server; using the sample)");
      }
    }
    if (!csv.empty()) {
      Status s = UnitTree::ParseCsv(csv, &fetched);
      if (!s.ok()) return Fail(s);
      units = &fetched;
    }
    Status s = LocalStore::Init(home_, commune, a_.Get("--server"), *units, SystemClock::Get());
    if (!s.ok()) return Fail(s);
    if (!a_.Get("--ca").empty()) {
      s = OpenStore();
      if (s.ok()) s = InstallCa();
      if (!s.ok()) return Fail(s);
    }
    if (!note.empty()) err_ << note << "\n";
    const Unit* u = units->Find(commune);
    if (json_) out_ << "{\"home\":" << json::Quote(home_) << ",\"commune\":" << json::Quote(commune) << "}\n";
    else out_ << T("Đã tạo kho dữ liệu cho ", "Created the store for ") << u->name << " (" << commune << ") " << T("tại ", "in ") << home_ << "\n";
    return 0;
  }

  int New() {
    NeedPositional(1, "FORM (idea, confirmation or visit)");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    const FormSchema* schema = store_->catalog().Find(a_.positional[0]);
    if (!schema) return Fail(UnknownForm(a_.positional[0]));
    Object fields;
    bool any = false;
    s = CollectFields(*schema, &fields, &any);
    if (!s.ok()) return Fail(s);
    if (a_.Has("--interactive") || (!any && in_tty_)) {
      FormPrompter prompter(in_, json_ ? err_ : out_, lang_);
      s = prompter.Fill(*schema, &fields);
      if (!s.ok()) return Fail(s);
    } else if (!any) {
      throw UsageError("give the fields with --set KEY=VALUE or --from FILE (or run on a terminal to be asked)");
    }
    Record r;
    s = store_->Create(schema->form, fields, &r, a_.Get("--unit"));
    if (!s.ok()) return Fail(s);
    if (json_) out_ << json::ToText(*RecordToJson(r)) << "\n";
    else if (!in_tty_) out_ << r.id << "\n";
    else out_ << T("Đã lưu: ", "Saved: ") << r.id << "\n";
    return 0;
  }

  int Edit() {
    std::string id;
    Record before;
    Status s = TargetRecord(&id, &before);
    if (!s.ok()) return Fail(s);
    const FormSchema* schema = store_->catalog().Find(before.form);
    Object changes;
    bool any = false;
    s = CollectFields(*schema, &changes, &any);
    if (!s.ok()) return Fail(s);
    if (!any) throw UsageError("edit needs --set KEY=VALUE (or --from FILE)");
    Record after;
    s = store_->Update(id, changes, &after);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << json::ToText(*RecordToJson(after)) << "\n";
    else out_ << T("Đã sửa: ", "Updated: ") << id << "\n";
    return 0;
  }

  int Delete() {
    std::string id;
    Status s = TargetRecord(&id);
    if (s.ok()) s = store_->Delete(id);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << "{\"id\":" << json::Quote(id) << ",\"deleted\":true}\n";
    else out_ << T("Đã xoá: ", "Deleted: ") << id << "\n";
    return 0;
  }

  int Show() {
    std::string id;
    Record r;
    Status s = TargetRecord(&id, &r);
    if (!s.ok()) return Fail(s);
    if (a_.Has("--with-files") && r.fields.has("photos")) {
      // Fetch the record's photos that are not on this device yet (online).
      std::string url;
      s = NeedServer(&url);
      HttpClient http(url, QuickHttp());
      SyncClient sc(*store_, http);
      auto photos = r.fields.getArray("photos");
      for (size_t i = 0; s.ok() && i < photos->size(); ++i) {
        std::string sha = photos->getObject(static_cast<unsigned>(i))->getValue<std::string>("sha256");
        if (!store_->HasFile(sha)) s = sc.FetchFile(sha);
        if (s.ok() && !json_) err_ << store_->FilePath(sha) << "\n";
      }
      if (!s.ok()) return Fail(s);
    }
    PrintRecord(r);
    return 0;
  }

  int List() {
    if (a_.positional.size() > 1) throw UsageError("list takes at most one FORM");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    ListQuery q;
    if (!a_.positional.empty()) q.form = a_.positional[0];
    q.search = a_.Get("--search");
    q.status = a_.Get("--status");
    q.conflicts_only = a_.Has("--conflicts");
    q.include_deleted = a_.Has("--deleted");
    std::string limit = a_.Get("--limit", "0");
    char* end = nullptr;
    long n = std::strtol(limit.c_str(), &end, 10);
    if (*end || n < 0 || n > 10000000) throw UsageError("--limit must be a non-negative number");
    q.limit = static_cast<int>(n);
    std::vector<Record> rows;
    s = store_->List(q, &rows);
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << "[";
      for (size_t i = 0; i < rows.size(); ++i) out_ << (i ? "," : "") << json::ToText(*RecordToJson(rows[i]));
      out_ << "]\n";
      return 0;
    }
    for (const auto& r : rows) {
      const FormSchema* schema = store_->catalog().Find(r.form);
      std::string title;
      if (schema && r.fields.has(schema->title_field)) title = DisplayValue(*schema->Field(schema->title_field), r.fields.get(schema->title_field), lang_);
      if (r.fields.has("subject_name")) title += " — " + r.fields.getValue<std::string>("subject_name");
      out_ << r.id << "  " << std::left << std::setw(12) << r.form << " " << std::setw(14) << msg::StatusName(r.status(), lang_) << " "
           << title << (r.conflict ? T("  [xung đột]", "  [conflict]") : "") << (r.deleted ? T("  [đã xoá]", "  [deleted]") : "")
           << (r.pending ? " *" : "") << "\n";
    }
    out_ << rows.size() << T(" phiếu", " records") << (rows.empty() ? "" : T(" (* chưa đồng bộ)", " (* not yet synced)")) << "\n";
    return 0;
  }

  int History() {
    std::string id;
    Status s = TargetRecord(&id);
    if (!s.ok()) return Fail(s);
    std::string note;
    if (!a_.Has("--local") && !store_->Setting("token").empty() && !store_->Setting("server_url").empty()) {
      HttpClient http(store_->Setting("server_url"), QuickHttp());
      SyncClient sc(*store_, http);
      Status fs = sc.FetchHistory(id);
      if (!fs.ok()) note = T("(không lấy được lịch sử từ máy chủ: ", "(could not fetch the server's history: ") + fs.message() + ")";
    }
    std::vector<HistoryEntry> entries;
    s = store_->History(id, &entries);
    if (!s.ok()) return Fail(s);
    if (json_) {
      json::Array arr;
      for (const auto& e : entries) {
        arr.add(HistoryEntryToJson(e));
      }
      out_ << json::ToText(Var(json::Array::Ptr(new json::Array(arr)))) << "\n";
      return 0;
    }
    if (!note.empty()) err_ << note << "\n";
    std::string last_change;
    for (const auto& e : entries) {
      if (e.change_id != last_change) {
        std::string kind = e.origin.rfind("server:", 0) == 0 ? e.origin.substr(7) : "local";
        out_ << e.at << "  " << e.author << T(" (thiết bị ", " (device ") << e.device.substr(0, 8) << ")  " << kind << "\n";
        last_change = e.change_id;
      }
      out_ << "    " << e.field << ": " << e.old_value << " -> " << e.new_value << "\n";
    }
    return 0;
  }

  int Submit() {
    std::string id;
    Record target;
    Status s = TargetRecord(&id, &target);
    if (s.ok() && target.form != "idea") return Decide("submit");
    Record after;
    Label warning;
    if (s.ok()) s = SubmitIdea(*store_, id, &after, &warning);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << json::ToText(*RecordToJson(after)) << "\n";
    else out_ << T("Đã tiếp nhận: ", "Received: ") << id << "  " << (after.fields.has("receipt_no") ? after.fields.getValue<std::string>("receipt_no") : "") << "\n";
    if (!warning.vi.empty()) err_ << "ocop: " << warning.In(lang_) << "\n";
    return 0;
  }

  std::string Today() const { return TodayIso(); }

  // Records a workflow decision offline, after checking the same rule the
  // server checks (officer_actions.h).
  int Decide(const std::string& name) {
    std::string id;
    Record before, after;
    Status s = TargetRecord(&id, &before);
    if (s.ok()) s = TakeDecision(*store_, id, name, a_.Get("--reason"), &after);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << json::ToText(*RecordToJson(after)) << "\n";
    else out_ << msg::StatusName(before.status(), lang_) << " → " << msg::StatusName(after.status(), lang_) << ": " << id << "\n";
    return 0;
  }

  // ---- Step 5: criteria, score sheets, council results, certificates ----

  int YearOption() {
    std::string y = a_.Get("--year", Today().substr(0, 4));
    char* end = nullptr;
    long v = std::strtol(y.c_str(), &end, 10);
    if (y.empty() || *end || v < 2018 || v > 2100) throw UsageError("--year must be a year from 2018 to 2100");
    return static_cast<int>(v);
  }

  std::string LevelLabel(const std::string& level) { return msg::Text(("level." + level).c_str(), lang_); }

  int Criteria() {
    std::string id = a_.positional.empty() ? "148-2023" : a_.positional[0];
    const evaluation::CriteriaSheet* sheet = evaluation::FindSheet(id);
    if (!sheet) return Fail(Status::Invalid("unknown criteria sheet '" + id + "'"));
    out_ << sheet->label.In(lang_) << "\n";
    for (const auto& p : sheet->parts) {
      out_ << "\n" << p.code << ". " << p.label.In(lang_) << " (" << p.max << T(" điểm", " points") << ")\n";
      for (const auto& c : sheet->criteria) {
        if (c.part != p.code) continue;
        std::string steps;
        for (int v : c.scores) steps += (steps.empty() ? "" : "/") + std::to_string(v);
        out_ << "  " << c.code << "  " << c.label.In(lang_) << "  [" << steps << "]"
             << (c.from.empty() ? "" : T("  (tự động từ phiếu xác nhận)", "  (from the confirmation)")) << "\n";
      }
    }
    return 0;
  }

  int Score() {
    std::string id;
    Record idea;
    Status s = TargetRecord(&id, &idea);
    if (!s.ok()) return Fail(s);
    ScoreSheetRequest req;
    req.idea_id = id;
    req.sheet = a_.Get("--sheet", "148-2023");
    req.level = a_.Get("--level");
    req.member = a_.Get("--member");
    req.notes = a_.Get("--notes");
    req.year = YearOption();
    req.finish = a_.Has("--finish");
    if (req.level.empty() || req.member.empty()) throw UsageError("score needs --level and --member");
    s = ParseScores(a_.Get("--scores"), &req.scores);
    Record sheet;
    if (s.ok()) s = RecordScoreSheet(*store_, req, &sheet);
    if (!sheet.id.empty() && !s.ok())
      err_ << T("Phiếu chấm đã lưu dạng nháp: ", "Sheet kept as a draft: ") << sheet.id << "\n";
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << json::ToText(*RecordToJson(sheet)) << "\n";
      return 0;
    }
    out_ << T("Phiếu chấm ", "Score sheet ") << sheet.id << ": " << msg::StatusName(sheet.status(), lang_) << ", "
         << T("tổng ", "total ") << (sheet.fields.has("total_points") ? sheet.fields.get("total_points").convert<std::string>() : "-")
         << T(" điểm", " points");
    if (sheet.fields.has("stars")) out_ << ", " << sheet.fields.get("stars").convert<std::string>() << T(" sao", " stars");
    if (sheet.fields.has("unrankable_reason"))
      out_ << "; " << msg::Localise("the product cannot be ranked: " + sheet.fields.getValue<std::string>("unrankable_reason"), lang_);
    out_ << "\n";
    return 0;
  }

  int Council() {
    std::string id;
    Record idea;
    Status s = TargetRecord(&id, &idea);
    std::vector<evaluation::CouncilResult> results;
    if (s.ok()) s = CouncilResultsFor(*store_, id, &results);
    if (!s.ok()) return Fail(s);
    if (json_) {
      json::Array::Ptr arr = new json::Array;
      for (const auto& r : results) {
        json::Object::Ptr o = new json::Object;
        o->set("level", r.level);
        o->set("year", r.year);
        o->set("members", r.members);
        o->set("mean_total", r.mean_total);
        o->set("stars", r.stars);
        o->set("rankable", r.rankable);
        arr->add(o);
      }
      out_ << json::ToText(json::Var(arr)) << "\n";
      return 0;
    }
    if (results.empty()) out_ << msg::Text("no_ranking_yet", lang_) << "\n";
    for (const auto& r : results) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", r.mean_total);
      std::string mean = buf;
      if (lang_ == "vi") std::replace(mean.begin(), mean.end(), '.', ',');
      out_ << msg::Text("council_result", lang_) << " " << LevelLabel(r.level) << " " << r.year << ": " << r.members << " "
           << msg::Text("members", lang_) << ", " << mean << T(" điểm", " points") << ", "
           << (r.rankable ? std::to_string(r.stars) + T(" sao", " stars") : msg::Text("cannot_be_ranked", lang_)) << "\n";
    }
    return 0;
  }

  int Certify() {
    std::string id;
    Record idea;
    Status s = TargetRecord(&id, &idea);
    if (!s.ok()) return Fail(s);
    CertificateRequest req;
    req.idea_id = id;
    req.level = a_.Get("--level");
    req.year = YearOption();
    req.decision_no = a_.Get("--decision-no");
    req.decided_on = a_.Get("--decided-on");
    if (req.level.empty() || req.decision_no.empty() || req.decided_on.empty())
      throw UsageError("certify needs --level, --decision-no and --decided-on");
    Record cert;
    s = IssueCertificate(*store_, req, &cert);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << json::ToText(*RecordToJson(cert)) << "\n";
    else
      out_ << T("Giấy chứng nhận ", "Certificate ") << cert.id << ": " << cert.fields.get("stars").convert<std::string>()
           << T(" sao, hiệu lực đến ", " stars, valid until ")
           << dates::ToDisplay(cert.fields.getValue<std::string>("valid_until")) << "\n";
    return 0;
  }

  // Writes to --output FILE (atomically: a temporary file renamed) or stdout.
  int Emit(const std::string& content) {
    std::string path = a_.Get("--output");
    if (path.empty()) {
      out_ << content;
      return 0;
    }
    std::string tmp = path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      if (!f || !(f << content) || !f.flush()) return Fail(Status::Invalid("cannot write " + path));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Fail(Status::Invalid("cannot write " + path));
    if (!json_) err_ << T("Đã ghi ", "Wrote ") << path << "\n";
    return 0;
  }

  int Report() {
    NeedPositional(0, "");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    std::string format = a_.Get("--format", json_ ? "json" : "table");
    if (format != "table" && format != "csv" && format != "html" && format != "json")
      throw UsageError("--format must be table, csv, html or json");
    std::string target = a_.Get("--target", "0");
    char* end = nullptr;
    long n = std::strtol(target.c_str(), &end, 10);
    if (*end || n < 0 || n > 1000000) throw UsageError("--target must be a whole number of products");
    std::string star_target = a_.Get("--star-target", "0");
    long stars = std::strtol(star_target.c_str(), &end, 10);
    if (*end || stars < 0 || stars > 1000000) throw UsageError("--star-target must be a whole number of products");
    WeeklyReport r;
    s = BuildWeeklyReport(*store_, a_.Get("--date", Today()), static_cast<int>(n), &r);
    if (!s.ok()) return Fail(s);
    r.star_target = static_cast<int>(stars);
    if (format == "csv") return Emit(std::string(a_.Has("--bom") ? "\xEF\xBB\xBF" : "") + RenderCsv(r));
    if (format == "html") return Emit(RenderHtml(r, lang_));
    if (format == "json") return Emit(RenderJson(r) + "\n");
    return Emit(RenderTable(r, lang_));
  }

  // What waits to be sent, and a way out when the server refused it.
  // ---- sync by carried file (client/carried_files.h) ----
  int OutboxExport() {
    std::string output = a_.Get("--output", "");
    if (output.empty()) throw UsageError("outbox export needs --output FILE (e.g. on a USB stick)");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    ExportSummary sum;
    s = ExportOutbox(*store_, output, a_.Has("--with-files"), &sum);
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << "{\"file\":" << json::Quote(output) << ",\"change_sets\":" << sum.change_sets << ",\"changes\":"
           << sum.changes << ",\"photos\":" << sum.photos << ",\"bytes\":" << sum.bytes << "}\n";
      return 0;
    }
    out_ << T("Đã ghi ", "Wrote ") << output << ": " << sum.changes << T(" thay đổi", " changes") << " (" << sum.change_sets
         << T(" gói", " change sets") << "), " << sum.photos << T(" ảnh", " photos") << ", " << Bytes(static_cast<int64_t>(sum.bytes)) << ".\n"
         << T("Mang tệp lên huyện/tỉnh; các thay đổi vẫn chờ ở đây cho đến khi máy chủ trả lời (đồng bộ hoặc tệp trả về).\n",
              "Carry the file to the district or province; the changes stay waiting here until the server answers "
              "(a sync, or a return file).\n");
    return 0;
  }

  int ImportChanges() {
    NeedPositional(1, "import-changes FILE");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    CarriedInSummary sum;
    s = ImportChangesFile(*store_, a_.positional[0], &sum);
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << "{\"device\":" << json::Quote(sum.device) << ",\"user\":" << json::Quote(sum.user)
           << ",\"unit\":" << json::Quote(sum.unit) << ",\"changes\":" << sum.changes << ",\"photos\":" << sum.photos
           << ",\"already\":" << (sum.already ? "true" : "false") << "}\n";
      return 0;
    }
    if (sum.already) {
      out_ << T("Tệp này đã được nhận trước đây; không thêm gì.\n", "This file was imported before; nothing added.\n");
      return 0;
    }
    out_ << T("Đã nhận tệp của ", "Took the file of ") << sum.user << " (" << sum.unit << "): " << sum.changes
         << T(" thay đổi, ", " changes, ") << sum.photos << T(" ảnh. Sẽ gửi ở lần đồng bộ tới.\n", " photos. They go at the next sync.\n");
    return 0;
  }

  int ExportReturn() {
    NeedPositional(0, "");
    std::string device = a_.Get("--for-device", ""), output = a_.Get("--output", "");
    if (device.empty() || output.empty()) throw UsageError("export-return needs --for-device ID and --output FILE");
    std::string since_text = a_.Get("--since", "0");
    if (since_text.empty() || since_text.size() > 15 || since_text.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("--since must be the device's cursor (a whole number, from ocop status on that device)");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    std::string url;
    s = NeedServer(&url);
    if (!s.ok()) return Fail(s);
    HttpClient http(url, QuickHttp());
    SyncClient sc(*store_, http);
    std::string bytes;
    s = sc.FetchReturnFile(device, std::stoll(since_text), &bytes);
    if (s.ok()) s = WriteCarriedFile(output, bytes);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << "{\"file\":" << json::Quote(output) << ",\"bytes\":" << bytes.size() << "}\n";
    else out_ << T("Đã ghi ", "Wrote ") << output << " (" << Bytes(static_cast<int64_t>(bytes.size()))
              << T("). Mang tệp về xã: ocop import-pull ", "). Carry it to the commune: ocop import-pull ") << output << "\n";
    return 0;
  }

  int ImportPull() {
    NeedPositional(1, "import-pull FILE");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    ReturnSummary sum;
    s = ImportReturnFile(*store_, a_.positional[0], &sum);
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << "{\"answers\":" << sum.answers_applied << ",\"pages\":" << sum.pages_applied << ",\"records\":"
           << sum.records << ",\"cursor\":" << sum.cursor << ",\"nothing_new\":" << (sum.nothing_new ? "true" : "false")
           << "}\n";
      return 0;
    }
    if (sum.nothing_new) {
      out_ << T("Tệp không có gì mới cho thiết bị này.\n", "The file holds nothing new for this device.\n");
      return 0;
    }
    out_ << T("Máy chủ đã trả lời ", "The server answered ") << sum.answers_applied << T(" gói thay đổi; nhận ", " change sets; received ")
         << sum.records << T(" phiếu.\n", " records.\n");
    return 0;
  }

  int Outbox() {
    if (a_.positional.size() == 1 && a_.positional[0] == "export") return OutboxExport();
    if (a_.positional.size() > 1 || (a_.positional.size() == 1 && a_.positional[0] != "discard"))
      throw UsageError("outbox takes no argument, `discard` or `export --output FILE`");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    std::string refused = store_->Setting("refused");
    if (a_.positional.empty()) {
      StoreInfo info;
      s = store_->Info(&info);
      if (!s.ok()) return Fail(s);
      auto count = store_->db().Prepare("SELECT COUNT(*) FROM outbox WHERE changeset_id IS NOT NULL");
      int64_t in_flight = count.Step() ? count.Int(0) : 0;
      if (json_) {
        Object o;
        o.set("pending_changes", info.pending_changes);
        o.set("in_flight", in_flight);
        o.set("refused", refused);
        out_ << json::ToText(o) << "\n";
      } else {
        out_ << T("Thay đổi chờ gửi: ", "Changes waiting: ") << info.pending_changes << T(" (đang gửi: ", " (being sent: ")
             << in_flight << ")\n";
        if (!refused.empty()) out_ << T("Máy chủ từ chối: ", "Refused by the server: ") << msg::Localise(refused, lang_) << "\n";
      }
      return 0;
    }
    if (refused.empty())
      return Fail(Status::Precondition("the server has refused nothing; changes are discarded only after a refusal"));
    // The server names the record it refused ("record <id>: …").
    std::string refused_record;
    size_t at = refused.find("record ");
    if (at != std::string::npos && refused.size() >= at + 7 + 36) refused_record = refused.substr(at + 7, 36);
    std::vector<std::string> records;
    s = store_->DiscardInflight(refused_record, &records);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << "{\"discarded_records\":" << records.size() << "}\n";
    else out_ << T("Đã bỏ các thay đổi bị từ chối của ", "Dropped the refused changes of ") << records.size()
              << T(" phiếu (trở về bản của máy chủ); các thay đổi khác sẽ được gửi lại\n",
                   " record(s), back to the server's version; the other changes will be sent again\n");
    return 0;
  }

  int Attach() {
    if (a_.positional.size() != 2) throw UsageError("attach needs a record ID and a FILE");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    std::string id;
    s = ResolveId(a_.positional[0], &id);
    if (!s.ok()) return Fail(s);
    const std::string& path = a_.positional[1];
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(Status::Invalid("cannot read " + path));
    in.seekg(0, std::ios::end);
    auto size = static_cast<int64_t>(in.tellg());
    const int64_t kMax = 20 * 1024 * 1024;
    if (size > kMax) return Fail(Status(Code::kPayloadTooLarge, path + " is larger than 20 MB"));
    in.seekg(0);
    std::string bytes(static_cast<size_t>(size), '\0');
    in.read(bytes.data(), size);
    std::string caption = a_.Get("--caption");
    if (!text::IsValidUtf8(caption)) return Fail(Status::Invalid("--caption is not valid UTF-8"));
    std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    if (!text::IsValidUtf8(name)) name.clear();
    std::string sha;
    Record r;
    s = store_->Attach(id, bytes, name, text::ToNfc(caption), &sha, &r);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << "{\"id\":" << json::Quote(id) << ",\"sha256\":" << json::Quote(sha) << ",\"size\":" << size << "}\n";
    else out_ << T("Đã đính kèm ", "Attached ") << name << " (" << size << " bytes, " << sha.substr(0, 12) << "…) "
              << T("— sẽ gửi khi đồng bộ\n", "— sent at the next sync\n");
    return 0;
  }

  // A file's bytes: from the store, or fetched from the server on demand.
  int File() {
    NeedPositional(1, "SHA-256 of the file");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    const std::string& sha = a_.positional[0];
    if (sha.size() != 64) return Fail(Status::Invalid("'" + sha + "' is not a SHA-256"));
    if (!store_->HasFile(sha)) {
      std::string url;
      s = NeedServer(&url);
      if (!s.ok()) return Fail(s);
      HttpClient http(url, QuickHttp());
      SyncClient sc(*store_, http);
      s = sc.FetchFile(sha);
      if (!s.ok()) return Fail(s);
    }
    std::ifstream in(store_->FilePath(sha), std::ios::binary);
    std::stringstream all;
    all << in.rdbuf();
    if (a_.Get("--output").empty() && !json_) {
      err_ << store_->FilePath(sha) << "\n";
      return 0;
    }
    return Emit(all.str());
  }

  int Export() {
    NeedPositional(1, "FORM (idea, confirmation or visit)");
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    std::string text;
    s = ExportForm(*store_, a_.positional[0], a_.Get("--format", "csv"), a_.Has("--bom"), &text);
    if (!s.ok()) return Fail(s);
    return Emit(text);
  }

  int Forms() {
    const FormCatalog& cat = FormCatalog::Default();
    std::vector<std::string> names = a_.positional.empty() ? cat.Names() : a_.positional;
    for (const auto& n : names) {
      const FormSchema* s = cat.Find(n);
      if (!s) return Fail(UnknownForm(n));
      out_ << s->form << " (v" << s->version << "): " << s->label.In(lang_) << "\n";
      for (const auto& f : s->fields) {
        out_ << "  " << std::left << std::setw(28) << f.key << std::setw(12) << FieldTypeName(f.type)
             << (f.required ? "* " : "  ") << f.label.In(lang_);
        if (f.system) out_ << T(" [hệ thống]", " [system]");
        if (f.computed) out_ << T(" [tự tính]", " [computed]");
        if (!f.choices.empty() && f.key != "status") {
          out_ << " {";
          for (size_t i = 0; i < f.choices.size(); ++i) out_ << (i ? ", " : "") << f.choices[i].value;
          out_ << "}";
        }
        out_ << "\n";
      }
    }
    return 0;
  }

  int Units() {
    // Before init there is no store: show the sample. --refresh asks the server.
    const UnitTree* tree = &UnitTree::Sample();
    if (OpenStore().ok()) {
      if (a_.Has("--refresh")) {
        std::string url, csv, type;
        Status s = NeedServer(&url);
        HttpClient http(url, QuickHttp());
        if (s.ok()) s = http.Call("GET", "/v1/units", "", "application/json", "text/csv", &csv, &type);
        if (s.ok()) s = store_->SetUnits(csv);
        if (!s.ok()) return Fail(s);
      }
      tree = &store_->units();
    }
    const UnitTree& t = *tree;
    if (json_) {
      json::Array arr;
      for (const auto& [code, u] : t.all()) {
        Object::Ptr o = new Object;
        o->set("code", u.code);
        o->set("name", u.name);
        o->set("level", u.level);
        o->set("parent", u.parent);
        arr.add(o);
      }
      out_ << json::ToText(Var(json::Array::Ptr(new json::Array(arr)))) << "\n";
      return 0;
    }
    std::function<void(const std::string&, int)> walk = [&](const std::string& code, int depth) {
      for (const Unit* c : t.Children(code)) {
        out_ << std::string(depth * 2, ' ') << c->code << "  " << c->name << " (" << c->level << ")\n";
        walk(c->code, depth + 1);
      }
    };
    walk("", 0);
    return 0;
  }

  int StatusCmd() {
    Status s = OpenStore();
    if (!s.ok()) return Fail(s);
    StoreInfo info;
    s = store_->Info(&info);
    if (!s.ok()) return Fail(s);
    std::vector<LocalStore::Exported> exported;
    s = store_->ExportedUnanswered(&exported);
    if (!s.ok()) return Fail(s);
    std::vector<LocalStore::CarriedIn> carried;
    s = store_->CarriedInFiles(true, &carried);
    if (!s.ok()) return Fail(s);
    size_t carried_waiting = carried.size();
    if (json_) {
      Object o;
      o.set("device", info.device_id);
      o.set("commune", info.commune);
      o.set("server", info.server_url);
      o.set("user", info.user);
      o.set("records", info.records);
      o.set("pending_changes", info.pending_changes);
      o.set("open_conflicts", info.conflicts);
      o.set("last_sync", info.last_sync);
      o.set("cursor", info.cursor);
      o.set("files_waiting", info.files_waiting);
      o.set("exported_unanswered", static_cast<int64_t>(exported.size()));
      o.set("carried_waiting", static_cast<int64_t>(carried_waiting));
      out_ << json::ToText(o) << "\n";
      return 0;
    }
    out_ << T("Thiết bị: ", "Device: ") << info.device_id << "\n"
         << T("Xã: ", "Commune: ") << info.commune << "\n"
         << T("Máy chủ: ", "Server: ") << (info.server_url.empty() ? "-" : info.server_url) << "\n"
         << T("Người dùng: ", "User: ") << (info.user.empty() ? T("(chưa đăng nhập)", "(not logged in)") : info.user) << "\n"
         << T("Số phiếu: ", "Records: ") << info.records << "\n"
         << T("Thay đổi chờ đồng bộ: ", "Changes waiting to sync: ") << info.pending_changes << "\n"
         << T("Xung đột đang mở: ", "Open conflicts: ") << info.conflicts << "\n"
         << T("Tệp chờ gửi: ", "Files waiting to upload: ") << info.files_waiting << "\n"
         << T("Đồng bộ lần cuối: ", "Last sync: ") << (info.last_sync.empty() ? T("chưa bao giờ", "never") : dates::TimestampToDisplay(info.last_sync)) << "\n";
    if (!exported.empty())
      out_ << T("Đã ghi ra tệp, máy chủ chưa trả lời: ", "Exported to a file, not yet answered by the server: ")
           << exported.size() << T(" gói (tệp ", " change sets (file ") << exported.back().file_name << ", "
           << dates::ToDisplay(exported.back().exported_at.substr(0, 10)) << ")\n";
    if (carried_waiting > 0)
      out_ << T("Tệp của thiết bị khác chờ gửi: ", "Other devices' files waiting to be sent: ") << carried_waiting << "\n";
    return 0;
  }

  HttpOptions QuickHttp() {
    HttpOptions o;
    if (store_) o.ca_file = store_->Setting("ca_file");
    if (!ca_override_.empty()) o.ca_file = ca_override_;
    const char* attempts = std::getenv("OCOP_HTTP_ATTEMPTS");
    if (attempts) o.max_attempts = std::max(1, std::atoi(attempts));
    const char* backoff = std::getenv("OCOP_HTTP_BACKOFF_MS");
    if (backoff) o.backoff_initial_ms = std::max(0, std::atoi(backoff));
    return o;
  }

  // Takes the CA certificate given with --ca: checked, then kept in the home
  // (so the device keeps trusting the server after the file is gone).
  Status InstallCa() {
    std::string path = a_.Get("--ca");
    if (path.empty()) return Status::Ok();
    std::ifstream f(path, std::ios::binary);
    if (!f) return Status::Invalid("cannot read the CA file " + path);
    std::string pem(1024 * 1024 + 1, '\0');
    f.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<size_t>(f.gcount()));
    if (pem.size() > 1024 * 1024 || pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return Status::Invalid("--ca " + path + " is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
    ca_override_ = path;
    if (!store_) return Status::Ok();
    std::string kept = home_ + "/ca.pem";
    std::ofstream out(kept, std::ios::binary | std::ios::trunc);
    out << pem;
    if (!out) return Status::Internal("cannot write " + kept);
    return store_->SetSetting("ca_file", kept);
  }

  Status NeedServer(std::string* url) {
    Status s = OpenStore();
    if (!s.ok()) return s;
    s = InstallCa();
    if (!s.ok()) return s;
    std::string given = a_.Get("--server");
    if (!given.empty()) {
      if (given.rfind("http://", 0) != 0 && given.rfind("https://", 0) != 0)
        return Status::Invalid("server URL must start with http:// or https://");
      s = store_->SetSetting("server_url", given);
      if (!s.ok()) return s;
    }
    *url = store_->Setting("server_url");
    if (url->empty()) return Status::Invalid("no server set: pass --server URL (once)");
    return Status::Ok();
  }

  std::string ReadPassword() {
    std::string pw;
    if (a_.Has("--password-stdin")) {
      std::getline(in_, pw);
      if (!pw.empty() && pw.back() == '\r') pw.pop_back();
      return pw;
    }
    if (!in_tty_) throw UsageError("no terminal to ask for the password: use --password-stdin");
    err_ << T("Mật khẩu: ", "Password: ") << std::flush;
    termios old{};
    bool restore = tcgetattr(0, &old) == 0;
    if (restore) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(0, TCSANOW, &quiet);
    }
    std::getline(in_, pw);
    if (restore) tcsetattr(0, TCSANOW, &old);
    err_ << "\n";
    return pw;
  }

  int Login() {
    NeedPositional(0, "");
    std::string user = a_.Get("--user");
    if (user.empty()) throw UsageError("login needs --user NAME");
    std::string url;
    Status s = NeedServer(&url);
    if (!s.ok()) return Fail(s);
    s = CheckPasswordTransport(url, a_.Has("--insecure"));
    if (!s.ok()) return Fail(s);
    std::string pw = ReadPassword();
    HttpClient http(url, QuickHttp());
    SyncClient sc(*store_, http);
    s = sc.Login(user, pw);
    if (!s.ok()) return Fail(s);
    if (json_) out_ << "{\"user\":" << json::Quote(user) << ",\"role\":" << json::Quote(store_->Setting("role")) << "}\n";
    else out_ << T("Đã đăng nhập: ", "Logged in: ") << user << " (" << store_->Setting("role") << ")\n";
    return 0;
  }

  int Logout() {
    std::string url;
    Status s = NeedServer(&url);
    if (!s.ok()) return Fail(s);
    HttpClient http(url, QuickHttp());
    SyncClient sc(*store_, http);
    s = sc.Logout();
    if (!s.ok()) return Fail(s);
    if (!json_) out_ << T("Đã đăng xuất\n", "Logged out\n");
    else out_ << "{}\n";
    return 0;
  }

  // "10m", "90s", "1h", "45" (seconds): how long one `ocop sync` keeps trying.
  static double ParseDuration(const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double scale = unit.empty() || unit == "s" ? 1 : unit == "m" || unit == "min" ? 60 : unit == "h" ? 3600 : -1;
    if (text.empty() || end == text.c_str() || scale < 0 || !(v > 0) || v * scale > 7 * 24 * 3600)
      throw UsageError("--deadline must be a duration such as 90s, 10m or 1h (at most 7 days), not '" + text + "'");
    return v * scale;
  }

  // One decimal, with a comma in Vietnamese (60,1 giây).
  std::string Decimal(double v) const {
    std::ostringstream o;
    o << std::fixed << std::setprecision(1) << v;
    std::string t = o.str();
    if (lang_ == "vi") std::replace(t.begin(), t.end(), '.', ',');
    return t;
  }

  std::string Bytes(int64_t n) const {
    std::ostringstream o;
    o << std::fixed << std::setprecision(n < 10 * 1024 ? 1 : 0);
    if (n < 1024 * 1024) o << n / 1024.0 << " KB";
    else o << std::setprecision(1) << n / (1024.0 * 1024.0) << " MB";
    std::string t = o.str();
    if (lang_ == "vi") std::replace(t.begin(), t.end(), '.', ',');
    return t;
  }

  std::string ProgressLine(const SyncProgress& p) const {
    std::ostringstream o;
    std::string phase = std::string(p.phase) == "push" ? T("gửi phiếu", "sending forms")
                        : std::string(p.phase) == "files" ? T("gửi ảnh", "sending photos")
                        : std::string(p.phase) == "pull" ? T("nhận phiếu", "receiving forms")
                                                         : T("chờ kết nối", "waiting for the link");
    double rate = p.seconds > 0.5 ? (p.bytes_sent + p.bytes_received) / p.seconds : 0;
    o << T("Đồng bộ", "Sync") << " [" << phase << "] " << T("đã gửi ", "sent ") << p.changes_sent << "/"
      << p.changes_total << T(" thay đổi, nhận ", " changes, received ") << p.records_received << T(" phiếu", " records")
      << " · ↑" << Bytes(p.bytes_sent) << " ↓" << Bytes(p.bytes_received) << " · " << Bytes(static_cast<int64_t>(rate))
      << "/s";
    if (p.bytes_left > 0 && rate > 0)
      o << " · " << T("còn ~", "~") << static_cast<int64_t>(p.bytes_left / rate + 1) << T(" giây", " s left");
    if (p.cuts > 0) o << " · " << p.cuts << T(" lần mất kết nối", " drops");
    return o.str();
  }

  int Sync() {
    NeedPositional(0, "");
    std::string url;
    Status s = NeedServer(&url);
    if (!s.ok()) return Fail(s);
    HttpClient http(url, QuickHttp());
    SyncOptions options;
    options.with_files = a_.Has("--with-files");
    options.deadline_s = a_.Get("--deadline").empty() ? 600 : ParseDuration(a_.Get("--deadline"));
    // Ctrl-C stops the sync between two bytes; everything that arrived is kept.
    static std::atomic<bool> stop{false};
    stop = false;
    options.stop = &stop;
    struct sigaction on_int {}, old_int {};
    on_int.sa_handler = [](int) { stop = true; };
    sigemptyset(&on_int.sa_mask);
    sigaction(SIGINT, &on_int, &old_int);
    SyncClient sc(*store_, http, options);
    SyncReport report;
    // A live line on a terminal only; nothing animated into a pipe or a file.
    bool show_progress = err_tty_ && !json_;
    auto last_draw = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    size_t drawn = 0;
    s = sc.Sync(&report, [&](const SyncProgress& p) {
      if (!show_progress || std::chrono::steady_clock::now() - last_draw < std::chrono::milliseconds(200)) return;
      last_draw = std::chrono::steady_clock::now();
      std::string line = ProgressLine(p);
      err_ << "\r" << line << std::string(drawn > line.size() ? drawn - line.size() : 0, ' ') << std::flush;
      drawn = line.size();
    });
    sigaction(SIGINT, &old_int, nullptr);
    if (show_progress && drawn) err_ << "\r" << std::string(drawn, ' ') << "\r" << std::flush;
    std::string why = SyncOutcome(s, report);
    if (json_) {
      out_ << json::ToText(SyncSummary(s, report)) << "\n";
      return s.ok() ? 0 : StatusExitCode(s.code());
    }
    out_ << T("Đã gửi ", "Sent ") << report.changes_sent << T(" thay đổi", " changes") << " (" << report.changes_applied
         << T(" áp dụng, ", " applied, ") << report.changes_merged << T(" gộp, ", " merged, ") << report.changes_in_conflict
         << T(" xung đột)", " in conflict)") << "; " << T("nhận ", "received ") << report.records_received
         << T(" phiếu", " records") << "; " << report.http.requests << T(" lượt gọi máy chủ", " requests") << "; ↑"
         << Bytes(report.http.bytes_sent) << " ↓" << Bytes(report.http.bytes_received) << T(" trong ", " in ")
         << Decimal(report.seconds) << T(" giây", " s");
    if (report.cuts > 0)
      out_ << T("; mất kết nối ", "; the link dropped ") << report.cuts
           << (s.ok() ? T(" lần (đã nối lại)", " times (resumed)") : T(" lần", " times"));
    out_ << "\n";
    if (report.files_uploaded > 0 || report.files_waiting > 0 || report.files_downloaded > 0)
      out_ << T("Tệp: đã gửi ", "Files: sent ") << report.files_uploaded << T(", đã tải về ", ", fetched ")
           << report.files_downloaded << T(", còn chờ ", ", waiting ") << report.files_waiting
           << (report.files_error.empty() ? "" : " (" + report.files_error + ")") << "\n";
    if (report.carried_sent > 0 || report.carried_refused > 0)
      out_ << T("Tệp của thiết bị khác: đã gửi ", "Other devices' files: sent ") << report.carried_sent
           << T(", bị từ chối ", ", refused ") << report.carried_refused << "\n";
    if (report.open_conflicts > 0)
      out_ << T("Phiếu đang xung đột: ", "Records in conflict: ") << report.open_conflicts
           << T(" (ocop list --conflicts)", " (ocop list --conflicts)") << "\n";
    if (s.ok()) return 0;
    out_ << T("Còn chờ gửi: ", "Still waiting: ") << report.pending_after << T(" thay đổi", " changes");
    if (report.files_waiting > 0) out_ << ", " << report.files_waiting << T(" tệp", " files");
    out_ << ". " << (why == "stopped_by_user" ? T("Đã dừng theo yêu cầu; phần đã gửi được giữ lại.", "Stopped as asked; what arrived is kept.")
                     : why == "deadline" ? T("Hết thời hạn (--deadline); phần đã gửi được giữ lại, chạy lại ocop sync để tiếp tục.",
                                             "Deadline reached (--deadline); what arrived is kept, run ocop sync again to continue.")
                     : why == "no_connection" ? T("Không có kết nối; chạy lại ocop sync khi có mạng.", "No connection; run ocop sync again when there is one.")
                                              : T("Máy chủ từ chối (xem bên dưới).", "The server refused (see below)."))
         << "\n";
    return Fail(s);
  }

  // Serves the screens until Ctrl-C (or SIGTERM); a sync started from them
  // stops cleanly, keeping what arrived.
  int Ui() {
    NeedPositional(0, "");
    UiOptions o;
    o.home = home_;
    std::string port = a_.Get("--port", "8470");
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 0 || p > 65535) throw UsageError("--port must be a number from 0 to 65535");
    o.port = static_cast<int>(p);
    o.host = a_.Get("--host", "127.0.0.1");
    if (!IsLoopbackHost(o.host)) {
      if (!a_.Has("--password-stdin"))
        throw UsageError("--host " + o.host + " shares the screens on the network: give a password with --password-stdin");
      o.password = ReadPassword();
    }
    if (!a_.Get("--deadline").empty()) o.sync_deadline_s = ParseDuration(a_.Get("--deadline"));
    Status s = OpenStore();
    if (s.ok()) s = InstallCa();
    if (!s.ok()) return Fail(s);
    o.http = QuickHttp();
    store_.reset();  // the screens open their own
    static std::atomic<bool> quit{false};
    quit = false;
    struct sigaction on_quit {}, old_int {}, old_term {};
    on_quit.sa_handler = [](int) { quit = true; };
    sigemptyset(&on_quit.sa_mask);
    sigaction(SIGINT, &on_quit, &old_int);
    sigaction(SIGTERM, &on_quit, &old_term);
    std::unique_ptr<UiServer> server;
    s = UiServer::Start(o, &server);
    if (!s.ok()) {
      sigaction(SIGINT, &old_int, nullptr);
      sigaction(SIGTERM, &old_term, nullptr);
      return Fail(s);
    }
    if (json_) out_ << "{\"url\":" << json::Quote(server->url()) << ",\"port\":" << server->port() << "}" << std::endl;
    else out_ << T("Mở trình duyệt tại ", "Open a browser at ") << server->url() << T("  (Ctrl-C để dừng)", "  (Ctrl-C stops)") << std::endl;
    if (a_.Has("--open")) {
      std::string cmd = "xdg-open '" + server->url() + "' > /dev/null 2>&1 &";
      if (std::system(cmd.c_str()) != 0) err_ << T("(không mở được trình duyệt)", "(could not open a browser)") << "\n";
    }
    while (!quit) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server->Stop();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    if (!json_) out_ << T("Đã dừng\n", "Stopped\n");
    return 0;
  }

  int Conflicts() {
    if (a_.positional.empty()) throw UsageError("conflicts needs list, show ID or resolve ID");
    std::string sub = a_.positional[0];
    std::string url;
    Status s = NeedServer(&url);
    if (!s.ok()) return Fail(s);
    std::string token = store_->Setting("token");
    if (token.empty()) return Fail(Status::Unauth("not logged in: run `ocop login --user NAME` first"));
    HttpClient http(url, QuickHttp());
    http.set_token(token);
    std::string resp;
    if (sub == "list") {
      if (a_.positional.size() != 1) throw UsageError("conflicts list takes no argument");
      s = http.Call("GET", "/v1/conflicts", "", &resp);
      if (!s.ok()) return Fail(s);
      if (json_) {
        out_ << resp << "\n";
        return 0;
      }
      Object::Ptr o;
      if (!json::ParseObject(resp, &o).ok()) return Fail(Status::Unavailable("unreadable answer"));
      auto arr = o->getArray("conflicts");
      std::map<std::string, std::vector<std::string>> by_record;
      for (size_t i = 0; i < arr->size(); ++i) {
        auto c = arr->getObject(static_cast<unsigned>(i));
        by_record[c->getValue<std::string>("record_id")].push_back(c->getValue<std::string>("field"));
      }
      for (const auto& [rid, fields] : by_record) {
        out_ << rid << " ";
        for (const auto& f : fields) out_ << " " << f;
        out_ << "\n";
      }
      out_ << by_record.size() << T(" phiếu đang xung đột\n", " records in conflict\n");
      return 0;
    }
    if (a_.positional.size() != 2) throw UsageError("conflicts " + sub + " needs a record ID");
    std::string id = a_.positional[1];
    if (id.size() != 36) {
      s = ResolveId(id, &id);
      if (!s.ok()) return Fail(s);
    }
    if (sub == "show") {
      s = http.Call("GET", "/v1/conflicts/" + id, "", &resp);
      if (!s.ok()) return Fail(s);
      if (json_) {
        out_ << resp << "\n";
        return 0;
      }
      Object::Ptr o;
      if (!json::ParseObject(resp, &o).ok()) return Fail(Status::Unavailable("unreadable answer"));
      out_ << "id: " << id << "  (" << o->getValue<std::string>("form") << ", " << o->getValue<std::string>("unit") << ")\n";
      auto arr = o->getArray("conflicts");
      for (size_t i = 0; i < arr->size(); ++i) {
        auto c = arr->getObject(static_cast<unsigned>(i));
        auto cur = c->getObject("current_by"), inc = c->getObject("incoming_by");
        out_ << "  " << c->getValue<std::string>("field") << "\n"
             << "    " << T("gốc      ", "base     ") << c->getValue<std::string>("base") << "\n"
             << "    " << T("hiện tại ", "current  ") << c->getValue<std::string>("current") << "   ("
             << cur->getValue<std::string>("author") << ")\n"
             << "    " << T("gửi đến  ", "incoming ") << c->getValue<std::string>("incoming") << "   ("
             << inc->getValue<std::string>("author") << ", " << inc->getValue<std::string>("device").substr(0, 8) << ")\n";
      }
      return 0;
    }
    if (sub == "resolve") {
      json::Array::Ptr decisions = new json::Array;
      for (const auto& kv : a_.All("--take")) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos) throw UsageError("--take needs FIELD=current|incoming");
        Object::Ptr d = new Object;
        d->set("field", kv.substr(0, eq));
        d->set("take", kv.substr(eq + 1));
        decisions->add(d);
      }
      for (const auto& kv : a_.All("--set")) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos) throw UsageError("--set needs FIELD=VALUE");
        std::string field = kv.substr(0, eq), value = kv.substr(eq + 1);
        Var v;
        Record r;
        if (store_->Get(id, &r).ok()) {
          const FormSchema* schema = store_->catalog().Find(r.form);
          const FieldDef* f = schema ? schema->Field(field) : nullptr;
          if (f) {
            s = ParseInput(*f, value, &v);
            if (!s.ok()) return Fail(s);
          } else {
            v = value;
          }
        } else {
          v = value;
        }
        Object::Ptr d = new Object;
        d->set("field", field);
        d->set("take", "value");
        d->set("value", v);
        decisions->add(d);
      }
      if (decisions->size() == 0) throw UsageError("resolve needs --take FIELD=current|incoming or --set FIELD=VALUE");
      Object body;
      body.set("decisions", decisions);
      s = http.Call("POST", "/v1/conflicts/" + id + "/resolve", json::ToText(body), &resp);
      if (!s.ok()) return Fail(s);
      if (json_) out_ << resp << "\n";
      else out_ << T("Đã xử lý xung đột của ", "Resolved the conflict of ") << id << T(" (đồng bộ để nhận kết quả)\n", " (sync to receive it)\n");
      return 0;
    }
    throw UsageError("conflicts needs list, show ID or resolve ID");
  }

  const Args& a_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  bool in_tty_, err_tty_;
  std::string home_, lang_;
  bool json_ = false;
  std::unique_ptr<LocalStore> store_;
  std::string ca_override_;  // --ca given on this command line
};

}  // namespace

int RunCli(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err,
           bool stdin_is_tty, bool stderr_is_tty) {
  try {
    Args a = Parse(argv);
    if (a.Has("--version")) {
      out << "ocop 0.1.0\n";
      return 0;
    }
    if (a.Has("--help") || a.command.empty() || a.command == "help") {
      out << kHelp;
      return a.command.empty() && !a.Has("--help") ? kExitUsage : 0;
    }
    Cli cli(a, in, out, err, stdin_is_tty, stderr_is_tty);
    return cli.Run();
  } catch (const UsageError& e) {
    err << "ocop: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "ocop: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ocop::client
