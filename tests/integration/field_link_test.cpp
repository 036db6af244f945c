// Sync over a link that is slow and drops every few tens of kilobytes, with
// the real ocopd and the real ocop (tests/integration/link_emulator.h). The
// rule under test: every byte that reaches either end counts, and everything
// arrives exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "client/http_client.h"
#include "client/local_store.h"
#include "client/sync_client.h"
#include "shared/json.h"
#include "shared/units.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"
#include "tests/integration/link_emulator.h"

namespace ocop::testing {
namespace {

std::string Photo(size_t size, uint32_t seed) {
  std::string photo(size, '\0');
  for (auto& c : photo) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  photo.replace(0, 4, "\xFF\xD8\xFF\xE0", 4);  // a JPEG's first bytes: only photos are attached
  return photo;
}

class FieldLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.running());
    ASSERT_TRUE(server_.AddUser("lan", "officer", "08800"));
    ASSERT_TRUE(server_.AddUser("hoa", "coordinator", "253"));
  }
  std::string WriteFile(const std::string& name, const std::string& bytes) {
    std::string path = dir_.Sub(name);
    FILE* f = fopen(path.c_str(), "wb");
    EXPECT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    fclose(f);
    return path;
  }
  TempDir dir_;
  ServerProcess server_{dir_.Sub("server")};
};

