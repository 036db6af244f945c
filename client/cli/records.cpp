// Records: create, change, look at and attach to forms, on the device alone (no network).
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "client/cli/command.h"
#include "client/cli/form_prompt.h"
#include "client/http_client.h"
#include "client/officer_actions.h"
#include "client/sync_client.h"
#include "shared/dates.h"
#include "shared/messages.h"
#include "shared/text.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

int Init(Context& ctx) {
  ctx.NeedPositional(0, "");
  std::string commune = ctx.a.Get("--commune");
  if (commune.empty()) throw UsageError("init needs --commune CODE (see `ocop units`)");
  // The unit list: a file given with --units, else the server's (so any
  // commune of the imported official list works), else the embedded sample.
  UnitTree fetched;
  const UnitTree* units = &UnitTree::Sample();
  std::string note;
  std::string csv, units_version;
  if (!ctx.a.Get("--units").empty()) {
    std::ifstream f(ctx.a.Get("--units"), std::ios::binary);
    if (!f) return ctx.Fail(Status::Invalid("cannot read " + ctx.a.Get("--units")));
    std::stringstream ss;
    ss << f.rdbuf();
    csv = ss.str();
  } else if (!ctx.a.Get("--server").empty()) {
    Status ca = ctx.InstallCa();  // checked now, kept once the store exists
    if (!ca.ok()) return ctx.Fail(ca);
    HttpOptions quick = ctx.QuickHttp();
    quick.max_attempts = 1;
    quick.connect_timeout_s = 5;
    HttpClient http(ctx.a.Get("--server"), quick);
    std::string type;
    Status s = http.Call("GET", "/v1/units", "", "application/json", "text/csv", &csv, &type);
    units_version = http.last_units_version();
    if (!s.ok()) {
      csv.clear();
      units_version.clear();
      note = ctx.T("(không lấy được danh mục đơn vị từ máy chủ; dùng danh mục mẫu)",
               "(could not fetch the unit list from the server; using the sample)");
    }
  }
  if (!csv.empty()) {
    Status s = UnitTree::ParseCsv(csv, &fetched);
    if (!s.ok()) return ctx.Fail(s);
    units = &fetched;
  }
  Status s = LocalStore::Init(ctx.home, commune, ctx.a.Get("--server"), *units, SystemClock::Get());
  if (!s.ok()) return ctx.Fail(s);
  if (!ctx.a.Get("--ca").empty() || !units_version.empty()) {
    s = ctx.OpenStore();
    if (s.ok() && !ctx.a.Get("--ca").empty()) s = ctx.InstallCa();
    // The list's version, so the first sync does not fetch it again.
    if (s.ok() && !units_version.empty()) s = ctx.store->SetSetting("units_version", units_version);
    if (!s.ok()) return ctx.Fail(s);
  }
  if (!note.empty()) ctx.err << note << "\n";
  const Unit* u = units->Find(commune);
  if (ctx.as_json) ctx.out << "{\"home\":" << json::Quote(ctx.home) << ",\"commune\":" << json::Quote(commune) << "}\n";
  else ctx.out << ctx.T("Đã tạo kho dữ liệu cho ", "Created the store for ") << u->name << " (" << commune << ") " << ctx.T("tại ", "in ") << ctx.home << "\n";
  return 0;
}

