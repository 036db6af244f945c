// Forms published by the server, end to end: a real ocopd takes a new version
// of the idea form while it serves; real ocop devices learn it at their next
// sync and use it offline; records written before keep their version.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "client/http_client.h"
#include "shared/embedded.h"
#include "shared/json.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

// The embedded idea form as version `version`, with `field` (a field's JSON)
// added at the top of its fields.
std::string IdeaVersion(int version, const std::string& field) {
  std::string text = *embedded::Find("forms/idea.v1.json");
  const std::string v1 = "\"version\": 1", fields = "\"fields\": [";
  text.replace(text.find(v1), v1.size(), "\"version\": " + std::to_string(version));
  if (!field.empty()) text.insert(text.find(fields) + fields.size(), "\n    " + field + ",");
  return text;
}

const char* kVietGap =
    R"({"key": "vietgap", "type": "bool", "label": {"vi": "Đạt chứng nhận VietGAP", "en": "VietGAP certified"}})";

std::string Token(const std::string& url, const std::string& user) {
  client::HttpClient http(url);
  std::string resp;
  EXPECT_TRUE(http.Call("POST", "/v1/login", R"({"user":")" + user + R"(","password":"matkhau123"})", &resp).ok());
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(resp, &o).ok());
  return o->optValue<std::string>("token", "");
}

// POST /v1/definitions/publish as `token`; the answer's JSON, or the error's.
json::Object::Ptr Publish(const std::string& url, const std::string& token, const std::string& definition, bool apply,
                          Status* status) {
  client::HttpOptions plain;
  plain.gzip_threshold = SIZE_MAX;  // as a browser sends it
  client::HttpClient http(url, plain);
  http.set_token(token);
  std::string resp;
  *status = http.Call("POST", std::string("/v1/definitions/publish") + (apply ? "?apply=1" : ""), definition, &resp);
  json::Object::Ptr o;
  if (status->ok()) {
    EXPECT_TRUE(json::ParseObject(resp, &o).ok()) << resp;
  }
  return o;
}

json::Object::Ptr Shown(const Device& device, const std::string& id) {
  auto shown = device.Run({"show", id, "--json"});
  EXPECT_EQ(shown.code, 0) << shown.err;
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(shown.out, &o).ok()) << shown.out;
  return o;
}

