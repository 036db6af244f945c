#include "client/ui/ui_server.h"

#include "shared/media.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/local_store.h"
#include "client/officer_actions.h"
#include "client/report.h"
#include "client/sync_client.h"
#include "client/typed_fields.h"
#include "shared/dates.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "shared/web/pages.h"

namespace ocop::client {

namespace ui_assets {
const std::vector<embedded::File>& Files();  // client/ui/, generated (cmake/ocop_embed.cmake)
}

using json::Array;
using json::Object;
using json::Var;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  try {
    return Poco::Net::IPAddress(host).isLoopback();
  } catch (const Poco::Exception&) {
    return false;
  }
}

namespace {

constexpr const char* kCookie = "ocop_ui";
constexpr size_t kMaxJsonBody = 4 * 1024 * 1024;
constexpr size_t kMaxPhoto = 20 * 1024 * 1024;
constexpr int kSessionSeconds = 12 * 3600;
constexpr int kMaxSessions = 64;

// A sync started from the screens, run on its own thread with its own store
// connection; the screens poll its progress.
struct SyncRun {
  std::mutex mu;
  bool running = false;
  bool finished = false;
  SyncProgress progress;
  Object summary;
  std::atomic<bool> stop{false};
  std::thread thread;
};

}  // namespace

struct UiServer::Impl {
  UiOptions options;
  std::mutex store_mu;  // LocalStore is not thread-safe; request threads take turns
  std::unique_ptr<LocalStore> store;
  std::unique_ptr<Poco::Net::HTTPServer> http;
  int port = 0;
  bool loopback = true;
  std::string local_secret;  // loopback: the page's cookie, set when it loads
  std::mutex sessions_mu;
  std::map<std::string, std::chrono::steady_clock::time_point> sessions;  // password mode
  std::atomic<int> failed_logins{0};
  SyncRun sync;

  bool SessionValid(const std::string& secret) {
    if (secret.empty()) return false;
    if (loopback) return secret == local_secret;
    std::lock_guard<std::mutex> lock(sessions_mu);
    auto it = sessions.find(secret);
    if (it == sessions.end()) return false;
    if (std::chrono::steady_clock::now() > it->second) {
      sessions.erase(it);
      return false;
    }
    return true;
  }

  std::string NewSession() {
    std::string s = web::RandomHex(32);
    std::lock_guard<std::mutex> lock(sessions_mu);
    auto now = std::chrono::steady_clock::now();
    for (auto it = sessions.begin(); it != sessions.end();)
      it = now > it->second ? sessions.erase(it) : std::next(it);
    if (sessions.size() >= kMaxSessions) sessions.erase(sessions.begin());
    sessions[s] = now + std::chrono::seconds(kSessionSeconds);
    return s;
  }

  bool SyncRunning() {
    std::lock_guard<std::mutex> lock(sync.mu);
    return sync.running;
  }
};

