// The console's HTTP edge, in-process: a real Poco HTTPServer with the console
// routes, real HTTP requests with and without the session cookie and its CSRF
// header, accounts and unit imports within an administrator's scope, and
// bodies and query values written to hurt.
#include "server/http/console_api.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include "shared/xlsx.h"

#include <map>

#include "server/review_service.h"
#include "server/store/sqlite_server_store.h"
#include "tests/support/changes.h"
#include "tests/support/test_store.h"
#include "shared/ids.h"
#include "tests/client/test_home.h"

namespace ocop::server {
namespace {

struct Answer {
  int status = 0;
  std::string body, set_cookie;
};

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    ASSERT_TRUE(ocop::testing::OpenTestStore(dir_.path(), &store_, &skip).ok());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ServiceLimits limits;
    limits.pbkdf2_iterations = 1000;
    service_ = std::make_unique<SyncService>(*store_, UnitTree::Sample(), clock_, limits);
    review_ = std::make_unique<ReviewService>(*service_, *store_, clock_);
    ASSERT_TRUE(service_->AddUser("quantri", "admin", "26", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("songlo", "admin", "253", "matkhau123").ok());  // a district's administrator
    ASSERT_TRUE(service_->AddUser("hoa", "coordinator", "253", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("lan", "officer", "08800", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("minh", "officer", "08761", "matkhau123").ok());
    socket_ = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new ApiRouter(*service_, ApiOptions{}, review_.get()), socket_,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // One exchange; `session` is sent as the cookie, `csrf` as X-OCOP-CSRF.
  Answer Call(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& session = "", const std::string& csrf = "") {
    Poco::Net::HTTPClientSession s("127.0.0.1", socket_.address().port());
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!session.empty()) {
      Poco::Net::NameValueCollection cookies;
      cookies.add("ocop_session", session);
      req.setCookies(cookies);
    }
    if (!csrf.empty()) req.set("X-OCOP-CSRF", csrf);
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    Answer a;
    a.status = resp.getStatus();
    a.set_cookie = resp.get("Set-Cookie", "");
    Poco::StreamCopier::copyToString(in, a.body);
    return a;
  }

  struct Session {
    std::string cookie, csrf;
  };
  Session LogIn(const std::string& user) {
    Answer a = Call("POST", "/v1/session", R"({"user":")" + user + R"(","password":"matkhau123"})");
    EXPECT_EQ(a.status, 200) << a.body;
    Session s;
    size_t eq = a.set_cookie.find('='), semi = a.set_cookie.find(';');
    s.cookie = a.set_cookie.substr(eq + 1, semi - eq - 1);
    json::Object::Ptr o;
    EXPECT_TRUE(json::ParseObject(a.body, &o).ok());
    s.csrf = o->getValue<std::string>("csrf");
    return s;
  }
  Answer As(const Session& s, const std::string& method, const std::string& path, const std::string& body = "") {
    return Call(method, path, body, s.cookie, s.csrf);
  }

  std::string PushIdea(const std::string& user, const std::string& unit, const std::string& product) {
    LoginResult r;
    EXPECT_TRUE(service_->Login(user, "matkhau123", "dev-" + user, &r).ok());
    AuthUser u;
    EXPECT_TRUE(service_->Authenticate(r.token, &u).ok());
    sync::Change c = ocop::testing::NewIdeaChange(unit, product);
    c.author = user;
    c.device = "dev-" + user;
    sync::ChangeSet cs;
    cs.id = ids::NewUuid();
    cs.device = c.device;
    cs.changes = {c};
    sync::PushResult pr;
    EXPECT_TRUE(service_->Push(u, cs, &pr).ok());
    return c.record_id;
  }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<SyncService> service_;
  std::unique_ptr<ReviewService> review_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

TEST_F(ConsoleApiTest, TheSessionCookieIsHttpOnlyStrictAndChangesNeedItsCsrfHeader) {
  Answer a = Call("POST", "/v1/session", R"({"user":"quantri","password":"matkhau123"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(a.set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(a.set_cookie.find("Max-Age=43200"), std::string::npos);  // 12 h at a desk, not a device's 30 days
  EXPECT_EQ(a.set_cookie.find("Secure"), std::string::npos);         // plain HTTP here; Secure under HTTPS
  Session s = LogIn("quantri");
  EXPECT_EQ(As(s, "GET", "/v1/session").status, 200);
  const std::string body = R"({"name":"thu","role":"officer","unit":"08800","password":"matkhau-thu"})";
  EXPECT_EQ(Call("POST", "/v1/users", body, s.cookie).status, 403);              // no header
  EXPECT_EQ(Call("POST", "/v1/users", body, s.cookie, "0123456789abcdef").status, 403);  // forged
  EXPECT_EQ(Call("POST", "/v1/users", body, s.cookie, LogIn("hoa").csrf).status, 403);    // another session's
  EXPECT_EQ(As(s, "POST", "/v1/users", body).status, 200);
  // Logging out needs the header too; afterwards the cookie opens nothing.
  EXPECT_EQ(Call("DELETE", "/v1/session", "", s.cookie).status, 403);
  EXPECT_EQ(As(s, "GET", "/v1/session").status, 200);
  Answer out = As(s, "DELETE", "/v1/session");
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.set_cookie.find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(As(s, "GET", "/v1/report").status, 401);
  // A wrong password: the API's message, no cookie.
  a = Call("POST", "/v1/session", R"({"user":"quantri","password":"sai"})");
  EXPECT_EQ(a.status, 401);
  EXPECT_TRUE(a.set_cookie.empty());
}

TEST_F(ConsoleApiTest, PagesAreServedWithTheStrictPolicy) {
  Answer a = Call("GET", "/console/");
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("/console/assets/console.js"), std::string::npos);
  EXPECT_EQ(Call("GET", "/console").status, 302);
  EXPECT_EQ(Call("GET", "/console/assets/ocop.js").status, 200);
  EXPECT_EQ(Call("GET", "/console/assets/../../etc/passwd").status, 404);
  EXPECT_EQ(Call("GET", "/console/assets/nope.js").status, 404);
  EXPECT_EQ(Call("POST", "/console/").status, 404);
}

TEST_F(ConsoleApiTest, AccountsAreManagedWithinTheAdministratorsScope) {
  Session district = LogIn("songlo");
  Answer list = As(district, "GET", "/v1/users");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"lan\""), std::string::npos);
  EXPECT_NE(list.body.find("\"hoa\""), std::string::npos);
  EXPECT_EQ(list.body.find("\"minh\""), std::string::npos);     // Lập Thạch: another district
  EXPECT_EQ(list.body.find("\"quantri\""), std::string::npos);  // the province
  EXPECT_EQ(list.body.find("password"), std::string::npos);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/minh", R"({"disabled":true})").status, 404);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/quantri", R"({"password":"matkhau-moi"})").status, 404);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"unit":"08761"})").status, 403);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"role":"coordinator"})").status, 400);  // on a commune
  EXPECT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"disabled":"yes"})").status, 400);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"admin":true})").status, 400);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"password":"short"})").status, 400);
  EXPECT_EQ(As(district, "PATCH", "/v1/users/songlo", R"({"disabled":true})").status, 400);  // not oneself
  EXPECT_EQ(As(district, "PATCH", "/v1/users/songlo", R"({"role":"coordinator"})").status, 400);
  EXPECT_EQ(As(district, "POST", "/v1/users", R"({"name":"x","role":"admin","unit":"26","password":"matkhau-x"})").status,
            403);

  // A reset ends the account's sessions: a device's token stops working.
  LoginResult device;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", "phone", &device).ok());
  AuthUser u;
  ASSERT_TRUE(service_->Authenticate(device.token, &u).ok());
  ASSERT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"password":"matkhau-moi"})").status, 200);
  EXPECT_EQ(service_->Authenticate(device.token, &u).code(), Code::kUnauthenticated);
  EXPECT_FALSE(service_->Login("lan", "matkhau123", "phone", &device).ok());
  ASSERT_TRUE(service_->Login("lan", "matkhau-moi", "phone", &device).ok());
  // Disabling refuses at once; enabling lets the account in again.
  ASSERT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"disabled":true})").status, 200);
  EXPECT_FALSE(service_->Authenticate(device.token, &u).ok());
  EXPECT_FALSE(service_->Login("lan", "matkhau-moi", "phone", &device).ok());
  ASSERT_EQ(As(district, "PATCH", "/v1/users/lan", R"({"disabled":false})").status, 200);
  EXPECT_TRUE(service_->Login("lan", "matkhau-moi", "phone", &device).ok());
  // Coordinators and officers manage nothing.
  Session hoa = LogIn("hoa");
  EXPECT_EQ(As(hoa, "GET", "/v1/users").status, 403);
  EXPECT_EQ(As(hoa, "PATCH", "/v1/users/lan", R"({"disabled":true})").status, 403);
  EXPECT_EQ(As(hoa, "GET", "/v1/conflicts").status, 403);
}

