// End to end: a real ocopd on a free loopback port, real ocop clients with
// separate homes, talking HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "client/http_client.h"
#include "shared/ids.h"
#include "shared/json.h"
#include "shared/units.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

class SyncE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.running());
    ASSERT_FALSE(server_.url().empty());
    ASSERT_TRUE(server_.AddUser("lan", "officer", "08800"));   // Xã Đôn Nhân, Sông Lô
    ASSERT_TRUE(server_.AddUser("binh", "officer", "08821"));  // Xã Đức Bác, Sông Lô
    ASSERT_TRUE(server_.AddUser("minh", "officer", "08761"));  // Lập Thạch: another district
    ASSERT_TRUE(server_.AddUser("hoa", "coordinator", "253"));
    ASSERT_TRUE(server_.AddUser("admin", "admin", "26"));
  }

  Device NewDevice(const std::string& name) { return Device(dir_.Sub(name), server_.url()); }

  std::string Token(const std::string& user) {
    client::HttpClient http(server_.url());
    std::string resp;
    EXPECT_TRUE(http.Call("POST", "/v1/login", R"({"user":")" + user + R"(","password":"matkhau123"})", &resp).ok());
    json::Object::Ptr o;
    EXPECT_TRUE(json::ParseObject(resp, &o).ok());
    return o->getValue<std::string>("token");
  }

  TempDir dir_;
  ServerProcess server_{dir_.Sub("server")};
};

TEST_F(SyncE2eTest, OfficersSyncAndTheCoordinatorSeesBothCommunes) {
  Device lan = NewDevice("lan"), binh = NewDevice("binh"), hoa = NewDevice("hoa"), minh = NewDevice("minh");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_TRUE(binh.Setup("08821", "binh"));
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_TRUE(minh.Setup("08761", "minh"));
  // Recorded offline (no server involved until sync).
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(lan.NewIdea("Ổi Đôn Nhân " + std::to_string(i)).empty());
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(binh.NewIdea("Mật ong Đức Bác " + std::to_string(i)).empty());
  ASSERT_FALSE(minh.NewIdea("Tương Lập Thạch").empty());

  auto s = lan.Run({"sync", "--json"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"sent\":3"), std::string::npos) << s.out;
  ASSERT_EQ(binh.Run({"sync"}).code, 0);
  ASSERT_EQ(minh.Run({"sync"}).code, 0);
  s = hoa.Run({"sync", "--json"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"received\":5"), std::string::npos) << s.out;
  EXPECT_EQ(hoa.Dump().size(), 5u);  // both communes of Sông Lô, not Lập Thạch
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  EXPECT_EQ(lan.Dump().size(), 3u);  // only Đôn Nhân's own
  auto status = lan.Run({"status", "--json"});
  EXPECT_NE(status.out.find("\"pending_changes\":0"), std::string::npos) << status.out;
  // The coordinator's device searches without accents.
  auto found = hoa.Run({"list", "--search", "mat ong duc bac", "--json"});
  json::Var v;
  ASSERT_TRUE(json::Parse(found.out, &v).ok());
  EXPECT_EQ(v.extract<json::Array::Ptr>()->size(), 2u);
}

TEST_F(SyncE2eTest, PushOutsideScopeIsRefusedAndChangesNothing) {
  Device lan = NewDevice("lan");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_FALSE(lan.NewIdea("Ổi").empty());
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  // Minh (Lập Thạch) sends a change set that creates a record in Đôn Nhân.
  client::HttpOptions once;
  once.max_attempts = 1;
  client::HttpClient http(server_.url(), once);
  http.set_token(Token("minh"));
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = "d";
  sync::Change c;
  c.change_id = ids::NewUuid();
  c.record_id = ids::NewUuid();
  c.form = "idea";
  c.unit = "08800";
  c.op = "create";
  c.fields = {{"subject_name", "null", "\"X\""}, {"subject_kind", "null", "\"household\""}, {"product_name", "null", "\"Y\""},
              {"product_group", "null", "1"}, {"description", "null", "\"Z\""}};
  c.hlc = "001795453200000-00000";
  cs.changes.push_back(c);
  std::string resp;
  Status s = http.Call("POST", "/v1/push", sync::EncodeJson(cs), &resp);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find(c.record_id), std::string::npos) << s.message();
  Device hoa = NewDevice("hoa");
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  EXPECT_EQ(hoa.Dump().size(), 1u);
}