namespace {

// ---- reading what the page sent ----

Status ParseBody(HTTPServerRequest& req, Object::Ptr* out) {
  std::string body;
  Status s = web::ReadBody(req, kMaxJsonBody, &body);
  if (!s.ok()) return s;
  if (!text::IsValidUtf8(body)) return Status::Invalid("the body is not valid UTF-8");
  s = json::CheckNesting(body, 16, false);
  if (!s.ok()) return s;
  return json::ParseObject(body, out);
}

std::string Str(const Object::Ptr& o, const std::string& key) {
  if (!o->has(key) || o->get(key).isEmpty()) return "";
  Var v = o->get(key);
  return v.isString() ? v.extract<std::string>() : v.convert<std::string>();
}

Object::Ptr ScoreJson(const Object& fields) {
  Object with(fields);
  ApplyComputedFields("confirmation", &with);
  LocalisationScore score = ScoreLocalisation(with, LocalisationTable::Default());
  Object::Ptr o = new Object;
  o->set("labour_ratio", score.labour_ratio ? Var(*score.labour_ratio) : Var());
  o->set("material_ratio", score.material_ratio ? Var(*score.material_ratio) : Var());
  o->set("labour_points", score.labour_points);
  o->set("material_points", score.material_points);
  o->set("rankable", score.rankable);
  o->set("reason", score.reason);
  const LocalisationTable& table = LocalisationTable::Default();
  std::string band_vi, band_en;
  if (score.material_ratio)
    for (const auto& b : table.material_bands)
      if (*score.material_ratio >= b.min_ratio && *score.material_ratio < b.max_ratio) band_vi = b.label.vi, band_en = b.label.en;
  Object::Ptr band = new Object;
  band->set("vi", band_vi);
  band->set("en", band_en);
  o->set("material_band", band);
  o->set("labour_min_ratio", table.labour_min_ratio);
  return o;
}

Object::Ptr LabelJson(const Label& l) {
  Object::Ptr o = new Object;
  o->set("vi", l.vi);
  o->set("en", l.en);
  return o;
}


// ---- the request handler: one per request, routes on method and path ----

class UiHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit UiHandler(UiServer::Impl& app) : app_(app) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    try {
      Route(req, resp);
    } catch (const std::exception& e) {
      if (!resp.sent()) web::SendError(resp, Status::Internal(std::string("unexpected error: ") + e.what()));
    }
  }

 private:
  void Route(HTTPServerRequest& req, HTTPServerResponse& resp) {
    Poco::URI uri(req.getURI());
    const std::string path = uri.getPath();
    query_ = uri.getQueryParameters();
    const std::string& m = req.getMethod();
    // Served on loopback, the page answers only to names of this machine: a
    // web page elsewhere cannot reach it through a rebinding DNS name.
    if (app_.loopback && !HostIsLocal(req.getHost()))
      return web::SendError(resp, Status::Denied("this page is served to this machine only"));
    std::string secret = web::ReadCookie(req, kCookie);

    if (m == "GET" && (path == "/" || path == "/index.html")) {
      if (app_.loopback && secret != app_.local_secret)
        resp.add("Set-Cookie", web::SessionCookie(kCookie, app_.local_secret, false, kSessionSeconds));
      web::SendAsset(resp, {&ui_assets::Files()}, "index.html");
      return;
    }
    if (m == "GET" && path.rfind("/assets/", 0) == 0) {
      if (!web::SendAsset(resp, {&web::CommonAssets(), &ui_assets::Files()}, path.substr(8)))
        web::SendError(resp, Status::NotFound("no page " + path));
      return;
    }
    if (path == "/api/session" && m == "GET") return Session(resp, secret);
    if (path == "/api/login" && m == "POST") return Login(req, resp);

    // Everything else needs the page's session, and its CSRF header to change anything.
    if (!app_.SessionValid(secret)) return web::SendError(resp, Status::Unauth("log in first"));
    if (!web::CsrfOk(req, secret))
      return web::SendError(resp, Status::Denied("missing or wrong X-OCOP-CSRF header (reload the page)"));

    auto seg = Segments(path);
    if (seg.size() == 2 && seg[0] == "export" && m == "GET") return Export(resp, seg[1]);
    if (seg.size() == 1 && seg[0] == "report.html" && m == "GET") return ReportPage(resp);
    if (seg.empty() || seg[0] != "api") return web::SendError(resp, Status::NotFound("no page " + path));
    seg.erase(seg.begin());
    const std::string r = seg.empty() ? "" : seg[0];
    if (seg.size() == 1 && r == "logout" && m == "POST") return Logout(resp, secret);
    if (seg.size() == 1 && r == "info" && m == "GET") return Info(resp);
    if (seg.size() == 1 && r == "forms" && m == "GET") return Forms(resp);
    if (seg.size() == 1 && r == "check" && m == "POST") return Check(req, resp);
    if (seg.size() == 1 && r == "score" && m == "POST") return Score(req, resp);
    if (seg.size() == 1 && r == "records" && m == "GET") return List(resp);
    if (seg.size() == 1 && r == "records" && m == "POST") return Create(req, resp);
    if (seg.size() == 2 && r == "records" && m == "GET") return Show(resp, seg[1]);
    if (seg.size() == 2 && r == "records" && m == "PATCH") return Edit(req, resp, seg[1]);
    if (seg.size() == 2 && r == "records" && m == "DELETE") return Delete(resp, seg[1]);
    if (seg.size() == 3 && r == "records" && seg[2] == "decide" && m == "POST") return Decide(req, resp, seg[1]);
    if (seg.size() == 3 && r == "records" && seg[2] == "history" && m == "GET") return History(resp, seg[1]);
    if (seg.size() == 3 && r == "records" && seg[2] == "conflicts" && m == "GET") return Conflicts(resp, seg[1]);
    if (seg.size() == 3 && r == "records" && seg[2] == "photos" && m == "POST") return Attach(req, resp, seg[1]);
    if (seg.size() == 2 && r == "files" && m == "GET") return File(resp, seg[1]);
    if (seg.size() == 1 && r == "server-login" && m == "POST") return ServerLogin(req, resp);
    if (seg.size() == 1 && r == "sync" && m == "GET") return SyncState(resp);
    if (seg.size() == 1 && r == "sync" && m == "POST") return SyncStart(resp);
    if (seg.size() == 2 && r == "sync" && seg[1] == "stop" && m == "POST") return SyncStop(resp);
    web::SendError(resp, Status::NotFound("no endpoint " + m + " " + path));
  }

  static std::vector<std::string> Segments(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      if (j > i) out.push_back(path.substr(i, j - i));
      i = j + 1;
    }
    return out;
  }

  bool HostIsLocal(const std::string& host) const {
    std::string h = host;
    if (!h.empty() && h[0] == '[') h = h.substr(1, h.find(']') == std::string::npos ? 0 : h.find(']') - 1);
    else if (h.find(':') != std::string::npos) h = h.substr(0, h.find(':'));
    return IsLoopbackHost(h);
  }

  std::string Query(const std::string& key) const {
    for (const auto& [k, v] : query_)
      if (k == key) return v;
    return "";
  }

  std::string Lang() const { return Query("lang") == "en" ? "en" : "vi"; }

  void Ok(HTTPServerResponse& resp, const Object& o) { web::SendJson(resp, 200, json::ToText(o)); }
  void Ok(HTTPServerResponse& resp, const Var& v) { web::SendJson(resp, 200, json::ToText(v)); }

  // Writes wait for a sync from the screens to finish: the sync runs on its
  // own connection to the store, and the device's changes must keep one order.
  bool RefuseDuringSync(HTTPServerResponse& resp) {
    if (!app_.SyncRunning()) return false;
    web::SendError(resp, Status::Precondition("a sync is running: save again when it has finished (or stop it); "
                                              "what you typed is still on the page"));
    return true;
  }

  // ---- session ----
  void Session(HTTPServerResponse& resp, const std::string& secret) {
    Object o;
    bool ok = app_.SessionValid(secret);
    o.set("login_required", !app_.loopback);
    o.set("authenticated", ok);
    o.set("csrf", ok ? web::CsrfToken(secret) : "");
    Ok(resp, o);
  }

  void Login(HTTPServerRequest& req, HTTPServerResponse& resp) {
    if (app_.loopback) return web::SendError(resp, Status::Invalid("no login on this machine: open the page"));
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    if (app_.failed_logins.load() >= 20)
      return web::SendError(resp, Status::Exhausted("too many wrong passwords: restart `ocop ui` to allow more"));
    if (Str(body, "password") != app_.options.password) {
      ++app_.failed_logins;
      return web::SendError(resp, Status::Unauth("wrong password"));
    }
    std::string secret = app_.NewSession();
    resp.add("Set-Cookie", web::SessionCookie(kCookie, secret, false, kSessionSeconds));
    Object o;
    o.set("csrf", web::CsrfToken(secret));
    Ok(resp, o);
  }

  void Logout(HTTPServerResponse& resp, const std::string& secret) {
    {
      std::lock_guard<std::mutex> lock(app_.sessions_mu);
      app_.sessions.erase(secret);
    }
    resp.add("Set-Cookie", web::SessionCookie(kCookie, "", false, 0));
    Ok(resp, Object());
  }

  // ---- reading ----
  void Info(HTTPServerResponse& resp) {
    std::lock_guard<std::mutex> lock(app_.store_mu);
    LocalStore& st = *app_.store;
    StoreInfo info;
    Status s = st.Info(&info);
    if (!s.ok()) return web::SendError(resp, s);
    Object o;
    o.set("device", info.device_id);
    o.set("commune", info.commune);
    const Unit* u = st.units().Find(info.commune);
    o.set("commune_name", u ? u->name : info.commune);
    o.set("role", DeviceRole(st));
    o.set("server", info.server_url);
    o.set("user", info.user);
    o.set("logged_in", !st.Setting("token").empty());
    o.set("records", info.records);
    o.set("pending_changes", info.pending_changes);
    o.set("open_conflicts", info.conflicts);
    o.set("files_waiting", info.files_waiting);
    o.set("last_sync", info.last_sync);
    o.set("refused", st.Setting("refused"));
    o.set("today", TodayIso());
    Object::Ptr counts = new Object;
    for (const auto& name : st.catalog().Names()) {
      ListQuery q;
      q.form = name;
      std::vector<Record> rows;
      if (st.List(q, &rows).ok()) counts->set(name, static_cast<int64_t>(rows.size()));
    }
    o.set("counts", counts);
    Ok(resp, o);
  }

  void Forms(HTTPServerResponse& resp) { web::SendJson(resp, 200, web::FormsJson()); }


  void List(HTTPServerResponse& resp) {
    ListQuery q;
    q.form = Query("form");
    q.search = Query("search");
    q.status = Query("status");
    q.conflicts_only = Query("conflicts") == "1";
    q.limit = 500;
    if (!text::IsValidUtf8(q.search) || q.search.size() > 500)
      return web::SendError(resp, Status::Invalid("the search text is not valid"));
    std::lock_guard<std::mutex> lock(app_.store_mu);
    if (!q.form.empty() && !app_.store->catalog().Find(q.form))
      return web::SendError(resp, UnknownForm(q.form));
    std::vector<Record> rows;
    Status s = app_.store->List(q, &rows);
    if (!s.ok()) return web::SendError(resp, s);
    Array::Ptr arr = new Array;
    for (const auto& r : rows) {
      Object::Ptr o = RecordToJson(r);
      o->set("title", RecordTitle(*app_.store, r, Lang()));
      arr->add(o);
    }
    Object o;
    o.set("records", arr);
    o.set("limited", rows.size() >= 500);
    Ok(resp, o);
  }

  Object::Ptr RecordPayload(const Record& r) {
    LocalStore& st = *app_.store;
    Object::Ptr o = RecordToJson(r);
    o->set("title", RecordTitle(st, r, Lang()));
    const Unit* u = st.units().Find(r.unit);
    o->set("unit_name", u ? u->name : r.unit);
    Array::Ptr decisions = new Array;
    for (const auto& d : DecisionsFor(st, r)) {
      Object::Ptr x = new Object;
      x->set("name", d.name);
      x->set("to", d.to);
      x->set("label", LabelJson(d.label));
      x->set("allowed", d.allowed);
      x->set("why_not", LabelJson(d.why_not));
      x->set("needs_reason", d.needs_reason);
      decisions->add(x);
    }
    o->set("decisions", decisions);
    if (r.form == "confirmation") o->set("score", ScoreJson(r.fields));
    // Photos: which are still waiting to be uploaded.
    std::vector<LocalStore::Upload> uploads;
    std::set<std::string> waiting;
    if (st.PendingUploads(&uploads).ok())
      for (const auto& up : uploads) waiting.insert(up.sha256);
    Array::Ptr photos = new Array;
    if (r.fields.has("photos") && r.fields.get("photos").type() == typeid(Array::Ptr)) {
      auto arr = r.fields.getArray("photos");
      for (size_t i = 0; i < arr->size(); ++i) {
        auto p = arr->getObject(static_cast<unsigned>(i));
        Object::Ptr x = new Object(*p);
        std::string sha = p->optValue<std::string>("sha256", "");
        x->set("on_device", st.HasFile(sha));
        x->set("uploaded", !waiting.count(sha));
        photos->add(x);
      }
    }
    o->set("photos", photos);
    return o;
  }

  Status Find(const std::string& given, Record* r) {
    std::string id;
    Status s = ResolveId(*app_.store, given, &id);
    return s.ok() ? app_.store->Get(id, r) : s;
  }

  void Show(HTTPServerResponse& resp, const std::string& given) {
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r;
    Status s = Find(given, &r);
    if (!s.ok()) return web::SendError(resp, s);
    Ok(resp, *RecordPayload(r));
  }

  void History(HTTPServerResponse& resp, const std::string& given) {
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r;
    Status s = Find(given, &r);
    std::vector<HistoryEntry> entries;
    if (s.ok()) s = app_.store->History(r.id, &entries);
    if (!s.ok()) return web::SendError(resp, s);
    Array::Ptr arr = new Array;
    for (const auto& e : entries) {
      arr->add(HistoryEntryToJson(e));
    }
    Object o;
    o.set("history", arr);
    o.set("conflict", r.conflict);
    Ok(resp, o);
  }

  // One try at the server, with this device's certificate authority: a page
  // waits for the answer, it does not retry for minutes. Holds store_mu.
  HttpOptions OneTryHttp() {
    HttpOptions o = app_.options.http;
    o.ca_file = app_.store->Setting("ca_file", o.ca_file);
    o.max_attempts = 1;
    return o;
  }

  // The fields of a record in conflict and both values, asked of the server
  // (the device holds only the mark); values as JSON text, for ocop.js to word.
  void Conflicts(HTTPServerResponse& resp, const std::string& given) {
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r;
    Status s = Find(given, &r);
    if (!s.ok()) return web::SendError(resp, s);
    std::string url = app_.store->Setting("server_url");
    if (url.empty()) return web::SendError(resp, Status::Precondition("no server set for this device"));
    HttpClient http(url, OneTryHttp());
    std::vector<SyncClient::ConflictField> fields;
    s = SyncClient(*app_.store, http).FetchConflicts(r.id, &fields);
    if (!s.ok()) return web::SendError(resp, s);
    Array::Ptr arr = new Array;
    for (const auto& c : fields) {
      Object::Ptr f = new Object;
      f->set("field", c.field);
      f->set("current", c.current);
      f->set("current_by", c.current_by);
      f->set("incoming", c.incoming);
      f->set("incoming_by", c.incoming_by);
      arr->add(f);
    }
    Object out;
    out.set("conflicts", arr);
    Ok(resp, out);
  }

  // ---- checking as the officer types ----
  void Check(HTTPServerRequest& req, HTTPServerResponse& resp) {
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    const FormSchema* schema = FormCatalog::Default().Find(Str(body, "form"));
    if (!schema) return web::SendError(resp, UnknownForm(Str(body, "form")));
    std::string key = Str(body, "field");
    const FieldDef* f = schema->Field(key);
    if (!f) return web::SendError(resp, Status::Invalid("form '" + schema->form + "' has no field '" + key + "'"));
    Var v;
    s = TypedValue(*f, body->has("value") ? body->get("value") : Var(), &v);
    if (!s.ok()) return web::SendError(resp, s, key);
    if (v.isEmpty() && f->required)
      return web::SendError(resp, Status::Invalid("field '" + key + "' (" + f->label.vi + " / " + f->label.en + ") is required"), key);
    Object o;
    o.set("ok", true);
    o.set("display", DisplayValue(*f, v, "vi"));
    Ok(resp, o);
  }

  void Score(HTTPServerRequest& req, HTTPServerResponse& resp) {
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    const FormSchema* schema = FormCatalog::Default().Find("confirmation");
    Object fields;
    std::string bad;
    // Only the fields the shares use; a field not yet valid counts as absent.
    auto given = body->has("fields") && body->get("fields").type() == typeid(Object::Ptr) ? body->getObject("fields") : Object::Ptr(new Object);
    for (const char* key : {"workers_total", "workers_local", "materials"}) {
      if (!given->has(key)) continue;
      Var v;
      if (TypedValue(*schema->Field(key), given->get(key), &v).ok() && !v.isEmpty()) fields.set(key, v);
    }
    Ok(resp, *ScoreJson(fields));
  }

  // ---- writing ----
  void Create(HTTPServerRequest& req, HTTPServerResponse& resp) {
    if (RefuseDuringSync(resp)) return;
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    std::lock_guard<std::mutex> lock(app_.store_mu);
    const FormSchema* schema = app_.store->catalog().Find(Str(body, "form"));
    if (!schema) return web::SendError(resp, UnknownForm(Str(body, "form")));
    Object typed, fields;
    FieldProblems problems;
    s = TypedFields(*schema, body, /*complete=*/true, &typed, &problems);
    if (!s.ok()) return web::SendError(resp, s);
    if (!problems.empty()) return web::SendFieldErrors(resp, problems);
    std::vector<std::string> names;
    typed.getNames(names);
    for (const auto& k : names)
      if (!typed.get(k).isEmpty()) fields.set(k, typed.get(k));  // a new record has nothing to clear
    Record r;
    s = app_.store->Create(schema->form, fields, &r, Str(body, "unit"));
    if (!s.ok()) return web::SendError(resp, s);
    Ok(resp, *RecordPayload(r));
  }

  void Edit(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& given) {
    if (RefuseDuringSync(resp)) return;
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record before;
    s = Find(given, &before);
    if (!s.ok()) return web::SendError(resp, s);
    const FormSchema* schema = app_.store->catalog().Shown(before.form, before.fields);
    Object typed, changes;
    FieldProblems problems;
    s = TypedFields(*schema, body, /*complete=*/false, &typed, &problems);
    if (!s.ok()) return web::SendError(resp, s);
    if (!problems.empty()) return web::SendFieldErrors(resp, problems);
    // Only what differs becomes a change: an unchanged field saved again must
    // not travel, nor risk a conflict with another device's edit of it.
    std::vector<std::string> names;
    typed.getNames(names);
    for (const auto& k : names) {
      Var now = typed.get(k);
      bool had = before.fields.has(k) && !before.fields.get(k).isEmpty();
      if (now.isEmpty() ? !had : (had && json::ToText(before.fields.get(k)) == json::ToText(now))) continue;
      changes.set(k, now);
    }
    Record after = before;
    if (changes.size() > 0) s = app_.store->Update(before.id, changes, &after);
    if (!s.ok()) return web::SendError(resp, s);
    Object::Ptr o = RecordPayload(after);
    o->set("changed", static_cast<int64_t>(changes.size()));
    Ok(resp, *o);
  }

  void Delete(HTTPServerResponse& resp, const std::string& given) {
    if (RefuseDuringSync(resp)) return;
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r;
    Status s = Find(given, &r);
    if (s.ok()) s = app_.store->Delete(r.id);
    if (!s.ok()) return web::SendError(resp, s);
    Object o;
    o.set("id", r.id);
    o.set("deleted", true);
    Ok(resp, o);
  }

  void Decide(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& given) {
    if (RefuseDuringSync(resp)) return;
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r, after;
    s = Find(given, &r);
    if (!s.ok()) return web::SendError(resp, s);
    std::string decision = Str(body, "decision"), reason = Str(body, "reason");
    if (reason.size() > 2000) return web::SendError(resp, Status::Invalid("the reason is longer than 2000 bytes"), "reason");
    Label warning;
    if (decision == "submit") s = SubmitIdea(*app_.store, r.id, &after, &warning);
    else s = TakeDecision(*app_.store, r.id, decision, reason, &after);
    if (!s.ok()) return web::SendError(resp, s, s.code() == Code::kInvalidArgument ? "reason" : "");
    Object::Ptr o = RecordPayload(after);
    o->set("warning", LabelJson(warning));
    Ok(resp, *o);
  }

  void Attach(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& given) {
    if (RefuseDuringSync(resp)) return;
    std::string bytes;
    Status s = web::ReadBody(req, kMaxPhoto, &bytes);
    if (!s.ok()) return web::SendError(resp, Status(s.code(), "the photo is larger than 20 MB"));
    std::string name = Query("name"), caption = Query("caption");
    if (!text::IsValidUtf8(name) || name.size() > 200) name.clear();
    if (!text::IsValidUtf8(caption)) return web::SendError(resp, Status::Invalid("the caption is not valid UTF-8"), "caption");
    std::lock_guard<std::mutex> lock(app_.store_mu);
    Record r, after;
    s = Find(given, &r);
    std::string sha;
    if (s.ok()) s = app_.store->Attach(r.id, bytes, name, text::ToNfc(caption), &sha, &after);
    if (!s.ok()) return web::SendError(resp, s);
    Object::Ptr o = RecordPayload(after);
    o->set("sha256", sha);
    Ok(resp, *o);
  }

  void File(HTTPServerResponse& resp, const std::string& sha) {
    if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
      return web::SendError(resp, Status::Invalid("'" + sha + "' is not a SHA-256"));
    std::string path, url;
    HttpOptions http_options = app_.options.http;
    bool here;
    {
      std::lock_guard<std::mutex> lock(app_.store_mu);
      here = app_.store->HasFile(sha);
      path = app_.store->FilePath(sha);
      url = app_.store->Setting("token").empty() ? "" : app_.store->Setting("server_url");
      http_options.ca_file = app_.store->Setting("ca_file", http_options.ca_file);
    }
    if (!here) {
      // Not on this device yet: fetched from the server now, resuming over a
      // dropping link, on a store connection of its own so the screens stay
      // usable meanwhile.
      Status s = url.empty() ? Status::NotFound("the photo is not on this device, and the device is not logged in to fetch it")
                             : FetchFileAlone(app_.options.home, url, http_options, sha);
      if (!s.ok()) return web::SendError(resp, s);
    }
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The type from the bytes, never from a name someone typed.
    std::string kind = media::ImageKind(bytes);
    web::SendText(resp, 200, kind.empty() ? "application/octet-stream" : "image/" + kind, bytes);
  }

  // ---- report and export ----
  void ReportPage(HTTPServerResponse& resp) {
    std::string day = TodayIso();
    if (!Query("date").empty()) {
      auto d = dates::ParseDate(Query("date"));
      if (!d) return web::SendError(resp, Status::Invalid("date '" + Query("date") + "' is not dd/mm/yyyy"));
      day = *d;
    }
    int targets[2] = {0, 0};  // selected products; 3-star-and-above products
    const char* names[2] = {"target", "star_target"};
    for (int i = 0; i < 2; ++i) {
      const std::string text = Query(names[i]);  // strtol's end points into it
      if (text.empty()) continue;
      char* end = nullptr;
      long n = std::strtol(text.c_str(), &end, 10);
      if (*end || n < 0 || n > 1000000)
        return web::SendError(resp, Status::Invalid(std::string(names[i]) + " must be a whole number of products"));
      targets[i] = static_cast<int>(n);
    }
    std::lock_guard<std::mutex> lock(app_.store_mu);
    WeeklyReport r;
    Status s = BuildWeeklyReport(*app_.store, day, targets[0], &r);
    if (!s.ok()) return web::SendError(resp, s);
    r.star_target = targets[1];
    // The report page is self-contained with inline styles (it is also saved
    // and mailed as a file); its policy allows those and nothing else.
    web::SendText(resp, 200, "text/html; charset=utf-8", RenderHtml(r, Lang()), "",
                  "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  }

  void Export(HTTPServerResponse& resp, const std::string& file) {
    std::string form = file.size() > 4 && file.substr(file.size() - 4) == ".csv" ? file.substr(0, file.size() - 4) : "";
    std::lock_guard<std::mutex> lock(app_.store_mu);
    if (!app_.store->catalog().Find(form)) return web::SendError(resp, Status::NotFound("no export " + file));
    std::string csv;
    Status s = ExportForm(*app_.store, form, {"csv", Lang(), Query("codes") == "1", Query("bom") == "1"}, &csv);
    if (!s.ok()) return web::SendError(resp, s);
    web::SendText(resp, 200, "text/csv; charset=utf-8", csv, form + ".csv");
  }

  // ---- the server account and sync ----
  void ServerLogin(HTTPServerRequest& req, HTTPServerResponse& resp) {
    if (RefuseDuringSync(resp)) return;
    Object::Ptr body;
    Status s = ParseBody(req, &body);
    if (!s.ok()) return web::SendError(resp, s);
    std::string user = Str(body, "user"), password = Str(body, "password");
    if (user.empty()) return web::SendError(resp, Status::Invalid("give the user name"), "user");
    std::lock_guard<std::mutex> lock(app_.store_mu);
    std::string url = app_.store->Setting("server_url");
    if (url.empty()) return web::SendError(resp, Status::Invalid("no server set for this device (ocop init --server URL)"));
    s = CheckPasswordTransport(url, false);
    if (!s.ok()) return web::SendError(resp, s);
    HttpClient http(url, OneTryHttp());
    SyncClient sc(*app_.store, http);
    s = sc.Login(user, password);
    if (!s.ok()) return web::SendError(resp, s, s.code() == Code::kUnauthenticated ? "password" : "");
    Object out;
    out.set("user", user);
    out.set("role", app_.store->Setting("role"));
    Ok(resp, out);
  }

  void SyncState(HTTPServerResponse& resp) {
    std::lock_guard<std::mutex> lock(app_.sync.mu);
    Object o;
    o.set("running", app_.sync.running);
    o.set("finished", app_.sync.finished);
    const SyncProgress& p = app_.sync.progress;
    Object::Ptr prog = new Object;
    prog->set("phase", std::string(p.phase));
    prog->set("changes_sent", p.changes_sent);
    prog->set("changes_total", p.changes_total);
    prog->set("records_received", p.records_received);
    prog->set("bytes_sent", p.bytes_sent);
    prog->set("bytes_received", p.bytes_received);
    prog->set("bytes_left", p.bytes_left);
    prog->set("seconds", p.seconds);
    prog->set("drops", p.cuts);
    o.set("progress", prog);
    if (app_.sync.finished) o.set("summary", Object::Ptr(new Object(app_.sync.summary)));
    Ok(resp, o);
  }

  void SyncStart(HTTPServerResponse& resp) {
    std::string url, ca;
    {
      std::lock_guard<std::mutex> lock(app_.store_mu);
      url = app_.store->Setting("server_url");
      ca = app_.store->Setting("ca_file");
      if (url.empty()) return web::SendError(resp, Status::Invalid("no server set for this device (ocop init --server URL)"));
      if (app_.store->Setting("token").empty())
        return web::SendError(resp, Status::Unauth("not logged in to the server: log in first"));
    }
    std::lock_guard<std::mutex> lock(app_.sync.mu);
    if (app_.sync.running) return web::SendError(resp, Status::Precondition("a sync is already running"));
    if (app_.sync.thread.joinable()) app_.sync.thread.join();
    app_.sync.running = true;
    app_.sync.finished = false;
    app_.sync.progress = {};
    app_.sync.stop = false;
    UiServer::Impl* app = &app_;
    HttpOptions http_options = app_.options.http;
    if (!ca.empty()) http_options.ca_file = ca;
    app_.sync.thread = std::thread([app, url, http_options] { RunSync(app, url, http_options); });
    Object o;
    o.set("running", true);
    Ok(resp, o);
  }

  // The same SyncClient::Sync as `ocop sync`, on its own store connection so
  // that the lists stay readable meanwhile.
  static void RunSync(UiServer::Impl* app, const std::string& url, const HttpOptions& http_options) {
    std::unique_ptr<LocalStore> store;
    Status s = LocalStore::Open(app->options.home, SystemClock::Get(), &store);
    SyncReport report;
    if (s.ok()) {
      HttpClient http(url, http_options);
      SyncOptions options;
      options.deadline_s = app->options.sync_deadline_s;
      options.stop = &app->sync.stop;
      SyncClient sc(*store, http, options);
      s = sc.Sync(&report, [app](const SyncProgress& p) {
        std::lock_guard<std::mutex> lock(app->sync.mu);
        app->sync.progress = p;
      });
      store.reset();
    }
    {
      // The screens' connection reopens: it picks up the clock and lists the sync saw.
      std::lock_guard<std::mutex> lock(app->store_mu);
      std::unique_ptr<LocalStore> fresh;
      if (LocalStore::Open(app->options.home, SystemClock::Get(), &fresh).ok()) app->store = std::move(fresh);
    }
    std::lock_guard<std::mutex> lock(app->sync.mu);
    app->sync.summary = SyncSummary(s, report);
    app->sync.running = false;
    app->sync.finished = true;
  }

  void SyncStop(HTTPServerResponse& resp) {
    app_.sync.stop = true;
    Object o;
    o.set("stopping", true);
    Ok(resp, o);
  }

  UiServer::Impl& app_;
  Poco::URI::QueryParameters query_;
};

class UiFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit UiFactory(UiServer::Impl& app) : app_(app) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override { return new UiHandler(app_); }

 private:
  UiServer::Impl& app_;
};

}  // namespace

