// End-to-end sync benchmark: a real ocopd on loopback (durable commits), real
// clients (the same LocalStore + SyncClient + libcurl code `ocop` runs), and the
// `ocop` binary itself for the client-memory figure. Prints every figure with
// the machine it ran on. Usage:
//   sync_bench [--forms 10000] [--clients 100] [--per-client 100] [--big 100000] [--dump-forms FILE]
// (--dump-forms writes the pushed forms as JSON lines for bench/peers.)
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <random>
#include <thread>

#include "bench/sample_forms.h"
#include "client/http_client.h"
#include "client/local_store.h"
#include "client/sync_client.h"
#include "sync/codec.h"
#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string ReadFirst(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return line.substr(line.find(':') + 1);
  return "?";
}

// CPU time (user and system) a process has used so far, from /proc/PID/stat.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t after_name = stat.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state; utime is 14, stime 15
    if (i == 14) utime = std::atoll(f.c_str());
    if (i == 15) { stime = std::atoll(f.c_str()); break; }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long PeakKb(int pid) {
  std::string v = ReadFirst("/proc/" + std::to_string(pid) + "/status", "VmHWM");
  return std::atol(v.c_str());
}

struct DeviceUnderTest {
  std::unique_ptr<client::LocalStore> store;
  std::unique_ptr<client::HttpClient> http;
};

// Where to write the pushed forms' JSON, one per line, for running the same
// forms through other sync systems (bench/peers); empty: not written.
std::string dump_forms;

class Bench {
 public:
  Bench(int forms, int clients, int per_client, int big, std::string postgresql)
      : forms_(forms), clients_(clients), per_client_(per_client), big_(big), postgresql_(std::move(postgresql)) {}

  int Run() {
    PrintMachine();
    std::vector<std::string> server_args;
    if (!postgresql_.empty()) {
      // The same server on PostgreSQL (store.engine = postgresql). The peak
      // memory printed is ocopd's alone, not the database's.
      std::string cfg = dir_.Sub("ocopd.properties");
      std::ofstream(cfg) << "store.engine = postgresql\nstore.postgresql = " << postgresql_ << "\n";
      server_args = {"--config", cfg};
      std::printf("store: PostgreSQL (%s)\n", postgresql_.c_str());
    } else {
      std::printf("store: SQLite (embedded)\n");
    }
    // OCOP_BENCH_HEAPTRACK=FILE runs ocopd under heaptrack, its profile written
    // to FILE.zst (the memory figures are then heaptrack's, not ocopd's).
    std::vector<std::string> launcher;
    if (const char* profile = getenv("OCOP_BENCH_HEAPTRACK")) launcher = {"/usr/bin/heaptrack", "-o", profile};
    server_ = std::make_unique<testing::ServerProcess>(dir_.Sub("server"), server_args, launcher);
    if (server_->url().empty()) return Fail("ocopd did not start");
    if (!server_->AddUser("lan", "officer", "08800") || !server_->AddUser("hoa", "coordinator", "253") ||
        !server_->AddUser("admin", "admin", "26"))
      return Fail("could not create accounts");
    server_pid_ = server_->pid();

    // 1. Push of N new forms by one client.
    DeviceUnderTest a = NewDevice("a", "08800", "lan");
    std::string jsonl;
    double plain = Fill(a, forms_, 7, &jsonl);
    if (!dump_forms.empty()) std::ofstream(dump_forms, std::ios::binary) << jsonl;  // for the peers (bench/peers)
    // The yardstick for bytes on the wire: the same forms' JSON, one per line,
    // compressed whole as `gzip -6` would.
    gzip_whole_ = static_cast<double>(sync::Gzip(jsonl, 6).size());
    std::printf("%-44s %.0f bytes of JSON; whole-file gzip -6: %.0f bytes (%.1f %%)\n", "the forms", plain, gzip_whole_,
                100.0 * gzip_whole_ / plain);
    client::SyncReport push;
    double t = TimedSync(a, &push);
    Row("push " + std::to_string(forms_) + " new forms", t, push, plain, 0);
    std::printf("%-44s server peak RSS so far: %.1f MB\n", "", PeakKb(server_pid_) / 1024.0);

    // 2. Pull of them by another client.
    DeviceUnderTest b = NewDevice("b", "253", "hoa");
    client::SyncReport pull;
    t = TimedSync(b, &pull);
    Row("pull " + std::to_string(forms_) + " forms (new device)", t, pull, plain, 0);

    // 3. Incremental: 10 % of the forms get one field edited.
    Edit(a, forms_ / 10);
    client::SyncReport inc_push, inc_pull;
    t = TimedSync(a, &inc_push);
    Row("push after editing 10 % (one field each)", t, inc_push, 0, forms_ / 10);
    t = TimedSync(b, &inc_pull);
    Row("pull of those edits", t, inc_pull, 0, forms_ / 10);

    // 4. Nothing to do.
    client::SyncReport idle;
    t = TimedSync(b, &idle);
    Row("sync with nothing to do", t, idle, 0, 0);

    // 5. Many clients at once.
    Concurrent();

    // 6. Client memory pulling a large data set.
    if (big_ > 0) BigPull(a);
    std::printf("\nserver peak RSS over the whole run: %.1f MB\n", PeakKb(server_pid_) / 1024.0);
    return 0;
  }

