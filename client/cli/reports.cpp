// Reports and exports, computed from the device's store.
#include <cstdlib>

#include <fstream>

#include "client/cli/command.h"
#include "client/http_client.h"
#include "client/import.h"
#include "client/officer_actions.h"
#include "client/report.h"
#include "shared/dates.h"
#include "shared/messages.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

// The server's report of a past day (GET /v1/report), in the format asked.
// Unauthenticated: the device is not logged in; Unavailable: no link.
Status AskServerForReport(Context& ctx, const std::string& day_iso, const std::string& format, long target,
                          long star_target, std::string* out) {
  std::string url = ctx.store->Setting("server_url"), token = ctx.store->Setting("token");
  if (url.empty() || token.empty()) return Status::Unauth("not logged in");
  HttpClient http(url, ctx.QuickHttp());
  http.set_token(token);
  http.set_max_attempts(1);
  std::string path = "/v1/report?date=" + day_iso + "&format=" + format + "&lang=" + ctx.lang +
                     "&target=" + std::to_string(target) + "&star_target=" + std::to_string(star_target);
  std::string body, type;
  Status s = http.Call("GET", path, "", "application/json", "*/*", &body, &type);
  if (!s.ok()) return s;
  if (format == "json") {
    // The console's answer wraps the report with the scope's units.
    Object::Ptr o;
    s = json::ParseObject(body, &o);
    if (!s.ok() || !o->has("report")) return Status::Unavailable("the server's report is unreadable");
    *out = json::ToText(o->get("report")) + "\n";
  } else {
    *out = (format == "csv" && ctx.a.Has("--bom") ? "\xEF\xBB\xBF" : "") + body;
  }
  return Status::Ok();
}

int Report(Context& ctx) {
  ctx.NeedPositional(0, "");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  std::string format = ctx.a.Get("--format", ctx.as_json ? "json" : "table");
  if (format != "table" && format != "csv" && format != "html" && format != "json")
    throw UsageError("--format must be table, csv, html or json");
  std::string target = ctx.a.Get("--target", "0");
  char* end = nullptr;
  long n = std::strtol(target.c_str(), &end, 10);
  if (*end || n < 0 || n > 1000000) throw UsageError("--target must be a whole number of products");
  std::string star_target = ctx.a.Get("--star-target", "0");
  long stars = std::strtol(star_target.c_str(), &end, 10);
  if (*end || stars < 0 || stars > 1000000) throw UsageError("--star-target must be a whole number of products");
  const std::string day = ctx.a.Get("--date", TodayIso());
  std::optional<std::string> day_iso = dates::ParseDate(day);
  if (!day_iso) return ctx.Fail(Status::Invalid("'" + day + "' is not a date (dd/mm/yyyy)"));
  const bool past = *day_iso < TodayIso();
  if (past) {
    // The server keeps every change with its time, so it can give the report
    // exactly as it stood; the device only knows its own changes.
    std::string text;
    s = AskServerForReport(ctx, *day_iso, format, n, stars, &text);
    if (s.ok()) return ctx.Emit(text);
    if (s.code() != Code::kUnauthenticated && s.code() != Code::kUnavailable)
      ctx.err << ctx.T("Máy chủ không trả báo cáo (", "The server gave no report (") << s.message()
              << ctx.T("); tính trên máy này.\n", "); made on this device.\n");
  }
  WeeklyReport r;
  int synced_since = 0;
  s = BuildWeeklyReport(*ctx.store, *day_iso, static_cast<int>(n), &r, &synced_since);
  if (!s.ok()) return ctx.Fail(s);
  r.star_target = static_cast<int>(stars);
  if (past && synced_since > 0) {
    ctx.err << (ctx.lang == "en"
                    ? "Note: the report of " + dates::ToDisplay(*day_iso) + " is made on this device, which holds " +
                          std::to_string(synced_since) +
                          " records changed by a sync since then; those show their values of today. "
                          "Log in and run it with a link to have the server's report of that day.\n"
                    : "Lưu ý: báo cáo ngày " + dates::ToDisplay(*day_iso) + " được tính trên máy này; " +
                          std::to_string(synced_since) +
                          " phiếu đã được đồng bộ thay đổi sau ngày đó và hiện giá trị hôm nay. "
                          "Đăng nhập và chạy lại khi có mạng để lấy báo cáo của máy chủ cho ngày đó.\n");
  }
  if (format == "csv") return ctx.Emit(std::string(ctx.a.Has("--bom") ? "\xEF\xBB\xBF" : "") + RenderCsv(r));
  if (format == "html") return ctx.Emit(RenderHtml(r, ctx.lang));
  if (format == "json") return ctx.Emit(RenderJson(r) + "\n");
  return ctx.Emit(RenderTable(r, ctx.lang));
}

