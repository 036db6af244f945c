// Bodies written to hurt, over real HTTP against an in-process ocopd: each case
// must get its documented 4xx, leave the store byte-for-byte as it was (a
// canonical dump of every table) and leave the server answering /healthz.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>

#include "server/store/file_store.h"
#include "server/http/http_api.h"
#include "server/store/sqlite_server_store.h"
#include "tests/support/test_store.h"
#include "shared/hash.h"
#include "shared/ids.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"
#include "tests/server/http/http_call.h"

namespace ocop::server {
namespace {

struct Case {
  std::string name;
  std::string method, path;
  std::string body;
  std::string token;  // "lan", "hoa", "admin", "expired", "forged", "" (none)
  std::string content_type = "application/json";
  std::string encoding;
  int status;         // the documented answer
  std::string code;   // its error code
};

std::string LittleU64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string Str(const std::string& s) { return LittleU64(s.size()) + s; }

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    ASSERT_TRUE(ocop::testing::OpenTestStore(dir_.path(), &store_, &skip).ok());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ServiceLimits limits;
    limits.pbkdf2_iterations = 1000;
    limits.max_push_body_bytes = 256 * 1024;
    service_ = std::make_unique<SyncService>(*store_, UnitTree::Sample(), clock_, limits);
    ASSERT_TRUE(service_->AddUser("lan", "officer", "08800", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("minh", "officer", "08761", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("hoa", "coordinator", "253", "matkhau123").ok());
    ASSERT_TRUE(service_->AddUser("admin", "admin", "26", "matkhau123").ok());
    files_ = std::make_unique<FileStore>(dir_.Sub("files"));
    bodies_ = std::make_unique<FileStore>(dir_.Sub("pushes"));
    ASSERT_TRUE(files_->Init().ok() && bodies_->Init().ok());
    service_->set_files(files_.get());
    service_->set_push_bodies(bodies_.get());
    ApiOptions options;
    options.max_body_bytes = 512 * 1024;
    options.max_inflated_bytes = 1024 * 1024;
    socket_ = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto* params = new Poco::Net::HTTPServerParams;
    params->setTimeout(Poco::Timespan(2, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new ApiRouter(*service_, options), socket_, params);
    server_->start();
    // A token that expires: issued 20 days before the others, which are then 11 days old.
    tokens_["expired"] = Login("minh");
    clock_.Advance(20LL * 24 * 3600 * 1000);
    for (const char* u : {"lan", "minh", "hoa", "admin"}) tokens_[u] = Login(u);
    clock_.Advance(11LL * 24 * 3600 * 1000);
    // Some state to protect: one record of lan's, pushed.
    ASSERT_EQ(Call("POST", "/v1/push", ChangeSetJson(existing_cs_, "08800", existing_record_), "lan").status, 200);
    // An upload begun for a text file named like a photo: its bytes are refused.
    ASSERT_EQ(Call("POST", "/v1/files/" + kTextSha, R"({"size":22,"record_id":")" + existing_record_ + "\"}", "lan").status, 200);
  }
  // SHA-256 of kText.
  const std::string kText = "Ghi chép chuyến đi";  // 22 bytes of UTF-8 text
  const std::string kTextSha = hash::Sha256Hex(kText);
  void TearDown() override {
    if (server_) server_->stop();
  }

  std::string Login(const std::string& user) {
    Reply r = Call("POST", "/v1/login", R"({"user":")" + user + R"(","password":"matkhau123","device":"d-)" + user + "\"}", "");
    json::Object::Ptr o;
    EXPECT_TRUE(json::ParseObject(r.body, &o).ok()) << r.body;
    return o ? o->optValue<std::string>("token", "") : "";
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& body, const std::string& who,
             const std::string& type = "application/json", const std::string& encoding = "") {
    std::string token = who == "forged" ? std::string(64, 'a') : tokens_.count(who) ? tokens_[who] : who;
    return HttpCall(socket_.address().port(), method, path, body, token, encoding, type);
  }

