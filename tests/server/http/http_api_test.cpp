// The HTTP edge, in-process: a real Poco HTTPServer on a free loopback port and
// real HTTP requests, as in Poco's own HTTPServerTest.
#include "server/http/http_api.h"
#include "server/http/metrics.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include "client/http_client.h"
#include "shared/web/pages.h"
#include "server/store/sqlite_server_store.h"
#include "tests/support/test_store.h"
#include "shared/ids.h"
#include "sync/codec.h"
#include "sync/columns.h"
#include "tests/client/test_home.h"
#include "tests/server/http/http_call.h"

namespace ocop::server {
namespace {


class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    ASSERT_TRUE(ocop::testing::OpenTestStore(dir_.path(), &store_, &skip).ok());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ServiceLimits limits;
    limits.pbkdf2_iterations = 1000;
    service_ = std::make_unique<SyncService>(*store_, UnitTree::Sample(), clock_, limits);
    ASSERT_TRUE(service_->AddUser("lan", "officer", "08800", "matkhau123").ok());
    ApiOptions options;
    options.max_body_bytes = 64 * 1024;
    options.max_inflated_bytes = 256 * 1024;
    socket_ = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new ApiRouter(*service_, options), socket_,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
    Reply login = Call("POST", "/v1/login", R"({"user":"lan","password":"matkhau123","device":"d1"})");
    ASSERT_EQ(login.status, 200) << login.body;
    json::Object::Ptr o;
    ASSERT_TRUE(json::ParseObject(login.body, &o).ok());
    token_ = o->getValue<std::string>("token");
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& body,
             const std::string& token = "", const std::string& encoding = "") {
    return HttpCall(socket_.address().port(), method, path, body, token, encoding);
  }

  std::string ValidChangeSet() {
    sync::ChangeSet cs;
    cs.id = ids::NewUuid();
    cs.device = "d1";
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    c.form = "idea";
    c.unit = "08800";
    c.op = "create";
    c.fields = {{"subject_name", "null", "\"HTX\""}, {"subject_kind", "null", "\"cooperative\""},
                {"product_name", "null", "\"Ổi\""},   {"product_group", "null", "1"},
                {"description", "null", "\"Ngon\""}};
    c.author = "lan";
    c.device = "d1";
    c.hlc = "001795453200000-00000";
    cs.changes.push_back(c);
    return sync::EncodeJson(cs);
  }

  int RecordCount() {
    std::vector<StoredRecord> rows;
    bool more = false;
    int64_t cursor = 0;
    EXPECT_TRUE(store_->ReadSince("/", 0, 100000, "", &rows, &cursor, &more).ok());
    return static_cast<int>(rows.size());
  }

  void ExpectError(const Reply& r, int status, const std::string& code, const std::string& words) {
    EXPECT_EQ(r.status, status) << r.body;
    json::Object::Ptr o;
    ASSERT_TRUE(json::ParseObject(r.body, &o).ok()) << r.body;
    ASSERT_TRUE(o->has("error")) << r.body;
    EXPECT_EQ(o->getObject("error")->getValue<std::string>("code"), code);
    EXPECT_NE(o->getObject("error")->getValue<std::string>("message").find(words), std::string::npos) << r.body;
  }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<SyncService> service_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::string token_;
};

// The Range header of a resumed photo download (RFC 9110 §14).
TEST(ByteRangeTest, SingleRangesAreServedAndTheRestIsWholeOrUnsatisfiable) {
  int64_t first = -1, last = -1;
  EXPECT_EQ(web::ParseByteRange("bytes=100-", 1000, &first, &last), web::ByteRange::kPart);
  EXPECT_EQ(first, 100);
  EXPECT_EQ(last, 999);
  EXPECT_EQ(web::ParseByteRange("bytes=0-99", 1000, &first, &last), web::ByteRange::kPart);
  EXPECT_EQ(last, 99);
  EXPECT_EQ(web::ParseByteRange("bytes=900-5000", 1000, &first, &last), web::ByteRange::kPart);
  EXPECT_EQ(last, 999) << "clamped to the file";
  EXPECT_EQ(web::ParseByteRange("bytes=-10", 1000, &first, &last), web::ByteRange::kPart);
  EXPECT_EQ(first, 990);
  EXPECT_EQ(web::ParseByteRange("bytes=1000-", 1000, &first, &last), web::ByteRange::kUnsatisfiable);
  EXPECT_EQ(web::ParseByteRange("bytes=-0", 1000, &first, &last), web::ByteRange::kUnsatisfiable);
  for (const char* whole : {"", "bytes=0-1,5-9", "items=1-2", "bytes=abc-", "bytes=9-3", "bytes=-",
                            "bytes=99999999999999999999-"})
    EXPECT_EQ(web::ParseByteRange(whole, 1000, &first, &last), web::ByteRange::kWhole) << whole;
}

TEST_F(HttpApiTest, HealthAndUnknownRoutes) {
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  ExpectError(Call("GET", "/v1/nothing", ""), 404, "not_found", "/v1/nothing");
  ExpectError(Call("GET", "/v1/push", ""), 400, "invalid_argument", "not allowed");
}

