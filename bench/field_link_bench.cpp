// The "field link" figure: 1,000 idea forms and a 2 MB site-visit photo pushed
// by one device and pulled (the photo too, byte-exact) by a second, over an emulated village link
// (64 kbit/s each way, 600 ms round trip, every connection cut after a random
// 20–60 KB), against the same sync over a clean loopback link. Real ocopd,
// real ocop processes, the link emulator of the integration tests.
// Prints wall time, bytes on the wire against the clean sync, and goodput.
#include <chrono>
#include <cstdio>
#include <string>

#include "tests/client/test_home.h"
#include "tests/integration/harness.h"
#include "tests/integration/link_emulator.h"

using namespace ocop::testing;

namespace {

struct Run {
  double seconds = 0;
  int64_t bytes = 0, cuts = 0;
  bool ok = false;
};

Run SyncAll(const LinkProfile& profile, int forms, size_t photo_bytes, const std::string& label) {
  TempDir dir;
  ServerProcess server(dir.Sub("server"));
  server.AddUser("lan", "officer", "08800");
  server.AddUser("hoa", "coordinator", "253");
  Device lan(dir.Sub("lan"), server.url()), hoa(dir.Sub("hoa"), server.url());
  lan.set_timeout(3600);
  hoa.set_timeout(3600);
  Run r;
  if (!lan.Setup("08800", "lan") || !hoa.Setup("253", "hoa")) return r;
  for (int i = 0; i < forms; ++i) lan.NewIdea("Sản phẩm " + std::to_string(i), "phone", "09" + std::to_string(10000000 + i));
  auto v = lan.Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=inspection", "--set", "findings=Xưởng"});
  std::string photo(photo_bytes, '\0');
  uint32_t x = 7;
  for (auto& c : photo) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  photo.replace(0, 4, "\xFF\xD8\xFF\xE0", 4);  // a JPEG's first bytes: only photos are attached
  std::string path = dir.Sub("anh.jpg");
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(photo.data(), 1, photo.size(), f);
  fclose(f);
  auto attached = lan.Run({"attach", v.out.substr(0, 36), path, "--json"});
  size_t at = attached.out.find("\"sha256\":\"");
  std::string sha = at == std::string::npos ? "" : attached.out.substr(at + 10, 64);
  LinkEmulator up(server.port(), profile), down(server.port(), profile);
  auto t0 = std::chrono::steady_clock::now();
  auto pushed = lan.Run({"sync", "--json", "--server", up.url(), "--deadline", "30m"});
  // The second device brings the photo down too, over the same dropping link.
  auto pulled = hoa.Run({"sync", "--json", "--with-files", "--server", down.url(), "--deadline", "30m"});
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.bytes = up.bytes_up() + up.bytes_down() + down.bytes_up() + down.bytes_down();
  r.cuts = up.cuts() + down.cuts();
  // Byte-exact: the copy the second device holds is the photo.
  std::string copy = dir.Sub("copy.jpg");
  bool photo_ok = !sha.empty() && hoa.Run({"file", sha, "--output", copy}).code == 0;
  if (photo_ok) {
    std::string back(photo.size() + 1, '\0');
    FILE* c = fopen(copy.c_str(), "rb");
    back.resize(c ? fread(back.data(), 1, back.size(), c) : 0);
    if (c) fclose(c);
    photo_ok = back == photo;
  }
  r.ok = pushed.code == 0 && pulled.code == 0 && photo_ok && hoa.Dump().size() == static_cast<size_t>(forms + 1);
  std::printf("%-12s %s  %7.1f s  %9lld bytes on the wire  %3lld cuts\n", label.c_str(), r.ok ? "ok  " : "FAIL",
              r.seconds, static_cast<long long>(r.bytes), static_cast<long long>(r.cuts));
  std::printf("%-12s photo on the second device %s; its link carried %lld bytes down for it and the forms\n", "",
              photo_ok ? "byte-exact" : "MISSING OR DAMAGED", static_cast<long long>(down.bytes_down()));
  if (!r.ok) std::printf("  push: %s %s\n  pull: %s %s\n", pushed.out.c_str(), pushed.err.c_str(), pulled.out.c_str(), pulled.err.c_str());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int forms = argc > 1 ? std::atoi(argv[1]) : 1000;
  size_t photo = argc > 2 ? static_cast<size_t>(std::atoll(argv[2])) : 2 * 1024 * 1024;
  std::printf("field link: %d idea forms + a %zu-byte photo, pushed then pulled by a second device\n", forms, photo);
  Run clean = SyncAll({1024LL * 1024 * 1024, 0, 0, 0, 1}, forms, photo, "clean link");
  LinkProfile village{8000, 300, 20 * 1024, 60 * 1024, 2026};
  Run field = SyncAll(village, forms, photo, "field link");
  if (!clean.ok || !field.ok) return 1;
  double ratio = static_cast<double>(field.bytes) / static_cast<double>(clean.bytes);
  // Goodput: the bytes a clean sync needs, against what the link could carry
  // in the time the field sync took (both directions share the wall clock, so
  // the capacity counted is one direction's: the sync is mostly one-way).
  double goodput = static_cast<double>(clean.bytes) / (field.seconds * static_cast<double>(village.bytes_per_second));
  std::printf("bytes on the wire, field / clean: %.2fx (target <= 1.3x)\n", ratio);
  std::printf("goodput against the link rate: %.0f %% (target >= 70 %%)\n", goodput * 100);
  return 0;
}
