// Online: logging in, syncing, what waits in the outbox, files fetched on demand.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/cli/command.h"
#include "client/http_client.h"
#include "shared/evaluation.h"
#include "client/officer_actions.h"
#include "client/sync_client.h"
#include "shared/dates.h"
#include "shared/messages.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

int StatusCmd(Context& ctx) {
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  StoreInfo info;
  s = ctx.store->Info(&info);
  if (!s.ok()) return ctx.Fail(s);
  std::vector<LocalStore::Exported> exported;
  s = ctx.store->ExportedUnanswered(&exported);
  if (!s.ok()) return ctx.Fail(s);
  std::vector<LocalStore::CarriedIn> carried;
  s = ctx.store->CarriedInFiles(true, &carried);
  if (!s.ok()) return ctx.Fail(s);
  size_t carried_waiting = carried.size();
  if (ctx.as_json) {
    Object o;
    o.set("device", info.device_id);
    o.set("commune", info.commune);
    o.set("server", info.server_url);
    o.set("user", info.user);
    o.set("records", info.records);
    o.set("pending_changes", info.pending_changes);
    o.set("pending_records", info.pending_records);
    o.set("open_conflicts", info.conflicts);
    o.set("last_sync", info.last_sync);
    o.set("cursor", info.cursor);
    o.set("files_waiting", info.files_waiting);
    o.set("exported_unanswered", static_cast<int64_t>(exported.size()));
    o.set("carried_waiting", static_cast<int64_t>(carried_waiting));
    ctx.out << json::ToText(o) << "\n";
    return 0;
  }
  ctx.out << ctx.T("Thiết bị: ", "Device: ") << info.device_id << "\n"
       << ctx.T("Đơn vị: ", "Unit: ") << info.commune
       << (ctx.store->units().Find(info.commune) ? " " + ctx.store->units().Find(info.commune)->name : "") << "\n"
       << ctx.T("Máy chủ: ", "Server: ") << (info.server_url.empty() ? "-" : info.server_url) << "\n"
       << ctx.T("Người dùng: ", "User: ") << (info.user.empty() ? ctx.T("(chưa đăng nhập)", "(not logged in)") : info.user) << "\n"
       << ctx.T("Số phiếu: ", "Records: ") << info.records << "\n"
       << ctx.T("Thay đổi chờ đồng bộ: ", "Changes waiting to sync: ") << info.pending_changes
       << (info.pending_changes ? ctx.T(" (của ", " (to ") + std::to_string(info.pending_records) +
                                      ctx.T(" phiếu; chi tiết: ocop outbox)", " records; details: ocop outbox)")
                                : "")
       << "\n"
       << ctx.T("Xung đột đang mở: ", "Open conflicts: ") << info.conflicts << "\n"
       << ctx.T("Tệp chờ gửi: ", "Files waiting to upload: ") << info.files_waiting << "\n"
       << ctx.T("Đồng bộ lần cuối: ", "Last sync: ") << (info.last_sync.empty() ? ctx.T("chưa bao giờ", "never") : dates::TimestampToDisplay(info.last_sync)) << "\n";
  if (!exported.empty())
    ctx.out << ctx.T("Đã ghi ra tệp, máy chủ chưa trả lời: ", "Exported to a file, not yet answered by the server: ")
         << exported.size() << ctx.T(" gói (tệp ", " change sets (file ") << exported.back().file_name << ", "
         << dates::ToDisplay(exported.back().exported_at.substr(0, 10)) << ")\n";
  if (carried_waiting > 0)
    ctx.out << ctx.T("Tệp của thiết bị khác chờ gửi: ", "Other devices' files waiting to be sent: ") << carried_waiting << "\n";
  return 0;
}

