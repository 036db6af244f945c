#include "tests/integration/harness.h"

#include <algorithm>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "shared/json.h"

namespace ocop::testing {

std::string BinOcop() { return OCOP_BIN; }
std::string BinOcopd() { return OCOPD_BIN; }

namespace {

pid_t Spawn(const std::string& program, const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            int* in_fd, int* out_fd, int* err_fd) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  *in_fd = in[1];
  *out_fd = out[0];
  *err_fd = err[0];
  return pid;
}

// Copies what a child writes on `fd` into `log` (fopen `mode`) in the
// background until the child closes it.
void DrainToFile(int fd, const std::string& log, const char* mode) {
  std::thread([fd, log, mode] {
    FILE* f = fopen(log.c_str(), mode);
    char b[4096];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0)
      if (f) fwrite(b, 1, static_cast<size_t>(n), f);
    if (f) fclose(f);
    close(fd);
  }).detach();
}

}  // namespace

RunResult RunProgram(const std::string& program, const std::vector<std::string>& args, const std::string& input,
                     const std::map<std::string, std::string>& env, int timeout_s) {
  RunResult r;
  int in_fd, out_fd, err_fd;
  pid_t pid = Spawn(program, args, env, &in_fd, &out_fd, &err_fd);
  if (pid < 0) return r;
  signal(SIGPIPE, SIG_IGN);
  if (!input.empty() && write(in_fd, input.data(), input.size()) < 0) {
  }
  close(in_fd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (open_fds > 0) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -9;
  return r;
}

ServerProcess::ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args,
                             const std::vector<std::string>& launcher)
    : extra_args_(extra_args), data_dir_(data_dir), launched_(!launcher.empty()) {
  std::vector<std::string> args = {"--data-dir", data_dir, "--host", "127.0.0.1"};
  // Any free port, unless the test names one (an option may be given once).
  if (std::find(extra_args.begin(), extra_args.end(), "--port") == extra_args.end()) args.insert(args.end(), {"--port", "0"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int in_fd, out_fd, err_fd;
  if (launched_) {
    args.insert(args.begin(), BinOcopd());
    args.insert(args.begin(), launcher.begin() + 1, launcher.end());
  }
  pid_t pid = Spawn(launched_ ? launcher.front() : BinOcopd(), args, {}, &in_fd, &out_fd, &err_fd);
  close(in_fd);
  if (pid < 0) return;
  // The server's log (stderr) goes to <data_dir>.log, for reading after a failure.
  DrainToFile(err_fd, data_dir + ".log", "w");
  pid_ = pid;
  // Read stdout until the URL line appears (bounded: 30 s).
  std::string seen;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  pollfd pfd{out_fd, POLLIN, 0};
  while (std::chrono::steady_clock::now() < deadline) {
    if (poll(&pfd, 1, 200) <= 0) continue;
    ssize_t n = read(out_fd, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
    auto at = seen.find("listening on http");
    if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
      std::string line = seen.substr(at + 13, seen.find('\n', at) - at - 13);
      url_ = line;
      port_ = std::atoi(line.substr(line.rfind(':') + 1).c_str());
      break;
    }
  }
  // Keep draining stdout in the background so the server never blocks on it.
  std::thread([out_fd] {
    char b[4096];
    while (read(out_fd, b, sizeof b) > 0) {
    }
    close(out_fd);
  }).detach();
}

ServerProcess::~ServerProcess() { Stop(); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {  // up to 20 s
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    usleep(100000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -9;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log) {
  int in_fd, out_fd, err_fd;
  pid_ = Spawn(program, args, {}, &in_fd, &out_fd, &err_fd);
  if (pid_ < 0) return;
  close(in_fd);
  for (int fd : {out_fd, err_fd}) DrainToFile(fd, log, "a");
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ > 0;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

bool ServerProcess::AddUser(const std::string& name, const std::string& role, const std::string& unit,
                            const std::string& password) {
  std::vector<std::string> args = {"--data-dir", data_path(), "--add-user", name, "--role", role, "--unit", unit};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  auto r = RunProgram(BinOcopd(), args, password + "\n");
  if (r.code != 0) fprintf(stderr, "add-user %s failed: %s%s\n", name.c_str(), r.out.c_str(), r.err.c_str());
  return r.code == 0;
}

RunResult Device::Run(std::vector<std::string> args, const std::string& input) const {
  // English unless the test asks for Vietnamese: tests match the core's messages.
  bool lang_given = std::find(args.begin(), args.end(), "--lang") != args.end();
  args.insert(args.begin(), {"--home", home_});
  if (!lang_given) args.insert(args.begin() + 2, {"--lang", "en"});
  std::map<std::string, std::string> env = {{"OCOP_HTTP_ATTEMPTS", "2"}, {"OCOP_HTTP_BACKOFF_MS", "50"}};
  if (const char* trace = std::getenv("OCOP_HTTP_TRACE")) env["OCOP_HTTP_TRACE"] = trace;
  return RunProgram(BinOcop(), args, input, env, timeout_s_);
}

bool Device::Setup(const std::string& unit, const std::string& user, const std::string& password) {
  auto r = Run({"init", "--commune", unit, "--server", server_});
  if (r.code != 0) {
    fprintf(stderr, "init failed: %s\n", r.err.c_str());
    return false;
  }
  r = Run({"login", "--user", user, "--password-stdin"}, password + "\n");
  if (r.code != 0) fprintf(stderr, "login failed: %s\n", r.err.c_str());
  return r.code == 0;
}

std::string Device::NewIdea(const std::string& product, const std::string& extra_key, const std::string& extra) {
  std::vector<std::string> args = {"new", "idea", "--set", "subject_name=HTX " + product, "--set",
                                   "subject_kind=cooperative", "--set", "product_name=" + product, "--set",
                                   "product_group=1", "--set", "description=Sản phẩm của xã"};
  if (!extra_key.empty()) {
    args.push_back("--set");
    args.push_back(extra_key + "=" + extra);
  }
  auto r = Run(args);
  if (r.code != 0) {
    fprintf(stderr, "new failed: %s\n", r.err.c_str());
    return "";
  }
  return r.out.substr(0, r.out.find('\n'));
}

std::map<std::string, std::string> Device::Dump() const {
  std::map<std::string, std::string> out;
  auto r = Run({"list", "--json", "--deleted"});
  json::Var v;
  if (r.code != 0 || !json::Parse(r.out, &v).ok()) return out;
  auto arr = v.extract<json::Array::Ptr>();
  for (size_t i = 0; i < arr->size(); ++i) {
    auto o = arr->getObject(static_cast<unsigned>(i));
    json::Object canon;
    canon.set("fields", o->get("fields"));
    canon.set("deleted", o->get("deleted"));
    canon.set("conflict", o->get("conflict"));
    canon.set("unit", o->get("unit"));
    out[o->getValue<std::string>("id")] = json::ToText(canon);
  }
  return out;
}

// ---- proxy ----

namespace {

bool ReadHttpMessage(int fd, std::string* msg) {
  // Reads headers, then Content-Length bytes of body. Bounded by a 64 MB cap.
  char buf[65536];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    msg->append(buf, static_cast<size_t>(n));
    header_end = msg->find("\r\n\r\n");
    if (msg->size() > (64u << 20)) return false;
  }
  size_t length = 0;
  std::string lower = msg->substr(0, header_end);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto cl = lower.find("content-length:");
  if (cl != std::string::npos) length = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  while (msg->size() < header_end + 4 + length) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    msg->append(buf, static_cast<size_t>(n));
  }
  return true;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

DroppingProxy::DroppingProxy(int upstream_port, std::string match, int drop_answers)
    : upstream_port_(upstream_port), match_(std::move(match)), to_drop_(drop_answers) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

DroppingProxy::~DroppingProxy() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  thread_.join();
}

void DroppingProxy::Serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    std::string request;
    if (ReadHttpMessage(client, &request)) {
      // One request per connection: ask both ends to close afterwards.
      size_t eol = request.find("\r\n");
      std::string request_line = request.substr(0, eol);
      size_t header_end = request.find("\r\n\r\n") + 4;
      if (request_line.find(match_) != std::string::npos) {
        matched_body_bytes_ += static_cast<int64_t>(request.size() - header_end);
        ++matched_;
        if (cut_every_ > 0 && cut_done_ < cuts_ && matched_ % cut_every_ == 0) {
          // Forward the headers and part of the body, then drop both connections.
          int up = socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
          if (connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
              SendAll(up, request.substr(0, std::min(request.size(), header_end + cut_at_))))
            forwarded_body_bytes_ += static_cast<int64_t>(std::min(request.size() - header_end, cut_at_));
          // Let the server read what arrived before the link goes.
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          ++cut_done_;
          close(up);
          close(client);
          continue;
        }
      }
      request.insert(eol + 2, "Connection: close\r\n");
      int up = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      std::string response;
      if (connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && SendAll(up, request) &&
          ReadHttpMessage(up, &response)) {
        bool drop = request_line.find(match_) != std::string::npos && to_drop_.fetch_sub(1) > 0;
        if (drop) {
          ++dropped_;  // the server has answered (and so committed); the client never hears it
        } else {
          ++forwarded_;
          SendAll(client, response);
        }
        if (request_line.find(match_) != std::string::npos)
          forwarded_body_bytes_ += static_cast<int64_t>(request.size() - header_end - std::string("Connection: close\r\n").size());
      }
      close(up);
    }
    close(client);
  }
}

}  // namespace ocop::testing