TEST_F(FieldLinkTest, ThreeHundredFormsAndAPhotoArriveExactlyOnceOverALinkCutEvery20To60KB) {
  // Fast enough for a test suite, but cut as often as a village link.
  LinkProfile village{400 * 1024, 20, 20 * 1024, 60 * 1024, 7};
  LinkEmulator up_link(server_.port(), village);
  Device lan(dir_.Sub("lan"), server_.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(lan.NewIdea("Sản phẩm số " + std::to_string(i), "phone", "09" + std::to_string(10000000 + i)));
    ASSERT_FALSE(ids.back().empty());
  }
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=inspection", "--set",
                    "findings=Xưởng sạch"});
  ASSERT_EQ(v.code, 0) << v.err;
  std::string visit = v.out.substr(0, 36);
  std::string photo = Photo(1024 * 1024, 99);
  auto a = lan.Run({"attach", visit, WriteFile("anh.jpg", photo), "--json"});
  ASSERT_EQ(a.code, 0) << a.err;
  json::Object::Ptr attached;
  ASSERT_TRUE(json::ParseObject(a.out, &attached).ok());
  std::string sha = attached->getValue<std::string>("sha256");

  // One `ocop sync`: it keeps going through the cuts until everything is up.
  auto s = lan.Run({"sync", "--json", "--server", up_link.url(), "--deadline", "5m"});
  ASSERT_EQ(s.code, 0) << s.out << s.err;
  if (std::getenv("OCOP_HTTP_TRACE")) fprintf(stderr, "%s\n", s.err.c_str());
  EXPECT_NE(s.out.find("\"pending\":0"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"files_waiting\":0"), std::string::npos) << s.out;
  EXPECT_GT(up_link.cuts(), 10) << "the link was meant to drop often";
  // Nothing restarted from zero: the link carried less than the photo sent
  // whole on each of its attempts would have cost.
  EXPECT_LT(up_link.bytes_up(), static_cast<int64_t>(photo.size()) * 3) << s.out;
  RecordProperty("field_link_bytes_up", std::to_string(up_link.bytes_up()));

  // A second device pulls everything over its own dropping link.
  LinkEmulator down_link(server_.port(), {400 * 1024, 20, 20 * 1024, 60 * 1024, 11});
  Device hoa(dir_.Sub("hoa"), server_.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  auto pulled = hoa.Run({"sync", "--json", "--with-files", "--server", down_link.url(), "--deadline", "5m"});
  ASSERT_EQ(pulled.code, 0) << pulled.out << pulled.err;
  EXPECT_NE(pulled.out.find("\"files_downloaded\":1"), std::string::npos) << "the photo came down too: " << pulled.out;
  auto seen = hoa.Dump();
  EXPECT_EQ(seen.size(), 301u);  // 300 ideas and the visit, each once
  for (const auto& id : ids) EXPECT_EQ(seen.count(id), 1u) << id;
  // Exactly once on the server: each form's history has one creation.
  for (size_t i = 0; i < ids.size(); i += 50) {
    auto h = hoa.Run({"history", ids[i], "--json", "--server", server_.url()});
    size_t creates = 0, pos = 0;
    while ((pos = h.out.find("\"field\":\"product_name\"", pos)) != std::string::npos) ++creates, ++pos;
    EXPECT_EQ(creates, 1u) << h.out;
  }
  // The photo's bytes match its SHA-256 (the server checks, and so does the
  // fetch). Fetched on demand by another device over a link cut every 20-60
  // KB, it continues where each cut left it: at most 1.3 times its size on
  // the wire, headers included.
  std::string copy = dir_.Sub("copy.jpg");
  Device other(dir_.Sub("hoa-2"), server_.url());
  ASSERT_TRUE(other.Setup("253", "hoa"));
  ASSERT_EQ(other.Run({"sync"}).code, 0);
  LinkEmulator file_link(server_.port(), {400 * 1024, 20, 20 * 1024, 60 * 1024, 13});
  auto got = other.Run({"file", sha, "--output", copy, "--server", file_link.url()});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_GT(file_link.cuts(), 10) << "the link was meant to drop often";
  EXPECT_LE(file_link.bytes_down(), static_cast<int64_t>(photo.size() * 13 / 10)) << file_link.connections() << " connections";
  RecordProperty("photo_download_bytes_down", std::to_string(file_link.bytes_down()));
  FILE* f = fopen(copy.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string back(photo.size() + 1, '\0');
  back.resize(fread(back.data(), 1, back.size(), f));
  fclose(f);
  EXPECT_TRUE(back == photo);
}

TEST_F(FieldLinkTest, AReturnFileComesDownOverACutLinkOnceAndWhole) {
  // A commune with 1,000 ideas (typed in from a spreadsheet) synced once; its
  // coordinator writes the commune's return file (about 32 KB) over a link cut every 4-8 KB.
  Device lan(dir_.Sub("lan"), server_.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  std::string csv = "subject_name,subject_kind,product_name,product_group,description\n";
  uint32_t seed = 5;
  for (int i = 0; i < 1000; ++i) {
    std::string words;
    for (int w = 0; w < 12; ++w) {
      seed = seed * 1664525u + 1013904223u;
      words += (w ? " " : "") + std::string("từ") + std::to_string(seed % 100000);
    }
    csv += "HTX số " + std::to_string(i) + ",cooperative,Sản phẩm " + std::to_string(i) + ",1," + words + "\n";
  }
  auto imported = lan.Run({"import", "idea", WriteFile("y-tuong.csv", csv), "--json"});
  ASSERT_EQ(imported.code, 0) << imported.out << imported.err;
  ASSERT_EQ(lan.Run({"sync"}).code, 0);
  json::Object::Ptr status;
  ASSERT_TRUE(json::ParseObject(lan.Run({"status", "--json"}).out, &status).ok());
  const std::string device = status->getValue<std::string>("device");

  Device hoa(dir_.Sub("hoa"), server_.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  LinkEmulator link(server_.port(), {400 * 1024, 20, 4 * 1024, 8 * 1024, 17});
  const std::string out = dir_.Sub("tra-ve.ocop");
  auto got = hoa.Run({"export-return", "--for-device", device, "--output", out, "--server", link.url(), "--json"});
  ASSERT_EQ(got.code, 0) << got.out << got.err;
  json::Object::Ptr wrote;
  ASSERT_TRUE(json::ParseObject(got.out, &wrote).ok()) << got.out;
  const int64_t size = wrote->getValue<int64_t>("bytes");
  EXPECT_GT(link.cuts(), 3) << "the link was meant to drop often (" << size << " bytes)";
  // Each attempt continued where the last stopped: about the file once on the wire.
  EXPECT_LE(link.bytes_down(), size * 13 / 10) << link.connections() << " connections for " << size << " bytes";
  RecordProperty("return_file_bytes", std::to_string(size));
  RecordProperty("return_file_bytes_down", std::to_string(link.bytes_down()));
  // Whole and signed: the commune's device takes it (it holds every record already).
  auto taken = lan.Run({"import-pull", out, "--json"});
  EXPECT_EQ(taken.code, 0) << taken.out << taken.err;
  // Nothing is left beside the output.
  EXPECT_EQ(hoa.Run({"export-return", "--for-device", device, "--output", out}).code, 0);
  for (const char* tail : {".part", ".part.etag"}) {
    std::string leftover = out + "." + device.substr(0, 8) + "-0" + tail;
    EXPECT_NE(access(leftover.c_str(), F_OK), 0) << leftover;
  }
}

TEST_F(FieldLinkTest, ACutAtAnyByteOfASmallPushNeverLosesOrDoublesAChange) {
  // In-process devices against the real ocopd: for each offset, the first
  // connection is cut at that byte (request or answer), the rest go through.
  const int kOffsets = 160, kStride = 7;
  for (int i = 0; i < kOffsets; ++i) {
    int64_t offset = 1 + i * kStride;
    SCOPED_TRACE("cut at byte " + std::to_string(offset));
    std::string home = dir_.Sub("dev" + std::to_string(i));
    ASSERT_TRUE(client::LocalStore::Init(home, "08800", server_.url(), UnitTree::Sample(), SystemClock::Get()).ok());
    std::unique_ptr<client::LocalStore> store;
    ASSERT_TRUE(client::LocalStore::Open(home, SystemClock::Get(), &store).ok());
    {
      client::HttpClient http(server_.url());
      client::SyncClient login(*store, http);
      ASSERT_TRUE(login.Login("lan", "matkhau123").ok());
    }
    json::Object o;
    o.set("subject_name", "HTX " + std::to_string(i));
    o.set("subject_kind", "household");
    o.set("product_name", "Cắt ở byte " + std::to_string(offset));
    o.set("product_group", Poco::Int64(1));
    o.set("description", "Mô tả");
    client::Record r;
    ASSERT_TRUE(store->Create("idea", o, &r).ok());
    LinkProfile once{100 * 1024 * 1024, 0, offset, offset, 1};
    once.cut_connections = 1;
    LinkEmulator link(server_.port(), once);
    client::HttpOptions fast;
    fast.max_attempts = 1;
    client::HttpClient http(link.url(), fast);
    client::SyncOptions options;
    options.first_backoff_ms = 1;
    client::SyncClient sc(*store, http, options);
    client::SyncReport report;
    Status s = sc.Sync(&report);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(report.pending_after, 0);
    EXPECT_EQ(link.cuts(), 1);
  }
  // Every form is on the server once, at version 1 (a doubled apply would be version 2).
  Device hoa(dir_.Sub("hoa"), server_.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  auto list = hoa.Run({"list", "--json"});
  json::Var v;
  ASSERT_TRUE(json::Parse(list.out, &v).ok());
  auto arr = v.extract<json::Array::Ptr>();
  EXPECT_EQ(arr->size(), static_cast<size_t>(kOffsets));
  for (size_t i = 0; i < arr->size(); ++i)
    EXPECT_EQ(arr->getObject(static_cast<unsigned>(i))->optValue<Poco::Int64>("version", -1), 1) << i;
}

TEST_F(FieldLinkTest, KillingTheClientMidUploadResumesInsteadOfRestarting) {
  LinkProfile slow{256 * 1024, 5, 0, 0, 3};
  LinkEmulator link(server_.port(), slow);
  Device lan(dir_.Sub("lan"), server_.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=inspection", "--set",
                    "findings=Xưởng sạch"});
  ASSERT_EQ(v.code, 0) << v.err;
  std::string photo = Photo(3 * 1024 * 1024, 5);
  ASSERT_EQ(lan.Run({"attach", v.out.substr(0, 36), WriteFile("anh.jpg", photo)}).code, 0);
  // Start a sync at 256 KB/s and kill it with SIGKILL after about 4 seconds.
  pid_t pid = fork();
  if (pid == 0) {
    execl(BinOcop().c_str(), BinOcop().c_str(), "--home", lan.home().c_str(), "sync", "--server", link.url().c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(4));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // what was in flight lands or is dropped
  int64_t before = link.bytes_up();
  ASSERT_GT(before, 256 * 1024) << "the first sync should have sent part of the photo";
  ASSERT_LT(before, static_cast<int64_t>(photo.size())) << "the first sync should not have finished";
  // The next sync continues from what the server kept.
  auto s = lan.Run({"sync", "--json", "--server", link.url()});
  ASSERT_EQ(s.code, 0) << s.err;
  if (std::getenv("OCOP_HTTP_TRACE")) fprintf(stderr, "%s\n", s.err.c_str());
  EXPECT_NE(s.out.find("\"files_waiting\":0"), std::string::npos) << s.out;
  // A restart would send the whole photo again; resuming sends less.
  json::Object::Ptr summary;
  ASSERT_TRUE(json::ParseObject(s.out, &summary).ok());
  int64_t second = summary->getValue<Poco::Int64>("bytes_sent");
  EXPECT_LT(second, static_cast<int64_t>(photo.size()) - 256 * 1024)
      << "the second sync sent " << second << " bytes: it restarted instead of resuming";
}

TEST_F(FieldLinkTest, CtrlCStopsCleanlyKeepsWhatArrivedAndTheNextSyncResumes) {
  LinkEmulator link(server_.port(), {256 * 1024, 5, 0, 0, 4});
  Device lan(dir_.Sub("lan"), server_.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=inspection", "--set",
                    "findings=Xưởng sạch"});
  ASSERT_EQ(v.code, 0) << v.err;
  std::string photo = Photo(3 * 1024 * 1024, 8);
  ASSERT_EQ(lan.Run({"attach", v.out.substr(0, 36), WriteFile("anh.jpg", photo)}).code, 0);
  std::string out_path = dir_.Sub("sync-out.txt");
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = fopen(out_path.c_str(), "w");
    dup2(fileno(out), 1);
    dup2(fileno(out), 2);
    execl(BinOcop().c_str(), BinOcop().c_str(), "--home", lan.home().c_str(), "--lang", "en", "sync", "--server",
          link.url().c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "ocop did not stop cleanly on Ctrl-C";
  EXPECT_EQ(WEXITSTATUS(status), 5);
  std::string said;
  {
    FILE* f = fopen(out_path.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) said.append(buf, n);
    fclose(f);
  }
  EXPECT_NE(said.find("Stopped as asked; what arrived is kept."), std::string::npos) << said;
  EXPECT_NE(said.find("Sent 1 changes"), std::string::npos) << said;  // the visit went before the photo
  std::this_thread::sleep_for(std::chrono::seconds(1));  // what was in flight lands or is dropped
  // The next sync finishes the photo from where the server stands.
  auto s = lan.Run({"sync", "--json", "--server", link.url()});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"files_waiting\":0"), std::string::npos) << s.out;
  json::Object::Ptr summary;
  ASSERT_TRUE(json::ParseObject(s.out, &summary).ok());
  // At least the first 256 KB chunk was kept: a restart would send the whole photo again.
  EXPECT_LT(summary->getValue<Poco::Int64>("bytes_sent"), static_cast<int64_t>(photo.size()) - 200 * 1024);
}

}  // namespace
}  // namespace ocop::testing
