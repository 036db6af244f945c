#include "server/http/console_api.h"

#include "shared/messages.h"

#include <map>

#include "server/http/api_handler.h"
#include "shared/dates.h"
#include "shared/embedded.h"
#include "shared/receipt.h"
#include "shared/web/pages.h"

namespace ocop::server {

namespace console_assets {
const std::vector<embedded::File>& Files();  // generated from server/console/
}

namespace {

using http::ApiHandler;
using http::AuthedApiHandler;
using http::HTTPServerRequest;
using http::HTTPServerResponse;
using json::Array;
using json::Object;

// Console sessions are shorter than a device's: the page is used at a desk,
// often a shared one.
constexpr int64_t kConsoleSessionMs = 12LL * 3600 * 1000;
constexpr size_t kMaxUnitListBytes = 8 * 1024 * 1024;
constexpr size_t kMaxFormBytes = 1024 * 1024;
constexpr size_t kMaxSpreadsheetBytes = 16 * 1024 * 1024;  // a province's list of ideas is far smaller

std::string QueryParam(const HTTPServerRequest& req, const std::string& key) {
  for (const auto& [k, v] : Poco::URI(req.getURI()).getQueryParameters())
    if (k == key) return v;
  return "";
}

Status QueryInt(const HTTPServerRequest& req, const std::string& key, int min, int max, int* out) {
  std::string v = QueryParam(req, key);
  if (v.empty()) return Status::Ok();
  if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < min ||
      std::stoi(v) > max)
    return Status::Invalid("?" + key + "= must be a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max));
  *out = std::stoi(v);
  return Status::Ok();
}

std::string UnitName(const UnitTree& units, const std::string& code) {
  const Unit* u = units.Find(code);
  return u ? u->name : code;
}

Object::Ptr UnitJson(const Unit& u) {
  Object::Ptr o = new Object;
  o->set("code", u.code);
  o->set("name", u.name);
  o->set("level", u.level);
  o->set("parent", u.parent);
  if (!u.valid_to.empty()) o->set("valid_to", u.valid_to);
  if (!u.succeeded_by.empty()) o->set("succeeded_by", u.succeeded_by);
  return o;
}

// `root` and every unit below it, in tree order (each unit before its children).
Array::Ptr ScopeUnits(const UnitTree& units, const std::string& root) {
  std::map<std::string, std::vector<const Unit*>> children;  // one pass: the tree may hold ~10,000 units
  for (const auto& [code, unit] : units.all()) children[unit.parent].push_back(&unit);
  Array::Ptr out = new Array;
  std::vector<const Unit*> stack;
  if (const Unit* u = units.Find(root)) stack.push_back(u);
  while (!stack.empty()) {
    const Unit* u = stack.back();
    stack.pop_back();
    out->add(UnitJson(*u));
    const auto& kids = children[u->code];
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

Object::Ptr RecordJson(const StoredRecord& r, const UnitTree& units) {
  Object::Ptr o = new Object;
  o->set("id", r.id);
  o->set("form", r.form);
  o->set("unit", r.unit);
  o->set("unit_name", UnitName(units, r.unit));
  Object::Ptr fields;
  if (!json::ParseObject(r.fields, &fields).ok()) fields = new Object;
  o->set("fields", fields);
  o->set("conflict", r.conflict);
  o->set("deleted", r.deleted);
  o->set("version", r.version);
  o->set("created_at", r.created_at);
  o->set("updated_at", r.updated_at);
  o->set("updated_by", r.updated_by);
  o->set("updated_device", r.updated_device);
  return o;
}

// /v1/session: POST logs in and sets the cookie, GET says who is logged in
// (and gives the page its CSRF token), DELETE logs out.
class SessionHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    const std::string& m = req.getMethod();
    if (m == "POST") return LogIn(req, resp);
    AuthUser u;
    Status s = Auth(req, &u);
    if (m == "DELETE") {
      // Without its CSRF header a logout is refused too: another site must
      // not end a session either.
      if (s.code() == Code::kPermissionDenied) return s;
      std::string session = web::ReadCookie(req, http::kSessionCookie);
      if (s.ok() && !session.empty()) s = service_.Logout(session);
      resp.set("Set-Cookie", web::SessionCookie(http::kSessionCookie, "", req.secure(), 0));
      if (!s.ok() && s.code() != Code::kUnauthenticated) return s;
      return SendOk(resp, "{}");
    }
    if (!s.ok()) return s;
    return SendOk(resp, Describe(u, web::ReadCookie(req, http::kSessionCookie)));
  }

  Status LogIn(HTTPServerRequest& req, HTTPServerResponse& resp) {
    Object::Ptr o;
    Status s = ReadObject(req, &o, http::kMaxLoginBody);
    if (!s.ok()) return s;
    std::string user, password;
    if (!(s = Member(o, "user", true, &user)).ok() || !(s = Member(o, "password", true, &password)).ok()) return s;
    LoginResult r;
    std::string address = req.clientAddress().host().toString();
    s = service_.Login(user, password, "console", &r, address, kConsoleSessionMs);
    if (s.code() == Code::kResourceExhausted) retry_after_s_ = (service_.LoginWaitMs(user, address) + 999) / 1000;
    if (!s.ok()) return s;
    resp.set("Set-Cookie", web::SessionCookie(http::kSessionCookie, r.token, req.secure(),
                                              static_cast<int>(kConsoleSessionMs / 1000)));
    AuthUser u;
    s = service_.Authenticate(r.token, &u);
    if (!s.ok()) return s;
    return SendOk(resp, Describe(u, r.token));
  }

  std::string Describe(const AuthUser& u, const std::string& session) {
    auto units = service_.Units();
    Object out;
    out.set("user", u.name);
    out.set("role", u.role);
    out.set("unit", u.unit);
    out.set("unit_name", UnitName(*units, u.unit));
    out.set("csrf", session.empty() ? "" : web::CsrfToken(session));
    return json::ToText(out);
  }
};

class FormsHandler final : public ApiHandler {
  using ApiHandler::ApiHandler;
  Status Handle(HTTPServerRequest&, HTTPServerResponse& resp) override { return SendOk(resp, web::FormsJson()); }
};

class ReviewHandler : public AuthedApiHandler {
 public:
  ReviewHandler(SyncService& s, ReviewService& r, const ApiOptions& o, ApiStats& st, std::string id = "")
      : AuthedApiHandler(s, o, st), review_(r), id_(std::move(id)) {}

