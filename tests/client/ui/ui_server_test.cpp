// The JSON edge of `ocop ui` with hostile or careless input: no page session,
// no CSRF header, another Host, malformed and oversized bodies, unknown
// fields. Each is refused with a clear error and stores nothing; a save that
// changes nothing adds nothing to the outbox; decisions follow the rules
// (officer_actions) with the rule shown when one is not allowed.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include "client/local_store.h"
#include "client/officer_actions.h"
#include "client/ui/ui_server.h"
#include "shared/dates.h"
#include "shared/json.h"
#include "shared/web/pages.h"
#include "tests/client/test_home.h"

namespace ocop::client {
namespace {

struct Reply {
  int status = 0;
  std::string body;
  std::vector<Poco::Net::HTTPCookie> cookies;
};

class UiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = dir_.Sub("home");
    ASSERT_TRUE(LocalStore::Init(home_, "08800", "", UnitTree::Sample(), SystemClock::Get()).ok());
    UiOptions o;
    o.home = home_;
    o.port = 0;
    Status s = UiServer::Start(o, &server_);
    ASSERT_TRUE(s.ok()) << s.message();
    // The page's cookie comes with the page.
    Reply page = Call("GET", "/", "");
    ASSERT_EQ(page.status, 200);
    ASSERT_EQ(page.cookies.size(), 1u);
    cookie_ = page.cookies[0].getValue();
    EXPECT_TRUE(page.cookies[0].getHttpOnly());
    csrf_ = web::CsrfToken(cookie_);
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& body, bool with_cookie = true,
             bool with_csrf = true, const std::string& host = "", size_t declared_length = 0) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server_->port()));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(host.empty() ? "127.0.0.1:" + std::to_string(server_->port()) : host);
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(declared_length ? declared_length : body.size()));
    if (with_cookie && !cookie_.empty()) {
      Poco::Net::NameValueCollection c;
      c.add("ocop_ui", cookie_);
      req.setCookies(c);
    }
    if (with_csrf) req.set("X-OCOP-CSRF", csrf_);
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    Reply r;
    r.status = resp.getStatus();
    resp.getCookies(r.cookies);
    Poco::StreamCopier::copyToString(in, r.body);
    return r;
  }

  int64_t Pending() {
    std::unique_ptr<LocalStore> store;
    EXPECT_TRUE(LocalStore::Open(home_, SystemClock::Get(), &store).ok());
    StoreInfo info;
    EXPECT_TRUE(store->Info(&info).ok());
    return info.pending_changes;
  }

  std::string CreateIdea() {
    Reply r = Call("POST", "/api/records",
                   R"({"form":"idea","fields":{"subject_name":"HTX Ổi","subject_kind":"cooperative",)"
                   R"("product_name":"Ổi Đôn Nhân","product_group":"1","description":"Ổi giòn"}})");
    EXPECT_EQ(r.status, 200) << r.body;
    json::Object::Ptr o;
    EXPECT_TRUE(json::ParseObject(r.body, &o).ok());
    return o->getValue<std::string>("id");
  }

  testing::TempDir dir_;
  std::string home_, cookie_, csrf_;
  std::unique_ptr<UiServer> server_;
};

TEST_F(UiServerTest, RefusesRequestsWithoutThePagesSessionOrCsrfHeader) {
  const std::string idea = R"({"form":"visit","fields":{"visited_on":"24/11/2026","purpose":"advice","findings":"x"}})";
  EXPECT_EQ(Call("GET", "/api/info", "", /*with_cookie=*/false).status, 401);
  EXPECT_EQ(Call("POST", "/api/records", idea, true, /*with_csrf=*/false).status, 403);
  EXPECT_EQ(Call("GET", "/", "", true, true, "attacker.example").status, 403);
  EXPECT_EQ(Call("GET", "/api/info", "", true, true, "rebound.example:8470").status, 403);
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(Call("POST", "/api/records", idea).status, 200);
  EXPECT_GT(Pending(), 0);
}