 private:
  int Fail(const std::string& why) {
    std::fprintf(stderr, "sync_bench: %s\n", why.c_str());
    return 1;
  }

  void PrintMachine() {
    std::printf("machine: %s, %u cores, %s of memory, kernel %s\n", ReadFirst("/proc/cpuinfo", "model name").c_str(),
                std::thread::hardware_concurrency(), ReadFirst("/proc/meminfo", "MemTotal").c_str(),
                ReadFirst("/proc/sys/kernel/osrelease", "").c_str());
    std::printf("server: ocopd on 127.0.0.1, SQLite WAL with synchronous=FULL (every push is durable before it is answered)\n\n");
    std::printf("%-44s %9s %9s %12s %12s %9s\n", "scenario", "wall s", "requests", "bytes up", "bytes down", "wire/plain");
  }

  DeviceUnderTest NewDevice(const std::string& name, const std::string& unit, const std::string& user) {
    DeviceUnderTest d;
    std::string home = dir_.Sub(name);
    (void)client::LocalStore::Init(home, unit, server_->url(), UnitTree::Sample(), SystemClock::Get());
    (void)client::LocalStore::Open(home, SystemClock::Get(), &d.store);
    d.http = std::make_unique<client::HttpClient>(server_->url());
    client::SyncClient sc(*d.store, *d.http);
    Status s = sc.Login(user, "matkhau123");
    if (!s.ok()) std::fprintf(stderr, "login failed: %s\n", s.message().c_str());
    return d;
  }