UiServer::UiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UiServer::~UiServer() { Stop(); }

Status UiServer::Start(const UiOptions& options, std::unique_ptr<UiServer>* out) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->loopback = IsLoopbackHost(options.host);
  if (!impl->loopback && options.password.size() < 8)
    return Status::Invalid("serving the screens to other machines (--host " + options.host +
                           ") needs a password of at least 8 characters (--password-stdin)");
  Status s = LocalStore::Open(options.home, SystemClock::Get(), &impl->store);
  if (!s.ok()) return s;
  impl->local_secret = web::RandomHex(32);
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(options.host == "localhost" ? "127.0.0.1" : options.host,
                                         static_cast<Poco::UInt16>(options.port)),
                /*reuseAddress=*/true);
    socket.listen(32);
    impl->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(30, 0));
    impl->http = std::make_unique<Poco::Net::HTTPServer>(new UiFactory(*impl), socket, params);
    impl->http->start();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                               e.displayText());
  }
  out->reset(new UiServer(std::move(impl)));
  return Status::Ok();
}

int UiServer::port() const { return impl_->port; }

std::string UiServer::url() const {
  std::string host = impl_->options.host;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

void UiServer::Stop() {
  if (!impl_) return;
  impl_->sync.stop = true;
  if (impl_->sync.thread.joinable()) impl_->sync.thread.join();
  if (impl_->http) {
    impl_->http->stopAll(true);
    impl_->http.reset();
  }
}

}  // namespace ocop::client