TEST_F(ConsoleApiTest, TheReportSearchAndExportsStayInTheCallersScope) {
  PushIdea("lan", "08800", "Ổi Đôn Nhân");
  PushIdea("minh", "08761", "Tương Lập Thạch");
  Session hoa = LogIn("hoa");
  Answer r = As(hoa, "GET", "/v1/report?target=5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("08800"), std::string::npos);
  EXPECT_EQ(r.body.find("08761"), std::string::npos);
  EXPECT_NE(r.body.find("\"target\":5"), std::string::npos);
  Answer found = As(hoa, "GET", "/v1/records?q=oi%20don%20nhan");
  EXPECT_NE(found.body.find("\"total\":1"), std::string::npos) << found.body;
  EXPECT_NE(As(hoa, "GET", "/v1/records?q=tuong").body.find("\"total\":0"), std::string::npos);
  EXPECT_EQ(As(hoa, "GET", "/v1/records?unit=08761").status, 403);
  EXPECT_EQ(As(hoa, "GET", "/v1/records?unit=99999").status, 400);
  Answer csv = As(hoa, "GET", "/v1/export/idea.csv?bom=1");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("\xEF\xBB\xBFMã phiếu,Đơn vị,Trạng thái,Xung đột", 0), 0u) << "Vietnamese by default";
  EXPECT_EQ(As(hoa, "GET", "/v1/export/idea.csv?codes=1").body.rfind("id,unit,status,conflict", 0), 0u);
  EXPECT_EQ(As(hoa, "GET", "/v1/export/idea.csv?lang=en").body.rfind("Record id,Unit,Status,In conflict", 0), 0u);
  Answer book = As(hoa, "GET", "/v1/export/idea.xlsx");
  ASSERT_EQ(book.status, 200);
  sheet::Table table;
  ASSERT_TRUE(xlsx::Read(book.body, &table).ok());
  EXPECT_EQ(table.header[0], "Mã phiếu");
  EXPECT_EQ(table.rows.size(), static_cast<size_t>(std::count(csv.body.begin(), csv.body.end(), '\n') - 1));
  EXPECT_NE(csv.body.find("Ổi Đôn Nhân"), std::string::npos);
  EXPECT_EQ(csv.body.find("Tương"), std::string::npos);
  // An officer's report is its commune's.
  EXPECT_EQ(As(LogIn("minh"), "GET", "/v1/report").body.find("08800"), std::string::npos);
  // Nothing without a session.
  EXPECT_EQ(Call("GET", "/v1/report").status, 401);
  EXPECT_EQ(Call("GET", "/v1/records").status, 401);
}

