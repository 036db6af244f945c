// A server whose disk is really full: its data directory on a 20 MB tmpfs
// (mounted in a mount namespace of its own, so nothing outside changes),
// filled to the last byte. With the free-space floor off, SQLite and the file
// store meet ENOSPC themselves: the device must hear "the server is full"
// (507), not a dropping link, make few requests, keep everything, and deliver
// each form exactly once when room is made.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>

#include "shared/json.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

// How this machine lets a test mount a tmpfs privately: as root, a mount
// namespace; otherwise a user namespace mapping us to root. Empty: neither.
std::vector<std::string> PrivateMount() {
  for (std::vector<std::string> unshare : {std::vector<std::string>{"/usr/bin/unshare", "-m"},
                                           std::vector<std::string>{"/usr/bin/unshare", "-rm"}}) {
    auto probe = unshare;
    probe.insert(probe.end(), {"sh", "-c", "mount -t tmpfs -o size=1m ocop-probe /tmp 2>/dev/null"});
    if (RunProgram(probe.front(), {probe.begin() + 1, probe.end()}, "", {}, 10).code == 0) return unshare;
  }
  return {};
}

json::Object::Ptr JsonOf(const RunResult& r) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(r.out, &o).ok()) << r.out << r.err;
  return o ? o : json::Object::Ptr(new json::Object);
}

TEST(FullDiskE2eTest, ARealFullTmpfsIsReportedAsFullAndEverythingArrivesOnceThereIsRoom) {
  std::vector<std::string> launcher = PrivateMount();
  if (launcher.empty()) GTEST_SKIP() << "this machine lets no test mount a private tmpfs (unshare -m / -rm refused)";
  TempDir dir;
  // Accounts are made in a staging copy on the ordinary disk, copied onto the
  // tmpfs before ocopd starts there (SQLite resolves /proc/PID/root to this
  // namespace's "/", so the store cannot be written through it from here).
  std::string staging = dir.Sub("staging"), data = dir.Sub("server");
  for (const auto& [user, role, unit] : {std::tuple{"lan", "officer", "08800"}, std::tuple{"hoa", "coordinator", "253"}}) {
    auto made = RunProgram(BinOcopd(), {"--data-dir", staging, "--add-user", user, "--role", role, "--unit", unit},
                           "matkhau123\n");
    ASSERT_EQ(made.code, 0) << made.out << made.err;
  }
  ASSERT_EQ(mkdir(data.c_str(), 0700), 0);
  std::ofstream(dir.Sub("ocopd.properties")) << "# the floor off: the disk itself says it is full\nfiles.min_free_bytes = 0\n";
  launcher.insert(launcher.end(), {"sh", "-c", "mount -t tmpfs -o size=20m ocop-full \"$0\" && cp -a \"$1\"/. \"$0\"/ && shift && exec \"$@\"",
                                   data, staging});
  ServerProcess server(data, {"--config", dir.Sub("ocopd.properties")}, launcher);
  ASSERT_FALSE(server.url().empty()) << "ocopd did not start on its tmpfs";
  Device lan(dir.Sub("lan"), server.url());
  ASSERT_TRUE(lan.Setup("08800", "lan"));
  Device hoa(dir.Sub("hoa"), server.url());
  ASSERT_TRUE(hoa.Setup("253", "hoa"));
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(lan.NewIdea("Mật ong " + std::to_string(i)).empty());

  // Fill the tmpfs to its last byte.
  const std::string ballast = server.data_path() + "/ballast";
  {
    FILE* f = std::fopen(ballast.c_str(), "wb");
    ASSERT_NE(f, nullptr) << ballast;
    std::string mb(1 << 20, 'x');
    int written = 0;
    for (int i = 0; i < 64 && std::fwrite(mb.data(), 1, mb.size(), f) == mb.size(); ++i) ++written;
    std::string kb(1024, 'x');
    for (int i = 0; i < 2048 && std::fwrite(kb.data(), 1, kb.size(), f) == kb.size(); ++i) {
    }
    std::fclose(f);
    ASSERT_LT(written, 20) << "the data directory is not on the 20 MB tmpfs";
  }

  auto full = lan.Run({"sync", "--json", "--deadline", "30s"});
  EXPECT_EQ(full.code, 5) << full.out << full.err;
  auto o = JsonOf(full);
  EXPECT_EQ(o->optValue<std::string>("stopped", ""), "server_full") << full.out;
  EXPECT_LE(o->optValue<int>("requests", 999), 20) << full.out;
  EXPECT_NE(o->optValue<std::string>("error_vi", "").find("hết dung lượng"), std::string::npos) << full.out;
  EXPECT_EQ(JsonOf(lan.Run({"status", "--json"}))->optValue<int>("pending_changes", -1), 20);
  EXPECT_EQ(JsonOf(lan.Run({"outbox", "--json"}))->optValue<std::string>("refused", "x"), "");

  // Room again: everything arrives, each form once.
  ASSERT_EQ(std::remove(ballast.c_str()), 0);
  auto roomy = lan.Run({"sync", "--json"});
  ASSERT_EQ(roomy.code, 0) << roomy.out << roomy.err;
  EXPECT_EQ(JsonOf(roomy)->optValue<int>("sent", -1), 20) << roomy.out;
  ASSERT_EQ(hoa.Run({"sync"}).code, 0);
  EXPECT_EQ(hoa.Dump().size(), 20u);
  EXPECT_EQ(JsonOf(lan.Run({"sync", "--json"}))->optValue<int>("sent", -1), 0);
}

}  // namespace
}  // namespace ocop::testing
