// Reports and exports, computed from the device's store.
#include <cstdlib>

#include "client/cli/command.h"
#include "client/officer_actions.h"
#include "client/report.h"
#include "shared/dates.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

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
  WeeklyReport r;
  s = BuildWeeklyReport(*ctx.store, ctx.a.Get("--date", TodayIso()), static_cast<int>(n), &r);
  if (!s.ok()) return ctx.Fail(s);
  r.star_target = static_cast<int>(stars);
  if (format == "csv") return ctx.Emit(std::string(ctx.a.Has("--bom") ? "\xEF\xBB\xBF" : "") + RenderCsv(r));
  if (format == "html") return ctx.Emit(RenderHtml(r, ctx.lang));
  if (format == "json") return ctx.Emit(RenderJson(r) + "\n");
  return ctx.Emit(RenderTable(r, ctx.lang));
}

int Export(Context& ctx) {
  ctx.NeedPositional(1, "FORM (idea, confirmation or visit)");
  Status s = ctx.OpenStore();
  if (!s.ok()) return ctx.Fail(s);
  std::string text;
  s = ExportForm(*ctx.store, ctx.a.positional[0], ctx.a.Get("--format", "csv"), ctx.a.Has("--bom"), &text);
  if (!s.ok()) return ctx.Fail(s);
  return ctx.Emit(text);
}

}  // namespace

const std::vector<Command>& ReportCommands() {
  static const std::vector<Command> commands = {
      {"report", "[--date DD/MM/YYYY] [--format table|csv|html|json] [--target N] [--star-target N] [--output FILE] [--bom]",
       "báo cáo tuần của đơn vị trên thiết bị", "the weekly report of this device's unit",
       "Tính từ kho trên thiết bị (không cần mạng): ý tưởng theo trạng thái và theo đơn vị, mới trong tuần,\n"
       "phiếu trả lại, xác nhận, thăm cơ sở, tiến độ so với chỉ tiêu.",
       "Computed from this device's store (no network): ideas by status and unit, new this week, returned\n"
       "ideas, confirmations, site visits, progress against a target.",
       {{"--date", "DD/MM/YYYY", "ngày báo cáo (mặc định hôm nay)", "the report's date (default today)"},
        {"--format", "F", "table (mặc định), csv, html hoặc json", "table (default), csv, html or json"},
        {"--target", "N", "chỉ tiêu số sản phẩm", "the target number of products"},
        {"--star-target", "N", "chỉ tiêu số sản phẩm đạt sao", "the target number of starred products"},
        {"--output", "FILE", "ghi ra tệp thay vì màn hình", "write to a file instead of the screen"},
        {"--bom", nullptr, "thêm BOM vào CSV (để Excel đọc đúng tiếng Việt)", "add a BOM to CSV (so Excel reads Vietnamese)"}},
       {"ocop report --format html --output bao-cao.html", "ocop report --date 26/11/2026 --target 70"},
       Report},
      {"export", "FORM [--format csv|json] [--bom] [--output FILE]", "mọi phiếu của một biểu mẫu trong phạm vi",
       "every record of a form in scope", "", "",
       {{"--format", "F", "csv (mặc định) hoặc json", "csv (default) or json"},
        {"--bom", nullptr, "thêm BOM vào CSV (cho Excel)", "add a BOM to CSV (for Excel)"},
        {"--output", "FILE", "ghi ra tệp", "write to a file"}},
       {"ocop export idea --format csv --bom --output y-tuong.csv"},
       Export},
  };
  return commands;
}

}  // namespace ocop::client::cli