// The status counts of commune 08800 in a JSON report.
std::map<std::string, int> StatusesOf08800(const std::string& body) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(body, &o).ok()) << body;
  std::map<std::string, int> out;
  if (!o) return out;
  auto communes = o->getObject("report")->getArray("communes");
  for (size_t i = 0; i < communes->size(); ++i) {
    auto c = communes->getObject(static_cast<unsigned>(i));
    if (c->getValue<std::string>("code") != "08800") continue;
    auto by = c->getObject("ideas_by_status");
    for (const auto& name : by->getNames()) out[name] = by->getValue<int>(name);
    out["total"] = c->getValue<int>("ideas_total");
  }
  return out;
}

TEST_F(ConsoleApiTest, APastDaysReportShowsTheStatusesOfThatDay) {
  // Monday 24/11: two ideas, drafts. Two days later one is submitted and the
  // other deleted, and a third is typed in.
  std::string submitted = PushIdea("lan", "08800", "Ổi Đôn Nhân");
  std::string deleted = PushIdea("lan", "08800", "Mật ong");
  clock_.Advance(2 * 86400000LL);
  LoginResult login;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", "dev-lan", &login).ok());
  AuthUser lan;
  ASSERT_TRUE(service_->Authenticate(login.token, &lan).ok());
  auto change = [&](const std::string& id, const std::string& op, std::vector<sync::FieldChange> fields) {
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = id;
    c.form = "idea";
    c.unit = "08800";
    c.op = op;
    c.base_version = 1;
    c.fields = std::move(fields);
    c.author = "lan";
    c.device = "dev-lan";
    c.hlc = "001795626000000-00000";
    return c;
  };
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = "dev-lan";
  cs.changes = {change(submitted, sync::op::kUpdate, {{"status", "\"draft\"", "\"submitted\""},
                                                      {"received_on", "null", "\"2026-11-25\""}}),
                change(deleted, sync::op::kDelete, {})};
  sync::PushResult pr;
  ASSERT_TRUE(service_->Push(lan, cs, &pr).ok());
  PushIdea("lan", "08800", "Chè");

  Session hoa = LogIn("hoa");
  auto today = StatusesOf08800(As(hoa, "GET", "/v1/report").body);
  EXPECT_EQ(today["submitted"], 1);
  EXPECT_EQ(today["draft"], 1);  // the one typed in today
  EXPECT_EQ(today["total"], 2);
  auto monday = StatusesOf08800(As(hoa, "GET", "/v1/report?date=24/11/2026").body);
  EXPECT_EQ(monday["submitted"], 0);
  EXPECT_EQ(monday["draft"], 3) << "both of Monday's drafts, and the one typed in later as it is";
  EXPECT_EQ(monday["total"], 3);
  // The terminal table a device prints, in the language asked.
  Answer table = As(hoa, "GET", "/v1/report?date=24/11/2026&format=table&lang=vi");
  ASSERT_EQ(table.status, 200);
  EXPECT_NE(table.body.find("23/11/2026"), std::string::npos) << table.body;  // the week from Monday
}