 protected:
  ReviewService& review_;
  std::string id_;
};

// The weekly report of the caller's unit: ?date=dd/mm/yyyy&target=N&star_target=N&format=json|csv|html|table.
// JSON also carries the units of the scope, for drilling down the tree.
class ReportHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    int target = 0;
    Status s = QueryInt(req, "target", 0, 1000000, &target);
    if (!s.ok()) return s;
    int star_target = 0;
    s = QueryInt(req, "star_target", 0, 1000000, &star_target);
    if (!s.ok()) return s;
    std::string format = QueryParam(req, "format");
    if (!format.empty() && format != "json" && format != "csv" && format != "html" && format != "table")
      return Status::Invalid("?format= must be json, csv, html or table");
    std::string lang = QueryParam(req, "lang") == "en" ? "en" : "vi";
    report::WeeklyReport r;
    s = review_.WeeklyReport(u, QueryParam(req, "date"), target, &r);
    if (!s.ok()) return s;
    r.star_target = star_target;
    if (format == "csv") {
      web::SendText(resp, 200, "text/csv; charset=utf-8",
                    std::string(QueryParam(req, "bom") == "1" ? "\xEF\xBB\xBF" : "") + report::RenderCsv(r),
                    "ocop-report-" + r.unit + "-" + r.week_start + ".csv");
      return Status::Ok();
    }
    if (format == "table") {  // what `ocop report` prints, for a device asking about a past day
      web::SendText(resp, 200, "text/plain; charset=utf-8", report::RenderTable(r, lang));
      return Status::Ok();
    }
    if (format == "html") {
      // The page carries its own styles (it is also saved and mailed as a file).
      web::SendText(resp, 200, "text/html; charset=utf-8", report::RenderHtml(r, lang), "",
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      return Status::Ok();
    }
    Array::Ptr scope = ScopeUnits(*service_.Units(), u.unit);
    return SendOk(resp, "{\"report\":" + report::RenderJson(r) + ",\"units\":" + json::ToText(json::Var(scope)) +
                            ",\"today\":" + json::Quote(review_.Today()) + "}");
  }
};

// The units of the caller's scope (the unit list itself is public at /v1/units, as CSV).
class ScopeHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    auto units = service_.Units();
    // An officer's receipt numbers name its district: the phone app writes
    // <n> + this + <year> from the blocks its pulls reserve (shared/receipt.h).
    std::string suffix = u.role == "officer" ? ",\"receipt_suffix\":" + json::Quote(ReceiptSuffix(*units, u.unit)) : "";
    return SendOk(resp, "{\"units\":" + json::ToText(json::Var(ScopeUnits(*units, u.unit))) + suffix + "}");
  }
};