  static std::string ChangeSetJson(const std::string& cs_id, const std::string& unit, const std::string& record,
                                   const std::function<void(sync::Change&)>& spoil = nullptr,
                                   const std::string& op = "create") {
    sync::ChangeSet cs;
    cs.id = cs_id;
    cs.device = "d1";
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = record;
    c.form = "idea";
    c.unit = unit;
    c.op = op;
    c.fields = {{"subject_name", "null", "\"HTX\""}, {"subject_kind", "null", "\"cooperative\""},
                {"product_name", "null", "\"Ổi\""},   {"product_group", "null", "1"},
                {"description", "null", "\"Ngon\""}};
    c.author = "lan";
    c.device = "d1";
    c.hlc = "001795453200000-00000";
    if (spoil) spoil(c);
    cs.changes.push_back(c);
    return sync::EncodeJson(cs);
  }

  // Every table, every row, in a fixed order: equal dumps mean an unchanged store.
  std::string Dump() { return ocop::testing::DumpTestStore(dir_.path()); }

  testing::TempDir dir_;
  FakeClock clock_{1795453200000LL};
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<SyncService> service_;
  std::unique_ptr<FileStore> files_, bodies_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::map<std::string, std::string> tokens_;
  std::string existing_cs_ = ids::NewUuid(), existing_record_ = ids::NewUuid();
};

TEST_F(BadInputTest, EveryHostileRequestGetsItsDocumented4xxAndChangesNothing) {
  const std::string rec = existing_record_;
  const std::string nested(200000, '[');
  const std::string bin = sync::kBinaryContentType;
  const std::string new_rec = ids::NewUuid();
  std::vector<Case> cases = {
      // Malformed and truncated bodies.
      {"push: empty body", "POST", "/v1/push", "", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: not JSON", "POST", "/v1/push", "hello", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: truncated JSON", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", new_rec).substr(0, 120), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: 200,000 nested [", "POST", "/v1/push", nested, "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: 200,000 nested [", "POST", "/v1/pull", nested, "lan", "application/json", "", 400, "invalid_argument"},
      {"login: 200,000 nested [ (over the login body limit)", "POST", "/v1/login", nested, "", "application/json", "", 413, "payload_too_large"},
      {"push: nested objects", "POST", "/v1/push", std::string(5000, '{'), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: a list, not an object", "POST", "/v1/push", "[1,2,3]", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: invalid UTF-8", "POST", "/v1/push", "{\"id\":\"\xff\xfe\"}", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: overlong UTF-8", "POST", "/v1/push", "{\"id\":\"\xc0\xaf\"}", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: NaN", "POST", "/v1/push", R"({"id":"x","device":"d","changes":[{"base_version":NaN}]})", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: float version", "POST", "/v1/push", R"({"id":"x","device":"d","changes":[{"base_version":1e308}]})", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: negative version", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.base_version = -5; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: id of wrong type", "POST", "/v1/push", R"({"id":5,"device":"d","changes":[]})", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: changes not a list", "POST", "/v1/push", R"({"id":"x","device":"d","changes":"all"})", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: bad change-set id", "POST", "/v1/push", R"({"id":"not-a-uuid","device":"d","changes":[]})", "lan", "application/json", "", 400, "invalid_argument"},
      {"push: unknown form", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.form = "cake"; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: unknown op", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), nullptr, "explode"), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: value not JSON", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[2].new_value = "{{{"; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: value out of range", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[3].new_value = "99"; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: unknown field", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[4].key = "password_hash"; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: NUL in a text field", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[2].new_value = "\"\u00d4i\\u0000\""; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: escape sequence in a text field", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[0].new_value = "\"HTX\\u001b[2J\""; }), "lan", "application/json", "", 400, "invalid_argument"},
      {"push: 20 KB text in a field", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid(), [](sync::Change& c) { c.fields[4].new_value = "\"" + std::string(20000, 'a') + "\""; }), "lan", "application/json", "", 400, "invalid_argument"},
      // Oversized bodies and bombs.
      {"push: over the body limit", "POST", "/v1/push", std::string(600 * 1024, ' '), "lan", "application/json", "", 413, "payload_too_large"},
      {"push: gzip bomb", "POST", "/v1/push", sync::Gzip(std::string(4 * 1024 * 1024, '[')), "lan", "application/json", "gzip", 413, "payload_too_large"},
      {"push: broken gzip", "POST", "/v1/push", "\x1f\x8b\x08\x00garbage", "lan", "application/json", "gzip", 400, "invalid_argument"},
      {"push: unknown encoding", "POST", "/v1/push", "{}", "lan", "application/json", "br", 400, "invalid_argument"},
      {"push: binary string length 6 GB", "POST", "/v1/push", std::string(1, '\1') + LittleU64(6ull << 30) + std::string(100, 'x'), "lan", bin, "", 400, "invalid_argument"},
      {"push: binary 50 million changes", "POST", "/v1/push", std::string(1, '\1') + LittleU64(0) + LittleU64(0) + LittleU64(50'000'000) + std::string(65, '\0'), "lan", bin, "", 400, "invalid_argument"},
      {"push: binary field list bomb", "POST", "/v1/push", std::string(1, '\1') + Str(ids::NewUuid()) + Str("d") + LittleU64(1) + Str(ids::NewUuid()) + Str(ids::NewUuid()) + Str("idea") + Str("08800") + Str("create") + LittleU64(0) + LittleU64(1ull << 40), "lan", bin, "", 400, "invalid_argument"},
      {"push: binary bad byte-order mark", "POST", "/v1/push", std::string(1, '\7') + LittleU64(0), "lan", bin, "", 400, "invalid_argument"},
      {"push: binary truncated", "POST", "/v1/push", std::string(1, '\1') + LittleU64(36) + "01a20b70", "lan", bin, "", 400, "invalid_argument"},
      {"push: binary trailing bytes", "POST", "/v1/push", std::string(1, '\1') + Str("") + Str("") + LittleU64(0) + "extra", "lan", bin, "", 400, "invalid_argument"},
      {"pull: a binary body", "POST", "/v1/pull", std::string(1, '\1'), "lan", bin, "", 400, "invalid_argument"},
      // Pull, login and other bodies.
      {"pull: negative since", "POST", "/v1/pull", R"({"since":-1})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: limit 0", "POST", "/v1/pull", R"({"limit":0})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: limit a million", "POST", "/v1/pull", R"({"limit":1000000})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: limit as text", "POST", "/v1/pull", R"({"limit":"10"})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: limit huge number", "POST", "/v1/pull", R"({"limit":99999999999999999999999})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: negative max_bytes", "POST", "/v1/pull", R"({"max_bytes":-4})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: 5,000 receipts", "POST", "/v1/pull", R"({"reserve_receipts":5000,"receipt_year":2026})", "lan", "application/json", "", 400, "invalid_argument"},
      {"pull: receipt year 1066", "POST", "/v1/pull", R"({"reserve_receipts":10,"receipt_year":1066})", "lan", "application/json", "", 400, "invalid_argument"},
      {"login: missing password", "POST", "/v1/login", R"({"user":"lan"})", "", "application/json", "", 400, "invalid_argument"},
      {"login: password a number", "POST", "/v1/login", R"({"user":"lan","password":123})", "", "application/json", "", 400, "invalid_argument"},
      {"login: wrong password", "POST", "/v1/login", R"({"user":"lan","password":"sai-mat-khau"})", "", "application/json", "", 401, "unauthenticated"},
      {"login: no such user", "POST", "/v1/login", R"({"user":"ghost","password":"matkhau123"})", "", "application/json", "", 401, "unauthenticated"},
      // Tokens.
      {"push: no token", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid()), "", "application/json", "", 401, "unauthenticated"},
      {"push: forged token", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", ids::NewUuid()), "forged", "application/json", "", 401, "unauthenticated"},
      {"pull: short token", "POST", "/v1/pull", "{}", "abc", "application/json", "", 401, "unauthenticated"},
      {"pull: expired token", "POST", "/v1/pull", "{}", "expired", "application/json", "", 401, "unauthenticated"},
      {"conflicts: no token", "GET", "/v1/conflicts", "", "", "application/json", "", 401, "unauthenticated"},
      // Scope and roles.
      {"push: another commune's record", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08761", ids::NewUuid()), "lan", "application/json", "", 403, "permission_denied"},
      {"push: other officer edits lan's record", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "08800", rec, nullptr, "update"), "minh", "application/json", "", 403, "permission_denied"},
      {"push: unknown unit", "POST", "/v1/push", ChangeSetJson(ids::NewUuid(), "99999", ids::NewUuid()), "lan", "application/json", "", 400, "invalid_argument"},
      {"history: out of scope", "GET", "/v1/records/" + rec + "/history", "", "minh", "application/json", "", 404, "not_found"},
      {"resolve: an officer", "POST", "/v1/conflicts/" + rec + "/resolve", R"({"decisions":[]})", "lan", "application/json", "", 403, "permission_denied"},
      {"resolve: a coordinator", "POST", "/v1/conflicts/" + rec + "/resolve", R"({"decisions":[]})", "hoa", "application/json", "", 403, "permission_denied"},
      {"resolve: nothing to resolve", "POST", "/v1/conflicts/" + rec + "/resolve", R"({"decisions":[]})", "admin", "application/json", "", 409, "failed_precondition"},
      {"users: an officer creates one", "POST", "/v1/users", R"({"name":"x","role":"admin","unit":"26","password":"matkhau123"})", "lan", "application/json", "", 403, "permission_denied"},
      {"users: admin outside scope", "POST", "/v1/users", R"({"name":"x","role":"officer","unit":"99","password":"matkhau123"})", "admin", "application/json", "", 403, "permission_denied"},
      {"users: name taken in another case", "POST", "/v1/users", R"({"name":"Lan","role":"officer","unit":"08800","password":"matkhau123"})", "admin", "application/json", "", 409, "already_exists"},
      {"users: name taken", "POST", "/v1/users", R"({"name":"lan","role":"officer","unit":"08800","password":"matkhau123"})", "admin", "application/json", "", 409, "already_exists"},
      // Replay of a change-set id with another body.
      {"push: replayed id, other body", "POST", "/v1/push", ChangeSetJson(existing_cs_, "08761", ids::NewUuid()), "lan", "application/json", "", 409, "failed_precondition"},
      // Resumable uploads and files.
      {"push body: not a SHA-256", "PUT", "/v1/push/abc?offset=0&size=3", "abc", "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"push body: no offset", "PUT", "/v1/push/" + std::string(64, 'a') + "?size=3", "abc", "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"push body: negative offset", "PUT", "/v1/push/" + std::string(64, 'a') + "?offset=-1&size=3", "abc", "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"push body: size over the limit", "PUT", "/v1/push/" + std::string(64, 'a') + "?offset=0&size=99999999999", "abc", "lan", "application/octet-stream", "", 413, "payload_too_large"},
      {"push body: wrong offset", "PUT", "/v1/push/" + std::string(64, 'b') + "?offset=100&size=300", "abc", "lan", "application/octet-stream", "", 409, "failed_precondition"},
      {"push body: bytes past size", "PUT", "/v1/push/" + std::string(64, 'c') + "?offset=0&size=2", "abcdef", "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"push body: hash mismatch", "PUT", "/v1/push/" + std::string(64, 'd') + "?offset=0&size=3", "abc", "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"file: path traversal", "GET", "/v1/files/..%2f..%2fetc%2fpasswd", "", "lan", "application/json", "", 404, "not_found"},
      {"file: begin for a record not there", "POST", "/v1/files/" + std::string(64, 'e'), R"({"size":10,"record_id":")" + ids::NewUuid() + "\"}", "lan", "application/json", "", 404, "not_found"},
      {"file: 30 GB announced", "POST", "/v1/files/" + std::string(64, 'e'), R"({"size":30000000000,"record_id":")" + rec + "\"}", "lan", "application/json", "", 413, "payload_too_large"},
      {"file: negative size", "POST", "/v1/files/" + std::string(64, 'e'), R"({"size":-1,"record_id":")" + rec + "\"}", "lan", "application/json", "", 413, "payload_too_large"},
      {"file: text instead of a photo", "PUT", "/v1/files/" + kTextSha + "?offset=0", kText, "lan", "application/octet-stream", "", 400, "invalid_argument"},
      {"file: chunk without begin", "PUT", "/v1/files/" + std::string(64, 'f') + "?offset=0", "abc", "lan", "application/octet-stream", "", 404, "not_found"},
      // Routes and methods.
      {"unknown endpoint", "GET", "/v1/secrets", "", "lan", "application/json", "", 404, "not_found"},
      {"wrong method", "DELETE", "/v1/push", "", "lan", "application/json", "", 400, "invalid_argument"},
  };
  ASSERT_GE(cases.size(), 60u);
  const std::string before = Dump();
  int passed = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Reply r = Call(c.method, c.path, c.body, c.token, c.content_type, c.encoding);
    EXPECT_EQ(r.status, c.status) << r.body;
    // A refusal says what is wrong in the project's words, never a library's internals.
    for (const char* internal : {"rapidjson", "assertion", "IsObject", "cereal", "std::"})
      EXPECT_EQ(r.body.find(internal), std::string::npos) << r.body;
    json::Object::Ptr o;
    if (json::ParseObject(r.body, &o).ok() && o->has("error"))
      EXPECT_EQ(o->getObject("error")->getValue<std::string>("code"), c.code) << r.body;
    else
      ADD_FAILURE() << "no JSON error body: " << r.body.substr(0, 200);
    EXPECT_EQ(Call("GET", "/healthz", "", "").status, 200);
    std::string after = Dump();
    EXPECT_TRUE(after == before) << "the store changed";
    if (r.status == c.status && after == before) ++passed;
  }
  RecordProperty("cases", static_cast<int>(cases.size()));
  std::printf("bad-input table: %d of %zu cases answered as documented with the store unchanged\n", passed, cases.size());
}

}  // namespace
}  // namespace ocop::server