TEST_F(ConsoleApiTest, ASpreadsheetIsCheckedRowByRowAndStoredOnlyWhenAsked) {
  Session hoa = LogIn("hoa");
  // Line 3: product group 9 does not exist; line 5: a commune outside Sông Lô.
  const std::string csv =
      "\xEF\xBB\xBF" "Đơn vị,Tên chủ thể,Loại hình chủ thể,product_name,product_group,description\n"
      "Xã Đôn Nhân (08800),HTX Đôn Nhân,Hợp tác xã,Ổi Đôn Nhân,1,Ổi giòn\n"
      "08800,HTX Chè,Hợp tác xã,Chè xanh,9,Chè\n"
      "08821,Hộ Lan,household,Mật ong,1,Mật ong rừng\n"
      "08761,HTX Lập Thạch,Hợp tác xã,Tương,1,Tương\n";
  auto problems_of = [](const Answer& a) {
    json::Object::Ptr o;
    EXPECT_TRUE(json::ParseObject(a.body, &o).ok()) << a.body;
    std::vector<int> lines;
    auto arr = o->getArray("problems");
    for (size_t i = 0; i < arr->size(); ++i) lines.push_back(arr->getObject(static_cast<unsigned>(i))->getValue<int>("line"));
    return lines;
  };
  Answer check = As(hoa, "POST", "/v1/import/idea?dry_run=1", csv);
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_EQ(problems_of(check), (std::vector<int>{3, 5}));
  EXPECT_NE(check.body.find("\"good\":2"), std::string::npos) << check.body;
  EXPECT_NE(check.body.find("message_vi"), std::string::npos);
  // Bad rows: nothing stored unless they are left out on request.
  Answer refused = As(hoa, "POST", "/v1/import/idea", csv);
  EXPECT_NE(refused.body.find("\"stored\":0"), std::string::npos) << refused.body;
  EXPECT_NE(As(hoa, "GET", "/v1/records?form=idea").body.find("\"total\":0"), std::string::npos);
  Answer stored = As(hoa, "POST", "/v1/import/idea?skip_bad=1", csv);
  EXPECT_NE(stored.body.find("\"stored\":2"), std::string::npos) << stored.body;
  Answer found = As(hoa, "GET", "/v1/records?form=idea");
  EXPECT_NE(found.body.find("\"total\":2"), std::string::npos) << found.body;
  EXPECT_NE(found.body.find("Mật ong"), std::string::npos);
  // The records are the server's like any device's: a device of 08800 pulls its one.
  LoginResult login;
  ASSERT_TRUE(service_->Login("lan", "matkhau123", "dev-lan", &login).ok());
  AuthUser lan;
  ASSERT_TRUE(service_->Authenticate(login.token, &lan).ok());
  sync::PullPage page;
  ASSERT_TRUE(service_->Pull(lan, {}, &page).ok());
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_NE(page.records[0].fields.find("Ổi Đôn Nhân"), std::string::npos);
  EXPECT_NE(page.records[0].fields.find("\"status\":\"draft\""), std::string::npos) << page.records[0].fields;
  // An officer's rows may leave the commune out; an unknown column refuses the file.
  Session lan_console = LogIn("lan");
  Answer own = As(lan_console, "POST", "/v1/import/visit",
                  "Ngày thăm,Mục đích,findings\n20/11/2026,Tư vấn,Tốt\n");
  EXPECT_NE(own.body.find("\"stored\":1"), std::string::npos) << own.body;
  Answer unknown = As(hoa, "POST", "/v1/import/idea", "Màu,Tên sản phẩm\nđỏ,Ổi\n");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(As(hoa, "POST", "/v1/import/recipe", csv).status, 400);
}

