// Administrators' conflict queue, on the server.
#include <iostream>
#include <map>

#include "client/cli/command.h"
#include "client/http_client.h"
#include "shared/forms.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

int Conflicts(Context& ctx) {
  if (ctx.a.positional.empty()) throw UsageError("conflicts needs list, show ID or resolve ID");
  std::string sub = ctx.a.positional[0];
  std::string url;
  Status s = ctx.NeedServer(&url);
  if (!s.ok()) return ctx.Fail(s);
  std::string token = ctx.store->Setting("token");
  if (token.empty()) return ctx.Fail(Status::Unauth("not logged in: run `ocop login --user NAME` first"));
  HttpClient http(url, ctx.QuickHttp());
  http.set_token(token);
  std::string resp;
  if (sub == "list") {
    if (ctx.a.positional.size() != 1) throw UsageError("conflicts list takes no argument");
    s = http.Call("GET", "/v1/conflicts", "", &resp);
    if (!s.ok()) return ctx.Fail(s);
    if (ctx.as_json) {
      ctx.out << resp << "\n";
      return 0;
    }
    Object::Ptr o;
    if (!json::ParseObject(resp, &o).ok()) return ctx.Fail(Status::Unavailable("unreadable answer"));
    auto arr = o->getArray("conflicts");
    // One line a record: its short id (to type), form, commune, title, and the fields by label.
    std::map<std::string, std::vector<std::string>> by_record;
    std::map<std::string, std::string> about;
    for (size_t i = 0; i < arr->size(); ++i) {
      auto c = arr->getObject(static_cast<unsigned>(i));
      std::string rid = c->getValue<std::string>("record_id");
      std::string form, label = c->getValue<std::string>("field");
      if (c->has("record")) {
        auto r = c->getObject("record");
        form = r->optValue<std::string>("form", "");
        const FormSchema* schema = FormCatalog::Default().Find(form);
        if (!about.count(rid))
          about[rid] = (schema ? schema->label.In(ctx.lang) : form) + " · " + r->optValue<std::string>("unit_name", "") + " · " +
                       r->optValue<std::string>(ctx.lang == "en" ? "title_en" : "title", "");
        const FieldDef* f = schema ? schema->Field(label) : nullptr;
        if (f) label = f->label.In(ctx.lang);
      }
      by_record[rid].push_back(label);
    }
    for (const auto& [rid, fields] : by_record) {
      ctx.out << rid.substr(0, 8) << "  " << about[rid] << "\n    " << ctx.T("trường xung đột: ", "fields in conflict: ");
      for (size_t i = 0; i < fields.size(); ++i) ctx.out << (i ? ", " : "") << fields[i];
      ctx.out << "\n";
    }
    ctx.out << by_record.size() << ctx.T(" phiếu đang xung đột (ocop conflicts show ID)\n", " records in conflict (ocop conflicts show ID)\n");
    return 0;
  }
  if (ctx.a.positional.size() != 2) throw UsageError("conflicts " + sub + " needs a record ID");
  std::string id = ctx.a.positional[1];
  if (id.size() != 36) {
    s = ctx.ResolveId(id, &id);
    if (!s.ok()) return ctx.Fail(s);
  }
  if (sub == "show") {
    s = http.Call("GET", "/v1/conflicts/" + id, "", &resp);
    if (!s.ok()) return ctx.Fail(s);
    if (ctx.as_json) {
      ctx.out << resp << "\n";
      return 0;
    }
    Object::Ptr o;
    if (!json::ParseObject(resp, &o).ok()) return ctx.Fail(Status::Unavailable("unreadable answer"));
    const FormSchema* schema = FormCatalog::Default().Find(o->getValue<std::string>("form"));
    ctx.out << (schema ? schema->label.In(ctx.lang) : o->getValue<std::string>("form")) << " «"
            << o->optValue<std::string>("title", "") << "» · " << o->optValue<std::string>("unit_name", o->getValue<std::string>("unit"))
            << "\n  id: " << id << "\n";
    auto arr = o->getArray("conflicts");
    for (size_t i = 0; i < arr->size(); ++i) {
      auto c = arr->getObject(static_cast<unsigned>(i));
      auto cur = c->getObject("current_by"), inc = c->getObject("incoming_by");
      std::string key = c->getValue<std::string>("field");
      const FieldDef* f = schema ? schema->Field(key) : nullptr;
      auto shown = [&](const char* which) { return DisplayJson(f, c->getValue<std::string>(which), ctx.lang); };
      ctx.out << "  " << (f ? f->label.In(ctx.lang) : key) << " (" << key << ")\n"
           << "    " << ctx.T("trước đó  ", "before    ") << shown("base") << "\n"
           << "    " << ctx.T("hiện tại  ", "current   ") << shown("current") << "   (" << cur->getValue<std::string>("author") << ")\n"
           << "    " << ctx.T("gửi đến   ", "incoming  ") << shown("incoming") << "   (" << inc->getValue<std::string>("author")
           << ctx.T(", máy ", ", device ") << inc->getValue<std::string>("device").substr(0, 8) << ")\n";
    }
    return 0;
  }
  if (sub == "resolve") {
    json::Array::Ptr decisions = new json::Array;
    for (const auto& kv : ctx.a.All("--take")) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) throw UsageError("--take needs FIELD=current|incoming");
      Object::Ptr d = new Object;
      d->set("field", kv.substr(0, eq));
      d->set("take", kv.substr(eq + 1));
      decisions->add(d);
    }
    for (const auto& kv : ctx.a.All("--set")) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) throw UsageError("--set needs FIELD=VALUE");
      std::string field = kv.substr(0, eq), value = kv.substr(eq + 1);
      Var v;
      Record r;
      if (ctx.store->Get(id, &r).ok()) {
        const FormSchema* schema = ctx.store->catalog().Shown(r.form, r.fields);
        const FieldDef* f = schema ? schema->Field(field) : nullptr;
        if (f) {
          s = ParseInput(*f, value, &v);
          if (!s.ok()) return ctx.Fail(s);
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
    if (!s.ok()) return ctx.Fail(s);
    if (ctx.as_json) ctx.out << resp << "\n";
    else ctx.out << ctx.T("Đã xử lý xung đột của ", "Resolved the conflict of ") << id << ctx.T(" (đồng bộ để nhận kết quả)\n", " (sync to receive it)\n");
    return 0;
  }
  throw UsageError("conflicts needs list, show ID or resolve ID");
}

}  // namespace

const std::vector<Command>& ConflictCommands() {
  static const std::vector<Command> commands = {
      {"conflicts", "list | show ID | resolve ID [--take FIELD=current|incoming]... [--set FIELD=VALUE]...",
       "(quản trị viên) các xung đột đang chờ xử lý", "(administrators) the conflicts waiting to be resolved",
       "resolve giữ giá trị hiện tại (current) hoặc giá trị gửi đến (incoming) của từng trường, hoặc đặt giá trị\n"
       "mới bằng --set. Kết quả đến các thiết bị ở lần đồng bộ tới.",
       "resolve keeps each field's current or incoming value, or sets a new one with --set. Devices receive\n"
       "the result at their next sync.",
       WithServerOptions({{"--take", "FIELD=SIDE", "giữ current hoặc incoming cho trường", "keep current or incoming for a field"},
                          {"--set", "FIELD=VALUE", "đặt giá trị mới cho trường", "set a new value for a field"}}),
       {"ocop conflicts list", "ocop conflicts resolve 0193a2b4 --take product_name=incoming"},
       Conflicts, true},
  };
  return commands;
}

}  // namespace ocop::client::cli