TEST_F(HttpApiTest, BadInputIsRefusedAndChangesNothing) {
  ExpectError(Call("POST", "/v1/push", "{\"id\": ", token_), 400, "invalid_argument", "malformed");
  ExpectError(Call("POST", "/v1/push", R"({"id":"x","device":"d","changes":[]})", token_), 400, "invalid_argument", "UUID");
  std::string wrong_type = ValidChangeSet();
  wrong_type.replace(wrong_type.find("\"base_version\": 0"), 17, "\"base_version\": \"zero\"");
  ExpectError(Call("POST", "/v1/push", wrong_type, token_), 400, "invalid_argument", "malformed");
  std::string unknown_form = ValidChangeSet();
  unknown_form.replace(unknown_form.find("\"idea\""), 6, "\"poem\"");
  ExpectError(Call("POST", "/v1/push", unknown_form, token_), 400, "invalid_argument", "poem");
  std::string unknown_field = ValidChangeSet();
  unknown_field.replace(unknown_field.find("\"description\""), 13, "\"nonexistent\"");
  ExpectError(Call("POST", "/v1/push", unknown_field, token_), 400, "invalid_argument", "nonexistent");
  std::string bad_utf8 = ValidChangeSet();
  bad_utf8.replace(bad_utf8.find("HTX"), 3, "H\xC3(");
  ExpectError(Call("POST", "/v1/push", bad_utf8, token_), 400, "invalid_argument", "UTF-8");
  ExpectError(Call("POST", "/v1/push", std::string(100 * 1024, ' '), token_), 413, "payload_too_large", "larger");
  std::string bomb = sync::Gzip(std::string(1024 * 1024, ' '));
  ExpectError(Call("POST", "/v1/push", bomb, token_, "gzip"), 413, "payload_too_large", "inflates");
  ExpectError(Call("POST", "/v1/push", "not gzip", token_, "gzip"), 400, "invalid_argument", "gzip");
  ExpectError(Call("POST", "/v1/pull", R"({"since":"x"})", token_), 400, "invalid_argument", "since");
  std::string bad_value = ValidChangeSet();
  bad_value.replace(bad_value.find("\"\\\"HTX\\\"\""), 9, "\"{not json\"");
  ExpectError(Call("POST", "/v1/push", bad_value, token_), 400, "invalid_argument", "subject_name");
  EXPECT_EQ(RecordCount(), 0);
  // And the server still serves.
  Reply ok = Call("POST", "/v1/push", ValidChangeSet(), token_);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(RecordCount(), 1);
}

TEST_F(HttpApiTest, TokensAreRequiredAndChecked) {
  ExpectError(Call("POST", "/v1/push", ValidChangeSet()), 401, "unauthenticated", "Authorization");
  ExpectError(Call("POST", "/v1/push", ValidChangeSet(), std::string(64, 'f')), 401, "unauthenticated", "unknown token");
  ExpectError(Call("POST", "/v1/push", ValidChangeSet(), "short"), 401, "unauthenticated", "malformed");
  clock_.Advance(31LL * 24 * 3600 * 1000);
  ExpectError(Call("POST", "/v1/push", ValidChangeSet(), token_), 401, "unauthenticated", "expired");
  ExpectError(Call("POST", "/v1/login", R"({"user":"lan","password":"nope"})"), 401, "unauthenticated", "wrong");
  ExpectError(Call("POST", "/v1/login", R"({"user":"lan"})"), 400, "invalid_argument", "password");
  EXPECT_EQ(RecordCount(), 0);
}

TEST_F(HttpApiTest, OutOfScopePushIs403) {
  std::string other = ValidChangeSet();
  other.replace(other.find("\"08800\""), 7, "\"08761\"");
  ExpectError(Call("POST", "/v1/push", other, token_), 403, "permission_denied", "outside the scope");
  EXPECT_EQ(RecordCount(), 0);
}

TEST_F(HttpApiTest, ConflictEndpointsNeedAnAdministrator) {
  ExpectError(Call("POST", "/v1/conflicts/" + ids::NewUuid() + "/resolve", R"({"decisions":[]})", token_), 403,
              "permission_denied", "administrators");
  ExpectError(Call("POST", "/v1/users", R"({"name":"x","role":"admin","unit":"26","password":"12345678"})", token_),
              403, "permission_denied", "administrators");
}

}  // namespace
}  // namespace ocop::server