int Units(Context& ctx) {
  // Before init there is no store: show the sample. --refresh asks the server.
  const UnitTree* tree = &UnitTree::Sample();
  if (ctx.OpenStore().ok()) {
    if (ctx.a.Has("--refresh")) {
      std::string url, csv, type;
      Status s = ctx.NeedServer(&url);
      HttpClient http(url, ctx.QuickHttp());
      if (s.ok()) s = http.Call("GET", "/v1/units", "", "application/json", "text/csv", &csv, &type);
      if (s.ok()) s = ctx.store->SetUnits(csv);
      if (s.ok() && !http.last_units_version().empty()) s = ctx.store->SetSetting("units_version", http.last_units_version());
      if (!s.ok()) return ctx.Fail(s);
    }
    tree = &ctx.store->units();
  }
  const UnitTree& t = *tree;
  if (ctx.as_json) {
    json::Array arr;
    for (const auto& [code, u] : t.all()) {
      Object::Ptr o = new Object;
      o->set("code", u.code);
      o->set("name", u.name);
      o->set("level", u.level);
      o->set("parent", u.parent);
      arr.add(o);
    }
    ctx.out << json::ToText(Var(json::Array::Ptr(new json::Array(arr)))) << "\n";
    return 0;
  }
  std::function<void(const std::string&, int)> walk = [&](const std::string& code, int depth) {
    for (const Unit* c : t.Children(code)) {
      std::string level = c->level == "province"   ? ctx.T("cấp tỉnh", "province level")
                          : c->level == "district" ? ctx.T("cấp huyện", "district level")
                          : c->level == "commune"  ? ctx.T("cấp xã", "commune level")
                                                   : c->level;
      ctx.out << std::string(depth * 2, ' ') << c->code << "  " << c->name << " (" << level << ")\n";
      // Units merged into this one: their records are this unit's now.
      for (const Unit* p : t.Predecessors(c->code))
        ctx.out << std::string(depth * 2 + 2, ' ') << p->code << "  " << p->name << " ("
                << ctx.T("đã sáp nhập vào ", "merged into ") << c->name << ctx.T(" từ ", " on ")
                << dates::ToDisplay(p->valid_to) << ")\n";
      walk(c->code, depth + 1);
    }
  };
  walk("", 0);
  return 0;
}