TEST_F(ConsoleApiTest, QueryValuesWrittenToHurtAreRefusedWithTheirReason) {
  Session s = LogIn("quantri");
  const std::map<std::string, int> cases = {
      {"/v1/records?q=%FF%FE", 400},          {"/v1/records?limit=0", 400},
      {"/v1/records?limit=99999999999", 400}, {"/v1/records?limit=-1", 400},
      {"/v1/records?form=recipe", 400},       {"/v1/records?q=" + std::string(300, 'a'), 400},
      {"/v1/report?target=-1", 400},          {"/v1/report?date=31/02/2026", 400},
      {"/v1/report?format=pdf", 400},         {"/v1/export/recipe.csv", 400},
      {"/v1/export/idea.pdf", 404},          {"/v1/records/not-an-id", 400},
      {"/v1/records/01890000-0000-7000-8000-000000000000", 404}};
  for (const auto& [path, status] : cases) {
    Answer a = As(s, "GET", path);
    EXPECT_EQ(a.status, status) << path << ": " << a.body;
    EXPECT_NE(a.body.find("\"message\""), std::string::npos) << path;
  }
  EXPECT_EQ(As(s, "POST", "/v1/session", "{").status, 400);
  EXPECT_EQ(As(s, "POST", "/v1/session", R"({"user":1,"password":"x"})").status, 400);
}