  // Records n forms on the device; returns their plain JSON size in bytes.
  double Fill(DeviceUnderTest& d, int n, int seed = 7, std::string* jsonl = nullptr) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    double plain = 0;
    // Setting up the data set is not what is measured: skip fsync while filling.
    (void)d.store->db().Exec("PRAGMA synchronous=OFF");
    for (int i = 0; i < n; ++i) {
      client::Record r;
      json::Object f = SampleIdea(i, rng);
      Status s = d.store->Create("idea", f, &r);
      if (!s.ok()) std::fprintf(stderr, "create failed: %s\n", s.message().c_str());
      std::string text = json::ToText(r.fields);
      plain += static_cast<double>(text.size());
      if (jsonl) *jsonl += text + "\n";
    }
    (void)d.store->db().Exec("PRAGMA synchronous=FULL");
    return plain;
  }

  double Edit(DeviceUnderTest& d, int n) {
    std::vector<client::Record> rows;
    client::ListQuery q;
    q.limit = n;
    (void)d.store->List(q, &rows);
    double plain = 0;
    (void)d.store->db().Exec("PRAGMA synchronous=OFF");
    for (auto& r : rows) {
      json::Object change;
      change.set("phone", "0912345678");
      client::Record after;
      (void)d.store->Update(r.id, change, &after);
      plain += static_cast<double>(json::ToText(after.fields).size());
    }
    (void)d.store->db().Exec("PRAGMA synchronous=FULL");
    return plain;
  }

  double TimedSync(DeviceUnderTest& d, client::SyncReport* report) {
    client::HttpClient http(d.store->Setting("server_url"));
    client::SyncClient sc(*d.store, http);
    double cpu0 = CpuSeconds(server_pid_);
    auto t0 = Clock::now();
    Status s = sc.Sync(report);
    auto t1 = Clock::now();
    server_cpu_ = CpuSeconds(server_pid_) - cpu0;
    if (!s.ok()) std::fprintf(stderr, "sync failed: %s\n", s.message().c_str());
    return Seconds(t0, t1);
  }

  // plain: JSON bytes of the forms moved (0: not compared); edits: one-field
  // edits moved (0: none), for the bytes-per-edit figure.
  void Row(const std::string& name, double t, const client::SyncReport& r, double plain, int edits) {
    double wire = static_cast<double>(r.http.bytes_sent + r.http.bytes_received);
    char ratio[32] = "-";
    if (plain > 0) std::snprintf(ratio, sizeof ratio, "%.1f %%", 100.0 * wire / plain);
    std::printf("%-44s %9.3f %9lld %12lld %12lld %9s\n", name.c_str(), t, static_cast<long long>(r.http.requests),
                static_cast<long long>(r.http.bytes_sent), static_cast<long long>(r.http.bytes_received), ratio);
    if (plain > 0 && gzip_whole_ > 0)
      std::printf("%-44s wire bytes = %.2f x whole-file gzip of the forms\n", "", wire / gzip_whole_);
    const auto& ph = r.phases;
    if (ph.freeze + ph.encode + ph.push_wait + ph.ack + ph.pull_wait + ph.decode + ph.apply > 0.05)
      std::printf("%-44s freeze %.3f, encode %.3f, push wait %.3f, ack %.3f | pull wait %.3f, decode %.3f, apply %.3f s"
                  " | server CPU %.3f s\n",
                  "", ph.freeze, ph.encode, ph.push_wait, ph.ack, ph.pull_wait, ph.decode, ph.apply, server_cpu_);
    if (edits > 0)
      std::printf("%-44s up %.0f, down %.0f bytes per edit\n", "", static_cast<double>(r.http.bytes_sent) / edits,
                  static_cast<double>(r.http.bytes_received) / edits);
  }

  void Concurrent() {
    // Officers of every commune of the sample tree; the clients are spread over
    // them, as laptops are spread over communes.
    std::vector<std::string> communes;
    for (const auto& [code, u] : UnitTree::Sample().all())
      if (UnitTree::Sample().Children(code).empty()) communes.push_back(code);
    for (const auto& c : communes)
      if (c != "08800") server_->AddUser("o" + c, "officer", c);
    // Set-up (not measured): log in (PBKDF2 is deliberately slow), take each
    // device's first pull, then record the forms offline.
    std::vector<std::unique_ptr<DeviceUnderTest>> made(static_cast<size_t>(clients_));
    std::atomic<int> next{0};
    std::vector<std::thread> setup;
    for (int w = 0; w < 4; ++w)
      setup.emplace_back([&] {
        for (int i = next++; i < clients_; i = next++) {
          const std::string& c = communes[static_cast<size_t>(i) % communes.size()];
          auto d = std::make_unique<DeviceUnderTest>(NewDevice("c" + std::to_string(i), c, c == "08800" ? "lan" : "o" + c));
          client::SyncReport first;
          TimedSync(*d, &first);
          Fill(*d, per_client_, 1000 + i);
          made[static_cast<size_t>(i)] = std::move(d);
        }
      });
    for (auto& t : setup) t.join();
    std::vector<double> latency(static_cast<size_t>(clients_));
    std::atomic<int> errors{0};
    std::atomic<int64_t> received{0};
    std::vector<std::thread> run;
    auto t0 = Clock::now();
    for (int i = 0; i < clients_; ++i)
      run.emplace_back([&, i] {
        client::SyncReport r;
        auto& d = *made[static_cast<size_t>(i)];
        client::HttpClient http(d.store->Setting("server_url"));
        client::SyncClient sc(*d.store, http);
        auto s0 = Clock::now();
        Status s = sc.Sync(&r);
        latency[static_cast<size_t>(i)] = Seconds(s0, Clock::now());
        received += r.records_received;
        if (!s.ok() || r.pending_after != 0) {
          ++errors;
          std::fprintf(stderr, "client %d: %s\n", i, s.message().c_str());
        }
      });
    for (auto& t : run) t.join();
    double wall = Seconds(t0, Clock::now());
    std::sort(latency.begin(), latency.end());
    auto pct = [&](double p) { return latency[std::min(latency.size() - 1, static_cast<size_t>(p * static_cast<double>(latency.size())))]; };
    std::printf("\n%d clients over %zu communes syncing at once, %d new forms each (push, then pull of their commune's new forms):\n",
                clients_, communes.size(), per_client_);
    std::printf("  wall %.2f s, throughput %.0f forms pushed/s (%lld records pulled), sync latency p50 %.3f s, p99 %.3f s, errors %d\n",
                wall, clients_ * per_client_ / wall, static_cast<long long>(received.load()), pct(0.50), pct(0.99), errors.load());
    std::printf("  server peak RSS so far: %.1f MB\n", PeakKb(server_pid_) / 1024.0);
  }

  void BigPull(DeviceUnderTest& a) {
    // Bring the server to `big_` forms (a already pushed forms_).
    int missing = big_ - forms_ - clients_ * per_client_;
    if (missing > 0) {
      Fill(a, missing, 99);
      client::SyncReport r;
      double t = TimedSync(a, &r);
      std::printf("\n(setup: pushed %d more forms in %.1f s, %lld requests; server peak RSS so far: %.1f MB)\n", missing, t,
                  static_cast<long long>(r.http.requests), PeakKb(server_pid_) / 1024.0);
    }
    // A fresh device pulls everything with the real `ocop` binary; its peak RSS
    // comes from the kernel (wait4).
    std::string home = dir_.Sub("big");
    // The province's administrator: every form on the server is in scope.
    auto init = testing::RunProgram(testing::BinOcop(), {"--home", home, "init", "--commune", "26", "--server", server_->url()});
    auto login = testing::RunProgram(testing::BinOcop(), {"--home", home, "login", "--user", "admin", "--password-stdin"}, "matkhau123\n");
    if (init.code != 0 || login.code != 0) {
      std::fprintf(stderr, "big pull setup failed: %s%s\n", init.err.c_str(), login.err.c_str());
      return;
    }
    auto t0 = Clock::now();
    // posix_spawn, not fork: a forked child would count the benchmark's own
    // memory in its peak RSS until it execs.
    std::vector<std::string> argv_s;
    if (const char* wrap = std::getenv("OCOP_BENCH_WRAP"); wrap && *wrap) argv_s.push_back(wrap);  // e.g. heaptrack
    for (const std::string& arg : {testing::BinOcop(), std::string("--home"), home, std::string("sync"), std::string("--json")})
      argv_s.push_back(arg);
    std::vector<char*> argv;
    for (auto& arg : argv_s) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      std::fprintf(stderr, "cannot start ocop\n");
      return;
    }
    posix_spawn_file_actions_destroy(&actions);
    // The child's own high-water mark, read from /proc while it runs (rusage
    // would include the memory of this process, inherited until exec).
    long peak_kb = 0;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      peak_kb = std::max(peak_kb, PeakKb(pid));
      usleep(20000);
    }
    double t = Seconds(t0, Clock::now());
    auto count = testing::RunProgram(testing::BinOcop(), {"--home", home, "status", "--json"});
    std::printf("\nclient `ocop sync` pulling every form on the server (about %d): %.1f s, peak RSS %.1f MB (exit %d); %s", big_, t,
                peak_kb / 1024.0, WIFEXITED(status) ? WEXITSTATUS(status) : -1, count.out.c_str());
    std::printf("server peak RSS while serving them: %.1f MB\n", PeakKb(server_pid_) / 1024.0);
  }

  int forms_, clients_, per_client_, big_;
  std::string postgresql_;  // a connection string: run the server on PostgreSQL
  double gzip_whole_ = 0;
  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  double server_cpu_ = 0;  // the server's CPU seconds over the last TimedSync
  int server_pid_ = -1;
};

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) {
  int forms = 10000, clients = 100, per_client = 100, big = 100000;
  std::string postgresql;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--postgresql") {
      postgresql = argv[i + 1];
      continue;
    }
    if (k == "--dump-forms") {
      ocop::bench::dump_forms = argv[i + 1];
      continue;
    }
    int v = std::atoi(argv[i + 1]);
    if (v < 0) {
      std::fprintf(stderr, "sync_bench: %s must not be negative\n", k.c_str());
      return 2;
    }
    if (k == "--forms") forms = v;
    else if (k == "--clients") clients = v;
    else if (k == "--per-client") per_client = v;
    else if (k == "--big") big = v;
    else {
      std::fprintf(stderr, "usage: sync_bench [--forms N] [--clients N] [--per-client N] [--big N] [--postgresql CONNINFO] [--dump-forms FILE]\n");
      return 2;
    }
  }
  if (clients < 1 || forms < 10) {
    std::fprintf(stderr, "sync_bench: need --clients >= 1 and --forms >= 10\n");
    return 2;
  }
  return ocop::bench::Bench(forms, clients, per_client, big, postgresql).Run();
}