int New(Context& ctx) {
  ctx.NeedPositional(1, "FORM (idea, confirmation or visit)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  const FormSchema* schema = ctx.store->catalog().Find(ctx.a.positional[0]);
  if (!schema) return ctx.Fail(UnknownForm(ctx.a.positional[0]));
  Object fields;
  bool any = false;
  std::vector<Status> problems;
  s = ctx.CollectFields(*schema, &fields, &any, &problems);
  if (!s.ok()) return ctx.Fail(s);
  if (any && !problems.empty()) {
    // Every wrong value and every required field left out, at once.
    for (const auto& f : schema->fields)
      if (f.required && !f.system && !f.computed && !fields.has(f.key))
        problems.push_back(Status::Invalid(msg::FieldName(f) + " is required"));
    return ctx.FailAll(problems);
  }
  const bool interactive = ctx.a.Has("--interactive") || (!any && ctx.in_tty);
  const std::string draft = ctx.home + "/draft-" + schema->form + ".json";
  if (interactive) {
    // What was typed before a Ctrl-C (or a closed input) was kept: offer it.
    std::ifstream kept(draft);
    Object::Ptr saved;
    std::stringstream text;
    text << kept.rdbuf();
    if (kept && json::ParseObject(text.str(), &saved).ok() && saved->size() > 0) {
      ctx.out << ctx.T("Có phiếu đang nhập dở (", "A form was left half-typed (") << saved->size()
              << ctx.T(" mục). Tiếp tục? [c/k] ", " fields). Continue it? [y/n] ") << std::flush;
      std::string answer;
      std::getline(ctx.in, answer);
      std::string folded = text::Fold(answer);
      if (folded.empty() || folded == "c" || folded == "co" || folded == "y" || folded == "yes") {
        std::vector<std::string> names;
        saved->getNames(names);
        for (const auto& k : names)
          if (!fields.has(k) && schema->Field(k)) fields.set(k, saved->get(k));
      }
    }
    FormPrompter prompter(ctx.in, ctx.as_json ? ctx.err : ctx.out, ctx.lang);
    // Ctrl-C ends the questions (the read is interrupted) instead of the program: what was typed is kept.
    static std::atomic<bool> interrupted{false};
    interrupted = false;
    struct sigaction on_int {}, old_int {};
    on_int.sa_handler = [](int) { interrupted = true; };
    sigemptyset(&on_int.sa_mask);
    sigaction(SIGINT, &on_int, &old_int);
    s = prompter.Fill(*schema, &fields);
    sigaction(SIGINT, &old_int, nullptr);
    if (!s.ok()) {
      if (s.code() == Code::kInvalidArgument && fields.size() > 0) {
        std::ofstream(draft) << json::ToText(fields);
        ctx.err << "\n" << ctx.T("Đã giữ phần đã nhập; chạy lại ocop new ", "What was typed is kept; run ocop new ") << schema->form
                << ctx.T(" để nhập tiếp.", " again to go on.") << "\n";
      } else if (s.code() == Code::kFailedPrecondition) {
        std::remove(draft.c_str());
      }
      return ctx.Fail(s);
    }
  } else if (!any) {
    throw UsageError("give the fields with --set KEY=VALUE or --from FILE (or run on a terminal to be asked)");
  }
  Record r;
  s = ctx.store->Create(schema->form, fields, &r, ctx.a.Get("--unit"));
  if (!s.ok()) {
    if (interactive) {
      std::ofstream(draft) << json::ToText(fields);  // nothing typed is lost to a refusal
      ctx.err << ctx.T("Đã giữ phần đã nhập; chạy lại ocop new ", "What was typed is kept; run ocop new ") << schema->form
              << ctx.T(" để sửa.", " again to correct it.") << "\n";
    }
    return ctx.Fail(s);
  }
  if (interactive) std::remove(draft.c_str());
  if (ctx.as_json) ctx.out << json::ToText(*RecordToJson(r)) << "\n";
  else if (!ctx.in_tty) ctx.out << r.id << "\n";
  else ctx.out << ctx.T("Đã lưu: ", "Saved: ") << r.id << "\n";
  return 0;
}

int Edit(Context& ctx) {
  std::string id;
  Record before;
  Status s = ctx.TargetRecord(&id, &before);
  if (!s.ok()) return ctx.Fail(s);
  const FormSchema* schema = ctx.store->catalog().Shown(before.form, before.fields);
  Object changes;
  bool any = false;
  std::vector<Status> problems;
  s = ctx.CollectFields(*schema, &changes, &any, &problems);
  if (!s.ok()) return ctx.Fail(s);
  if (!problems.empty()) return ctx.FailAll(problems);
  if (!any) throw UsageError("edit needs --set KEY=VALUE (or --from FILE)");
  Record after;
  s = ctx.store->Update(id, changes, &after);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << json::ToText(*RecordToJson(after)) << "\n";
  else ctx.out << ctx.T("Đã sửa: ", "Updated: ") << id << "\n";
  return 0;
}

int Delete(Context& ctx) {
  std::string id;
  Record r;
  Status s = ctx.TargetRecord(&id, &r);
  if (!s.ok()) return ctx.Fail(s);
  // A form beyond its draft (received, numbered, decided) is a public act:
  // deleting it asks first, or needs --yes where nobody can answer.
  if (r.status() != "draft" && !r.deleted && !ctx.a.Has("--yes")) {
    const FormSchema* schema = ctx.store->catalog().Shown(r.form, r.fields);
    std::string what = (schema ? schema->label.In(ctx.lang) : r.form) + " «" + RecordTitle(*ctx.store, r, ctx.lang) + "» (" +
                       msg::StatusName(r.status(), ctx.lang) +
                       (r.fields.has("receipt_no") ? ", " + ctx.T("số ", "no. ") + r.fields.getValue<std::string>("receipt_no") : "") + ")";
    if (!ctx.in_tty)
      throw UsageError(ctx.T("phiếu ", "the form ") + what + ctx.T(" không còn là nháp: thêm --yes để xoá", " is no longer a draft: add --yes to delete it"));
    ctx.err << ctx.T("Xoá ", "Delete ") << what << ctx.T("? Bản xoá sẽ được đồng bộ lên máy chủ. [c/K] ", "? The deletion is synced to the server. [y/N] ") << std::flush;
    std::string answer;
    std::getline(ctx.in, answer);
    std::string folded = text::Fold(answer);
    if (folded != "c" && folded != "co" && folded != "y" && folded != "yes") {
      ctx.out << ctx.T("Không xoá.\n", "Not deleted.\n");
      return 0;
    }
  }
  s = ctx.store->Delete(id);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << "{\"id\":" << json::Quote(id) << ",\"deleted\":true}\n";
  else ctx.out << ctx.T("Đã xoá: ", "Deleted: ") << id << "\n";
  return 0;
}

// A record in conflict: which fields, and both values, as the server holds
// them (asked when the device is logged in; offline, the mark alone).
void ShowConflictedFields(Context& ctx, const Record& r) {
  std::string url = ctx.store->Setting("server_url");
  if (url.empty() || ctx.store->Setting("token").empty()) return;
  HttpOptions options = ctx.QuickHttp();
  options.max_attempts = 1;
  HttpClient http(url, options);
  SyncClient sc(*ctx.store, http);
  std::vector<SyncClient::ConflictField> fields;
  if (!sc.FetchConflicts(r.id, &fields).ok()) {
    ctx.out << ctx.T("  (không hỏi được máy chủ các trường xung đột; thử lại khi có mạng)\n",
                     "  (could not ask the server which fields are in conflict; try again online)\n");
    return;
  }
  const FormSchema* schema = ctx.store->catalog().Shown(r.form, r.fields);
  ctx.out << ctx.T("Trường xung đột (chờ quản trị viên chọn):\n", "Fields in conflict (an administrator will choose):\n");
  for (const auto& c : fields) {
    const FieldDef* f = schema ? schema->Field(c.field) : nullptr;
    ctx.out << "  " << (f ? f->label.In(ctx.lang) : c.field) << ": " << DisplayJson(f, c.current, ctx.lang) << " ("
            << c.current_by << ")  ↔  " << DisplayJson(f, c.incoming, ctx.lang) << " (" << c.incoming_by << ")\n";
  }
}

int Show(Context& ctx) {
  std::string id;
  Record r;
  Status s = ctx.TargetRecord(&id, &r);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.a.Has("--with-files") && r.fields.has("photos")) {
    // Fetch the record's photos that are not on this device yet (online).
    std::string url;
    s = ctx.NeedServer(&url);
    HttpClient http(url, ctx.QuickHttp());
    SyncClient sc(*ctx.store, http);
    auto photos = r.fields.getArray("photos");
    for (size_t i = 0; s.ok() && i < photos->size(); ++i) {
      std::string sha = photos->getObject(static_cast<unsigned>(i))->getValue<std::string>("sha256");
      if (!ctx.store->HasFile(sha)) s = sc.FetchFile(sha);
      if (s.ok() && !ctx.as_json) ctx.err << ctx.store->FilePath(sha) << "\n";
    }
    if (!s.ok()) return ctx.Fail(s);
  }
  ctx.PrintRecord(r);
  if (r.conflict && !ctx.as_json) ShowConflictedFields(ctx, r);
  return 0;
}