TEST(PublishedFormsE2eTest, AVersionPublishedWhileTheServerRunsReachesDevicesAtTheirNextSync) {
  TempDir dir;
  std::string config = dir.Sub("ocopd.properties");
  std::ofstream(config) << "store.refresh_seconds = 1\n";  // `ocopd --publish` below is taken within a second
  const std::vector<std::string> args = {"--config", config, "--port", std::to_string(FreeLoopbackPort())};
  ServerProcess server(dir.Sub("server"), args);
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("thu", "officer", "08800"));  // a second officer of the commune, on her own phone
  ASSERT_TRUE(server.AddUser("admin", "admin", "26"));
  Device a(dir.Sub("a"), server.url()), b(dir.Sub("b"), server.url());
  ASSERT_TRUE(a.Setup("08800", "lan"));
  ASSERT_TRUE(b.Setup("08800", "thu"));
  std::string old_id = a.NewIdea("Miến dong");
  ASSERT_FALSE(old_id.empty());
  ASSERT_EQ(a.Run({"sync"}).code, 0);
  auto idle = a.Run({"sync", "--json"});
  ASSERT_EQ(idle.code, 0) << idle.err;
  EXPECT_NE(idle.out.find("\"forms_updated\":[]"), std::string::npos) << idle.out;  // nothing published yet

  // An officer cannot publish; a version whose key changes type is refused with the reason.
  Status st;
  Publish(server.url(), Token(server.url(), "lan"), IdeaVersion(2, kVietGap), true, &st);
  EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.message();
  const std::string admin = Token(server.url(), "admin");
  std::string broken = IdeaVersion(2, kVietGap);
  const std::string group = R"("key": "product_group", "type": "integer")";
  broken.replace(broken.find(group), group.size(), R"("key": "product_group", "type": "text")");
  Publish(server.url(), admin, broken, true, &st);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("Product group (1–6)) was integer in version 1 and cannot become text"), std::string::npos)
      << st.message();
  Publish(server.url(), admin, IdeaVersion(1, kVietGap), true, &st);
  EXPECT_NE(st.message().find("publish version 2"), std::string::npos) << st.message();

  // Checked first: the differences, nothing published; then published.
  auto checked = Publish(server.url(), admin, IdeaVersion(2, kVietGap), false, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(checked->getValue<bool>("published"));
  auto differences = checked->getArray("differences");
  ASSERT_EQ(differences->size(), 1u);
  EXPECT_EQ(differences->getObject(0)->getValue<std::string>("kind"), "added");
  EXPECT_EQ(differences->getObject(0)->getValue<std::string>("label_vi"), "Đạt chứng nhận VietGAP");
  auto new_id = a.NewIdea("Chè xanh", "vietgap", "có");
  EXPECT_TRUE(new_id.empty());  // a check publishes nothing: the device does not know the field
  auto published = Publish(server.url(), admin, IdeaVersion(2, kVietGap), true, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(published->getValue<bool>("published"));

  // Device A learns it at its next sync (the same one request, then the
  // definitions once) and uses it offline.
  auto learnt = a.Run({"sync", "--lang", "vi"});
  ASSERT_EQ(learnt.code, 0) << learnt.err;
  EXPECT_NE(learnt.out.find("Đã nhận mẫu phiếu mới từ máy chủ: Phiếu đăng ký ý tưởng sản phẩm (phiên bản 2)"),
            std::string::npos)
      << learnt.out;
  auto again = a.Run({"sync", "--json"});
  EXPECT_NE(again.out.find("\"forms_updated\":[]"), std::string::npos) << again.out;
  auto forms = a.Run({"forms", "idea", "--lang", "vi"});
  EXPECT_NE(forms.out.find("idea (v2)"), std::string::npos) << forms.out;
  EXPECT_NE(forms.out.find("Đạt chứng nhận VietGAP"), std::string::npos) << forms.out;
  EXPECT_EQ(forms.out.find("form_version"), std::string::npos) << forms.out;  // the system's own, not shown
  server.Stop();  // offline from here
  new_id = a.NewIdea("Chè xanh", "vietgap", "có");
  ASSERT_FALSE(new_id.empty());
  auto fresh = Shown(a, new_id)->getObject("fields");
  EXPECT_EQ(fresh->getValue<int>("form_version"), 2);
  EXPECT_TRUE(fresh->getValue<bool>("vietgap"));
  // The record of version 1 still edits, with version 1's fields only.
  auto edited = a.Run({"edit", old_id, "--set", "product_name=Miến dong Đôn Nhân"});
  EXPECT_EQ(edited.code, 0) << edited.err;
  auto refused = a.Run({"edit", old_id, "--set", "vietgap=có"});
  EXPECT_NE(refused.code, 0);
  EXPECT_FALSE(Shown(a, old_id)->getObject("fields")->has("form_version"));

  // Back online: both reach the server, and device B pulls the new value.
  ServerProcess back(dir.Sub("server"), args);
  ASSERT_TRUE(back.running());
  auto pushed = a.Run({"sync"});
  ASSERT_EQ(pushed.code, 0) << pushed.err << pushed.out;
  auto pulled = b.Run({"sync"});
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("New form from the server: Product idea registration (version 2)"), std::string::npos)
      << pulled.out;
  auto seen = Shown(b, new_id)->getObject("fields");
  EXPECT_TRUE(seen->getValue<bool>("vietgap"));
  EXPECT_EQ(Shown(b, old_id)->getObject("fields")->getValue<std::string>("product_name"), "Miến dong Đôn Nhân");
  auto shown = b.Run({"show", new_id, "--lang", "vi"});
  EXPECT_NE(shown.out.find("Đạt chứng nhận VietGAP: có"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("form_version"), std::string::npos) << shown.out;

  // `ocopd --publish` beside the running server: checked, then published and taken within a second.
  std::string v3 = dir.Sub("idea.v3.json");
  std::ofstream(v3) << IdeaVersion(3, R"({"key": "hamlet", "type": "text", "max_length": 100, "label": {"vi": "Thôn", "en": "Hamlet"}})");
  auto check = RunProgram(BinOcopd(), {"--data-dir", back.data_path(), "--publish", v3, "--check"});
  ASSERT_EQ(check.code, 0) << check.err;
  EXPECT_NE(check.out.find("can be published: form idea version 3"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("- removed vietgap (Đạt chứng nhận VietGAP)"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("+ new field hamlet (Thôn)"), std::string::npos) << check.out;
  auto cli = RunProgram(BinOcopd(), {"--data-dir", back.data_path(), "--publish", v3});
  ASSERT_EQ(cli.code, 0) << cli.err;
  EXPECT_NE(cli.out.find("published form idea version 3"), std::string::npos) << cli.out;
  auto twice = RunProgram(BinOcopd(), {"--data-dir", back.data_path(), "--publish", v3});
  EXPECT_NE(twice.code, 0);
  EXPECT_NE(twice.err.find("publish version 4"), std::string::npos) << twice.err;
  bool taken = false;
  for (int i = 0; i < 50 && !taken; ++i) {  // at most 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = b.Run({"sync", "--json"});
    taken = r.out.find(R"({"form":"idea","version":3})") != std::string::npos;
  }
  EXPECT_TRUE(taken);
  EXPECT_FALSE(b.NewIdea("Rượu nếp", "hamlet", "Thôn Đông").empty());
}

// A corrected criteria sheet is published under an id of its own and
// replaces the old one for councils from then on; corrections to the message
// catalogue change what devices say. Both reach a device at its next sync.
TEST(PublishedFormsE2eTest, ACorrectedCriteriaSheetAndCatalogueCorrectionsReachDevices) {
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
  ASSERT_TRUE(server.AddUser("admin", "admin", "26"));
  Device a(dir.Sub("a"), server.url());
  ASSERT_TRUE(a.Setup("08800", "lan"));
  std::string id = a.NewIdea("Miến dong");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(a.Run({"sync"}).code, 0);
  const std::string admin = Token(server.url(), "admin");

  std::string sheet = *embedded::Find("criteria/148-2023.json");
  const std::string old_id = "\"sheet\": \"148-2023\",";
  sheet.replace(sheet.find(old_id), old_id.size(), "\"sheet\": \"148-2023-r1\", \"replaces\": \"148-2023\",");
  const std::string label = "Phiếu chấm theo Quyết định 148/QĐ-TTg (2023)";
  sheet.replace(sheet.find(label), label.size(), label + ", bản sửa 1");
  Status st;
  Publish(server.url(), admin, *embedded::Find("criteria/148-2023.json"), true, &st);
  EXPECT_NE(st.message().find("exists already and never changes: publish the corrected sheet under a new id"),
            std::string::npos)
      << st.message();
  auto published = Publish(server.url(), admin, sheet, true, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(published->getValue<std::string>("kind"), "criteria");
  EXPECT_EQ(published->getValue<std::string>("replaces"), "148-2023");
  // Catalogue corrections: a refused one (a placeholder its English lacks), then one taken.
  Publish(server.url(), admin, R"({"version": 1, "messages": [{"en": "record {1} is deleted", "vi": "phiếu {2} đã xoá"}]})",
          true, &st);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  Publish(server.url(), admin, R"({"version": 1, "statuses": {"draft": {"vi": "Bản nháp", "en": "Draft"}}, "messages": []})",
          true, &st);
  ASSERT_TRUE(st.ok()) << st.message();

  auto synced = a.Run({"sync", "--lang", "vi"});
  ASSERT_EQ(synced.code, 0) << synced.err;
  EXPECT_NE(synced.out.find("Đã nhận bộ tiêu chí mới từ máy chủ: " + label + ", bản sửa 1 (ocop criteria 148-2023-r1)"),
            std::string::npos)
      << synced.out;
  EXPECT_NE(synced.out.find("Đã nhận bản sửa lời nhắn và tên gọi từ máy chủ"), std::string::npos) << synced.out;
  // Offline from here on: the device holds what it fetched.
  server.Stop();
  auto criteria = a.Run({"criteria", "--lang", "vi"});
  EXPECT_EQ(criteria.out.rfind(label + ", bản sửa 1\n", 0), 0u) << criteria.out;  // councils from now on
  auto older = a.Run({"criteria", "--year", "2022", "--lang", "vi"});
  EXPECT_NE(older.out.find("1048/QĐ-TTg"), std::string::npos) << older.out;  // a 2022 council's sheet is unchanged
  auto shown = a.Run({"show", id, "--lang", "vi"});
  EXPECT_NE(shown.out.find("Trạng thái: Bản nháp"), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace ocop::testing