namespace ocop::server {
namespace {

TEST_F(BadInputTest, RepeatedWrongPasswordsAreSlowedWith429AndRetryAfter) {
  const std::string wrong = R"({"user":"lan","password":"doan-mo-1"})";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("POST", "/v1/login", wrong, "").status, 401);
  EXPECT_EQ(Call("POST", "/v1/login", wrong, "").status, 401);  // the fourth is still checked...
  Poco::Net::HTTPClientSession session("127.0.0.1", socket_.address().port());
  Poco::Net::HTTPRequest req("POST", "/v1/login", Poco::Net::HTTPMessage::HTTP_1_1);
  std::string right = R"({"user":"lan","password":"matkhau123"})";
  req.setContentType("application/json");
  req.setContentLength(static_cast<std::streamsize>(right.size()));
  session.sendRequest(req) << right;
  Poco::Net::HTTPResponse resp;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
  // ...and then even the right password waits: 429 with when to come back.
  EXPECT_EQ(resp.getStatus(), 429) << body;
  EXPECT_EQ(resp.get("Retry-After", ""), "1");
  EXPECT_NE(body.find("resource_exhausted"), std::string::npos) << body;
  // After the wait, the right password gets in and clears the count.
  clock_.Advance(1500);
  EXPECT_EQ(Call("POST", "/v1/login", right, "").status, 200);
  EXPECT_EQ(Call("POST", "/v1/login", wrong, "").status, 401);
}

}  // namespace
}  // namespace ocop::server