int Login(Context& ctx) {
  ctx.NeedPositional(0, "");
  std::string user = ctx.a.Get("--user");
  if (user.empty()) throw UsageError("login needs --user NAME");
  std::string url;
  Status s = ctx.NeedServer(&url);
  if (!s.ok()) return ctx.Fail(s);
  s = CheckPasswordTransport(url, ctx.a.Has("--insecure"));
  if (!s.ok()) return ctx.Fail(s);
  std::string pw = ctx.ReadPassword();
  HttpClient http(url, ctx.QuickHttp());
  SyncClient sc(*ctx.store, http);
  s = sc.Login(user, pw);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << "{\"user\":" << json::Quote(user) << ",\"role\":" << json::Quote(ctx.store->Setting("role")) << "}\n";
  else ctx.out << ctx.T("Đã đăng nhập: ", "Logged in: ") << user << " (" << ctx.store->Setting("role") << ")\n";
  return 0;
}

int Logout(Context& ctx) {
  std::string url;
  Status s = ctx.NeedServer(&url);
  if (!s.ok()) return ctx.Fail(s);
  HttpClient http(url, ctx.QuickHttp());
  SyncClient sc(*ctx.store, http);
  s = sc.Logout();
  if (!s.ok()) return ctx.Fail(s);
  if (!ctx.as_json) ctx.out << ctx.T("Đã đăng xuất\n", "Logged out\n");
  else ctx.out << "{}\n";
  return 0;
}

std::string ProgressLine(const Context& ctx, const SyncProgress& p) {
  std::ostringstream o;
  std::string phase = std::string(p.phase) == "push" ? ctx.T("gửi phiếu", "sending forms")
                      : std::string(p.phase) == "files" ? ctx.T("gửi ảnh", "sending photos")
                      : std::string(p.phase) == "pull" ? ctx.T("nhận phiếu", "receiving forms")
                                                       : ctx.T("chờ kết nối", "waiting for the link");
  double rate = p.seconds > 0.5 ? (p.bytes_sent + p.bytes_received) / p.seconds : 0;
  o << ctx.T("Đồng bộ", "Sync") << " [" << phase << "] " << ctx.T("đã gửi ", "sent ") << p.changes_sent << "/"
    << p.changes_total << ctx.T(" thay đổi, nhận ", " changes, received ") << p.records_received << ctx.T(" phiếu", " records")
    << " · ↑" << ctx.Bytes(p.bytes_sent) << " ↓" << ctx.Bytes(p.bytes_received) << " · " << ctx.Bytes(static_cast<int64_t>(rate))
    << "/s";
  if (p.bytes_left > 0 && rate > 0)
    o << " · " << ctx.T("còn ~", "~") << static_cast<int64_t>(p.bytes_left / rate + 1) << ctx.T(" giây", " s left");
  if (p.cuts > 0) o << " · " << p.cuts << ctx.T(" lần mất kết nối", " drops");
  return o.str();
}

