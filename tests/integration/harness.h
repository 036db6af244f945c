// Integration harness: runs the real `ocopd` on a free loopback port and the
// real `ocop` binary with separate homes (one per simulated device), plus a
// loopback TCP proxy that can drop answers to simulate a link that fails after
// the server committed. Everything stays on 127.0.0.1.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ocop::testing {

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Runs a program with arguments, optional standard input and extra environment;
// waits at most `timeout_s` seconds (then kills it and reports code -9).
RunResult RunProgram(const std::string& program, const std::vector<std::string>& args, const std::string& input = "",
                     const std::map<std::string, std::string>& env = {}, int timeout_s = 120);

class ServerProcess {
 public:
  // Starts ocopd with its data in `data_dir`; waits until it prints its URL.
  // `launcher`: a command ocopd's path and arguments are appended to (say,
  // `unshare -m sh -c '<mount a small tmpfs on the data dir> && exec "$@"'`);
  // the data directory is then reached through /proc/PID/root (data_path()).
  explicit ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args = {},
                         const std::vector<std::string>& launcher = {});
  ~ServerProcess();
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  int pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // The data directory as other processes on this machine reach it.
  std::string data_path() const { return launched_ ? "/proc/" + std::to_string(pid_) + "/root" + data_dir_ : data_dir_; }
  // Creates an account through `ocopd --add-user` (the server may be running;
  // not under a launcher: SQLite would resolve data_path() outside it).
  bool AddUser(const std::string& name, const std::string& role, const std::string& unit,
               const std::string& password = "matkhau123");
  // SIGTERM and wait; returns the exit status.
  int Stop();
  // SIGKILL, as when the machine or the process dies: no cleanup at all.
  void Kill();

 private:
  std::vector<std::string> extra_args_;  // also given to --add-user (a --config, say)
  std::string data_dir_, url_;
  int port_ = 0;
  int pid_ = -1;
  bool launched_ = false;
};

// One device: an `ocop` home.
class Device {
 public:
  Device(std::string home, std::string server_url) : home_(std::move(home)), server_(std::move(server_url)) {}
  RunResult Run(std::vector<std::string> args, const std::string& input = "") const;
  // init + login in one go; returns false with the failure printed.
  bool Setup(const std::string& unit, const std::string& user, const std::string& password = "matkhau123");
  // Creates an idea form; returns its id ("" on failure).
  std::string NewIdea(const std::string& product, const std::string& extra_key = "", const std::string& extra = "");
  // id -> canonical JSON of {fields, deleted, conflict} of every local record.
  std::map<std::string, std::string> Dump() const;
  const std::string& home() const { return home_; }
  void set_server(std::string url) { server_ = std::move(url); }
  void set_timeout(int seconds) { timeout_s_ = seconds; }

 private:
  std::string home_, server_;
  int timeout_s_ = 120;
};

// A loopback TCP proxy in front of the server. Each connection carries one
// request; for the first `drop_answers` requests whose request line contains
// `match`, the request reaches the server but the answer is thrown away and
// the client's connection is closed.
class DroppingProxy {
 public:
  DroppingProxy(int upstream_port, std::string match, int drop_answers);
  // Instead of dropping answers: every `cut_every`-th matching request (up to
  // `cuts` times) reaches the server only in part (its first `cut_at` bytes of
  // body) and both connections are closed, as when a village link drops.
  void CutRequests(int cut_every, int cuts, size_t cut_at) {
    cut_every_ = cut_every;
    cuts_ = cuts;
    cut_at_ = cut_at;
  }
  // Body bytes the client sent in matching requests (whether or not cut).
  int64_t matched_body_bytes() const { return matched_body_bytes_.load(); }
  // Body bytes of matching requests that reached the server (a cut forwards a prefix).
  int64_t forwarded_body_bytes() const { return forwarded_body_bytes_.load(); }
  int cut() const { return cut_done_.load(); }
  ~DroppingProxy();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int dropped() const { return dropped_.load(); }
  int forwarded() const { return forwarded_.load(); }

 private:
  void Serve();
  int listen_fd_ = -1, port_ = 0, upstream_port_;
  std::string match_;
  std::atomic<int> to_drop_, dropped_{0}, forwarded_{0};
  std::atomic<bool> stop_{false};
  int cut_every_ = 0, cuts_ = 0, matched_ = 0;
  size_t cut_at_ = 0;
  std::atomic<int> cut_done_{0};
  std::atomic<int64_t> matched_body_bytes_{0};
  std::atomic<int64_t> forwarded_body_bytes_{0};
  std::thread thread_;
};

// Another program in the background (a load balancer): its output goes to
// `log`; killed and reaped on destruction.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool running();

 private:
  int pid_ = -1;
};

// A loopback TCP port nobody listens on right now.
int FreeLoopbackPort();

std::string BinOcop();
std::string BinOcopd();

}  // namespace ocop::testing