TEST_F(UiServerTest, BadBodiesGetAClearErrorAndStoreNothing) {
  struct Case {
    std::string body;
    int status;
    std::string field;  // expected in the error, or ""
  } cases[] = {
      {"not json", 400, ""},
      {"{\"form\":\"idea\"}", 400, ""},
      {"{\"form\":\"nope\",\"fields\":{}}", 400, ""},
      {"{\"form\":\"idea\",\"fields\":{\"no_such\":\"1\"}}", 400, ""},
      {"{\"form\":\"idea\",\"fields\":{\"product_group\":\"9\"}}", 400, "product_group"},
      {"{\"form\":\"idea\",\"fields\":{\"status\":\"selected\"}}", 400, "status"},
      {"{\"form\":\"idea\",\"fields\":{\"phone\":\"12\"}}", 400, "phone"},
      {"{\"form\":\"confirmation\",\"fields\":{\"materials\":[{\"name\":7}]}}", 400, "materials"},
      {std::string(200, '[') + std::string(200, ']'), 400, ""},
      {"{\"form\":\"idea\",\"fields\":{\"subject_name\":\"\xff\xfe\"}}", 400, ""},
  };
  for (const auto& c : cases) {
    Reply r = Call("POST", "/api/records", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find("\"message\""), std::string::npos) << r.body;
    if (!c.field.empty()) {
      EXPECT_NE(r.body.find("\"field\":\"" + c.field + "\""), std::string::npos) << r.body;
    }
  }
  // A body declared larger than 4 MB is refused before it is read.
  EXPECT_EQ(Call("POST", "/api/records", std::string(1024, ' '), true, true, "", 5 * 1024 * 1024).status, 413);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(UiServerTest, ChecksAFieldAsTheCommandLineDoes) {
  Reply r = Call("POST", "/api/check", R"({"form":"idea","field":"product_group","value":"9"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("above the maximum 6"), std::string::npos) << r.body;
  r = Call("POST", "/api/check", R"({"form":"idea","field":"product_name","value":""})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("is required"), std::string::npos) << r.body;
  r = Call("POST", "/api/check", R"({"form":"visit","field":"visited_on","value":"24/11/2026"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("24/11/2026"), std::string::npos) << r.body;
}

// A form saved with several mistakes names every one, each with its field,
// so the page marks them all at once; nothing is stored.
TEST_F(UiServerTest, EveryWrongFieldIsNamedAtOnce) {
  Reply r = Call("POST", "/api/records",
                 R"({"form":"idea","fields":{"subject_name":"HTX","subject_kind":"nobody","product_group":"9","phone":"09123","description":"x"}})");
  EXPECT_EQ(r.status, 400);
  json::Object::Ptr o;
  ASSERT_TRUE(json::ParseObject(r.body, &o).ok()) << r.body;
  auto errors = o->getObject("error")->getArray("errors");
  ASSERT_TRUE(errors) << r.body;
  std::vector<std::string> fields;
  for (size_t i = 0; i < errors->size(); ++i) fields.push_back(errors->getObject(static_cast<unsigned>(i))->getValue<std::string>("field"));
  EXPECT_EQ(fields, (std::vector<std::string>{"subject_kind", "phone", "product_name", "product_group"})) << r.body;
  EXPECT_NE(r.body.find("bắt buộc phải điền"), std::string::npos) << "in Vietnamese too: " << r.body;
  EXPECT_EQ(Call("GET", "/api/records?form=idea", "").body.find("HTX"), std::string::npos);
}

TEST_F(UiServerTest, SavingUnchangedFieldsAddsNoChange) {
  std::string id = CreateIdea();
  int64_t before = Pending();
  Reply r = Call("PATCH", "/api/records/" + id,
                 R"({"fields":{"subject_name":"HTX Ổi","subject_kind":"cooperative","product_name":"Ổi Đôn Nhân",)"
                 R"("product_group":"1","description":"Ổi giòn","phone":""}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"changed\":0"), std::string::npos) << r.body;
  EXPECT_EQ(Pending(), before);
  r = Call("PATCH", "/api/records/" + id, R"({"fields":{"phone":"0912345678"}})");
  EXPECT_NE(r.body.find("\"changed\":1"), std::string::npos) << r.body;
}

TEST_F(UiServerTest, ComputesSharesAsTheyAreTyped) {
  Reply r = Call("POST", "/api/score",
                 R"({"fields":{"workers_total":"10","workers_local":"8","materials":[)"
                 R"({"name":"Ổi","value_vnd":60,"local_value_vnd":60,"origin":"commune"},)"
                 R"({"name":"Đường","value_vnd":40,"local_value_vnd":20,"origin":"province"}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"labour_ratio\":0.8"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"material_ratio\":0.8"), std::string::npos) << r.body;
}

TEST_F(UiServerTest, DecisionsFollowTheRulesAndNameTheOneThatStops) {
  std::string id = CreateIdea();
  Reply r = Call("POST", "/api/records/" + id + "/decide", R"({"decision":"select"})");
  EXPECT_EQ(r.status, 409) << r.body;  // not from draft
  r = Call("POST", "/api/records/" + id + "/decide", R"({"decision":"submit"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("POST", "/api/records/" + id + "/decide", R"({"decision":"return"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("reason"), std::string::npos);
  r = Call("POST", "/api/records/" + id + "/decide", R"({"decision":"return","reason":"Thiếu câu chuyện"})");
  ASSERT_EQ(r.status, 200) << r.body;
  // Returned today: submit is offered, disabled, with the date it opens.
  std::unique_ptr<LocalStore> store;
  ASSERT_TRUE(LocalStore::Open(home_, SystemClock::Get(), &store).ok());
  Record rec;
  ASSERT_TRUE(store->Get(id, &rec).ok());
  auto options = DecisionsFor(*store, rec);
  ASSERT_EQ(options.size(), 1u);
  EXPECT_EQ(options[0].name, "submit");
  EXPECT_FALSE(options[0].allowed);
  std::string from = dates::ToDisplay(dates::AddDays(TodayIso(), 7));
  EXPECT_EQ(options[0].why_not.vi, "nộp lại được từ " + from);
  r = Call("POST", "/api/records/" + id + "/decide", R"({"decision":"submit"})");
  EXPECT_EQ(r.status, 409) << r.body;
}

TEST(UiServerStart, AnotherAddressNeedsAPassword) {
  testing::TempDir dir;
  ASSERT_TRUE(LocalStore::Init(dir.Sub("h"), "08800", "", UnitTree::Sample(), SystemClock::Get()).ok());
  UiOptions o;
  o.home = dir.Sub("h");
  o.host = "0.0.0.0";
  o.port = 0;
  std::unique_ptr<UiServer> server;
  Status s = UiServer::Start(o, &server);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("password"), std::string::npos);
  EXPECT_TRUE(IsLoopbackHost("127.0.0.2"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

}  // namespace
}  // namespace ocop::client
