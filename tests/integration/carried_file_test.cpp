// Sync by carried file with real `ocopd` and `ocop` processes: a commune
// device that is never online after its first login sends 200 forms and a
// photo by file (through a coordinator's laptop, or imported on the server),
// receives the coordinator's decisions by a return file, and when it finally
// syncs online nothing is doubled. Tampered files change nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "shared/json.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

json::Object::Ptr Json(const RunResult& r) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(r.out, &o).ok()) << r.out << r.err;
  return o ? o : json::Object::Ptr(new json::Object);
}

class CarriedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.running());
    ASSERT_TRUE(server_.AddUser("lan", "officer", "08800"));
    ASSERT_TRUE(server_.AddUser("hoa", "coordinator", "253"));
    // The commune's device logs in once, at the district office; afterwards it never has a link.
    ASSERT_TRUE(lan_.Setup("08800", "lan"));
    ASSERT_TRUE(hoa_.Setup("253", "hoa"));
    // From here on the test never syncs lan_ until it says "a link at last".
  }

  std::string DeviceId(const Device& d) { return Json(d.Run({"status", "--json"}))->getValue<std::string>("device"); }
  int64_t Pending(const Device& d) { return Json(d.Run({"status", "--json"}))->getValue<int64_t>("pending_changes"); }
  int64_t ServerRecords() {
    Device probe(dir_.Sub("probe-" + std::to_string(++probes_)), server_.url());
    EXPECT_TRUE(probe.Setup("253", "hoa"));
    EXPECT_EQ(probe.Run({"sync"}).code, 0);
    return static_cast<int64_t>(probe.Dump().size());
  }
  // Makes `n` ideas and a visit with a photo; returns the photo's SHA-256.
  std::string RecordOffline(Device& d, int n) {
    for (int i = 0; i < n; ++i) EXPECT_FALSE(d.NewIdea("Ổi Đôn Nhân " + std::to_string(i)).empty());
    auto v = d.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=advice", "--set",
                    "findings=Vườn sạch", "--json"});
    EXPECT_EQ(v.code, 0) << v.err;
    std::string visit = Json(v)->getValue<std::string>("id");
    std::string photo = dir_.Sub("vuon.jpg");
    WriteAll(photo, std::string("\xFF\xD8\xFF\xE0", 4) + std::string(40000, 'p') + "\xFF\xD9");
    auto a = d.Run({"attach", visit, photo, "--caption", "Vườn ổi", "--json"});
    EXPECT_EQ(a.code, 0) << a.err;
    return Json(a)->getValue<std::string>("sha256");
  }

  TempDir dir_;
  ServerProcess server_{dir_.Sub("server")};
  Device lan_{dir_.Sub("lan"), server_.url()}, hoa_{dir_.Sub("hoa"), server_.url()};
  int probes_ = 0;
};