int Sync(Context& ctx) {
  ctx.NeedPositional(0, "");
  std::string url;
  Status s = ctx.NeedServer(&url);
  if (!s.ok()) return ctx.Fail(s);
  // Said before anything is sent: no server was asked, so none refused.
  if (ctx.store->Setting("token").empty())
    return ctx.Fail(Status::Unauth("not logged in: run `ocop login --user NAME` first"));
  HttpClient http(url, ctx.QuickHttp());
  SyncOptions options;
  options.with_files = ctx.a.Has("--with-files");
  options.deadline_s = ctx.a.Get("--deadline").empty() ? 600 : ctx.ParseDuration(ctx.a.Get("--deadline"));
  // Ctrl-C stops the sync between two bytes; everything that arrived is kept.
  static std::atomic<bool> stop{false};
  stop = false;
  options.stop = &stop;
  struct sigaction on_int {}, old_int {};
  on_int.sa_handler = [](int) { stop = true; };
  sigemptyset(&on_int.sa_mask);
  sigaction(SIGINT, &on_int, &old_int);
  SyncClient sc(*ctx.store, http, options);
  SyncReport report;
  // A live line on a terminal only; nothing animated into a pipe or a file.
  bool show_progress = ctx.err_tty && !ctx.as_json;
  auto last_draw = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  size_t drawn = 0;
  s = sc.Sync(&report, [&](const SyncProgress& p) {
    if (!show_progress || std::chrono::steady_clock::now() - last_draw < std::chrono::milliseconds(200)) return;
    last_draw = std::chrono::steady_clock::now();
    std::string line = ProgressLine(ctx, p);
    ctx.err << "\r" << line << std::string(drawn > line.size() ? drawn - line.size() : 0, ' ') << std::flush;
    drawn = line.size();
  });
  sigaction(SIGINT, &old_int, nullptr);
  if (show_progress && drawn) ctx.err << "\r" << std::string(drawn, ' ') << "\r" << std::flush;
  std::string why = SyncOutcome(s, report);
  if (ctx.as_json) {
    ctx.out << json::ToText(SyncSummary(s, report)) << "\n";
    return s.ok() ? 0 : StatusExitCode(s.code());
  }
  ctx.out << ctx.T("Đã gửi ", "Sent ") << report.changes_sent << ctx.T(" thay đổi", " changes") << " (" << report.changes_applied
       << ctx.T(" áp dụng, ", " applied, ") << report.changes_merged << ctx.T(" gộp, ", " merged, ") << report.changes_in_conflict
       << ctx.T(" xung đột)", " in conflict)") << "; " << ctx.T("nhận ", "received ") << report.records_received
       << ctx.T(" phiếu", " records") << "; " << report.http.requests << ctx.T(" lượt gọi máy chủ", " requests") << "; ↑"
       << ctx.Bytes(report.http.bytes_sent) << " ↓" << ctx.Bytes(report.http.bytes_received) << ctx.T(" trong ", " in ")
       << ctx.Decimal(report.seconds) << ctx.T(" giây", " s");
  if (report.cuts > 0)
    ctx.out << ctx.T("; mất kết nối ", "; the link dropped ") << report.cuts
         << (s.ok() ? ctx.T(" lần (đã nối lại)", " times (resumed)") : ctx.T(" lần", " times"));
  ctx.out << "\n";
  if (report.files_uploaded > 0 || report.files_waiting > 0 || report.files_downloaded > 0)
    ctx.out << ctx.T("Tệp: đã gửi ", "Files: sent ") << report.files_uploaded << ctx.T(", đã tải về ", ", fetched ")
         << report.files_downloaded << ctx.T(", còn chờ ", ", waiting ") << report.files_waiting
         << (report.files_error.empty() ? "" : " (" + report.files_error + ")") << "\n";
  if (report.numbered > 0)
    ctx.out << ctx.T("Đã cấp số phiếu cho ", "Receipt numbers given to ") << report.numbered
            << ctx.T(" phiếu ý tưởng tiếp nhận trước khi máy có dải số (ocop list)",
                     " idea forms received before this device held numbers (ocop list)")
            << "\n";
  if (report.units_updated)
    ctx.out << ctx.T("Danh mục đơn vị hành chính đã thay đổi trên máy chủ và đã được cập nhật (ocop units)",
                     "The server's list of administrative units changed and was taken (ocop units)")
            << "\n";
  for (const auto& [form, version] : report.forms_updated) {
    const FormSchema* schema = ctx.store->catalog().Find(form, version);
    ctx.out << ctx.T("Đã nhận mẫu phiếu mới từ máy chủ: ", "New form from the server: ")
            << (schema ? schema->label.In(ctx.lang) : form) << ctx.T(" (phiên bản ", " (version ") << version
            << ctx.T("); phiếu mới dùng mẫu này (ocop forms)", "); new records use it (ocop forms)") << "\n";
  }
  for (const auto& id : report.sheets_updated) {
    const evaluation::CriteriaSheet* sheet = evaluation::FindSheet(id);
    ctx.out << ctx.T("Đã nhận bộ tiêu chí mới từ máy chủ: ", "New criteria sheet from the server: ")
            << (sheet ? sheet->label.In(ctx.lang) : id) << " (ocop criteria " << id << ")\n";
  }
  if (report.catalogue_updated)
    ctx.out << ctx.T("Đã nhận bản sửa lời nhắn và tên gọi từ máy chủ", "Corrections to messages and names taken from the server")
            << "\n";
  if (!report.definitions_problem.empty())
    ctx.out << ctx.T("Chưa nhận được mẫu phiếu, bộ tiêu chí máy chủ đã công bố (sẽ thử lại lần đồng bộ sau): ",
                     "The forms and sheets the server published were not taken (asked again at the next sync): ")
            << msg::Localise(report.definitions_problem, ctx.lang) << "\n";
  if (report.carried_sent > 0 || report.carried_refused > 0)
    ctx.out << ctx.T("Tệp của thiết bị khác: đã gửi ", "Other devices' files: sent ") << report.carried_sent
         << ctx.T(", bị từ chối ", ", refused ") << report.carried_refused << "\n";
  if (report.open_conflicts > 0)
    ctx.out << ctx.T("Phiếu đang xung đột: ", "Records in conflict: ") << report.open_conflicts
         << ctx.T(" (ocop list --conflicts)", " (ocop list --conflicts)") << "\n";
  if (s.ok()) return 0;
  ctx.out << ctx.T("Còn chờ gửi: ", "Still waiting: ") << report.pending_after << ctx.T(" thay đổi", " changes");
  if (report.files_waiting > 0) ctx.out << ", " << report.files_waiting << ctx.T(" tệp", " files");
  ctx.out << ". " << (why == "stopped_by_user" ? ctx.T("Đã dừng theo yêu cầu; phần đã gửi được giữ lại.", "Stopped as asked; what arrived is kept.")
                   : why == "deadline" ? ctx.T("Hết thời hạn (--deadline); phần đã gửi được giữ lại, chạy lại ocop sync để tiếp tục.",
                                           "Deadline reached (--deadline); what arrived is kept, run ocop sync again to continue.")
                   : why == "no_connection" ? ctx.T("Không có kết nối; chạy lại ocop sync khi có mạng.", "No connection; run ocop sync again when there is one.")
                   : why == "server_full" ? ctx.T("Máy chủ tạm hết dung lượng; mọi thay đổi vẫn được giữ trên máy, chạy lại ocop sync sau.",
                                                  "The server is out of disk space for now; every change stays on this device, run ocop sync again later.")
                                            : ctx.T("Máy chủ từ chối (xem bên dưới).", "The server refused (see below)."))
       << "\n";
  return ctx.Fail(s);
}

