// Sync by carried file, with no link at all: the outbox written to a file, taken in by a
// district's laptop, and the server's return file carried back (client/carried_files.h).
#include <iostream>

#include "client/carried_files.h"
#include "client/cli/command.h"
#include "client/sync_client.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

// What waits to be sent, and a way out when the server refused it.
// ---- sync by carried file (client/carried_files.h) ----
int OutboxExport(Context& ctx) {
  std::string output = ctx.a.Get("--output", "");
  if (output.empty()) throw UsageError("outbox export needs --output FILE (e.g. on a USB stick)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  ExportSummary sum;
  s = ExportOutbox(*ctx.store, output, ctx.a.Has("--with-files"), &sum);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    ctx.out << "{\"file\":" << json::Quote(output) << ",\"change_sets\":" << sum.change_sets << ",\"changes\":"
         << sum.changes << ",\"photos\":" << sum.photos << ",\"bytes\":" << sum.bytes << "}\n";
    return 0;
  }
  ctx.out << ctx.T("Đã ghi ", "Wrote ") << output << ": " << sum.changes << ctx.T(" thay đổi", " changes") << " (" << sum.change_sets
       << ctx.T(" gói", " change sets") << "), " << sum.photos << ctx.T(" ảnh", " photos") << ", " << ctx.Bytes(static_cast<int64_t>(sum.bytes)) << ".\n"
       << ctx.T("Mang tệp lên huyện/tỉnh; các thay đổi vẫn chờ ở đây cho đến khi máy chủ trả lời (đồng bộ hoặc tệp trả về).\n",
            "Carry the file to the district or province; the changes stay waiting here until the server answers "
            "(a sync, or a return file).\n");
  return 0;
}

namespace {

int ImportChanges(Context& ctx) {
  ctx.NeedPositional(1, "import-changes FILE");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  CarriedInSummary sum;
  s = ImportChangesFile(*ctx.store, ctx.a.positional[0], &sum);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    ctx.out << "{\"device\":" << json::Quote(sum.device) << ",\"user\":" << json::Quote(sum.user)
         << ",\"unit\":" << json::Quote(sum.unit) << ",\"changes\":" << sum.changes << ",\"photos\":" << sum.photos
         << ",\"already\":" << (sum.already ? "true" : "false") << "}\n";
    return 0;
  }
  if (sum.already) {
    ctx.out << ctx.T("Tệp này đã được nhận trước đây; không thêm gì.\n", "This file was imported before; nothing added.\n");
    return 0;
  }
  ctx.out << ctx.T("Đã nhận tệp của ", "Took the file of ") << sum.user << " (" << sum.unit << "): " << sum.changes
       << ctx.T(" thay đổi, ", " changes, ") << sum.photos << ctx.T(" ảnh. Sẽ gửi ở lần đồng bộ tới.\n", " photos. They go at the next sync.\n");
  return 0;
}

int ExportReturn(Context& ctx) {
  ctx.NeedPositional(0, "");
  std::string device = ctx.a.Get("--for-device", ""), output = ctx.a.Get("--output", "");
  if (device.empty() || output.empty()) throw UsageError("export-return needs --for-device ID and --output FILE");
  std::string since_text = ctx.a.Get("--since", "0");
  if (since_text.empty() || since_text.size() > 15 || since_text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError("--since must be the device's cursor (a whole number, from ocop status on that device)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  std::string url;
  s = ctx.NeedServer(&url);
  if (!s.ok()) return ctx.Fail(s);
  HttpClient http(url, ctx.QuickHttp());
  SyncClient sc(*ctx.store, http);
  std::string bytes;
  // Kept beside the output while it comes down: a second run after a cut continues it.
  s = sc.FetchReturnFile(device, std::stoll(since_text), output + "." + device.substr(0, 8) + "-" + since_text + ".part", &bytes);
  if (s.ok()) s = WriteCarriedFile(output, bytes);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << "{\"file\":" << json::Quote(output) << ",\"bytes\":" << bytes.size() << "}\n";
  else ctx.out << ctx.T("Đã ghi ", "Wrote ") << output << " (" << ctx.Bytes(static_cast<int64_t>(bytes.size()))
            << ctx.T("). Mang tệp về xã: ocop import-pull ", "). Carry it to the commune: ocop import-pull ") << output << "\n";
  return 0;
}

int ImportPull(Context& ctx) {
  ctx.NeedPositional(1, "import-pull FILE");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  ReturnSummary sum;
  s = ImportReturnFile(*ctx.store, ctx.a.positional[0], &sum);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    ctx.out << "{\"answers\":" << sum.answers_applied << ",\"pages\":" << sum.pages_applied << ",\"records\":"
         << sum.records << ",\"cursor\":" << sum.cursor << ",\"nothing_new\":" << (sum.nothing_new ? "true" : "false")
         << "}\n";
    return 0;
  }
  if (sum.nothing_new) {
    ctx.out << ctx.T("Tệp không có gì mới cho thiết bị này.\n", "The file holds nothing new for this device.\n");
    return 0;
  }
  ctx.out << ctx.T("Máy chủ đã trả lời ", "The server answered ") << sum.answers_applied << ctx.T(" gói thay đổi; nhận ", " change sets; received ")
       << sum.records << ctx.T(" phiếu.\n", " records.\n");
  return 0;
}

}  // namespace

const std::vector<Command>& CarriedCommands() {
  static const std::vector<Command> commands = {
      {"import-changes", "FILE", "nhận tệp thay đổi của thiết bị khác, gửi giúp ở lần đồng bộ tới",
       "take another device's carried file, pushed for it at this device's next sync",
       "Dùng trên máy tính của huyện: tệp do ocop outbox export ghi ở xã.",
       "For a district's laptop: the file ocop outbox export wrote at the commune.", {},
       {"ocop import-changes /media/usb/xa-08800.ocop"}, ImportChanges, true},
      {"export-return", "--for-device ID --output FILE [--since N]", "(trực tuyến) tệp trả về của máy chủ cho một thiết bị xã",
       "(online) the server's return file for a commune device, to carry to it", "", "",
       WithServerOptions({{"--for-device", "ID", "mã thiết bị (ocop status trên thiết bị đó)", "the device's id (ocop status on it)"},
                          {"--output", "FILE", "tệp cần ghi", "the file to write"},
                          {"--since", "N", "con trỏ của thiết bị (ocop status --json)", "the device's cursor (ocop status --json)"}}),
       {"ocop export-return --for-device 0193a2b4-... --output /media/usb/tra-ve.ocop"}, ExportReturn, true},
      {"import-pull", "FILE", "nhận tệp trả về của máy chủ: quyết định, sửa đổi của người khác",
       "take the server's return file for this device: decisions, others' edits", "", "", {},
       {"ocop import-pull /media/usb/tra-ve.ocop"}, ImportPull, true},
  };
  return commands;
}

}  // namespace ocop::client::cli