// ?q=&form=&status=&unit=&conflicts=1&limit=N
class RecordSearchHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    RecordQuery q;
    q.text = QueryParam(req, "q");
    q.form = QueryParam(req, "form");
    q.status = QueryParam(req, "status");
    q.unit = QueryParam(req, "unit");
    q.conflicts_only = QueryParam(req, "conflicts") == "1";
    Status s = QueryInt(req, "limit", 1, 1000, &q.limit);
    if (!s.ok()) return s;
    std::vector<StoredRecord> rows;
    size_t total = 0;
    s = review_.Search(u, q, &rows, &total);
    if (!s.ok()) return s;
    auto units = service_.Units();
    Array::Ptr arr = new Array;
    for (const auto& r : rows) arr->add(RecordJson(r, *units));
    Object out;
    out.set("records", arr);
    out.set("total", static_cast<int64_t>(total));
    return SendOk(resp, json::ToText(out));
  }
};

class RecordDetailHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest&, HTTPServerResponse& resp, const AuthUser& u) override {
    RecordDetail d;
    Status s = review_.Detail(u, id_, &d);
    if (!s.ok()) return s;
    Object::Ptr out = RecordJson(d.record, *service_.Units());
    Array::Ptr conflicts = new Array;
    for (const auto& c : d.open_conflicts) {
      Object::Ptr o = new Object;
      o->set("field", c.field);
      o->set("base", c.base_value);
      o->set("current", c.current_value);
      o->set("incoming", c.incoming_value);
      conflicts->add(o);
    }
    out->set("open_conflicts", conflicts);
    Array::Ptr history = new Array;
    for (const auto& a : d.history) history->add(http::AuditToJson(a));
    out->set("history", history);
    return SendOk(resp, json::ToText(*out));
  }
};

// /v1/export/FORM.csv or FORM.xlsx ?unit=&bom=1&lang=en&codes=1
class ExportHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;  // id_ is "FORM.csv" or "FORM.xlsx"
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    ReviewService::ExportOptions options;
    size_t dot = id_.rfind('.');
    options.format = dot == std::string::npos ? "" : id_.substr(dot + 1);
    if (dot == std::string::npos || dot == 0 || (options.format != "csv" && options.format != "xlsx"))
      return Status::NotFound("exports are FORM.csv or FORM.xlsx (idea.csv, visit.xlsx, …)");
    std::string form = id_.substr(0, dot);
    options.lang = QueryParam(req, "lang") == "en" ? "en" : "vi";
    options.codes = QueryParam(req, "codes") == "1";
    options.bom = QueryParam(req, "bom") == "1";
    std::string bytes;
    Status s = review_.Export(u, form, QueryParam(req, "unit"), options, &bytes);
    if (!s.ok()) return s;
    std::string unit = QueryParam(req, "unit").empty() ? u.unit : QueryParam(req, "unit");
    web::SendText(resp, 200,
                  options.format == "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                           : "text/csv; charset=utf-8",
                  bytes, "ocop-" + form + "-" + unit + "-" + review_.Today() + "." + options.format);
    return Status::Ok();
  }
};