// --status as a code ("draft") or as the label the list shows ("Nháp", "nhap",
// "Draft"): the code, or a usage error that names the choices.
std::string StatusOption(Context& ctx, const FormCatalog& catalog, const std::string& form, const std::string& given) {
  if (given.empty()) return "";
  std::vector<std::string> statuses;
  for (const auto& name : form.empty() ? catalog.Names() : std::vector<std::string>{form})
    if (const FormSchema* schema = catalog.Find(name))
      for (const auto& st : schema->statuses)
        if (std::find(statuses.begin(), statuses.end(), st) == statuses.end()) statuses.push_back(st);
  std::string folded = text::Fold(given);
  for (const auto& st : statuses) {
    const Label& label = msg::StatusName(st);
    if (text::Fold(st) == folded || text::Fold(label.vi) == folded || text::Fold(label.en) == folded) return st;
  }
  std::string choices;
  for (const auto& st : statuses) choices += (choices.empty() ? "" : ", ") + msg::StatusName(st, ctx.lang) + " (" + st + ")";
  throw UsageError("--status: no status '" + given + "'" + (form.empty() ? "" : " for " + form) + " (choose " + choices + ")");
}

int List(Context& ctx) {
  if (ctx.a.positional.size() > 1) throw UsageError("list takes at most one FORM");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  ListQuery q;
  if (!ctx.a.positional.empty()) q.form = ctx.a.positional[0];
  if (!q.form.empty() && !ctx.store->catalog().Find(q.form)) return ctx.Fail(UnknownForm(q.form));
  q.search = ctx.a.Get("--search");
  q.status = StatusOption(ctx, ctx.store->catalog(), q.form, ctx.a.Get("--status"));
  q.conflicts_only = ctx.a.Has("--conflicts");
  q.include_deleted = ctx.a.Has("--deleted");
  std::string limit = ctx.a.Get("--limit", "0");
  char* end = nullptr;
  long n = std::strtol(limit.c_str(), &end, 10);
  if (*end || n < 0 || n > 10000000) throw UsageError("--limit must be a non-negative number");
  q.limit = static_cast<int>(n);
  std::vector<Record> rows;
  s = ctx.store->List(q, &rows);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    ctx.out << "[";
    for (size_t i = 0; i < rows.size(); ++i) ctx.out << (i ? "," : "") << json::ToText(*RecordToJson(rows[i]));
    ctx.out << "]\n";
    return 0;
  }
  for (const auto& r : rows) {
    std::string title = RecordTitle(*ctx.store, r, ctx.lang);
    ctx.out << r.id << "  " << std::left << std::setw(12) << r.form << " " << std::setw(14) << msg::StatusName(r.status(), ctx.lang) << " "
         << title << (r.conflict ? ctx.T("  [xung đột]", "  [conflict]") : "") << (r.deleted ? ctx.T("  [đã xoá]", "  [deleted]") : "")
         << (r.pending ? " *" : "") << "\n";
  }
  // The legend only when a row carries the mark.
  bool any_pending = std::any_of(rows.begin(), rows.end(), [](const Record& r) { return r.pending; });
  ctx.out << rows.size() << ctx.T(" phiếu", " records") << (any_pending ? ctx.T(" (* chưa đồng bộ)", " (* not yet synced)") : "")
          << "\n";
  return 0;
}

