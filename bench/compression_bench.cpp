// How big the sync messages are on the wire under each compressor, against
// the yardstick of whole-file gzip of the same forms' JSON. Prints a table;
// the wire's choice (sync/codec.h) comes from it. Usage:
//   compression_bench [--forms 10000 [--dump-json FILE]]
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>
#include <string>

#include "bench/sample_forms.h"
#include "shared/ids.h"
#include "sync/codec.h"
#include "sync/columns.h"

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
  if (argc >= 3 && std::string(argv[1]) == "--forms") forms = std::atoi(argv[2]);
  const char* dump = argc == 5 && std::string(argv[3]) == "--dump-json" ? argv[4] : nullptr;
  if (forms < 1 || forms > 1000000) {
    std::fprintf(stderr, "usage: compression_bench [--forms N [--dump-json FILE]]   (1 to 1,000,000 forms)\n");
    return 2;
  }
  std::string jsonl;
  auto sets = PushOf(forms, &jsonl);
  if (dump) {
    FILE* f = std::fopen(dump, "wb");
    if (!f || std::fwrite(jsonl.data(), 1, jsonl.size(), f) != jsonl.size()) return 1;
    std::fclose(f);
  }
  std::vector<std::string> bodies;
  size_t binary = 0;
  for (const auto& cs : sets) {
    bodies.push_back(sync::EncodeBinary(cs));
    binary += bodies.back().size();
  }
  // The same forms pulled by another device: pages of whole records.
  std::vector<std::string> pages;
  size_t page_bytes = 0;
  {
    std::istringstream lines(jsonl);
    std::string line;
    sync::PullPage page;
    int n = 0;
    while (std::getline(lines, line)) {
      sync::RecordState r;
      r.id = sets[static_cast<size_t>(n / 2000)].changes[static_cast<size_t>(n % 2000)].record_id;
      r.form = "idea";
      r.unit = "08800";
      r.version = 1;
      r.fields = line;
      r.updated_hlc = sets[static_cast<size_t>(n / 2000)].changes[static_cast<size_t>(n % 2000)].hlc;
      r.updated_by = "lan";
      page.records.push_back(std::move(r));
      if (++n % 2000 == 0) {
        pages.push_back(sync::EncodeBinary(page));
        page.records.clear();
      }
    }
    if (!page.records.empty()) pages.push_back(sync::EncodeBinary(page));
    for (const auto& p : pages) page_bytes += p.size();
  }
  double yardstick = static_cast<double>(sync::Gzip(jsonl, 6).size());
  std::printf("%d idea forms: %zu bytes of JSON (one per line); whole-file gzip -6: %.0f bytes (%.1f %%)\n", forms,
              jsonl.size(), yardstick, 100.0 * yardstick / static_cast<double>(jsonl.size()));
  std::printf("push body, binary encoding (%zu change sets): %zu bytes; pull pages: %zu bytes\n\n", sets.size(), binary,
              page_bytes);
  std::vector<Codec> codecs = {
      {"gzip -1", [](const std::string& s) { return sync::Gzip(s, 1); }},
      {"gzip -6", [](const std::string& s) { return sync::Gzip(s, 6); }},
  };
  for (int level : {1, 3, 4, 5, 6, 9, 12})
    codecs.push_back({"zstd -" + std::to_string(level), [level](const std::string& s) { return sync::Zstd(s, level); }});
  std::vector<std::string> col_bodies, col_pages;
  for (const auto& cs : sets) col_bodies.push_back(sync::EncodeColumns(cs));
  for (const auto& p : pages) {
    sync::PullPage page;
    (void)sync::DecodeBinary(p, &page);
    col_pages.push_back(sync::EncodeColumns(page));
  }
  auto sum = [](const std::vector<std::string>& v) {
    size_t n = 0;
    for (const auto& s : v) n += s.size();
    return n;
  };
  std::printf("column encoding: push %zu bytes, pull pages %zu bytes\n\n", sum(col_bodies), sum(col_pages));
  std::printf("bytes after compression, as a multiple of whole-file gzip -6 of the forms' JSON (%.0f bytes);\n"
              "ms: compressing / decompressing the column-encoded push\n\n", yardstick);
  std::printf("%-10s %8s %10s %10s %10s %10s %10s %10s\n", "", "JSON", "push bin", "push col", "pull bin", "pull col",
              "ms", "ms back");
  for (const auto& codec : codecs) {
    auto packed = [&](const std::vector<std::string>& v) {
      size_t n = 0;
      for (const auto& b : v) n += codec.compress(b).size();
      return static_cast<double>(n) / yardstick;
    };
    auto t0 = Clock::now();
    std::vector<std::string> out;
    for (const auto& b : col_bodies) out.push_back(codec.compress(b));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    t0 = Clock::now();
    for (const auto& o : out) {
      std::string back;
      ocop::Status s = codec.name[0] == 'g' ? sync::Gunzip(o, 1 << 30, &back) : sync::Unzstd(o, 1 << 30, &back);
      if (!s.ok()) std::fprintf(stderr, "%s: %s\n", codec.name.c_str(), s.message().c_str());
    }
    double back_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("%-10s %7.2fx %9.2fx %9.2fx %9.2fx %9.2fx %10.1f %10.1f\n", codec.name.c_str(),
                static_cast<double>(codec.compress(jsonl).size()) / yardstick, packed(bodies), packed(col_bodies),
                packed(pages), packed(col_pages), ms, back_ms);
  }
  return 0;
}