// PATCH /v1/users/NAME {"disabled": bool, "role", "unit", "password"}: only the members given change.
class UserUpdateHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;  // id_ is the account name
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    if (!u.IsAdmin()) return Status::Denied("only administrators manage accounts");
    Object::Ptr o;
    Status s = ReadObject(req, &o);
    if (!s.ok()) return s;
    UserUpdate change;
    for (const auto& key : o->getNames())
      if (key != "disabled" && key != "role" && key != "unit" && key != "password")
        return Status::Invalid("unknown member '" + key + "' (an account change has disabled, role, unit, password)");
    for (const auto& [key, slot] : {std::pair{"role", &change.role}, {"unit", &change.unit}, {"password", &change.password}}) {
      std::string v;
      if (!(s = Member(o, key, false, &v)).ok()) return s;
      if (o->has(key)) *slot = v;
    }
    if (o->has("disabled")) {
      if (o->get("disabled").type() != typeid(bool)) return Status::Invalid("'disabled' must be true or false");
      change.disabled = o->getValue<bool>("disabled");
    }
    s = service_.UpdateUser(u, id_, change);
    if (!s.ok()) return s;
    return SendOk(resp, "{\"updated\":" + json::Quote(id_) + "}");
  }
};

Array::Ptr UnitsJson(const std::vector<Unit>& units) {
  Array::Ptr arr = new Array;
  for (const auto& u : units) arr->add(UnitJson(u));
  return arr;
}

Array::Ptr PairsJson(const std::vector<std::pair<Unit, Unit>>& pairs) {
  Array::Ptr arr = new Array;
  for (const auto& [before, after] : pairs) {
    Object::Ptr o = new Object;
    o->set("before", UnitJson(before));
    o->set("after", UnitJson(after));
    arr->add(o);
  }
  return arr;
}

// POST /v1/units/import[?apply=1] with the list as CSV: what it changes, and
// with apply=1 the change made.
class UnitImportHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    if (!u.IsAdmin()) return Status::Denied("only administrators import unit lists");
    std::string csv;
    Status s = web::ReadBody(req, kMaxUnitListBytes, &csv);
    if (!s.ok()) return s;
    // Spreadsheets save CSV with a byte-order mark; the list itself is UTF-8.
    if (csv.rfind("\xEF\xBB\xBF", 0) == 0) csv.erase(0, 3);
    bool apply = QueryParam(req, "apply") == "1";
    UnitListChange change;
    s = review_.ImportUnits(u, csv, apply, &change);
    if (!s.ok()) return s;
    Object out;
    out.set("applied", apply);
    out.set("added", UnitsJson(change.added));
    out.set("closed", UnitsJson(change.closed));
    out.set("renamed", PairsJson(change.renamed));
    out.set("moved", PairsJson(change.moved));
    out.set("unchanged", static_cast<int64_t>(change.unchanged));
    // Names for the codes the change points at (parents, successors), new ones
    // included: people read names.
    Object names;
    auto units = service_.Units();
    for (const auto& [code, unit] : units->all()) names.set(code, unit.name);
    for (const auto& unit : change.added) names.set(unit.code, unit.name);
    for (const auto& [before, after] : change.renamed) names.set(after.code, after.name);
    out.set("names", names);
    return SendOk(resp, json::ToText(out));
  }
};

// POST /v1/definitions/publish[?apply=1] with a definition file (a form
// version, a criteria sheet, catalogue corrections): whether it can be
// published over those in force and what it changes; with apply=1 it is.
class PublishHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    if (!u.IsAdmin()) return Status::Denied("only administrators publish forms");
    std::string definition;
    Status s = web::ReadBody(req, kMaxFormBytes, &definition);
    if (!s.ok()) return s;
    if (definition.rfind("\xEF\xBB\xBF", 0) == 0) definition.erase(0, 3);
    SyncService::Publication pub;
    s = service_.Publish(u.name, definition, QueryParam(req, "apply") != "1", &pub);
    if (!s.ok()) return s;
    Object out;
    out.set("published", pub.published);
    out.set("kind", pub.what.kind);
    out.set("name", pub.what.name);
    out.set("version", pub.what.version);
    out.set("label_vi", pub.what.label.vi);
    out.set("label_en", pub.what.label.en);
    out.set("previous_version", pub.previous_version);
    out.set("replaces", pub.replaces);
    Array::Ptr differences = new Array;
    for (const auto& d : pub.differences) {
      Object::Ptr o = new Object;
      o->set("kind", d.kind == FieldDifference::kAdded ? "added" : d.kind == FieldDifference::kRemoved ? "removed" : "changed");
      o->set("key", d.key);
      o->set("label_vi", d.label.vi);
      o->set("label_en", d.label.en);
      Array::Ptr what = new Array;
      for (const auto& w : d.what) what->add(w);
      o->set("what", what);
      differences->add(o);
    }
    out.set("differences", differences);
    return SendOk(resp, json::ToText(out));
  }
};