// A history entry's kind in words (the server's audit kinds and the device's own).
std::string ChangeKindText(const Context& ctx, const std::string& kind) {
  if (kind == "create") return ctx.T("tạo phiếu", "created");
  if (kind == "update" || kind == "apply") return ctx.T("sửa", "edited");
  if (kind == "delete") return ctx.T("xoá", "deleted");
  if (kind == "conflict") return ctx.T("xung đột", "conflict");
  if (kind == "resolve") return ctx.T("xử lý xung đột", "conflict resolved");
  if (kind == "local") return ctx.T("ghi trên máy này", "recorded on this device");
  return kind;
}

int History(Context& ctx) {
  std::string id;
  Status s = ctx.TargetRecord(&id);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.a.Given("--server") || ctx.a.Given("--ca")) {  // kept for this and later commands
    std::string url;
    s = ctx.NeedServer(&url);
    if (!s.ok()) return ctx.Fail(s);
  }
  std::string note;
  if (!ctx.a.Has("--local") && !ctx.store->Setting("token").empty() && !ctx.store->Setting("server_url").empty()) {
    HttpClient http(ctx.store->Setting("server_url"), ctx.QuickHttp());
    SyncClient sc(*ctx.store, http);
    Status fs = sc.FetchHistory(id);
    if (!fs.ok()) note = ctx.T("(không lấy được lịch sử từ máy chủ: ", "(could not fetch the server's history: ") + fs.message() + ")";
  }
  std::vector<HistoryEntry> entries;
  s = ctx.store->History(id, &entries);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    json::Array arr;
    for (const auto& e : entries) {
      arr.add(HistoryEntryToJson(e));
    }
    ctx.out << json::ToText(Var(json::Array::Ptr(new json::Array(arr)))) << "\n";
    return 0;
  }
  if (!note.empty()) ctx.err << note << "\n";
  // In words: when in Vietnam's time, who, what kind of change, and each
  // field by its label with its values as the record shows them.
  const FormSchema* schema = nullptr;
  Record r;
  if (ctx.store->Get(id, &r).ok()) schema = ctx.store->catalog().Shown(r.form, r.fields);
  // Within a change, fields in the form's order.
  auto position = [&](const std::string& key) {
    if (schema)
      for (size_t i = 0; i < schema->fields.size(); ++i)
        if (schema->fields[i].key == key) return i;
    return std::numeric_limits<size_t>::max();
  };
  for (size_t begin = 0; begin < entries.size();) {
    size_t end = begin;
    while (end < entries.size() && entries[end].change_id == entries[begin].change_id) ++end;
    std::stable_sort(entries.begin() + static_cast<long>(begin), entries.begin() + static_cast<long>(end),
                     [&](const HistoryEntry& a, const HistoryEntry& b) { return position(a.field) < position(b.field); });
    begin = end;
  }
  std::string last_change;
  for (const auto& e : entries) {
    if (e.change_id != last_change) {
      std::string kind = e.origin.rfind("server:", 0) == 0 ? e.origin.substr(7) : "local";
      ctx.out << dates::TimestampToDisplay(e.at) << "  " << ChangeKindText(ctx, kind);
      if (kind != "local") {
        std::string device = e.device == ctx.store->device_id() ? ctx.T("máy này", "this device")
                                                                : ctx.T("máy ", "device ") + e.device.substr(0, 8);
        ctx.out << "  " << (e.author.empty() ? "—" : e.author) << " (" << device << ")";
      }
      ctx.out << "\n";
      last_change = e.change_id;
    }
    const FieldDef* f = schema ? schema->Field(e.field) : nullptr;
    ctx.out << "    " << (f ? f->label.In(ctx.lang) : e.field) << ": " << DisplayJson(f, e.old_value, ctx.lang) << " → "
            << DisplayJson(f, e.new_value, ctx.lang) << "\n";
  }
  return 0;
}