TEST_F(CarriedFileTest, ACommuneNeverOnlineSendsByFileThroughTheCoordinatorAndNothingDoubles) {
  std::string sha = RecordOffline(lan_, 200);
  std::string file = dir_.Sub("usb/lan.ocop");
  ASSERT_EQ(RunProgram("/bin/mkdir", {"-p", dir_.Sub("usb")}).code, 0);
  auto e = lan_.Run({"outbox", "export", "--output", file, "--with-files", "--json"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(Json(e)->getValue<int64_t>("changes"), 201);
  EXPECT_EQ(Json(e)->getValue<int64_t>("photos"), 1);
  EXPECT_EQ(Json(lan_.Run({"status", "--json"}))->getValue<int64_t>("exported_unanswered"), 1);

  // The coordinator's laptop takes the file and pushes it at its next sync.
  auto imported = hoa_.Run({"import-changes", file, "--json"});
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(Json(imported)->getValue<std::string>("user"), "lan");
  EXPECT_TRUE(hoa_.Run({"import-changes", file, "--json"}).out.find("\"already\":true") != std::string::npos);
  auto s = hoa_.Run({"sync", "--json"});
  ASSERT_EQ(s.code, 0) << s.err << s.out;
  EXPECT_EQ(hoa_.Dump().size(), 201u);
  EXPECT_EQ(ServerRecords(), 201);
  auto f = hoa_.Run({"file", sha, "--output", dir_.Sub("fetched.jpg")});
  EXPECT_EQ(f.code, 0) << f.err;  // the photo reached the server whole
  EXPECT_EQ(ReadAll(dir_.Sub("fetched.jpg")).size(), 40006u);

  // Later the commune device gets a link: the same change sets, answered once.
  auto online = lan_.Run({"sync", "--json"});
  ASSERT_EQ(online.code, 0) << online.err << online.out;
  EXPECT_EQ(Pending(lan_), 0);
  EXPECT_EQ(Json(lan_.Run({"status", "--json"}))->getValue<int64_t>("exported_unanswered"), 0);
  EXPECT_EQ(ServerRecords(), 201);
  EXPECT_EQ(lan_.Dump(), hoa_.Dump());
}

TEST_F(CarriedFileTest, ImportedOnTheServerTwiceAndSyncedOnlineIsAppliedOnce) {
  RecordOffline(lan_, 20);
  std::string file = dir_.Sub("lan.ocop");
  ASSERT_EQ(lan_.Run({"outbox", "export", "--output", file, "--with-files"}).code, 0);
  auto first = RunProgram(BinOcopd(), {"--data-dir", dir_.Sub("server"), "--import-changes", file});
  ASSERT_EQ(first.code, 0) << first.err << first.out;
  EXPECT_NE(first.out.find("21 applied"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("1 stored"), std::string::npos) << first.out;
  auto again = RunProgram(BinOcopd(), {"--data-dir", dir_.Sub("server"), "--import-changes", file});
  ASSERT_EQ(again.code, 0) << again.err << again.out;  // answered from the stored answers
  EXPECT_EQ(ServerRecords(), 21);
  ASSERT_EQ(lan_.Run({"sync"}).code, 0);
  EXPECT_EQ(Pending(lan_), 0);
  EXPECT_EQ(ServerRecords(), 21);
}

TEST_F(CarriedFileTest, TamperedFilesAreRefusedWithAClearMessageAndChangeNothing) {
  RecordOffline(lan_, 3);
  std::string file = dir_.Sub("lan.ocop");
  ASSERT_EQ(lan_.Run({"outbox", "export", "--output", file}).code, 0);
  std::string good = ReadAll(file);
  auto import = [&](const std::string& bytes) {
    std::string path = dir_.Sub("bad.ocop");
    WriteAll(path, bytes);
    return RunProgram(BinOcopd(), {"--data-dir", dir_.Sub("server"), "--import-changes", path});
  };
  // One byte of the contents changed.
  std::string flipped = good;
  flipped[good.find('\n', 20) + 40] ^= 0x01;
  auto r = import(flipped);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  // The header changed to name another user (the signature covers it).
  std::string renamed = good;
  size_t at = renamed.find("\"user\":\"lan\"");
  ASSERT_NE(at, std::string::npos);
  renamed.replace(at, 12, "\"user\":\"hoa\"");
  r = import(renamed);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("no key of device"), std::string::npos) << r.err;
  // Written and signed by another device of the district, its header made to name lan's device and account.
  ASSERT_TRUE(server_.AddUser("binh", "officer", "08821"));
  Device binh(dir_.Sub("binh"), server_.url());
  ASSERT_TRUE(binh.Setup("08821", "binh"));
  ASSERT_FALSE(binh.NewIdea("Mật ong").empty());
  std::string other = dir_.Sub("binh.ocop");
  ASSERT_EQ(binh.Run({"outbox", "export", "--output", other}).code, 0);
  std::string forged = ReadAll(other);
  std::string lan_device = DeviceId(lan_), binh_device = DeviceId(binh);
  at = forged.find(binh_device);
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, binh_device.size(), lan_device);
  at = forged.find("\"user\":\"binh\"");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 13, "\"user\":\"lan\"");
  r = import(forged);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(r.err.find("signature") != std::string::npos || r.err.find("another device") != std::string::npos) << r.err;
  // Cut short on the way.
  r = import(good.substr(0, good.size() / 2));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  // Not a carried file at all.
  r = import("id,unit\n1,2\n");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(ServerRecords(), 0);
  // The untouched file still goes in.
  EXPECT_EQ(import(good).code, 0);
  EXPECT_EQ(ServerRecords(), 4);  // three ideas and the visit
  // A coordinator's device refuses a file outside its scope before carrying it.
  ASSERT_TRUE(server_.AddUser("minh", "officer", "08761"));
  Device minh(dir_.Sub("minh"), server_.url());
  ASSERT_TRUE(minh.Setup("08761", "minh"));
  ASSERT_FALSE(minh.NewIdea("Tương").empty());
  ASSERT_EQ(minh.Run({"outbox", "export", "--output", dir_.Sub("minh.ocop")}).code, 0);
  auto out_of_scope = hoa_.Run({"import-changes", dir_.Sub("minh.ocop")});
  EXPECT_NE(out_of_scope.code, 0);
  EXPECT_NE(out_of_scope.err.find("outside your scope"), std::string::npos) << out_of_scope.err;
}