TEST_F(ConsoleApiTest, AUnitListIsPreviewedThenAppliedAndClosedCodesAreKept) {
  Session s = LogIn("quantri");
  // The sample list without Xã Định Trung (08725), with Xã Đôn Nhân renamed and a new commune.
  std::string csv = service_->Units()->ToCsv();
  size_t at = csv.find("\n08725,");
  ASSERT_NE(at, std::string::npos);
  csv.erase(at + 1, csv.find('\n', at + 1) - at);
  size_t don = csv.find("08800,Xã Đôn Nhân,");
  ASSERT_NE(don, std::string::npos);
  csv.replace(don, std::string("08800,Xã Đôn Nhân,").size(), "08800,Xã Đôn Nhân mới,");
  csv += "08899,Xã Mới,commune,253,,\n";

  Answer preview = As(s, "POST", "/v1/units/import", "\xEF\xBB\xBF" + csv);
  ASSERT_EQ(preview.status, 200) << preview.body;
  json::Object::Ptr o;
  ASSERT_TRUE(json::ParseObject(preview.body, &o).ok());
  EXPECT_EQ(o->getArray("added")->size(), 1u);
  EXPECT_EQ(o->getArray("closed")->size(), 1u);
  EXPECT_EQ(o->getArray("renamed")->size(), 1u);
  EXPECT_EQ(o->getArray("moved")->size(), 0u);
  EXPECT_FALSE(service_->Units()->Find("08899"));  // a preview changes nothing

  ASSERT_EQ(As(s, "POST", "/v1/units/import?apply=1", csv).status, 200);
  auto units = service_->Units();
  ASSERT_TRUE(units->Find("08899"));
  ASSERT_TRUE(units->Find("08725"));  // closed, kept: its records still resolve
  EXPECT_EQ(units->Find("08725")->valid_to, review_->Today());
  EXPECT_EQ(units->Find("08800")->name, "Xã Đôn Nhân mới");
  UnitTree saved;
  ASSERT_TRUE(store_->LoadUnits(&saved).ok());  // and it survives a restart
  EXPECT_TRUE(saved.Find("08899"));
  EXPECT_EQ(service_->AddUser("moi", "officer", "08899", "matkhau-moi").code(), Code::kOk);
  Answer closed = As(s, "POST", "/v1/users", R"({"name":"cu","role":"officer","unit":"08725","password":"matkhau-cu"})");
  EXPECT_EQ(closed.status, 400);
  EXPECT_NE(closed.body.find("was closed on"), std::string::npos) << closed.body;

  // A unit moved to another parent (a level removed, a district split): shown,
  // then applied, and its records follow it with a new seq (so devices of the
  // new parent pull them).
  std::string moved_idea = PushIdea("lan", "08800", "Ổi Đôn Nhân");
  StoredRecord before_move;
  bool found = false;
  ASSERT_TRUE(store_->GetRecord(moved_idea, &before_move, &found).ok() && found);
  EXPECT_EQ(before_move.unit_path, "/26/253/08800/");
  std::string moved = service_->Units()->ToCsv();
  size_t m = moved.find("08800,Xã Đôn Nhân mới,commune,253,");
  ASSERT_NE(m, std::string::npos);
  moved.replace(m, std::string("08800,Xã Đôn Nhân mới,commune,253,").size(), "08800,Xã Đôn Nhân mới,commune,252,");
  Answer p = As(s, "POST", "/v1/units/import", moved);
  EXPECT_NE(p.body.find("\"moved\":[{"), std::string::npos) << p.body;
  EXPECT_EQ(As(s, "POST", "/v1/units/import?apply=1", moved).status, 200);
  EXPECT_EQ(service_->Units()->Find("08800")->parent, "252");
  StoredRecord after_move;
  ASSERT_TRUE(store_->GetRecord(moved_idea, &after_move, &found).ok() && found);
  EXPECT_EQ(after_move.unit_path, "/26/252/08800/");
  EXPECT_GT(after_move.seq, before_move.seq);
  EXPECT_EQ(after_move.fields, before_move.fields);
  EXPECT_EQ(after_move.version, before_move.version);  // a new place, not a new version

  // A district's administrator may not close the rest of the province.
  Session district = LogIn("songlo");
  EXPECT_EQ(As(district, "POST", "/v1/units/import", "code,name,level,parent\n26,Tỉnh Vĩnh Phúc,province,\n").status, 403);
  // Bodies written to hurt.
  EXPECT_EQ(As(s, "POST", "/v1/units/import", "").status, 400);
  EXPECT_EQ(As(s, "POST", "/v1/units/import", "code,name\n\xFF\xFE,x\n").status, 400);
  EXPECT_EQ(As(s, "POST", "/v1/units/import", "code,name,level,parent\n1,A,x,2\n2,B,x,1\n").status, 400);  // a cycle
  // A list declared larger than 8 MB is refused before any of it is read.
  Poco::Net::StreamSocket raw(socket_.address());
  std::string head = "POST /v1/units/import HTTP/1.1\r\nHost: x\r\nCookie: ocop_session=" + s.cookie +
                     "\r\nX-OCOP-CSRF: " + s.csrf + "\r\nContent-Length: 9437184\r\n\r\n";
  raw.sendBytes(head.data(), static_cast<int>(head.size()));
  raw.shutdownSend();
  char buf[256] = {};
  int n = raw.receiveBytes(buf, sizeof buf - 1);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0).substr(0, 12), "HTTP/1.1 413");
  EXPECT_EQ(As(LogIn("hoa"), "POST", "/v1/units/import", csv).status, 403);
}

}  // namespace
}  // namespace ocop::server