int Forms(Context& ctx) {
  // The forms this device holds (the built-in ones and those the server
  // published); before `ocop init`, the built-in ones.
  const FormCatalog& cat = ctx.OpenStore().ok() ? ctx.store->catalog() : FormCatalog::Embedded();
  std::vector<std::string> names = ctx.a.positional.empty() ? cat.Names() : ctx.a.positional;
  for (const auto& n : names) {
    const FormSchema* s = cat.Find(n);
    if (!s) return ctx.Fail(UnknownForm(n));
    ctx.out << s->form << " (v" << s->version << "): " << s->label.In(ctx.lang) << "\n";
    // One line a field; a list field's row keys below it, indented.
    auto line = [&](const FieldDef& f, const char* indent) {
      ctx.out << indent << std::left << std::setw(static_cast<int>(30 - std::string(indent).size())) << f.key
              << std::setw(12) << FieldTypeName(f.type) << (f.required ? "* " : "  ") << f.label.In(ctx.lang);
      if (f.system) ctx.out << ctx.T(" [hệ thống]", " [system]");
      if (f.computed) ctx.out << ctx.T(" [tự tính]", " [computed]");
      if (!f.choices.empty() && f.key != "status") {
        ctx.out << " {";
        for (size_t i = 0; i < f.choices.size(); ++i) ctx.out << (i ? ", " : "") << f.choices[i].value;
        ctx.out << "}";
      }
      ctx.out << "\n";
    };
    for (const auto& f : s->fields) {
      if (f.hidden) continue;
      line(f, "  ");
      for (const auto& sub : f.item_fields) line(sub, "      ");
    }
  }
  return 0;
}

int Attach(Context& ctx) {
  if (ctx.a.positional.size() != 2) throw UsageError("attach needs a record ID and a FILE");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  std::string id;
  s = ctx.ResolveId(ctx.a.positional[0], &id);
  if (!s.ok()) return ctx.Fail(s);
  const std::string& path = ctx.a.positional[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) return ctx.Fail(Status::Invalid("cannot read " + path));
  in.seekg(0, std::ios::end);
  auto size = static_cast<int64_t>(in.tellg());
  const int64_t kMax = 20 * 1024 * 1024;
  if (size > kMax) return ctx.Fail(Status(Code::kPayloadTooLarge, path + " is larger than 20 MB"));
  in.seekg(0);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), size);
  std::string caption = ctx.a.Get("--caption");
  if (!text::IsValidUtf8(caption)) return ctx.Fail(Status::Invalid("--caption is not valid UTF-8"));
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (!text::IsValidUtf8(name)) name.clear();
  std::string sha;
  Record r;
  s = ctx.store->Attach(id, bytes, name, text::ToNfc(caption), &sha, &r);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << "{\"id\":" << json::Quote(id) << ",\"sha256\":" << json::Quote(sha) << ",\"size\":" << size << "}\n";
  else ctx.out << ctx.T("Đã đính kèm ", "Attached ") << name << " (" << ctx.Bytes(size) << ") "
            << ctx.T("— sẽ gửi khi đồng bộ\n", "— sent at the next sync\n");
  return 0;
}

}  // namespace

