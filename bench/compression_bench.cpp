// How big the sync messages are on the wire under each compressor, against
// the yardstick of whole-file gzip of the same forms' JSON. Prints a table;
// the wire's choice (sync/codec.h) comes from it. Usage:
//   compression_bench [--forms 10000]
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "bench/sample_forms.h"
#include "shared/ids.h"
#include "sync/codec.h"

namespace ocop::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A push of new forms as a device sends it: one create per form, every field
// with its value, in change sets of 2,000 (the client's default).
std::vector<sync::ChangeSet> PushOf(int forms, std::string* jsonl) {
  std::mt19937 rng(7);
  std::string device = ids::NewUuid();
  std::vector<sync::ChangeSet> sets;
  for (int i = 0; i < forms; ++i) {
    if (i % 2000 == 0) {
      sets.emplace_back();
      sets.back().id = ids::NewUuid();
      sets.back().device = device;
    }
    json::Object f = SampleIdea(i, rng);
    *jsonl += json::ToText(f) + "\n";
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    c.form = "idea";
    c.unit = "08800";
    c.op = sync::op::kCreate;
    std::vector<std::string> names;
    f.getNames(names);
    for (const auto& k : names) c.fields.push_back({k, "null", json::ToText(f.get(k))});
    c.fields.push_back({"status", "null", "\"draft\""});
    c.author = "lan";
    c.device = device;
    char hlc[32];
    std::snprintf(hlc, sizeof hlc, "%015lld-%05d", 1795453200000LL + i * 37, i % 3);
    c.hlc = hlc;
    sets.back().changes.push_back(std::move(c));
  }
  return sets;
}

struct Codec {
  std::string name;
  std::function<std::string(const std::string&)> compress;
};

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) {
  using namespace ocop;
  using namespace ocop::bench;
  int forms = 10000;
  if (argc == 3 && std::string(argv[1]) == "--forms") forms = std::atoi(argv[2]);
  if (forms < 1 || forms > 1000000) {
    std::fprintf(stderr, "usage: compression_bench [--forms N]   (1 to 1,000,000)\n");
    return 2;
  }
  std::string jsonl;
  auto sets = PushOf(forms, &jsonl);
  std::vector<std::string> bodies;
  size_t binary = 0;
  for (const auto& cs : sets) {
    bodies.push_back(sync::EncodeBinary(cs));
    binary += bodies.back().size();
  }
  double yardstick = static_cast<double>(sync::Gzip(jsonl, 6).size());
  std::printf("%d idea forms: %zu bytes of JSON (one per line); whole-file gzip -6: %.0f bytes (%.1f %%)\n", forms,
              jsonl.size(), yardstick, 100.0 * yardstick / static_cast<double>(jsonl.size()));
  std::printf("push body, binary encoding (%zu change sets): %zu bytes\n\n", sets.size(), binary);
  std::printf("%-14s %12s %10s %14s %12s\n", "compressor", "bytes", "vs gzip-6", "compress ms", "inflate ms");
  std::vector<Codec> codecs = {
      {"gzip -1", [](const std::string& s) { return sync::Gzip(s, 1); }},
      {"gzip -6", [](const std::string& s) { return sync::Gzip(s, 6); }},
      {"gzip -9", [](const std::string& s) { return sync::Gzip(s, 9); }},
  };
  for (int level : {1, 3, 6, 9, 12, 19})
    codecs.push_back({"zstd -" + std::to_string(level), [level](const std::string& s) { return sync::Zstd(s, level); }});
  for (const auto& codec : codecs) {
    size_t total = 0;
    double inflate_ms = 0;
    auto t0 = Clock::now();
    std::vector<std::string> packed;
    for (const auto& b : bodies) packed.push_back(codec.compress(b));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    for (const auto& p : packed) {
      total += p.size();
      std::string back;
      auto t1 = Clock::now();
      ocop::Status s = codec.name[0] == 'g' ? sync::Gunzip(p, 1 << 30, &back) : sync::Unzstd(p, 1 << 30, &back);
      inflate_ms += std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
      if (!s.ok()) std::fprintf(stderr, "%s: %s\n", codec.name.c_str(), s.message().c_str());
    }
    std::printf("%-14s %12zu %9.2fx %14.1f %12.1f\n", codec.name.c_str(), total, static_cast<double>(total) / yardstick, ms,
                inflate_ms);
  }
  return 0;
}