int Outbox(Context& ctx) {
  if (ctx.a.positional.size() == 1 && ctx.a.positional[0] == "export") return OutboxExport(ctx);
  if (ctx.a.positional.size() > 1 || (ctx.a.positional.size() == 1 && ctx.a.positional[0] != "discard"))
    throw UsageError("outbox takes no argument, `discard` or `export --output FILE`");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  std::string refused = ctx.store->Setting("refused");
  if (ctx.a.positional.empty()) {
    StoreInfo info;
    s = ctx.store->Info(&info);
    if (!s.ok()) return ctx.Fail(s);
    int64_t in_flight = 0;
    s = ctx.store->FrozenChangeCount(&in_flight);
    if (!s.ok()) return ctx.Fail(s);
    std::vector<LocalStore::PendingRecord> pending;
    s = ctx.store->PendingByRecord(&pending);
    if (!s.ok()) return ctx.Fail(s);
    if (ctx.as_json) {
      Object o;
      o.set("pending_changes", info.pending_changes);
      o.set("pending_records", info.pending_records);
      o.set("in_flight", in_flight);
      o.set("refused", refused);
      json::Array::Ptr records = new json::Array;
      for (const auto& p : pending) {
        Object::Ptr r = new Object;
        r->set("id", p.record_id);
        r->set("changes", p.changes);
        json::Array::Ptr keys = new json::Array;
        for (const auto& k : p.fields) keys->add(k);
        r->set("fields", keys);
        r->set("in_flight", p.in_flight);
        records->add(r);
      }
      o.set("records", records);
      ctx.out << json::ToText(o) << "\n";
      return 0;
    }
    // A record a line: what it is, what changed (by label), whether a send is under way.
    for (const auto& p : pending) {
      Record r;
      bool known = ctx.store->Get(p.record_id, &r).ok();
      const FormSchema* schema = known ? ctx.store->catalog().Shown(r.form, r.fields) : nullptr;
      ctx.out << "…" << p.record_id.substr(p.record_id.size() - 8) << "  " << (schema ? schema->label.In(ctx.lang) : "?") << " «"
              << (known ? RecordTitle(*ctx.store, r, ctx.lang) : "") << "»"
              << (known && r.deleted ? ctx.T(" [đã xoá]", " [deleted]") : "") << (p.in_flight ? ctx.T(" [đang gửi]", " [being sent]") : "")
              << "\n    " << p.changes << ctx.T(" thay đổi: ", " changes: ");
      for (size_t i = 0; i < p.fields.size(); ++i) {
        const FieldDef* f = schema ? schema->Field(p.fields[i]) : nullptr;
        ctx.out << (i ? ", " : "") << (f ? f->label.In(ctx.lang) : p.fields[i] == "_deleted" ? ctx.T("xoá phiếu", "deletion") : p.fields[i]);
      }
      ctx.out << "\n";
    }
    ctx.out << ctx.T("Thay đổi chờ gửi: ", "Changes waiting: ") << info.pending_changes << ctx.T(" của ", " to ")
            << info.pending_records << ctx.T(" phiếu (mỗi phiếu gửi đi thành một thay đổi gộp)", " records (each record's go as one merged change)")
            << (in_flight ? ctx.T("; đang gửi: ", "; being sent: ") + std::to_string(in_flight) : "") << "\n";
    if (!refused.empty()) ctx.out << ctx.T("Máy chủ từ chối: ", "Refused by the server: ") << msg::Localise(refused, ctx.lang) << "\n";
    return 0;
  }
  if (refused.empty())
    return ctx.Fail(Status::Precondition("the server has refused nothing; changes are discarded only after a refusal"));
  // The server names the record it refused ("record <id>: …").
  std::string refused_record;
  size_t at = refused.find("record ");
  if (at != std::string::npos && refused.size() >= at + 7 + 36) refused_record = refused.substr(at + 7, 36);
  std::vector<std::string> records;
  s = ctx.store->DiscardInflight(refused_record, &records);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << "{\"discarded_records\":" << records.size() << "}\n";
  else ctx.out << ctx.T("Đã bỏ các thay đổi bị từ chối của ", "Dropped the refused changes of ") << records.size()
            << ctx.T(" phiếu (trở về bản của máy chủ); các thay đổi khác sẽ được gửi lại\n",
                 " record(s), back to the server's version; the other changes will be sent again\n");
  return 0;
}

