// The OCOP cycle: the decisions on ideas, confirmations and plans, and step 5 (score sheets,
// council results, certificates). Decisions work offline; the same rules are checked again by the server.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "client/cli/command.h"
#include "client/officer_actions.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/messages.h"

namespace ocop::client::cli {

using json::Object;
using json::Var;

namespace {

std::string LevelLabel(const std::string& lang, const std::string& level) { return msg::Text(("level." + level).c_str(), lang); }

int Decide(Context& ctx, const std::string& name);

int Submit(Context& ctx) {
  std::string id;
  Record target;
  Status s = ctx.TargetRecord(&id, &target);
  if (s.ok() && target.form != "idea") return Decide(ctx, "submit");
  Record after;
  Label warning;
  if (s.ok()) s = SubmitIdea(*ctx.store, id, &after, &warning);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << json::ToText(*RecordToJson(after)) << "\n";
  else ctx.out << ctx.T("Đã tiếp nhận: ", "Received: ") << id << "  " << (after.fields.has("receipt_no") ? after.fields.getValue<std::string>("receipt_no") : "") << "\n";
  if (!warning.vi.empty()) ctx.err << "ocop: " << warning.In(ctx.lang) << "\n";
  return 0;
}

// Records a workflow decision offline, after checking the same rule the
// server checks (officer_actions.h).
int Decide(Context& ctx, const std::string& name) {
  std::string id;
  Record before, after;
  Status s = ctx.TargetRecord(&id, &before);
  if (s.ok()) s = TakeDecision(*ctx.store, id, name, ctx.a.Get("--reason"), &after);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << json::ToText(*RecordToJson(after)) << "\n";
  else ctx.out << msg::StatusName(before.status(), ctx.lang) << " → " << msg::StatusName(after.status(), ctx.lang) << ": " << id << "\n";
  return 0;
}

int Criteria(Context& ctx) {
  (void)ctx.OpenStore();  // its published sheets, when the device is set up
  const evaluation::CriteriaSheet* in_force = evaluation::SheetForYear(ctx.YearOption());
  std::string id = ctx.a.positional.empty() ? in_force->id : ctx.a.positional[0];
  const evaluation::CriteriaSheet* sheet = evaluation::FindSheet(id);
  if (!sheet) return ctx.Fail(Status::Invalid("unknown criteria sheet '" + id + "'"));
  ctx.out << sheet->label.In(ctx.lang) << "\n";
  for (const auto& p : sheet->parts) {
    ctx.out << "\n" << p.code << ". " << p.label.In(ctx.lang) << " (" << p.max << ctx.T(" điểm", " points") << ")\n";
    for (const auto& c : sheet->criteria) {
      if (c.part != p.code) continue;
      std::string steps;
      for (int v : c.scores) steps += (steps.empty() ? "" : "/") + std::to_string(v);
      ctx.out << "  " << c.code << "  " << c.label.In(ctx.lang) << "  [" << steps << "]"
           << (c.from.empty() ? "" : ctx.T("  (tự động từ phiếu xác nhận)", "  (from the confirmation)")) << "\n";
    }
  }
  return 0;
}

int Score(Context& ctx) {
  std::string id;
  Record idea;
  Status s = ctx.TargetRecord(&id, &idea);
  if (!s.ok()) return ctx.Fail(s);
  ScoreSheetRequest req;
  req.idea_id = id;
  req.year = ctx.YearOption();
  // The sheet councils of that year score with, unless one is named.
  req.sheet = ctx.a.Get("--sheet", evaluation::SheetForYear(req.year)->id);
  req.level = ctx.a.Get("--level");
  req.member = ctx.a.Get("--member");
  req.notes = ctx.a.Get("--notes");
  req.finish = ctx.a.Has("--finish");
  if (req.level.empty() || req.member.empty()) throw UsageError("score needs --level and --member");
  s = ParseScores(ctx.a.Get("--scores"), &req.scores);
  Record sheet;
  if (s.ok()) s = RecordScoreSheet(*ctx.store, req, &sheet);
  if (!sheet.id.empty() && !s.ok())
    ctx.err << ctx.T("Phiếu chấm đã lưu dạng nháp: ", "Sheet kept as a draft: ") << sheet.id << "\n";
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    ctx.out << json::ToText(*RecordToJson(sheet)) << "\n";
    return 0;
  }
  ctx.out << ctx.T("Phiếu chấm ", "Score sheet ") << sheet.id << ": " << msg::StatusName(sheet.status(), ctx.lang) << ", "
       << ctx.T("tổng ", "total ") << (sheet.fields.has("total_points") ? sheet.fields.get("total_points").convert<std::string>() : "-")
       << ctx.T(" điểm", " points");
  if (sheet.fields.has("stars")) ctx.out << ", " << sheet.fields.get("stars").convert<std::string>() << ctx.T(" sao", " stars");
  if (sheet.fields.has("unrankable_reason"))
    ctx.out << "; " << msg::Localise("the product cannot be ranked: " + sheet.fields.getValue<std::string>("unrankable_reason"), ctx.lang);
  ctx.out << "\n";
  return 0;
}

int Council(Context& ctx) {
  std::string id;
  Record idea;
  Status s = ctx.TargetRecord(&id, &idea);
  std::vector<evaluation::CouncilResult> results;
  if (s.ok()) s = CouncilResultsFor(*ctx.store, id, &results);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) {
    json::Array::Ptr arr = new json::Array;
    for (const auto& r : results) {
      json::Object::Ptr o = new json::Object;
      o->set("level", r.level);
      o->set("year", r.year);
      o->set("members", r.members);
      o->set("mean_total", r.mean_total);
      o->set("stars", r.stars);
      o->set("rankable", r.rankable);
      arr->add(o);
    }
    ctx.out << json::ToText(json::Var(arr)) << "\n";
    return 0;
  }
  if (results.empty()) ctx.out << msg::Text("no_ranking_yet", ctx.lang) << "\n";
  for (const auto& r : results) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", r.mean_total);
    std::string mean = buf;
    if (ctx.lang == "vi") std::replace(mean.begin(), mean.end(), '.', ',');
    ctx.out << msg::Text("council_result", ctx.lang) << " " << LevelLabel(ctx.lang, r.level) << " " << r.year << ": " << r.members << " "
         << msg::Text("members", ctx.lang) << ", " << mean << ctx.T(" điểm", " points") << ", "
         << (r.rankable ? std::to_string(r.stars) + ctx.T(" sao", " stars") : msg::Text("cannot_be_ranked", ctx.lang)) << "\n";
  }
  return 0;
}

