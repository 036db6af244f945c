// Micro benchmarks (Google Benchmark): change-set encoding, merge, validation, search.
#include <benchmark/benchmark.h>

#include <random>

#include "bench/sample_forms.h"
#include "client/local_store.h"
#include "shared/forms.h"
#include "shared/ids.h"
#include "shared/text.h"
#include "sync/codec.h"
#include "sync/merge.h"

namespace ocop {
namespace {

// 100 changes of 10 fields: 1,000 field changes.
sync::ChangeSet ThousandFieldChanges() {
  std::mt19937 rng(1);
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = ids::NewUuid();
  for (int i = 0; i < 100; ++i) {
    json::Object f = bench::SampleIdea(i, rng);
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    c.form = "idea";
    c.unit = "08800";
    c.op = "update";
    c.base_version = 3;
    std::vector<std::string> names;
    f.getNames(names);
    for (size_t k = 0; k < 10 && k < names.size(); ++k)
      c.fields.push_back({names[k], json::ToText(f.get(names[k])), json::ToText(f.get(names[(k + 1) % names.size()]))});
    c.author = "lan";
    c.device = cs.device;
    c.hlc = "001795453200000-00001";
    cs.changes.push_back(c);
  }
  return cs;
}

void BM_EncodeJson1000FieldChanges(benchmark::State& state) {
  auto cs = ThousandFieldChanges();
  size_t bytes = 0;
  for (auto _ : state) bytes = sync::EncodeJson(cs).size();
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["gzip_bytes"] = static_cast<double>(sync::Gzip(sync::EncodeJson(cs)).size());
}
BENCHMARK(BM_EncodeJson1000FieldChanges);

void BM_DecodeJson1000FieldChanges(benchmark::State& state) {
  std::string text = sync::EncodeJson(ThousandFieldChanges());
  for (auto _ : state) {
    sync::ChangeSet out;
    benchmark::DoNotOptimize(sync::DecodeJson(text, &out));
  }
}
BENCHMARK(BM_DecodeJson1000FieldChanges);

void BM_EncodeBinary1000FieldChanges(benchmark::State& state) {
  auto cs = ThousandFieldChanges();
  size_t bytes = 0;
  for (auto _ : state) bytes = sync::EncodeBinary(cs).size();
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["gzip_bytes"] = static_cast<double>(sync::Gzip(sync::EncodeBinary(cs)).size());
}
BENCHMARK(BM_EncodeBinary1000FieldChanges);

void BM_DecodeBinary1000FieldChanges(benchmark::State& state) {
  std::string bytes = sync::EncodeBinary(ThousandFieldChanges());
  for (auto _ : state) {
    sync::ChangeSet out;
    benchmark::DoNotOptimize(sync::DecodeBinary(bytes, &out));
  }
}
BENCHMARK(BM_DecodeBinary1000FieldChanges);

void BM_Merge1000Records(benchmark::State& state) {
  std::mt19937 rng(2);
  std::vector<sync::CurrentRecord> current(1000);
  std::vector<sync::Change> incoming(1000);
  for (int i = 0; i < 1000; ++i) {
    current[i].exists = true;
    current[i].version = 4;
    current[i].fields = bench::SampleIdea(i, rng);
    incoming[i].op = "update";
    incoming[i].base_version = 3;
    // Half touch a field nobody else changed, half collide on product_name.
    std::string old = json::ToText(current[i].fields.get("product_name"));
    incoming[i].fields = {{"phone", json::ToText(current[i].fields.get("phone")), "\"0912345678\""},
                          {"product_name", i % 2 ? old : "\"khác\"", "\"Tên mới\""}};
  }
  for (auto _ : state)
    for (int i = 0; i < 1000; ++i) benchmark::DoNotOptimize(sync::Merge(current[i], incoming[i]));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Merge1000Records);

void BM_ValidateIdeaForm(benchmark::State& state) {
  std::mt19937 rng(3);
  json::Object form = bench::SampleIdea(1, rng);
  const FormSchema& schema = *FormCatalog::Default().Find("idea");
  for (auto _ : state) {
    json::Object copy(form);
    benchmark::DoNotOptimize(ValidateRecord(schema, &copy, Completeness::kComplete, false));
  }
}
BENCHMARK(BM_ValidateIdeaForm);

// Search over 100,000 forms in a local store (accent- and case-insensitive).
class SearchFixture : public benchmark::Fixture {
 public:
  void SetUp(const benchmark::State&) override {
    if (store_) return;
    char tmpl[] = "/tmp/ocop-bench-XXXXXX";
    home_ = mkdtemp(tmpl);
    (void)client::LocalStore::Init(home_, "08800", "", UnitTree::Sample(), SystemClock::Get());
    (void)client::LocalStore::Open(home_, SystemClock::Get(), &store_);
    std::mt19937 rng(4);
    const FormSchema& schema = *FormCatalog::Default().Find("idea");
    (void)store_->db().Exec("BEGIN");
    auto ins = store_->db().Prepare(
        "INSERT INTO records(id, form, unit, fields, created_at, updated_at, search_text) VALUES (?,?,?,?,?,?,?)");
    for (int i = 0; i < 100000; ++i) {
      json::Object f = bench::SampleIdea(i, rng);
      f.set("status", "draft");
      (void)ins.Bind(1, ids::NewUuid()).Bind(2, "idea").Bind(3, "08800").Bind(4, json::ToText(f))
          .Bind(5, "2026-11-24").Bind(6, "2026-11-24").Bind(7, SearchText(schema, f)).Run();
    }
    (void)store_->db().Exec("COMMIT");
  }
  static std::unique_ptr<client::LocalStore> store_;
  static std::string home_;
};
std::unique_ptr<client::LocalStore> SearchFixture::store_;
std::string SearchFixture::home_;

BENCHMARK_DEFINE_F(SearchFixture, Search100kForms)(benchmark::State& state) {
  size_t found = 0;
  for (auto _ : state) {
    client::ListQuery q;
    q.search = "mat ong song lo so 9999";
    std::vector<client::Record> rows;
    (void)store_->List(q, &rows);
    found = rows.size();
  }
  state.counters["matches"] = static_cast<double>(found);
}
BENCHMARK_REGISTER_F(SearchFixture, Search100kForms)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ocop

BENCHMARK_MAIN();