TEST_F(SyncE2eTest, SameChangeSetThreeTimesOneEffect) {
  client::HttpClient http(server_.url());
  http.set_token(Token("lan"));
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = "d";
  sync::Change c;
  c.change_id = ids::NewUuid();
  c.record_id = ids::NewUuid();
  c.form = "visit";
  c.unit = "08800";
  c.op = "create";
  c.fields = {{"visited_on", "null", "\"2026-11-24\""}, {"purpose", "null", "\"advice\""}, {"findings", "null", "\"Tốt\""}};
  c.hlc = "001795453200000-00000";
  cs.changes.push_back(c);
  std::string r1, r2, r3;
  ASSERT_TRUE(http.Call("POST", "/v1/push", sync::EncodeJson(cs), &r1).ok());
  ASSERT_TRUE(http.Call("POST", "/v1/push", sync::EncodeJson(cs), &r2).ok());
  ASSERT_TRUE(http.Call("POST", "/v1/push", sync::EncodeJson(cs), &r3).ok());
  EXPECT_EQ(r1, r2);
  EXPECT_EQ(r1, r3);
  std::string hist;
  ASSERT_TRUE(http.Call("GET", "/v1/records/" + c.record_id + "/history", "", &hist).ok());
  json::Object::Ptr o;
  ASSERT_TRUE(json::ParseObject(hist, &o).ok());
  EXPECT_EQ(o->getArray("entries")->size(), 4u);  // three fields and the first status, applied once
  std::string page;
  ASSERT_TRUE(http.Call("POST", "/v1/pull", R"({"since":0})", &page).ok());
  sync::PullPage p;
  ASSERT_TRUE(sync::DecodeJson(page, &p).ok());
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].version, 1);
}

TEST_F(SyncE2eTest, LostAnswerAfterCommitLosesNothingAndDoublesNothing) {
  DroppingProxy proxy(server_.port(), "PUT /v1/push/", /*drop_answers=*/2);
  Device lan(dir_.Sub("lan"), proxy.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(lan.NewIdea("Thanh long " + std::to_string(i)));
  // The server applies the change set, but its answer never arrives, twice.
  // The same `ocop sync` asks the server where the body stands, finds it
  // complete, and receives the stored answer: one sync, nothing doubled.
  auto first = lan.Run({"sync", "--json"});
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("\"pending\":0"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("\"drops\":2"), std::string::npos) << first.out;
  EXPECT_EQ(proxy.dropped(), 2);
  // Edit one form while the change set is still unanswered.
  ASSERT_EQ(lan.Run({"edit", ids[0], "--set", "phone=0912345678"}).code, 0);
  auto second = lan.Run({"sync", "--json"});
  ASSERT_EQ(second.code, 0) << second.err;
  auto status = lan.Run({"status", "--json"});
  EXPECT_NE(status.out.find("\"pending_changes\":0"), std::string::npos) << status.out;
  Device hoa = NewDevice("hoa");
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  auto server_view = hoa.Dump();
  EXPECT_EQ(server_view.size(), 5u);  // nothing lost, nothing doubled
  EXPECT_NE(server_view[ids[0]].find("0912345678"), std::string::npos);
  // Each form was created exactly once: one "create" of product_name per record.
  for (const auto& id : ids) {
    auto h = hoa.Run({"history", id, "--json"});
    size_t creates = 0, pos = 0;
    while ((pos = h.out.find("\"field\":\"product_name\"", pos)) != std::string::npos) ++creates, ++pos;
    EXPECT_EQ(creates, 1u) << h.out;
  }
}

TEST_F(SyncE2eTest, OfflineSyncSaysHowManyChangesWait) {
  Device lan = NewDevice("lan");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_FALSE(lan.NewIdea("Ổi").empty());
  ASSERT_EQ(server_.Stop(), 0);  // graceful stop on SIGTERM
  auto r = lan.Run({"sync"});
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("no connection"), std::string::npos);
  EXPECT_NE(r.err.find("1 changes waiting"), std::string::npos);
}

TEST_F(SyncE2eTest, ConvergenceAfterTwoSyncsEach) {
  Device lan = NewDevice("lan"), lan2 = NewDevice("lan2"), binh = NewDevice("binh"), hoa = NewDevice("hoa");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_TRUE(lan2.Setup("08800", "lan"));  // a second laptop in the same commune
  ASSERT_TRUE(binh.Setup("08821", "binh"));
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  std::string a = lan.NewIdea("Ổi");
  std::string b = binh.NewIdea("Mật ong");
  std::string never_sent = binh.NewIdea("Nháp");
  ASSERT_EQ(binh.Run({"delete", never_sent}).code, 0);  // created and deleted offline
  ASSERT_EQ(binh.Run({"sync"}).code, 0);
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  ASSERT_EQ(lan2.Run({"sync"}).code, 0);
  // Concurrent offline edits of different fields of one record, a delete, new forms.
  ASSERT_EQ(lan.Run({"edit", a, "--set", "phone=0912345678"}).code, 0);
  ASSERT_EQ(lan2.Run({"edit", a, "--set", "product_name=Ổi Đôn Nhân"}).code, 0);
  std::string c = lan2.NewIdea("Chè");
  ASSERT_EQ(binh.Run({"delete", b}).code, 0);
  ASSERT_EQ(hoa.Run({"new", "visit", "--unit", "08821", "--set", "visited_on=20/11/2026", "--set", "purpose=advice",
                     "--set", "findings=Đã tư vấn bao bì"}).code, 0);  // the coordinator's own visit
  for (int round = 0; round < 2; ++round)
    for (Device* d : {&lan, &lan2, &binh, &hoa}) ASSERT_EQ(d->Run({"sync"}).code, 0) << d->home();
  auto server = hoa.Dump();  // the coordinator's scope covers both communes
  auto in_unit = [&](const std::string& unit) {
    std::map<std::string, std::string> out;
    for (const auto& [id, v] : server)
      if (v.find("\"unit\":\"" + unit + "\"") != std::string::npos) out[id] = v;
    return out;
  };
  EXPECT_EQ(lan.Dump(), in_unit("08800"));
  EXPECT_EQ(lan2.Dump(), in_unit("08800"));
  EXPECT_EQ(binh.Dump(), in_unit("08821"));
  EXPECT_NE(server[a].find("0912345678"), std::string::npos);   // both edits merged
  EXPECT_NE(server[a].find("Ổi Đôn Nhân"), std::string::npos);
  EXPECT_NE(server[b].find("\"deleted\":true"), std::string::npos);
  EXPECT_EQ(server.count(c), 1u);
  EXPECT_EQ(server.count(never_sent), 0u);
  EXPECT_EQ(in_unit("08821").size(), 2u);  // Binh's deleted form and Hoa's visit
}