int Certify(Context& ctx) {
  std::string id;
  Record idea;
  Status s = ctx.TargetRecord(&id, &idea);
  if (!s.ok()) return ctx.Fail(s);
  CertificateRequest req;
  req.idea_id = id;
  req.level = ctx.a.Get("--level");
  req.year = ctx.YearOption();
  req.decision_no = ctx.a.Get("--decision-no");
  req.decided_on = ctx.a.Get("--decided-on");
  if (req.level.empty() || req.decision_no.empty() || req.decided_on.empty())
    throw UsageError("certify needs --level, --decision-no and --decided-on");
  Record cert;
  s = IssueCertificate(*ctx.store, req, &cert);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.as_json) ctx.out << json::ToText(*RecordToJson(cert)) << "\n";
  else
    ctx.out << ctx.T("Giấy chứng nhận ", "Certificate ") << cert.id << ": " << cert.fields.get("stars").convert<std::string>()
         << ctx.T(" sao, hiệu lực đến ", " stars, valid until ")
         << dates::ToDisplay(cert.fields.getValue<std::string>("valid_until")) << "\n";
  return 0;
}

}  // namespace

const Option kReasonOption = {"--reason", "TEXT", "lý do (bắt buộc)", "the reason (required)"};

const std::vector<Command>& CycleCommands() {
  static const std::vector<Command> commands = {
      {"submit", "ID", "tiếp nhận phiếu đăng ký ý tưởng (số và ngày tiếp nhận), hoặc nộp phương án kinh doanh",
       "receive an idea form (receipt number and date), or submit a business plan",
       "Số tiếp nhận lấy từ khối số máy chủ cấp cho thiết bị ở lần đồng bộ; chưa có khối số thì phiếu được\n"
       "tiếp nhận và số được ghi sau khi đồng bộ.",
       "Receipt numbers come from a block the server gives the device at a sync; with no block yet the form is\n"
       "received and numbered after a sync.",
       {}, {"ocop submit 0193a2b4"}, Submit},
      {"return", "ID --reason TEXT", "xã trả lại phiếu đã tiếp nhận cho chủ thể (nộp lại sau 7 ngày)",
       "the commune returns a received idea to its subject (resubmitted after 7 days)", "", "", {kReasonOption},
       {"ocop return 0193a2b4 --reason \"Thiếu câu chuyện sản phẩm\""}, [](Context& ctx) { return Decide(ctx, "return"); }},
      {"accept", "ID", "xã chấp nhận và chuyển phiếu lên huyện", "the commune accepts the idea and forwards it", "", "", {},
       {"ocop accept 0193a2b4"}, [](Context& ctx) { return Decide(ctx, "accept"); }},
      {"select", "ID", "điều phối viên chọn ý tưởng", "the coordinator selects an accepted idea", "", "", {},
       {"ocop select 0193a2b4"}, [](Context& ctx) { return Decide(ctx, "select"); }},
      {"reject", "ID --reason TEXT", "điều phối viên không chọn ý tưởng", "the coordinator rejects an accepted idea", "", "",
       {kReasonOption}, {"ocop reject 0193a2b4 --reason \"Trùng sản phẩm đã có\""},
       [](Context& ctx) { return Decide(ctx, "reject"); }},
      {"confirm", "ID", "xác nhận phiếu lao động và nguyên liệu địa phương", "confirm a local-labour and raw-material form",
       "", "", {}, {"ocop confirm 0193a2b4"}, [](Context& ctx) { return Decide(ctx, "confirm"); }},
      {"revoke", "ID --reason TEXT", "thu hồi một xác nhận", "revoke a confirmation", "", "", {kReasonOption},
       {"ocop revoke 0193a2b4 --reason \"Số liệu lao động sai\""}, [](Context& ctx) { return Decide(ctx, "revoke"); }},
      {"approve", "ID", "điều phối viên duyệt phương án kinh doanh", "the coordinator approves a business plan", "", "", {},
       {"ocop approve 0193a2b4"}, [](Context& ctx) { return Decide(ctx, "approve"); }},
      {"decline", "ID --reason TEXT", "điều phối viên không duyệt phương án kinh doanh",
       "the coordinator declines a business plan", "", "", {kReasonOption},
       {"ocop decline 0193a2b4 --reason \"Chưa rõ thị trường\""}, [](Context& ctx) { return Decide(ctx, "decline"); }},
      {"reopen", "SHEET_ID --reason TEXT", "đưa phiếu chấm đã xong về nháp để sửa",
       "a finished score sheet back to draft, to correct it", "", "", {kReasonOption},
       {"ocop reopen 0193c0de --reason \"Nhập nhầm điểm A2.1\""}, [](Context& ctx) { return Decide(ctx, "reopen"); }},
      {"criteria", "[SHEET] [--year Y]", "các tiêu chí và mức điểm của một bộ tiêu chí (148-2023, 1048-2019)",
       "the criteria and allowed scores of a sheet (148-2023, 1048-2019)",
       "Không nêu bộ nào: bộ hội đồng năm đó dùng (bản sửa máy chủ công bố thay cho bộ cũ).",
       "With none named: the sheet councils of that year use (a correction the server published replaces the old one).",
       {{"--year", "Y", "năm đánh giá (mặc định năm nay)", "the year of the evaluation (default this year)"}},
       {"ocop criteria 148-2023"}, Criteria},
      {"score", "IDEA_ID --member NAME --level LEVEL --scores CODE=N,... [--sheet S] [--year Y] [--notes TEXT] [--finish]",
       "phiếu chấm của một thành viên hội đồng", "one council member's score sheet",
       "Mỗi thành viên có phiếu riêng; kết quả hội đồng là điểm trung bình. A1.1 và A1.2 lấy tự động từ phiếu\n"
       "xác nhận. Chạy lại với cùng thành viên để bổ sung điểm; --finish cần đủ mọi tiêu chí.",
       "Each member has a sheet of their own; the council's result is the mean. A1.1 and A1.2 come from the\n"
       "confirmation. Run again for the same member to add scores; --finish needs every criterion.",
       {{"--member", "NAME", "họ tên thành viên hội đồng", "the council member's name"},
        {"--level", "LEVEL", "cấp hội đồng: commune, district, province, central", "the council: commune, district, province, central"},
        {"--scores", "CODE=N,...", "điểm theo mã tiêu chí (xem ocop criteria)", "scores by criterion code (see ocop criteria)"},
        {"--sheet", "S", "bộ tiêu chí (mặc định: bộ hội đồng năm đó dùng, xem ocop criteria)",
         "the criteria sheet (default: the one councils of that year use, see ocop criteria)"},
        {"--year", "Y", "năm đánh giá (mặc định năm nay)", "the year of the evaluation (default this year)"},
        {"--notes", "TEXT", "ghi chú", "notes"},
        {"--finish", nullptr, "hoàn tất phiếu chấm", "finish the sheet"}},
       {"ocop score 0193a2b4 --member \"Nguyễn Văn An\" --level district --scores A1.3=3,A1.4=2 --finish"},
       Score},
      {"council", "IDEA_ID", "kết quả các hội đồng: số thành viên, điểm trung bình, số sao",
       "the councils' results: members, mean, stars", "", "", {}, {"ocop council 0193a2b4"}, Council},
      {"certify", "IDEA_ID --level LEVEL --decision-no NO --decided-on DD/MM/YYYY [--year Y]",
       "giấy chứng nhận cho kết quả từ 3 sao (hiệu lực 36 tháng)", "a certificate for a 3-star-or-more result (36 months)",
       "", "",
       {{"--level", "LEVEL", "cấp: district, province, central", "the level: district, province, central"},
        {"--decision-no", "NO", "số quyết định", "the decision's number"},
        {"--decided-on", "DD/MM/YYYY", "ngày quyết định", "the decision's date"},
        {"--year", "Y", "năm đánh giá", "the year of the evaluation"}},
       {"ocop certify 0193a2b4 --level district --decision-no 1234/QĐ-UBND --decided-on 15/12/2026"},
       Certify},
  };
  return commands;
}

}  // namespace ocop::client::cli