// A file's bytes: from the store, or fetched from the server on demand.
int File(Context& ctx) {
  ctx.NeedPositional(1, "SHA-256 of the file");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  const std::string& sha = ctx.a.positional[0];
  if (sha.size() != 64) return ctx.Fail(Status::Invalid("'" + sha + "' is not a SHA-256"));
  if (!ctx.store->HasFile(sha)) {
    std::string url;
    s = ctx.NeedServer(&url);
    if (!s.ok()) return ctx.Fail(s);
    HttpClient http(url, ctx.QuickHttp());
    SyncClient sc(*ctx.store, http);
    s = sc.FetchFile(sha);
    if (!s.ok()) return ctx.Fail(s);
  }
  std::ifstream in(ctx.store->FilePath(sha), std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  if (ctx.a.Get("--output").empty() && !ctx.as_json) {
    ctx.err << ctx.store->FilePath(sha) << "\n";
    return 0;
  }
  return ctx.Emit(all.str());
}

}  // namespace

const std::vector<Command>& SyncCommands() {
  static const std::vector<Command> commands = {
      {"status", "", "thay đổi chờ gửi, lần đồng bộ cuối, xung đột đang mở",
       "pending changes, last sync, open conflicts", "", "", {}, {"ocop status"}, StatusCmd},
      {"login", "--user NAME [--password-stdin] [--server URL] [--ca FILE] [--insecure]", "đăng nhập vào máy chủ",
       "log in to the server",
       "Máy chủ https:// được kiểm tra theo các CA của hệ thống hoặc --ca FILE. Mật khẩu không bao giờ được\n"
       "gửi qua http:// thường, trừ tới chính máy này hoặc khi có --insecure.",
       "An https:// server is checked against the system's CAs or --ca FILE. A password is never sent over\n"
       "plain http:// except to this machine or with --insecure.",
       WithServerOptions({{"--user", "NAME", "tên đăng nhập", "the account's name"},
                          {"--password-stdin", nullptr, "đọc mật khẩu từ đầu vào chuẩn (một dòng)", "read the password from standard input (one line)"},
                          {"--insecure", nullptr, "cho phép gửi mật khẩu qua http:// thường", "allow sending the password over plain http://"}}),
       {"ocop login --user lan --server https://ocop.vinhphuc.gov.vn", "echo 'mat-khau' | ocop login --user lan --password-stdin"},
       Login, true},
      {"logout", "", "đăng xuất (máy chủ huỷ phiên)", "log out (the server ends the session)", "", "",
       WithServerOptions({}), {"ocop logout"}, Logout, true},
      {"sync", "[--with-files] [--deadline D]", "gửi thay đổi, gửi ảnh, nhận phiếu của máy chủ",
       "push local changes, upload photos, pull the server's",
       "Mỗi phần tiếp tục từ chỗ kết nối bị ngắt; sync thử lại cho đến khi xong hoặc hết hạn D (mặc định 10m).\n"
       "Ctrl-C dừng và giữ những gì đã đến. Mã thoát 5: không có kết nối; 6: máy chủ từ chối.",
       "Every part resumes where a dropped link left it; sync keeps trying until done or until D (default 10m).\n"
       "Ctrl-C stops and keeps what arrived. Exit code 5: no connection; 6: refused by the server.",
       WithServerOptions({{"--with-files", nullptr, "tải về cả mọi ảnh trong phạm vi", "also fetch every photo in scope"},
                          {"--deadline", "D", "thời hạn: 90s, 10m, 1h (tối đa 7 ngày)", "how long to keep trying: 90s, 10m, 1h (at most 7 days)"}}),
       {"ocop sync", "ocop sync --with-files --deadline 1h"},
       Sync, true},
      {"outbox", "[discard | export --output FILE [--with-files]]", "thay đổi đang chờ gửi",
       "changes waiting to be sent",
       "outbox discard: sau khi máy chủ từ chối, bỏ các thay đổi bị từ chối và đưa phiếu về bản của máy chủ.\n"
       "outbox export: không có mạng, ghi các thay đổi chờ gửi (và ảnh) vào một tệp có chữ ký để mang lên huyện.",
       "outbox discard: after the server refused, drops the refused changes and puts the records back.\n"
       "outbox export: with no link at all, writes the waiting changes (and photos) into one signed file to carry.",
       {{"--output", "FILE", "tệp cần ghi (outbox export)", "the file to write (outbox export)"},
        {"--with-files", nullptr, "kèm ảnh chờ gửi (outbox export)", "include waiting photos (outbox export)"}},
       {"ocop outbox", "ocop outbox export --output /media/usb/xa-08800.ocop --with-files"},
       Outbox, true},
      {"file", "SHA256 [--output FILE]", "nội dung một tệp (ảnh), tải từ máy chủ khi cần",
       "a file's bytes (a photo), fetched from the server if needed",
       "Không có --output: in đường dẫn của tệp trên thiết bị.", "Without --output: prints the file's path on this device.",
       WithServerOptions({{"--output", "FILE", "ghi nội dung ra tệp", "write the bytes to a file"}}),
       {"ocop file 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --output anh.jpg"},
       File, true},
  };
  return commands;
}

}  // namespace ocop::client::cli