const std::vector<Command>& RecordCommands() {
  static const std::vector<Command> commands = {
      {"init", "--commune CODE [--server URL] [--ca FILE] [--units FILE.csv]",
       "tạo kho dữ liệu của thiết bị cho một xã (hoặc đơn vị của điều phối viên)",
       "create this device's store for a commune (or a coordinator's unit)",
       "Tạo kho dữ liệu trong --home. Danh mục đơn vị lấy từ --units FILE.csv, nếu không thì từ máy chủ\n"
       "(--server) khi nó trả lời, nếu không thì danh mục mẫu (Vĩnh Phúc). Điều phối viên huyện cho mã huyện.",
       "Creates the store in --home. The unit list comes from --units FILE.csv, else from the server\n"
       "(--server) when it answers, else the built-in sample (Vĩnh Phúc). A district coordinator gives the district's code.",
       WithServerOptions({{"--commune", "CODE", "mã xã (xem ocop units)", "the commune's code (see ocop units)"},
                          {"--units", "FILE.csv", "danh mục đơn vị: code,name,level,parent", "a unit list: code,name,level,parent"}}),
       {"ocop init --commune 08800 --server https://ocop.vinhphuc.gov.vn"},
       Init},
      {"units", "[--refresh]", "các đơn vị hành chính thiết bị biết", "the administrative units this device knows",
       "Trước khi init: danh mục mẫu. --refresh lấy danh mục mới của máy chủ.",
       "Before init: the sample list. --refresh fetches the server's current list.",
       WithServerOptions({{"--refresh", nullptr, "lấy danh mục từ máy chủ", "fetch the list from the server"}}),
       {"ocop units", "ocop units --refresh"},
       Units},
      {"new", "FORM [--set KEY=VALUE]... [--from FILE|-] [--unit COMMUNE] [--interactive]",
       "ghi một phiếu mới (idea, confirmation, visit, plan, ...)", "record a new form (idea, confirmation, visit, plan, ...)",
       "FORM là tên biểu mẫu (xem ocop forms). Giá trị cho theo từng trường bằng --set KEY=VALUE, hoặc cả phiếu\n"
       "bằng --from FILE (một đối tượng JSON {\"KEY\": giá trị, ...}; - là đầu vào chuẩn); --set ghi đè --from.\n"
       "Trên một terminal, không cho giá trị nào thì chương trình hỏi từng trường bằng tiếng Việt.\n"
       "Giá trị: số viết kiểu Việt Nam, dấu chấm hàng nghìn và dấu phẩy thập phân (1.500.000; 2.000 là hai nghìn;\n"
       "2,5); ngày dd/mm/yyyy; có/không; lựa chọn theo mã, số thứ tự hoặc nhãn; nhiều lựa chọn cách nhau bằng dấu phẩy.\n"
       "Trường danh sách (ví dụ materials của phiếu xác nhận) là một mảng JSON các đối tượng:\n"
       "  --set 'materials=[{\"name\":\"Chè búp\",\"unit\":\"kg\",\"quantity\":1200,\"value_vnd\":60000000,\n"
       "                     \"local_value_vnd\":54000000,\"origin\":\"commune\"}]'\n"
       "(các khoá của mỗi dòng và lựa chọn của origin: ocop forms confirmation).\n"
       "Phiếu sai bị từ chối với lý do, không lưu gì (mã thoát 3).",
       "FORM is a form's name (see ocop forms). Give values field by field with --set KEY=VALUE, or the whole form\n"
       "with --from FILE (one JSON object {\"KEY\": value, ...}; - reads standard input); --set overrides --from.\n"
       "On a terminal, with no values given, it asks field by field.\n"
       "Values: numbers as Vietnamese writes them, dots for thousands and a decimal comma (1.500.000; 2.000 is two\n"
       "thousand; 2,5); dates dd/mm/yyyy; yes/no (có/không); a choice by its code, its number or its label; several\n"
       "choices separated by commas.\n"
       "A list field (the materials of a confirmation, say) is a JSON array of objects:\n"
       "  --set 'materials=[{\"name\":\"Chè búp\",\"unit\":\"kg\",\"quantity\":1200,\"value_vnd\":60000000,\n"
       "                     \"local_value_vnd\":54000000,\"origin\":\"commune\"}]'\n"
       "(each row's keys and the choices of origin: ocop forms confirmation).\n"
       "An invalid form is refused with the reason and nothing is stored (exit code 3).",
       {{"--set", "KEY=VALUE", "giá trị một trường (lặp lại được)", "one field's value (repeatable)"},
        {"--from", "FILE|-", "các trường từ một tệp JSON (- : đầu vào chuẩn)", "fields from a JSON file (-: standard input)"},
        {"--unit", "COMMUNE", "xã của phiếu, trên thiết bị của điều phối viên", "the form's commune, on a coordinator's device"},
        {"--interactive", nullptr, "hỏi từng trường cả khi đã cho --set", "ask field by field even after --set"}},
       {"ocop new idea --set subject_name=\"HTX Ổi Đôn Nhân\" --set subject_kind=cooperative --set product_name=\"Ổi Đôn Nhân\" "
        "--set product_group=1 --set description=\"Ổi giòn\"",
        "ocop new confirmation --from xac-nhan.json"},
       New},
      {"edit", "ID --set KEY=VALUE... [--from FILE|-]", "sửa các trường của một phiếu", "change fields of a record",
       "KEY= (không có giá trị) xoá trường. Giá trị viết như với ocop new.",
       "KEY= (no value) clears the field. Values are written as for ocop new.",
       {{"--set", "KEY=VALUE", "giá trị mới của một trường (lặp lại được)", "a field's new value (repeatable)"},
        {"--from", "FILE|-", "các trường từ một tệp JSON", "fields from a JSON file"}},
       {"ocop edit 0193a2b4 --set phone=0912345678"},
       Edit},
      {"delete", "ID [--yes]", "xoá một phiếu (đồng bộ như một bản xoá)", "delete a record (synced as a tombstone)",
       "Phiếu không còn là nháp (đã tiếp nhận, có số phiếu, đã quyết định) được hỏi lại trước khi xoá;\nkhông có bàn phím (script) thì cần --yes.",
       "A form that is no longer a draft (received, numbered, decided) is asked about first;\nwith no keyboard (a script) it needs --yes.",
       {{"--yes", nullptr, "xoá không hỏi lại", "delete without asking"}},
       {"ocop delete 0193a2b4", "ocop delete 0193a2b4 --yes"}, Delete},
      {"show", "ID [--with-files]", "xem một phiếu", "show one record",
       "ID có thể rút gọn thành tiền tố duy nhất (ít nhất 8 ký tự). --with-files tải các ảnh của phiếu còn thiếu.",
       "The ID may be shortened to a unique prefix (8 characters or more). --with-files fetches its missing photos.",
       WithServerOptions({{"--with-files", nullptr, "tải ảnh của phiếu từ máy chủ", "fetch the record's photos from the server"}}),
       {"ocop show 0193a2b4", "ocop --lang en show 0193a2b4 --json"},
       Show},
      {"list", "[FORM] [--search TEXT] [--status S] [--conflicts] [--deleted] [--limit N]", "liệt kê phiếu",
       "list records", "Tìm kiếm không phân biệt hoa thường và dấu: \"dong nhan\" tìm thấy \"Đôn Nhân\". * : chưa đồng bộ.",
       "Search ignores case and accents: \"dong nhan\" finds \"Đôn Nhân\". *: not yet synced.",
       {{"--search", "TEXT", "tìm trong tên, sản phẩm, chủ thể", "search names, products, subjects"},
        {"--status", "S", "chỉ phiếu ở trạng thái S", "only records in status S"},
        {"--conflicts", nullptr, "chỉ phiếu đang xung đột", "only records in conflict"},
        {"--deleted", nullptr, "cả phiếu đã xoá", "include deleted records"},
        {"--limit", "N", "nhiều nhất N phiếu", "at most N records"}},
       {"ocop list idea --search \"dong nhan\"", "ocop list --conflicts"},
       List},
      {"history", "ID [--local]", "mọi thay đổi của một phiếu: ai, khi nào, thiết bị, cũ → mới",
       "every change of a record: who, when, device, old -> new",
       "Khi đã đăng nhập, lấy lịch sử đầy đủ từ máy chủ; --local chỉ xem lịch sử trên thiết bị.",
       "When logged in, fetches the full history from the server; --local shows this device's only.",
       WithServerOptions({{"--local", nullptr, "không hỏi máy chủ", "do not ask the server"}}),
       {"ocop history 0193a2b4"},
       History},
      {"forms", "[FORM]", "các trường của mỗi biểu mẫu: khoá, kiểu, bắt buộc (*), lựa chọn",
       "the fields of each form: key, type, required (*), choices", "", "", {}, {"ocop forms idea"}, Forms},
      {"attach", "ID FILE [--caption TEXT]", "đính kèm ảnh vào một phiếu thăm (không cần mạng)",
       "attach a photo to a site visit (offline)",
       "Ảnh được lưu trên thiết bị và gửi lên ở lần đồng bộ tới, tiếp tục từ chỗ dừng nếu mất kết nối. Tối đa 20 MB.",
       "The photo is kept on the device and uploaded at the next sync, resuming where a dropped link left it. At most 20 MB.",
       {{"--caption", "TEXT", "chú thích ảnh", "the photo's caption"}},
       {"ocop attach 0193a2b4 xuong.jpg --caption \"Xưởng chế biến\""},
       Attach},
  };
  return commands;
}

}  // namespace ocop::client::cli
