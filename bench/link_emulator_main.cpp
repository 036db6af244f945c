// The loopback link emulator as a program, to try ocop by hand on a village link:
//   link_emulator UPSTREAM_PORT [BYTES_PER_S=8000] [ONE_WAY_MS=300] [CUT_MIN=20480] [CUT_MAX=61440]
// prints the URL to give `ocop sync --server`, and runs until killed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tests/integration/link_emulator.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: link_emulator UPSTREAM_PORT [BYTES_PER_S] [ONE_WAY_MS] [CUT_MIN] [CUT_MAX]\n");
    return 2;
  }
  auto arg = [&](int i, long long fallback) { return argc > i ? std::atoll(argv[i]) : fallback; };
  ocop::testing::LinkProfile p{arg(2, 8000), static_cast<int>(arg(3, 300)), arg(4, 20480), arg(5, 61440), 1};
  if (p.bytes_per_second <= 0 || p.one_way_latency_ms < 0 || p.cut_min_bytes < 0 || p.cut_max_bytes < p.cut_min_bytes) {
    std::fprintf(stderr, "link_emulator: rates must be positive and CUT_MIN <= CUT_MAX\n");
    return 2;
  }
  ocop::testing::LinkEmulator link(static_cast<int>(arg(1, 0)), p);
  std::printf("%s\n", link.url().c_str());
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
