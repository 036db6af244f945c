// The screens (client/ui/) served by this device, until Ctrl-C.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "client/cli/command.h"
#include "client/http_client.h"
#include "client/ui/ui_server.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

// Serves the screens until Ctrl-C (or SIGTERM); a sync started from them
// stops cleanly, keeping what arrived.
int Ui(Context& ctx) {
  ctx.NeedPositional(0, "");
  UiOptions o;
  o.home = ctx.home;
  std::string port = ctx.a.Get("--port", "8470");
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) throw UsageError("--port must be a number from 0 to 65535");
  o.port = static_cast<int>(p);
  o.host = ctx.a.Get("--host", "127.0.0.1");
  if (!IsLoopbackHost(o.host)) {
    if (!ctx.a.Has("--password-stdin"))
      throw UsageError("--host " + o.host + " shares the screens on the network: give a password with --password-stdin");
    o.password = ctx.ReadPassword();
  }
  if (!ctx.a.Get("--deadline").empty()) o.sync_deadline_s = ctx.ParseDuration(ctx.a.Get("--deadline"));
  Status s = ctx.OpenStore();
  if (s.ok()) s = ctx.InstallCa();
  if (!s.ok()) return ctx.Fail(s);
  o.http = ctx.QuickHttp();
  ctx.store.reset();  // the screens open their own
  static std::atomic<bool> quit{false};
  quit = false;
  struct sigaction on_quit {}, old_int {}, old_term {};
  on_quit.sa_handler = [](int) { quit = true; };
  sigemptyset(&on_quit.sa_mask);
  sigaction(SIGINT, &on_quit, &old_int);
  sigaction(SIGTERM, &on_quit, &old_term);
  std::unique_ptr<UiServer> server;
  s = UiServer::Start(o, &server);
  if (!s.ok()) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    return ctx.Fail(s);
  }
  if (ctx.as_json) ctx.out << "{\"url\":" << json::Quote(server->url()) << ",\"port\":" << server->port() << "}" << std::endl;
  else ctx.out << ctx.T("Mở trình duyệt tại ", "Open a browser at ") << server->url() << ctx.T("  (Ctrl-C để dừng)", "  (Ctrl-C stops)") << std::endl;
  if (ctx.a.Has("--open")) {
    std::string cmd = "xdg-open '" + server->url() + "' > /dev/null 2>&1 &";
    if (std::system(cmd.c_str()) != 0) ctx.err << ctx.T("(không mở được trình duyệt)", "(could not open a browser)") << "\n";
  }
  while (!quit) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server->Stop();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!ctx.as_json) ctx.out << ctx.T("Đã dừng\n", "Stopped\n");
  return 0;
}

}  // namespace

const std::vector<Command>& UiCommands() {
  static const std::vector<Command> commands = {
      {"ui", "[--port N] [--host ADDR] [--open] [--password-stdin] [--deadline D]",
       "cùng công việc trên trình duyệt, do thiết bị này phục vụ", "the same work in a browser, served by this device",
       "Mặc định 127.0.0.1:8470, không cần mạng. Một --host khác chia sẻ màn hình trên mạng của xã và cần mật\n"
       "khẩu (--password-stdin). Ctrl-C dừng.",
       "127.0.0.1:8470 by default, no network needed. Another --host shares the screens on the commune office's\n"
       "network and needs a password (--password-stdin). Ctrl-C stops.",
       {{"--port", "N", "cổng (0: chọn cổng trống)", "the port (0: any free port)"},
        {"--host", "ADDR", "địa chỉ lắng nghe", "the address to listen on"},
        {"--open", nullptr, "mở trình duyệt", "open a browser"},
        {"--password-stdin", nullptr, "mật khẩu của màn hình, đọc từ đầu vào chuẩn", "the screens' password, from standard input"},
        {"--deadline", "D", "thời hạn của một lần đồng bộ từ màn hình", "how long a sync started from the screens keeps trying"},
        {"--ca", "FILE", "chứng chỉ CA của máy chủ", "the server's CA certificate"}},
       {"ocop ui --open", "echo 'mat-khau' | ocop ui --host 192.168.1.10 --password-stdin"},
       Ui},
  };
  return commands;
}

}  // namespace ocop::client::cli