namespace ocop::server {
namespace {

// The encodings a device uses once the server has said it reads them: the
// column encoding under zstd, both ways; older requests keep working.
TEST_F(HttpApiTest, ColumnsAndZstdAreNegotiated) {
  client::HttpClient http("http://127.0.0.1:" + std::to_string(socket_.address().port()));
  EXPECT_FALSE(http.PeerReads("zstd"));
  std::string resp, type;
  ASSERT_TRUE(http.Call("GET", "/healthz", "", "application/json", "application/json", &resp, &type).ok());
  EXPECT_TRUE(http.PeerReads("columns"));
  EXPECT_TRUE(http.PeerReads("zstd"));
  EXPECT_FALSE(http.PeerReads("colu"));
  http.set_token(token_);

  // A change set of 50 forms in the column encoding (zstd on the way: over the
  // client's compression threshold); the answer comes in columns, without ids.
  sync::ChangeSet cs;
  ASSERT_TRUE(sync::DecodeJson(ValidChangeSet(), &cs).ok());
  sync::Change first = cs.changes[0];
  for (int i = 1; i < 50; ++i) {
    sync::Change c = first;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    cs.changes.push_back(c);
  }
  ASSERT_TRUE(http.Call("POST", "/v1/push", sync::EncodeColumns(cs), sync::kColumnsContentType,
                        sync::kColumnsContentType, &resp, &type).ok());
  EXPECT_EQ(type, sync::kColumnsContentType);
  sync::PushResult result;
  ASSERT_TRUE(sync::DecodeColumns(resp, cs, &result).ok());
  ASSERT_EQ(result.outcomes.size(), 50u);
  EXPECT_EQ(result.outcomes[7].record_id, cs.changes[7].record_id);
  EXPECT_EQ(result.outcomes[7].result, sync::outcome::kApplied);
  EXPECT_EQ(RecordCount(), 50);

  // Pull pages: columns when asked, the binary encoding otherwise.
  ASSERT_TRUE(http.Call("POST", "/v1/pull", R"({"since":0})", "application/json",
                        std::string(sync::kColumnsContentType) + ", " + sync::kBinaryContentType, &resp, &type).ok());
  EXPECT_EQ(type, sync::kColumnsContentType);
  sync::PullPage page;
  ASSERT_TRUE(sync::DecodeColumns(resp, &page).ok());
  EXPECT_EQ(page.records.size(), 0u);  // this device made them all: not sent back
  ASSERT_TRUE(http.Call("POST", "/v1/pull", R"({"since":0})", "application/json", sync::kBinaryContentType, &resp, &type).ok());
  EXPECT_EQ(type, sync::kBinaryContentType);
  ASSERT_TRUE(sync::DecodeBinary(resp, &page).ok());

  // A body in an encoding the server does not read is refused by name.
  ExpectError(Call("POST", "/v1/push", ValidChangeSet(), token_, "br"), 400, "invalid_argument", "gzip, zstd or none");
  // zstd that does not decompress is refused, and stores nothing.
  ExpectError(Call("POST", "/v1/push", "\x28\xb5\x2f\xfd garbage", token_, "zstd"), 400, "invalid_argument", "zstd");
  EXPECT_EQ(RecordCount(), 50);
}

TEST_F(HttpApiTest, MetricsCountRequestsByRoutePatternAndChangeSets) {
  Reply ok = Call("POST", "/v1/push", ValidChangeSet(), token_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Call("POST", "/v1/push", "{", token_).status, 400);
  EXPECT_EQ(Call("GET", "/v1/records/01939e8e-8b5c-7cc0-a0e1-3b5e6f0a1b2c/history", "", token_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/whatever-a-scanner-tries", "", token_).status, 404);
  Reply m = Call("GET", "/metrics", "", "");  // from loopback: no token needed
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_NE(m.body.find("ocop_http_requests_total{route=\"/v1/push\",code=\"200\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ocop_http_requests_total{route=\"/v1/push\",code=\"400\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("route=\"/v1/records/{id}/history\",code=\"404\""), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("route=\"other\""), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("whatever"), std::string::npos);  // what a client wrote never becomes a label
  EXPECT_NE(m.body.find("ocop_changesets_total{outcome=\"applied\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ocop_open_conflicts 0"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ocop_http_request_duration_seconds_bucket{route=\"/v1/push\",le=\"+Inf\"} 2"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("# TYPE ocop_unfinished_upload_bytes gauge"), std::string::npos);
}

TEST(RouteLabelTest, PatternsNotValues) {
  using server::http::RouteLabel;
  EXPECT_EQ(RouteLabel("/v1/push"), "/v1/push");
  EXPECT_EQ(RouteLabel("/v1/push/" + std::string(64, 'c')), "/v1/push/{sha}");
  EXPECT_EQ(RouteLabel("/v1/records/01939e8e-8b5c-7cc0-a0e1-3b5e6f0a1b2c/history"), "/v1/records/{id}/history");
  EXPECT_EQ(RouteLabel("/v1/conflicts/01939e8e-8b5c-7cc0-a0e1-3b5e6f0a1b2c/resolve"), "/v1/conflicts/{id}/resolve");
  EXPECT_EQ(RouteLabel("/console/app.js"), "/console/*");
  EXPECT_EQ(RouteLabel("/v1/push/../../etc"), "other");
  EXPECT_EQ(RouteLabel("/wp-admin"), "other");
  EXPECT_EQ(RouteLabel("/v1/files/ABC"), "other");
}

}  // namespace
}  // namespace ocop::server