TEST_F(CarriedFileTest, AReturnFileDeliversTheCoordinatorsDecisionOnceAndAnOlderOneChangesNothing) {
  std::string id = lan_.NewIdea("Ổi Đôn Nhân");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(lan_.Run({"submit", id}).code, 0);
  ASSERT_EQ(lan_.Run({"accept", id}).code, 0);
  std::string file = dir_.Sub("lan.ocop");
  ASSERT_EQ(lan_.Run({"outbox", "export", "--output", file}).code, 0);
  ASSERT_EQ(hoa_.Run({"import-changes", file}).code, 0);
  ASSERT_EQ(hoa_.Run({"sync"}).code, 0);
  std::string device = DeviceId(lan_);
  std::string older = dir_.Sub("return-1.ocop"), newer = dir_.Sub("return-2.ocop");
  auto x = RunProgram(BinOcopd(), {"--data-dir", dir_.Sub("server"), "--export-scope", "08800", "--for-device", device,
                                   "--output", older});
  ASSERT_EQ(x.code, 0) << x.err;
  // The coordinator selects the idea, online.
  auto sel = hoa_.Run({"select", id});
  ASSERT_EQ(sel.code, 0) << sel.err << sel.out;
  ASSERT_EQ(hoa_.Run({"sync"}).code, 0);
  // This time from the coordinator's laptop (online at the district), to carry to the commune.
  auto fetched = hoa_.Run({"export-return", "--for-device", device, "--output", newer});
  ASSERT_EQ(fetched.code, 0) << fetched.err;
  // Not for a device outside one's scope.
  ASSERT_TRUE(server_.AddUser("minh", "officer", "08761"));
  Device minh(dir_.Sub("minh"), server_.url());
  ASSERT_TRUE(minh.Setup("08761", "minh"));
  EXPECT_NE(hoa_.Run({"export-return", "--for-device", DeviceId(minh), "--output", dir_.Sub("y.ocop")}).code, 0);
  // Another unit's name for the device is a mistake, said so.
  auto wrong = RunProgram(BinOcopd(), {"--data-dir", dir_.Sub("server"), "--export-scope", "08821", "--for-device",
                                       device, "--output", dir_.Sub("x.ocop")});
  EXPECT_NE(wrong.code, 0);

  auto got = lan_.Run({"import-pull", newer, "--json"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(Json(got)->getValue<int64_t>("answers"), 1);
  auto show = Json(lan_.Run({"show", id, "--json"}));
  EXPECT_EQ(show->getObject("fields")->getValue<std::string>("status"), "selected");
  EXPECT_EQ(Json(lan_.Run({"status", "--json"}))->getValue<int64_t>("exported_unanswered"), 0);
  EXPECT_EQ(Pending(lan_), 0);
  // Twice, or an older file: nothing changes.
  auto before = lan_.Dump();
  EXPECT_NE(lan_.Run({"import-pull", newer, "--json"}).out.find("\"nothing_new\":true"), std::string::npos);
  EXPECT_NE(lan_.Run({"import-pull", older, "--json"}).out.find("\"nothing_new\":true"), std::string::npos);
  EXPECT_EQ(lan_.Dump(), before);
  // A return file is for one device only, and cannot be tampered with.
  auto other = hoa_.Run({"import-pull", newer});
  EXPECT_NE(other.code, 0);
  std::string bytes = ReadAll(newer);
  bytes[bytes.size() - 10] = bytes[bytes.size() - 10] == 'a' ? 'b' : 'a';
  WriteAll(dir_.Sub("tampered-return.ocop"), bytes);
  auto tampered = lan_.Run({"import-pull", dir_.Sub("tampered-return.ocop")});
  EXPECT_NE(tampered.code, 0);
  EXPECT_NE(tampered.err.find("signature"), std::string::npos) << tampered.err;
  // Online at last: nothing to send, nothing doubled.
  ASSERT_EQ(lan_.Run({"sync"}).code, 0);
  EXPECT_EQ(ServerRecords(), 1);
}

}  // namespace
}  // namespace ocop::testing