TEST_F(SyncE2eTest, ConflictIsMarkedResolvedByAdminAndClearedEverywhere) {
  Device lan = NewDevice("lan"), lan2 = NewDevice("lan2"), admin = NewDevice("admin");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  ASSERT_TRUE(lan2.Setup("08800", "lan"));
  ASSERT_TRUE(admin.Setup("26", "admin"));
  std::string id = lan.NewIdea("Ổi");
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  ASSERT_EQ(lan2.Run({"sync"}).code, 0);
  ASSERT_EQ(lan.Run({"edit", id, "--set", "product_name=Ổi Đôn Nhân"}).code, 0);
  ASSERT_EQ(lan2.Run({"edit", id, "--set", "product_name=Ổi ruột đỏ"}).code, 0);
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  auto s = lan2.Run({"sync", "--json"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"in_conflict\":1"), std::string::npos) << s.out;
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  for (Device* d : {&lan, &lan2}) {
    auto show = d->Run({"show", id, "--json"});
    EXPECT_NE(show.out.find("\"conflict\":true"), std::string::npos) << show.out;
    auto listed = d->Run({"list", "--conflicts", "--json"});
    EXPECT_NE(listed.out.find(id), std::string::npos);
  }
  // The officer sees which field is in conflict, and both values.
  auto plain = lan2.Run({"show", id});
  EXPECT_NE(plain.out.find("Fields in conflict"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("Product name: Ổi Đôn Nhân (lan)  ↔  Ổi ruột đỏ (lan)"), std::string::npos) << plain.out;
  // Officers may not resolve.
  auto denied = lan.Run({"conflicts", "resolve", id, "--take", "product_name=incoming"});
  EXPECT_EQ(denied.code, 6) << denied.err;
  ASSERT_EQ(admin.Run({"sync"}).code, 0);
  // The queue names the record by what it is: form, commune, product; fields by label.
  auto listed = admin.Run({"conflicts", "list"});
  EXPECT_NE(listed.out.find(id.substr(0, 8)), std::string::npos) << listed.out << listed.err;
  for (const char* words : {"Xã Đôn Nhân", "Product name", "Ổi"})
    EXPECT_NE(listed.out.find(words), std::string::npos) << words << " in " << listed.out;
  auto shown = admin.Run({"conflicts", "show", id});
  EXPECT_NE(shown.out.find("Ổi ruột đỏ"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Ổi Đôn Nhân"), std::string::npos);
  EXPECT_NE(shown.out.find("Product name"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("\"Ổi"), std::string::npos) << "values in words, not JSON: " << shown.out;
  auto resolved = admin.Run({"conflicts", "resolve", id, "--take", "product_name=incoming"});
  ASSERT_EQ(resolved.code, 0) << resolved.err;
  for (Device* d : {&lan, &lan2, &admin}) {
    ASSERT_EQ(d->Run({"sync"}).code, 0);
    auto show = d->Run({"show", id, "--json"});
    EXPECT_NE(show.out.find("\"conflict\":false"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("Ổi ruột đỏ"), std::string::npos) << show.out;
  }
  auto history = lan.Run({"history", id});
  EXPECT_NE(history.out.find("resolve"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("conflict"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("admin"), std::string::npos);
}

TEST_F(SyncE2eTest, ReceiptNumbersDoNotCollideAcrossDevices) {
  Device d1 = NewDevice("d1"), d2 = NewDevice("d2");
  ASSERT_TRUE(d1.Setup("08800", "lan"));
  ASSERT_TRUE(d2.Setup("08800", "lan"));
  ASSERT_EQ(d1.Run({"sync"}).code, 0);  // each device reserves a block
  ASSERT_EQ(d2.Run({"sync"}).code, 0);
  std::set<std::string> receipts;
  for (Device* d : {&d1, &d2})
    for (int i = 0; i < 3; ++i) {
      std::string id = d->NewIdea("SP " + std::to_string(i));
      auto r = d->Run({"submit", id, "--json"});
      ASSERT_EQ(r.code, 0) << r.err;
      json::Object::Ptr o;
      ASSERT_TRUE(json::ParseObject(r.out, &o).ok());
      std::string receipt = o->getObject("fields")->getValue<std::string>("receipt_no");
      EXPECT_NE(receipt.find("/PĐK-26-253-"), std::string::npos) << receipt;
      EXPECT_TRUE(receipts.insert(receipt).second) << "duplicate receipt " << receipt;
    }
}

// An idea received on a device that never synced has no number to give; the
// first sync numbers it with no action from the officer, the coordinator sees
// the number, a second device of the commune does not number it again, and
// later syncs leave it as it is.
TEST_F(SyncE2eTest, AnIdeaReceivedBeforeTheFirstSyncIsNumberedByTheSync) {
  Device d1 = NewDevice("d1"), d2 = NewDevice("d2"), hoa = NewDevice("hoa");
  ASSERT_TRUE(d1.Setup("08800", "lan"));
  std::string id = d1.NewIdea("Miến dong");
  auto submitted = d1.Run({"submit", id, "--json"});
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  EXPECT_EQ(submitted.out.find("receipt_no"), std::string::npos) << submitted.out;
  EXPECT_NE(submitted.err.find("next sync"), std::string::npos) << submitted.err;
  ASSERT_TRUE(d2.Setup("08800", "lan"));
  ASSERT_EQ(d2.Run({"sync"}).code, 0);  // d2 holds numbers before d1's idea arrives

  auto first = d1.Run({"sync", "--json"});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("\"numbered\":1"), std::string::npos) << first.out;
  auto show = [&](const Device& d) {
    json::Object::Ptr o;
    auto r = d.Run({"show", id, "--json"});
    EXPECT_TRUE(json::ParseObject(r.out, &o).ok()) << r.out << r.err;
    return o && o->has("fields") && o->getObject("fields")->has("receipt_no")
               ? o->getObject("fields")->getValue<std::string>("receipt_no")
               : std::string();
  };
  const std::string number = show(d1);
  EXPECT_NE(number.find("/PĐK-26-253-"), std::string::npos) << number;
  auto status = d1.Run({"status", "--json"});
  EXPECT_NE(status.out.find("\"pending_changes\":0"), std::string::npos) << status.out;

  ASSERT_EQ(d2.Run({"sync"}).code, 0);
  EXPECT_EQ(show(d2), number) << "the other device keeps the number it pulled";
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  EXPECT_EQ(show(hoa), number);
  auto again = d1.Run({"sync", "--json"});
  EXPECT_NE(again.out.find("\"numbered\":0"), std::string::npos) << again.out;
  EXPECT_EQ(show(d1), number);
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

TEST_F(SyncE2eTest, PhotoUploadResumesAcrossDroppedConnections) {
  DroppingProxy proxy(server_.port(), "PUT /v1/files/", 0);
  proxy.CutRequests(/*cut_every=*/3, /*cuts=*/3, /*cut_at=*/100 * 1024);
  Device lan(dir_.Sub("lan"), proxy.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=inspection", "--set",
                    "findings=Xưởng sạch"});
  ASSERT_EQ(v.code, 0) << v.err;
  std::string visit = v.out.substr(0, 36);
  // A 3 MB "photo" with varied bytes.
  std::string photo(3 * 1024 * 1024, '\0');
  uint32_t x = 12345;
  for (auto& c : photo) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  photo.replace(0, 4, "\xFF\xD8\xFF\xE0", 4);  // a JPEG's first bytes: only photos are attached
  std::string path = dir_.Sub("xuong.jpg");
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_EQ(fwrite(photo.data(), 1, photo.size(), f), photo.size());
  fclose(f);
  auto a = lan.Run({"attach", visit, path, "--caption", "Xưởng chế biến", "--json"});
  ASSERT_EQ(a.code, 0) << a.err;
  json::Object::Ptr attached;
  ASSERT_TRUE(json::ParseObject(a.out, &attached).ok());
  std::string sha = attached->getValue<std::string>("sha256");
  // Sync until the file is up; each cut costs at most one chunk, never a restart.
  int syncs = 0;
  for (; syncs < 10; ++syncs) {
    auto s = lan.Run({"sync", "--json"});
    ASSERT_EQ(s.code, 0) << s.err;  // forms sync even while the file is stuck
    if (s.out.find("\"files_waiting\":0") != std::string::npos) break;
  }
  EXPECT_LT(syncs, 10);
  EXPECT_GE(proxy.cut(), 1);
  EXPECT_GE(proxy.matched_body_bytes(), static_cast<int64_t>(photo.size()));
  // The server keeps what arrived of a cut chunk: every byte that reached it
  // counts, and none is sent to it twice.
  EXPECT_EQ(proxy.forwarded_body_bytes(), static_cast<int64_t>(photo.size()))
      << "a byte that reached the server was sent to it again";
  // The coordinator sees the visit and fetches the photo on demand.
  Device hoa = NewDevice("hoa");
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  auto shown = hoa.Run({"show", visit, "--json", "--with-files"});  // fetched on demand when shown
  EXPECT_NE(shown.out.find(sha), std::string::npos);
  EXPECT_EQ(access((dir_.Sub("hoa") + "/files/" + sha).c_str(), R_OK), 0) << shown.err;
  std::string copy = dir_.Sub("copy.jpg");
  auto got = hoa.Run({"file", sha, "--output", copy});
  ASSERT_EQ(got.code, 0) << got.err;
  FILE* g = fopen(copy.c_str(), "rb");
  ASSERT_NE(g, nullptr);
  std::string back(photo.size() + 10, '\0');
  size_t n = fread(back.data(), 1, back.size(), g);
  fclose(g);
  back.resize(n);
  EXPECT_TRUE(back == photo) << "the coordinator's copy differs";
  // Someone outside the scope cannot read it.
  Device minh = NewDevice("minh");
  ASSERT_TRUE(minh.Setup("08761", "minh"));
  EXPECT_EQ(minh.Run({"file", sha, "--output", dir_.Sub("nope")}).code, 4);
}

TEST_F(SyncE2eTest, AttachRefusesWrongRecordsAndMissingFiles) {
  Device lan = NewDevice("lan");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  std::string idea = lan.NewIdea("Ổi");
  EXPECT_EQ(lan.Run({"attach", idea, "/etc/hostname"}).code, 3);  // not a site visit
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=advice", "--set", "findings=x"});
  std::string visit = v.out.substr(0, 36);
  EXPECT_EQ(lan.Run({"attach", visit, dir_.Sub("missing.jpg")}).code, 3);
  EXPECT_EQ(lan.Run({"attach", visit}).code, 2);
  // A text file named like a photo is refused by its bytes, in Vietnamese by default.
  std::string notes = dir_.Sub("ghi-chep.jpg");
  FILE* f = fopen(notes.c_str(), "wb");
  fputs("Ghi chép chuyến đi", f);
  fclose(f);
  auto text = lan.Run({"--lang", "vi", "attach", visit, notes});
  EXPECT_EQ(text.code, 3) << text.out << text.err;
  EXPECT_NE(text.err.find("không phải ảnh"), std::string::npos) << text.err;
  // A visit dated in 2099 is refused too.
  auto future = lan.Run({"new", "visit", "--set", "visited_on=01/12/2099", "--set", "purpose=advice", "--set", "findings=x"});
  EXPECT_EQ(future.code, 3) << future.out;
  EXPECT_NE(future.err.find("is in the future"), std::string::npos) << future.err;
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

// After 2025 the district level is gone: a province with communes directly
// below it, imported from a CSV. Devices take the server's list at init.
TEST(UnitsE2eTest, DevicesTakeTheServersImportedUnitList) {
  TempDir dir;
  std::string csv = dir.Sub("units.csv");
  FILE* f = fopen(csv.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("code,name,level,parent,valid_from,valid_to\n25,Tỉnh Phú Thọ,province,,2025-07-01,\n"
        "25001,Xã Sông Lô,commune,25,2025-07-01,\n25002,Xã Tam Sơn,commune,25,2025-07-01,\n", f);
  fclose(f);
  auto imported = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--import-units", csv});
  ASSERT_EQ(imported.code, 0) << imported.err << imported.out;
  EXPECT_NE(imported.out.find("imported 3 units: 3 new"), std::string::npos) << imported.out;  // the sample's closed
  // A later list merges: a code it lacks is closed, not dropped; a new one is added.
  std::string later = dir.Sub("later.csv");
  f = fopen(later.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("code,name,level,parent,valid_from,valid_to\n25,Tỉnh Phú Thọ,province,,2025-07-01,\n"
        "25001,Xã Sông Lô,commune,25,2025-07-01,\n25003,Xã Mới,commune,25,,\n", f);
  fclose(f);
  imported = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--import-units", later});
  ASSERT_EQ(imported.code, 0) << imported.err << imported.out;
  EXPECT_NE(imported.out.find("1 new, 1 closed"), std::string::npos) << imported.out;
  imported = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--import-units", csv});  // 25002 listed again
  ASSERT_EQ(imported.code, 0) << imported.err << imported.out;
  ServerProcess server(dir.Sub("server"));
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(server.AddUser("tam", "officer", "25001"));
  ASSERT_TRUE(server.AddUser("pt", "admin", "25"));
  Device officer(dir.Sub("officer"), server.url()), admin(dir.Sub("admin"), server.url());
  ASSERT_TRUE(officer.Setup("25001", "tam"));  // not in the embedded sample
  ASSERT_TRUE(admin.Setup("25", "pt"));
  std::string id = officer.NewIdea("Chè Phú Thọ");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(officer.Run({"sync"}).code, 0);  // reserves receipt numbers
  auto submitted = officer.Run({"submit", id, "--json"});
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  EXPECT_NE(submitted.out.find("/PĐK-25-20"), std::string::npos) << submitted.out;  // no district part
  ASSERT_EQ(officer.Run({"sync"}).code, 0);
  ASSERT_EQ(admin.Run({"sync"}).code, 0);
  EXPECT_EQ(admin.Dump().size(), 1u);
  auto units = officer.Run({"units"});
  EXPECT_NE(units.out.find("Xã Tam Sơn"), std::string::npos) << units.out;
}

// The 2025 reform, real-shaped: two communes of one district (Đôn Nhân 08800
// and Đức Bác 08821, district 253) merged into a new commune 99001 directly
// under the province. The new commune's officer sees and edits the records of
// both, which keep their codes and receipt numbers; the old communes' devices
// still sync what they hold, a form typed offline after the merger included.
TEST(UnitsE2eTest, TwoCommunesMergedIntoANewOneKeepTheirRecordsAndTheirDevices) {
  TempDir dir;
  const std::vector<std::string> args = {"--port", std::to_string(FreeLoopbackPort())};
  auto server = std::make_unique<ServerProcess>(dir.Sub("server"), args);
  ASSERT_TRUE(server->running());
  ASSERT_TRUE(server->AddUser("don", "officer", "08800"));
  ASSERT_TRUE(server->AddUser("duc", "officer", "08821"));
  ASSERT_TRUE(server->AddUser("hoa", "coordinator", "253"));
  Device don(dir.Sub("don"), server->url()), duc(dir.Sub("duc"), server->url());
  ASSERT_TRUE(don.Setup("08800", "don"));
  ASSERT_TRUE(duc.Setup("08821", "duc"));
  std::string guava = don.NewIdea("Ổi Đôn Nhân"), honey = duc.NewIdea("Mật ong Đức Bác");
  ASSERT_FALSE(guava.empty());
  ASSERT_FALSE(honey.empty());
  ASSERT_EQ(don.Run({"sync"}).code, 0);  // reserves receipt numbers too
  ASSERT_EQ(don.Run({"submit", guava}).code, 0);
  ASSERT_EQ(don.Run({"sync"}).code, 0);
  ASSERT_EQ(duc.Run({"sync"}).code, 0);
  auto before = don.Run({"show", guava, "--json"});
  size_t at = before.out.find("\"receipt_no\":\"");
  ASSERT_NE(at, std::string::npos) << before.out;
  std::string old_receipt = before.out.substr(at + 14, before.out.find('"', at + 14) - at - 14);
  EXPECT_NE(old_receipt.find("/PĐK-26-253-"), std::string::npos) << old_receipt;
  // Typed on Đôn Nhân's device after the merger, before its officer heard of it.
  std::string late = don.NewIdea("Chè Đôn Nhân");
  ASSERT_FALSE(late.empty());

  // The administrator imports the statistics office's list with the merger in it.
  ASSERT_EQ(server->Stop(), 0);
  UnitTree reform = UnitTree::Sample();
  ASSERT_TRUE(reform.Add({"99001", "Xã Đôn Đức", "commune", "26", "2025-07-01", "", ""}).ok());
  for (const char* code : {"08800", "08821"}) {
    Unit closed = *UnitTree::Sample().Find(code);
    closed.valid_to = "2025-07-01";
    closed.succeeded_by = "99001";
    ASSERT_TRUE(reform.Add(closed).ok());
  }
  std::string list = dir.Sub("reform.csv");
  std::ofstream(list) << reform.ToCsv();
  auto imported = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--import-units", list});
  ASSERT_EQ(imported.code, 0) << imported.err << imported.out;
  EXPECT_NE(imported.out.find("1 new, 2 closed"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("; 2 records placed"), std::string::npos) << imported.out;
  // Importing the same list again finds nothing left to move.
  imported = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--import-units", list});
  EXPECT_NE(imported.out.find("; 0 records placed"), std::string::npos) << imported.out;

  server = std::make_unique<ServerProcess>(dir.Sub("server"), args);
  ASSERT_TRUE(server->running());
  ASSERT_TRUE(server->AddUser("moi", "officer", "99001"));
  Device moi(dir.Sub("moi"), server->url());
  ASSERT_TRUE(moi.Setup("99001", "moi"));
  ASSERT_EQ(moi.Run({"sync"}).code, 0);
  auto held = moi.Dump();
  EXPECT_EQ(held.size(), 2u);
  EXPECT_TRUE(held.count(guava) && held.count(honey));
  auto shown = moi.Run({"show", guava, "--json"});
  EXPECT_NE(shown.out.find("\"unit\":\"08800\""), std::string::npos) << shown.out;  // its own code
  EXPECT_NE(shown.out.find(old_receipt), std::string::npos) << shown.out;         // and number
  auto units = moi.Run({"units"});
  EXPECT_NE(units.out.find("08800  Xã Đôn Nhân (merged into Xã Đôn Đức on 01/07/2025)"), std::string::npos) << units.out;

  // The old commune's device still syncs: the late form goes, and reaches the new commune.
  auto sent = don.Run({"sync", "--json"});
  ASSERT_EQ(sent.code, 0) << sent.err;
  EXPECT_NE(sent.out.find("\"sent\":1"), std::string::npos) << sent.out;
  // ... and learns of the merger at that sync (one more request, this once).
  EXPECT_NE(sent.out.find("\"units_updated\":true"), std::string::npos) << sent.out;
  EXPECT_NE(don.Run({"units"}).out.find("08800  Xã Đôn Nhân (merged into Xã Đôn Đức"), std::string::npos);
  auto idle = don.Run({"sync", "--json"});
  EXPECT_NE(idle.out.find("\"units_updated\":false"), std::string::npos) << idle.out;
  EXPECT_NE(idle.out.find("\"requests\":1,"), std::string::npos) << idle.out;
  ASSERT_EQ(moi.Run({"sync"}).code, 0);
  EXPECT_EQ(moi.Dump().size(), 3u);
  // The new officer edits a record of the old commune; its device pulls the edit.
  auto edited = moi.Run({"edit", honey, "--set", "description=Mật ong rừng, nay của xã Đôn Đức"});
  ASSERT_EQ(edited.code, 0) << edited.err;
  ASSERT_EQ(moi.Run({"sync"}).code, 0);
  ASSERT_EQ(duc.Run({"sync"}).code, 0);
  EXPECT_NE(duc.Dump()[honey].find("nay của xã Đôn Đức"), std::string::npos);
  // New forms go to the commune in force, numbered in its own series.
  auto refused = moi.Run({"--lang", "en", "new", "idea", "--unit", "08800", "--set", "subject_name=HTX Chè", "--set",
                          "subject_kind=cooperative", "--set", "product_name=Chè", "--set", "product_group=1"});
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("was merged into 99001 (Xã Đôn Đức)"), std::string::npos) << refused.err;
  std::string fresh = moi.NewIdea("Bánh Đôn Đức");
  ASSERT_FALSE(fresh.empty());
  ASSERT_EQ(moi.Run({"submit", fresh}).code, 0);
  auto numbered = moi.Run({"show", fresh, "--json"});
  EXPECT_NE(numbered.out.find("/PĐK-26-2026"), std::string::npos) << numbered.out;
  EXPECT_EQ(numbered.out.find(old_receipt), std::string::npos);
  ASSERT_EQ(moi.Run({"sync"}).code, 0);
  // The old district's coordinator no longer holds the merged communes' scope;
  // the province's does, and still sees everything.
  Device hoa(dir.Sub("hoa"), server->url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  EXPECT_EQ(hoa.Dump().size(), 0u);
  ASSERT_TRUE(server->AddUser("tinh", "coordinator", "26"));
  Device tinh(dir.Sub("tinh"), server->url());
  ASSERT_TRUE(tinh.Setup("26", "tinh"));
  ASSERT_EQ(tinh.Run({"sync"}).code, 0);
  EXPECT_EQ(tinh.Dump().size(), 4u);
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

TEST_F(SyncE2eTest, RefusedChangesCanBeDiscardedAndSyncGoesOn) {
  Device lan = NewDevice("lan");
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  std::string id = lan.NewIdea("Ổi");
  ASSERT_EQ(lan.Run({"submit", id}).code, 0);
  ASSERT_EQ(lan.Run({"accept", id}).code, 0);
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  // The device believes its user is a coordinator (say the role changed after
  // it logged in): it records a selection the server will not take.
  auto role = RunProgram("/usr/bin/sqlite3", {lan.home() + "/ocop.db", "UPDATE settings SET value='coordinator' WHERE key='role'"});
  ASSERT_EQ(role.code, 0) << role.err;
  ASSERT_EQ(lan.Run({"select", id}).code, 0);
  std::string other = lan.NewIdea("Mật ong");
  auto refused = lan.Run({"sync"});
  EXPECT_EQ(refused.code, 6) << refused.err;
  EXPECT_NE(refused.err.find("only a coordinator"), std::string::npos) << refused.err;
  EXPECT_NE(lan.Run({"outbox"}).out.find("coordinator"), std::string::npos);
  auto discarded = lan.Run({"outbox", "discard"});
  ASSERT_EQ(discarded.code, 0) << discarded.err;
  auto shown = lan.Run({"show", id, "--json"});
  EXPECT_NE(shown.out.find("\"status\":\"accepted\""), std::string::npos) << shown.out;  // the server's version
  auto resent = lan.Run({"sync", "--json"});  // the other form of that change set still goes
  ASSERT_EQ(resent.code, 0) << resent.err;
  EXPECT_NE(resent.out.find("\"sent\":1"), std::string::npos) << resent.out;
  EXPECT_EQ(lan.Run({"outbox", "discard"}).code, 3);  // nothing refused now
  Device hoa = NewDevice("hoa");
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  auto server_view = hoa.Dump();
  EXPECT_EQ(server_view.count(other), 1u);
  EXPECT_NE(server_view[id].find("\"status\":\"accepted\""), std::string::npos);
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

TEST(BackupTest, OnlineBackupOfAServingStoreRestoresEverything) {
  TempDir dir;
  std::vector<std::string> ids;
  {
    ServerProcess server(dir.Sub("server"));
    ASSERT_TRUE(server.AddUser("lan", "officer", "08800"));
    Device lan(dir.Sub("lan"), server.url());
    ASSERT_TRUE(lan.Setup("08800", "lan"));
    for (int i = 0; i < 20; ++i) ids.push_back(lan.NewIdea("Chè " + std::to_string(i)));
    ASSERT_EQ(lan.Run({"sync"}).code, 0);
    // While the server serves (and another sync writes), back it up.
    for (int i = 0; i < 5; ++i) ids.push_back(lan.NewIdea("Mật ong " + std::to_string(i)));
    auto backup = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("server"), "--backup", dir.Sub("backup.db")});
    ASSERT_EQ(backup.code, 0) << backup.err;
    ASSERT_EQ(lan.Run({"sync"}).code, 0);
    // A refused backup says why and leaves nothing behind.
    auto bad = RunProgram(BinOcopd(), {"--data-dir", dir.Sub("nowhere"), "--backup", dir.Sub("bad.db")});
    EXPECT_NE(bad.code, 0);
    EXPECT_NE(access(dir.Sub("bad.db").c_str(), F_OK), 0);
  }
  // Restore: the backup becomes a new server's store.
  ASSERT_EQ(mkdir(dir.Sub("restored").c_str(), 0700), 0);
  ASSERT_EQ(std::rename(dir.Sub("backup.db").c_str(), (dir.Sub("restored") + "/ocopd.db").c_str()), 0);
  ServerProcess restored(dir.Sub("restored"));
  ASSERT_TRUE(restored.running());
  ASSERT_TRUE(restored.AddUser("hoa", "coordinator", "253"));
  Device hoa(dir.Sub("hoa"), restored.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  auto seen = hoa.Dump();
  EXPECT_EQ(seen.size(), 20u);  // the state at the backup: the first sync's 20 forms
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen.count(ids[static_cast<size_t>(i)]), 1u);
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

json::Object::Ptr JsonOut(const RunResult& r) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(r.out, &o).ok()) << r.out << r.err;
  return o ? o : json::Object::Ptr(new json::Object);
}

// A server whose disk is below its free-space floor refuses pushes with 507:
// the device stops at once (no resending in a loop), says why in Vietnamese,
// keeps every change waiting, and delivers each exactly once when there is room.
TEST(DiskFloorE2eTest, AFullServerIsToldOnceAndEverythingArrivesOnceThereIsRoom) {
  TempDir dir;
  std::string full_conf = dir.Sub("full.properties");
  {
    std::ofstream f(full_conf);
    f << "# more free bytes than any disk has: this server is always \"full\"\nfiles.min_free_bytes = 1000000000000000000\n";
  }
  std::string data = dir.Sub("server");
  Device lan(dir.Sub("lan"), "");
  {
    ServerProcess full(data, {"--config", full_conf});
    ASSERT_TRUE(full.running());
    ASSERT_TRUE(full.AddUser("lan", "officer", "08800"));
    ASSERT_TRUE(full.AddUser("hoa", "coordinator", "253"));
    lan.set_server(full.url());
    ASSERT_TRUE(lan.Setup("08800", "lan"));
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(lan.NewIdea("Mật ong " + std::to_string(i)).empty());
    auto r = lan.Run({"sync", "--json", "--deadline", "30s"});
    EXPECT_EQ(r.code, 5) << r.out << r.err;
    auto o = JsonOut(r);
    EXPECT_EQ(o->optValue<std::string>("stopped", ""), "server_full") << r.out;
    EXPECT_LE(o->optValue<int>("requests", 999), 3) << r.out;
    EXPECT_LT(o->optValue<double>("seconds", 99), 10) << r.out;
    EXPECT_NE(o->optValue<std::string>("error_vi", "").find("hết dung lượng"), std::string::npos) << r.out;
    auto text = lan.Run({"--lang", "vi", "sync"});
    EXPECT_EQ(text.code, 5);
    EXPECT_NE(text.out.find("Máy chủ tạm hết dung lượng"), std::string::npos) << text.out << text.err;
    // Nothing refused, nothing dropped: all five still wait, none marked for discarding.
    auto status = JsonOut(lan.Run({"status", "--json"}));
    EXPECT_EQ(status->optValue<int>("pending_changes", -1), 5);
    auto outbox = JsonOut(lan.Run({"outbox", "--json"}));
    EXPECT_EQ(outbox->optValue<std::string>("refused", "x"), "");
    EXPECT_EQ(full.Stop(), 0);
  }
  ServerProcess roomy(data);
  ASSERT_TRUE(roomy.running());
  auto r = lan.Run({"sync", "--json", "--server", roomy.url()});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(JsonOut(r)->optValue<int>("sent", -1), 5);
  Device hoa(dir.Sub("hoa"), roomy.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  EXPECT_EQ(hoa.Dump().size(), 5u);  // each form once
}

}  // namespace
}  // namespace ocop::testing