// POST /v1/import/FORM?dry_run=1&skip_bad=1 with a .csv or .xlsx body:
// records from a spreadsheet, every bad row said with its line.
class RecordImportHandler final : public ReviewHandler {
  using ReviewHandler::ReviewHandler;  // id_ is the form
  Status HandleAs(HTTPServerRequest& req, HTTPServerResponse& resp, const AuthUser& u) override {
    std::string bytes;
    Status s = web::ReadBody(req, kMaxSpreadsheetBytes, &bytes);
    if (!s.ok()) return s;
    sheet::ImportOptions options;
    options.dry_run = QueryParam(req, "dry_run") == "1";
    options.skip_bad = QueryParam(req, "skip_bad") == "1";
    sheet::ImportSummary sum;
    s = review_.ImportRecords(u, id_, bytes, options, &sum);
    if (!s.ok()) return s;
    Object out;
    out.set("rows", static_cast<int64_t>(sum.rows));
    out.set("good", static_cast<int64_t>(sum.good));
    out.set("stored", static_cast<int64_t>(sum.stored));
    Array::Ptr problems = new Array;
    for (const auto& p : sum.problems) {
      Object::Ptr o = new Object;
      o->set("line", static_cast<int64_t>(p.line));
      o->set("message", p.message);
      o->set("message_vi", msg::Localise(p.message, "vi"));
      o->set("message_en", msg::Localise(p.message, "en"));
      problems->add(o);
    }
    out.set("problems", problems);
    Array::Ptr ignored = new Array;
    for (const auto& c : sum.ignored_columns) ignored->add(c);
    out.set("ignored_columns", ignored);
    return SendOk(resp, json::ToText(out));
  }
};

}  // namespace

Poco::Net::HTTPRequestHandler* CreateConsoleHandler(const std::string& path, const std::vector<std::string>& seg,
                                                   const std::string& m,
                                                   SyncService& service, ReviewService& review,
                                                   const ApiOptions& options, ApiStats& stats) {
  using H = Poco::Net::HTTPRequestHandler;
  auto get = [&](H* h) -> H* {
    if (m == "GET") return h;
    delete h;
    return nullptr;
  };
  if (!seg.empty() && seg[0] == "console") {
    if (m != "GET") return nullptr;
    // "/console" redirects to "/console/": the page's relative links need the slash.
    auto page = [&](std::string asset) {
      return new http::PageHandler(service, options, stats, "/console/", console_assets::Files(), asset);
    };
    if (seg.size() == 1) return page(path == "/console/" ? "index.html" : "");
    if (seg.size() == 2 && seg[1] == "index.html") return page("index.html");
    if (seg.size() == 3 && seg[1] == "assets") return page(seg[2]);
    return nullptr;
  }
  if (seg.size() < 2 || seg[0] != "v1") return nullptr;
  const std::string& r = seg[1];
  if (seg.size() == 2 && r == "session" && (m == "GET" || m == "POST" || m == "DELETE"))
    return new SessionHandler(service, options, stats);
  if (seg.size() == 2 && r == "forms") return get(new FormsHandler(service, options, stats));
  if (seg.size() == 2 && r == "report") return get(new ReportHandler(service, review, options, stats));
  if (seg.size() == 2 && r == "scope") return get(new ScopeHandler(service, review, options, stats));
  if (seg.size() == 2 && r == "records") return get(new RecordSearchHandler(service, review, options, stats));
  if (seg.size() == 3 && r == "records") return get(new RecordDetailHandler(service, review, options, stats, seg[2]));
  if (seg.size() == 3 && r == "export") return get(new ExportHandler(service, review, options, stats, seg[2]));
  if (seg.size() == 3 && r == "import" && m == "POST") return new RecordImportHandler(service, review, options, stats, seg[2]);
  if (seg.size() == 3 && r == "users" && m == "PATCH") return new UserUpdateHandler(service, review, options, stats, seg[2]);
  if (seg.size() == 3 && r == "definitions" && seg[2] == "publish" && m == "POST")
    return new PublishHandler(service, review, options, stats);
  if (seg.size() == 3 && r == "units" && seg[2] == "import" && m == "POST")
    return new UnitImportHandler(service, review, options, stats);
  return nullptr;
}

}  // namespace ocop::server