int Export(Context& ctx) {
  ctx.NeedPositional(1, "FORM (idea, confirmation or visit)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  ExportOptions options;
  options.format = ctx.a.Get("--format", "csv");
  options.lang = ctx.lang;
  options.codes = ctx.a.Has("--codes");
  options.bom = ctx.a.Has("--bom");
  if (options.format == "xlsx" && ctx.a.Get("--output").empty())
    throw UsageError("--format xlsx writes a workbook: give --output FILE.xlsx");
  std::string text;
  s = ExportForm(*ctx.store, ctx.a.positional[0], options, &text);
  if (!s.ok()) return ctx.Fail(s);
  return ctx.Emit(text);
}

int Import(Context& ctx) {
  ctx.NeedPositional(2, "FORM FILE (.csv or .xlsx)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  const std::string& form = ctx.a.positional[0];
  const std::string& path = ctx.a.positional[1];
  if (!ctx.store->catalog().Find(form)) return ctx.Fail(UnknownForm(form));
  std::ifstream in(path, std::ios::binary);
  if (!in) return ctx.Fail(Status::Invalid("cannot read " + path));
  in.seekg(0, std::ios::end);
  auto size = static_cast<int64_t>(in.tellg());
  if (size > 50 * 1024 * 1024) return ctx.Fail(Status(Code::kPayloadTooLarge, path + " is larger than 50 MB; split it"));
  in.seekg(0);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), size);
  sheet::Table table;
  s = ReadSheet(bytes, &table);
  if (!s.ok()) return ctx.Fail(s);
  ImportOptions options;
  options.dry_run = ctx.a.Has("--dry-run");
  options.skip_bad = ctx.a.Has("--skip-bad");
  ImportSummary sum;
  s = ImportRecords(*ctx.store, form, table, options, &sum);
  if (!s.ok()) return ctx.Fail(s);
  const size_t bad = sum.rows - sum.good;
  if (ctx.as_json) {
    json::Object o;
    o.set("rows", static_cast<Poco::Int64>(sum.rows));
    o.set("good", static_cast<Poco::Int64>(sum.good));
    o.set("stored", static_cast<Poco::Int64>(sum.stored));
    json::Array::Ptr problems = new json::Array;
    for (const auto& p : sum.problems) {
      json::Object::Ptr e = new json::Object;
      e->set("line", static_cast<Poco::Int64>(p.line));
      e->set("message", p.message);
      e->set("message_vi", msg::Localise(p.message, "vi"));
      problems->add(e);
    }
    o.set("problems", problems);
    ctx.out << json::ToText(o) << "\n";
  } else {
    for (const auto& p : sum.problems)
      ctx.out << ctx.T("Dòng ", "Line ") << p.line << ": " << msg::Localise(p.message, ctx.lang) << "\n";
    if (!sum.ignored_columns.empty()) {
      ctx.out << ctx.T("Bỏ qua các cột do hệ thống ghi: ", "Columns the system sets, left out: ");
      for (size_t i = 0; i < sum.ignored_columns.size(); ++i) ctx.out << (i ? ", " : "") << sum.ignored_columns[i];
      ctx.out << "\n";
    }
    if (options.dry_run)
      ctx.out << ctx.T("Kiểm tra xong (chưa lưu gì): ", "Checked (nothing stored): ") << sum.good << "/" << sum.rows
              << ctx.T(" dòng hợp lệ", " rows are good") << (bad ? ctx.T(", " , ", ") + std::to_string(bad) + ctx.T(" dòng có lỗi", " have problems") : "")
              << "\n";
    else if (sum.stored > 0)
      ctx.out << ctx.T("Đã nhập ", "Imported ") << sum.stored << ctx.T(" phiếu", " records")
              << (bad ? ctx.T("; bỏ qua ", "; skipped ") + std::to_string(bad) + ctx.T(" dòng có lỗi", " rows with problems") : "")
              << ctx.T(". Chúng sẽ được gửi ở lần đồng bộ tới.", ". They go to the server at the next sync.") << "\n";
    else if (bad)
      ctx.out << ctx.T("Không lưu gì: ", "Nothing stored: ") << bad << "/" << sum.rows
              << ctx.T(" dòng có lỗi. Sửa rồi nhập lại, hoặc dùng --skip-bad để chỉ nhập các dòng hợp lệ.",
                       " rows have problems. Correct them and import again, or use --skip-bad to import the good rows only.")
              << "\n";
    else
      ctx.out << ctx.T("Tệp không có dòng nào.", "The file has no rows.") << "\n";
  }
  if (bad && (options.dry_run || !options.skip_bad)) return StatusExitCode(Code::kInvalidArgument);
  return 0;
}

}  // namespace

const std::vector<Command>& ReportCommands() {
  static const std::vector<Command> commands = {
      {"report", "[--date DD/MM/YYYY] [--format table|csv|html|json] [--target N] [--star-target N] [--output FILE] [--bom]",
       "báo cáo tuần của đơn vị trên thiết bị", "the weekly report of this device's unit",
       "Tính từ kho trên thiết bị (không cần mạng): ý tưởng theo trạng thái và theo đơn vị, mới trong tuần,\n"
       "phiếu trả lại, xác nhận, thăm cơ sở, tiến độ so với chỉ tiêu.\n"
       "Báo cáo một ngày đã qua cho trạng thái của ngày đó: khi đã đăng nhập và có mạng, máy chủ tính\n"
       "(nó giữ mọi thay đổi cùng thời điểm); không có mạng, máy này lùi lại những thay đổi chính nó đã làm.",
       "Computed from this device's store (no network): ideas by status and unit, new this week, returned\n"
       "ideas, confirmations, site visits, progress against a target.\n"
       "A past day's report gives that day's statuses: logged in and online, the server computes it (it\n"
       "keeps every change with its time); offline, this device takes back the changes it made itself.",
       {{"--date", "DD/MM/YYYY", "ngày báo cáo (mặc định hôm nay)", "the report's date (default today)"},
        {"--format", "F", "table (mặc định), csv, html hoặc json", "table (default), csv, html or json"},
        {"--target", "N", "chỉ tiêu số sản phẩm", "the target number of products"},
        {"--star-target", "N", "chỉ tiêu số sản phẩm đạt sao", "the target number of starred products"},
        {"--output", "FILE", "ghi ra tệp thay vì màn hình", "write to a file instead of the screen"},
        {"--bom", nullptr, "thêm BOM vào CSV (để Excel đọc đúng tiếng Việt)", "add a BOM to CSV (so Excel reads Vietnamese)"}},
       {"ocop report --format html --output bao-cao.html", "ocop report --date 26/11/2026 --target 70"},
       Report},
      {"export", "FORM [--format csv|xlsx|json] [--codes] [--bom] [--output FILE]", "mọi phiếu của một biểu mẫu trong phạm vi",
       "every record of a form in scope",
       "Tiêu đề cột là nhãn trường, giá trị là chữ (tên đơn vị, trạng thái, lựa chọn; ngày dd/mm/yyyy),\n"
       "theo --lang. --codes: tên khoá và mã (ocop import đọc lại được cả danh sách).",
       "Column headers are field labels and values are words (unit names, statuses, choices; dates\n"
       "dd/mm/yyyy), in --lang. --codes: keys and codes (which ocop import reads back whole).",
       {{"--format", "F", "csv (mặc định), xlsx (Excel, cần --output) hoặc json",
         "csv (default), xlsx (Excel, needs --output) or json"},
        {"--codes", nullptr, "tên khoá và mã thay vì nhãn và chữ", "keys and codes instead of labels and words"},
        {"--bom", nullptr, "thêm BOM vào CSV (cho Excel)", "add a BOM to CSV (for Excel)"},
        {"--output", "FILE", "ghi ra tệp", "write to a file"}},
       {"ocop export idea --format xlsx --output y-tuong.xlsx", "ocop export idea --format csv --bom --output y-tuong.csv"},
       Export},
      {"import", "FORM FILE [--dry-run] [--skip-bad]", "nhập phiếu từ bảng tính (.csv hoặc .xlsx)",
       "import records from a spreadsheet (.csv or .xlsx)",
       "Dòng đầu là tiêu đề: nhãn trường (tiếng Việt hoặc tiếng Anh) hoặc tên khoá; cột \"Đơn vị\" (mã xã) tuỳ chọn.\n"
       "Mỗi dòng được kiểm tra như ocop new; mọi dòng lỗi được liệt kê kèm số dòng và lý do. Không lưu gì\n"
       "nếu còn dòng lỗi (trừ khi có --skip-bad). Ngày dd/mm/yyyy, lựa chọn theo nhãn, số kiểu 1.500.000.",
       "The first row is the header: field labels (Vietnamese or English) or keys; a \"Unit\" column (commune\n"
       "code) is optional. Each row is checked as ocop new checks a form; every bad row is listed with its line\n"
       "and reason. Nothing is stored while a row is bad (unless --skip-bad). Dates dd/mm/yyyy, choices by\n"
       "label, numbers as 1.500.000.",
       {{"--dry-run", nullptr, "chỉ kiểm tra, không lưu", "check only, store nothing"},
        {"--skip-bad", nullptr, "nhập các dòng hợp lệ, bỏ qua dòng lỗi", "import the good rows, skip the bad ones"}},
       {"ocop import idea danh-sach-y-tuong.xlsx --dry-run", "ocop import idea danh-sach-y-tuong.csv"},
       Import},
  };
  return commands;
}

}  // namespace ocop::client::cli
