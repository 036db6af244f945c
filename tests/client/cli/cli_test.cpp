#include "client/cli/cli.h"

#include <gtest/gtest.h>

#include <cctype>

#include <map>
#include <sstream>

#include "client/cli/command.h"
#include "shared/json.h"
#include "tests/client/test_home.h"

namespace ocop::client {
namespace {

struct Result {
  int code;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--home", dir_.path(), "--lang", "en"});
    std::istringstream in(input);
    std::ostringstream out, err;
    int code = RunCli(args, in, out, err, false, false);
    return {code, out.str(), err.str()};
  }
  std::string NewIdea(const std::string& product) {
    auto r = Run({"new", "idea", "--set", "subject_name=Hộ bà Lan", "--set", "subject_kind=household", "--set",
                  "product_name=" + product, "--set", "product_group=1", "--set", "description=Ngon"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 36u);
    return id;
  }
  testing::TempDir dir_;
};

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({}).code, 2);
  EXPECT_EQ(Run({"frobnicate"}).code, 2);
  EXPECT_EQ(Run({"list", "--bogus"}).code, 2);
  EXPECT_EQ(Run({"init"}).code, 2);
  EXPECT_EQ(Run({"--help"}).code, 0);
}

TEST_F(CliTest, RecordListSearchShowEditDeleteHistory) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string a = NewIdea("Thanh long ruột đỏ");
  std::string b = NewIdea("Ổi Đôn Nhân");

  auto list = Run({"list", "--json", "--search", "thanh long"});
  ASSERT_EQ(list.code, 0);
  json::Var v;
  ASSERT_TRUE(json::Parse(list.out, &v).ok());
  auto arr = v.extract<json::Array::Ptr>();
  ASSERT_EQ(arr->size(), 1u);
  EXPECT_EQ(arr->getObject(0)->getValue<std::string>("id"), a);

  auto show = Run({"show", b, "--json"});
  ASSERT_EQ(show.code, 0);
  json::Object::Ptr o;
  ASSERT_TRUE(json::ParseObject(show.out, &o).ok());
  for (const char* k : {"id", "form", "unit", "status", "fields", "conflict"}) EXPECT_TRUE(o->has(k)) << k;
  EXPECT_EQ(o->getValue<std::string>("status"), "draft");
  EXPECT_FALSE(o->getValue<bool>("conflict"));
  EXPECT_EQ(o->getObject("fields")->getValue<std::string>("product_name"), "Ổi Đôn Nhân");

  EXPECT_EQ(Run({"edit", b.substr(0, 30), "--set", "phone=0912345678"}).code, 0);  // a prefix works
  auto hist = Run({"history", b, "--json", "--local"});
  ASSERT_EQ(hist.code, 0);
  EXPECT_NE(hist.out.find("0912345678"), std::string::npos);

  EXPECT_EQ(Run({"delete", a}).code, 0);
  list = Run({"list", "idea", "--json"});
  ASSERT_TRUE(json::Parse(list.out, &v).ok());
  EXPECT_EQ(v.extract<json::Array::Ptr>()->size(), 1u);
}

// History reads as the record does: labels, not keys; choices and statuses
// by name; dd/mm/yyyy hh:mm; no JSON quotes or nulls; Vietnamese by default.
TEST_F(CliTest, HistoryIsInWords) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string id = NewIdea("Chè Shan tuyết");
  ASSERT_EQ(Run({"edit", id, "--set", "subject_kind=cooperative"}).code, 0);
  ASSERT_EQ(Run({"submit", id}).code, 0);
  std::vector<std::string> args = {"--home", dir_.path(), "history", id, "--local"};
  std::istringstream in;
  std::ostringstream out, err;
  ASSERT_EQ(RunCli(args, in, out, err, false, false), 0) << err.str();
  const std::string vi = out.str();
  for (const char* words : {"Tên sản phẩm: (trống) → Chè Shan tuyết", "Loại hình chủ thể: Hộ sản xuất kinh doanh → Hợp tác xã",
                            "Trạng thái: Nháp → Đã tiếp nhận", "ghi trên máy này"})
    EXPECT_NE(vi.find(words), std::string::npos) << words << " in\n" << vi;
  for (const char* code : {"\"", "null", "product_name", "household", "submitted", "T0", "Z "})
    EXPECT_EQ(vi.find(code), std::string::npos) << code << " in\n" << vi;
  // "dd/mm/20yy hh:mm" somewhere (no std::regex: GCC 12 warns inside it at -O1).
  auto shaped = [](const std::string& s, const std::string& shape) {
    for (size_t at = 0; at + shape.size() <= s.size(); ++at) {
      bool ok = true;
      for (size_t i = 0; i < shape.size() && ok; ++i)
        ok = shape[i] == '9' ? std::isdigit(static_cast<unsigned char>(s[at + i])) != 0 : s[at + i] == shape[i];
      if (ok) return true;
    }
    return false;
  };
  EXPECT_TRUE(shaped(vi, "99/99/2099 99:99")) << vi;
  auto en = Run({"history", id, "--local"});
  EXPECT_NE(en.out.find("Status: Draft → Submitted"), std::string::npos) << en.out;
}

// A received form is not deleted by a slip: with no keyboard it needs --yes,
// at a keyboard the officer is asked (and "no" keeps it). A draft goes at once.
TEST_F(CliTest, DeletingAReceivedFormAsksFirst) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string draft = NewIdea("Nháp"), received = NewIdea("Mật ong");
  ASSERT_EQ(Run({"submit", received}).code, 0);
  EXPECT_EQ(Run({"delete", draft}).code, 0);
  auto refused = Run({"delete", received});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("add --yes"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("Mật ong"), std::string::npos) << "named by its product: " << refused.err;
  auto asked = [&](const std::string& answer) {
    std::vector<std::string> args = {"--home", dir_.path(), "--lang", "en", "delete", received};
    std::istringstream in(answer + "\n");
    std::ostringstream out, err;
    int code = RunCli(args, in, out, err, /*in_tty=*/true, false);
    return Result{code, out.str(), err.str()};
  };
  auto kept = asked("n");
  EXPECT_EQ(kept.code, 0);
  EXPECT_NE(kept.out.find("Not deleted"), std::string::npos) << kept.out;
  EXPECT_NE(kept.err.find("Delete "), std::string::npos) << "asked: " << kept.err;
  EXPECT_EQ(Run({"show", received, "--json"}).out.find("\"deleted\":true"), std::string::npos);
  EXPECT_EQ(asked("y").code, 0);
  EXPECT_NE(Run({"show", received, "--json"}).out.find("\"deleted\":true"), std::string::npos);
}

// Lists name records by what they are about, never by an id: a visit by its
// purpose, date and the idea's product.
TEST_F(CliTest, AVisitIsListedByWhatItIsAbout) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string idea = NewIdea("Chè Shan tuyết");
  ASSERT_EQ(Run({"new", "visit", "--set", "visited_on=24/11/2026", "--set", "purpose=advice", "--set", "findings=Tốt",
                 "--set", "idea_id=" + idea.substr(0, 13)}).code, 0);
  auto list = Run({"list", "visit"});
  EXPECT_NE(list.out.find("24/11/2026 — Chè Shan tuyết"), std::string::npos) << list.out;
}

// Several wrong values: every one is listed at once, with the required
// fields left out, and nothing is saved.
TEST_F(CliTest, EveryWrongValueIsListedAtOnce) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"new", "idea", "--set", "subject_name=HTX", "--set", "subject_kind=nobody", "--set", "product_group=9",
                "--set", "phone=09123", "--set", "description=x"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("4 problems, nothing saved"), std::string::npos) << r.err;
  for (const char* field : {"Subject kind", "Product group", "Phone", "Product name"})
    EXPECT_NE(r.err.find(field), std::string::npos) << field << " in " << r.err;
  EXPECT_EQ(Run({"list", "--json"}).out, "[]\n");
}

// Interactive entry that stops midway (Ctrl-C, or the input closing) keeps
// what was typed; the next `ocop new` offers it and goes on from there.
TEST_F(CliTest, AnInterruptedFormIsKeptAndContinued) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto first = Run({"new", "visit", "--interactive"}, "24/11/2026\n09:30\nAn\n");
  EXPECT_EQ(first.code, 3);
  EXPECT_NE(first.err.find("What was typed is kept"), std::string::npos) << first.err;
  EXPECT_EQ(Run({"list", "--json"}).out, "[]\n");
  // Continue: yes; idea_id and subject empty, purpose 1, findings, the rest empty; save at the review.
  auto second = Run({"new", "visit", "--interactive"}, "y\n\n\n1\nTốt\n\n\n\n\n\n\n");
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("left half-typed (3 fields)"), std::string::npos) << second.out;
  auto list = Run({"list", "visit", "--json"});
  EXPECT_NE(list.out.find("\"visited_at\":\"09:30\""), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("\"officers\":\"An\""), std::string::npos) << list.out;
  // Nothing left over: the next form starts afresh.
  auto third = Run({"new", "visit", "--interactive"}, "");
  EXPECT_EQ(third.out.find("half-typed"), std::string::npos) << third.out;
}

// The outbox says what waits, a record a line, in words; a record is found
// by the end of its id too (ids made the same day share their start).
TEST_F(CliTest, TheOutboxListsWhatWaitsAndIdsEndsAreHandles) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string a = NewIdea("Chè Shan"), b = NewIdea("Mật ong");
  ASSERT_EQ(Run({"edit", a, "--set", "phone=0912345678"}).code, 0);
  auto status = Run({"status"});
  EXPECT_NE(status.out.find("Changes waiting to sync: 3 (to 2 records"), std::string::npos) << status.out;
  auto outbox = Run({"outbox"});
  EXPECT_NE(outbox.out.find("…" + a.substr(28) + "  Product idea registration «Chè Shan"), std::string::npos) << outbox.out;
  EXPECT_NE(outbox.out.find("Phone"), std::string::npos) << outbox.out;
  EXPECT_NE(outbox.out.find("Changes waiting: 3 to 2 records"), std::string::npos) << outbox.out;
  auto shown = Run({"show", b.substr(30), "--json"});  // the last six digits
  EXPECT_NE(shown.out.find("Mật ong"), std::string::npos) << shown.out << shown.err;
}

// Usage errors speak the reader's language too: Vietnamese unless --lang en.
TEST_F(CliTest, UsageErrorsInVietnameseByDefault) {
  auto raw = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_.path()});
    std::istringstream in;
    std::ostringstream out, err;
    EXPECT_EQ(RunCli(args, in, out, err, false, false), 2);
    return err.str();
  };
  EXPECT_NE(raw({"frobnicate"}).find("không có lệnh 'frobnicate'"), std::string::npos);
  EXPECT_NE(raw({"list", "--deadline", "3"}).find("lệnh list không nhận --deadline"), std::string::npos);
  EXPECT_NE(raw({"--lang", "en", "frobnicate"}).find("unknown command"), std::string::npos);
}

TEST_F(CliTest, BadInputIsRefusedAndNothingIsStored) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"new", "recipe", "--set", "a=b"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("unknown form"), std::string::npos);
  r = Run({"new", "idea", "--set", "colour=red"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("colour"), std::string::npos);
  r = Run({"new", "idea", "--set", "subject_name=A", "--set", "subject_kind=household", "--set", "product_name=B",
           "--set", "product_group=9", "--set", "description=C"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("maximum 6"), std::string::npos);
  r = Run({"new", "idea", "--set", "subject_name=A"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("required"), std::string::npos);
  r = Run({"show", "01a20b70-0000-7000-8000-000000000000"});
  EXPECT_EQ(r.code, 4);
  r = Run({"new", "idea", "--from", "-"}, "{not json");
  EXPECT_EQ(r.code, 3);
  auto list = Run({"list", "--json"});
  EXPECT_EQ(list.out, "[]\n");
}

TEST_F(CliTest, FromFileAndStdin) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"new", "visit", "--json", "--from", "-"},
               R"({"visited_on":"24/11/2026","purpose":"advice","findings":"Tốt","latitude":21.4,"longitude":105.5})");
  ASSERT_EQ(r.code, 0) << r.err;
  json::Object::Ptr o;
  ASSERT_TRUE(json::ParseObject(r.out, &o).ok());
  EXPECT_EQ(o->getObject("fields")->getValue<std::string>("visited_on"), "2026-11-24");
}

TEST_F(CliTest, SubmitWithoutReceiptBlockSaysSo) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string id = NewIdea("Mật ong");
  auto r = Run({"submit", id});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.err.find("no receipt numbers"), std::string::npos);
  auto show = Run({"show", id, "--json"});
  EXPECT_NE(show.out.find("\"status\":\"submitted\""), std::string::npos);
  EXPECT_EQ(Run({"submit", id}).code, 3);  // not from submitted
}

TEST_F(CliTest, WorkflowDecisionsFollowTheRules) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string id = NewIdea("Chè hoa vàng");
  auto r = Run({"accept", id});
  EXPECT_EQ(r.code, 3);  // not submitted yet
  EXPECT_NE(r.err.find("submitted"), std::string::npos) << r.err;
  ASSERT_EQ(Run({"submit", id}).code, 0);
  r = Run({"return", id});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("reason"), std::string::npos) << r.err;
  ASSERT_EQ(Run({"return", id, "--reason", "Thiếu mô tả sản phẩm"}).code, 0);
  r = Run({"submit", id});  // the same day: seven days must pass
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("7 days"), std::string::npos) << r.err;
  auto show = Run({"show", id, "--json"});
  EXPECT_NE(show.out.find("\"status\":\"returned\""), std::string::npos);
  EXPECT_NE(show.out.find("Thiếu mô tả sản phẩm"), std::string::npos);
  r = Run({"select", id});  // an officer's device cannot select
  EXPECT_EQ(r.code, 3);
  r = Run({"confirm", id});
  EXPECT_EQ(r.code, 3);  // not a decision for an idea form
}

TEST_F(CliTest, SyncWithoutLoginOrServerFailsClearly) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"sync"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("--server"), std::string::npos);
  r = Run({"sync", "--server", "http://127.0.0.1:9"});
  EXPECT_EQ(r.code, 6);
  EXPECT_NE(r.err.find("login"), std::string::npos);
}

}  // namespace
}  // namespace ocop::client

namespace ocop::client {
namespace {

class CliHelpTest : public CliTest {};

TEST_F(CliHelpTest, EveryCommandHasItsOwnHelpInBothLanguages) {
  for (const cli::Command* c : cli::AllCommands()) {
    SCOPED_TRACE(c->name);
    auto by_flag = Run({c->name, "--help"});
    auto by_help = Run({"help", c->name});
    ASSERT_EQ(by_flag.code, 0) << by_flag.err;
    ASSERT_EQ(by_help.code, 0) << by_help.err;
    EXPECT_EQ(by_flag.out, by_help.out);
    EXPECT_NE(by_flag.out.find(std::string("Usage: ocop ") + c->name), std::string::npos) << by_flag.out;
    EXPECT_FALSE(c->examples.empty());
    for (const cli::Option& o : c->options) EXPECT_NE(by_flag.out.find(o.name), std::string::npos) << o.name;
    // Vietnamese is the default language; the summary differs from the English one.
    std::istringstream in;
    std::ostringstream out, err;
    ASSERT_EQ(RunCli({"--home", dir_.path(), "--lang", "vi", "help", c->name}, in, out, err, false, false), 0);
    EXPECT_NE(out.str().find(std::string("Cách dùng: ocop ") + c->name), std::string::npos);
    EXPECT_NE(out.str().find(c->summary_vi), std::string::npos);
  }
}

TEST_F(CliHelpTest, HelpShowsTheCommandsOwnFlags) {
  auto sync = Run({"sync", "--help"});
  EXPECT_NE(sync.out.find("--deadline"), std::string::npos);
  EXPECT_EQ(sync.out.find("--search"), std::string::npos);  // list's, not sync's
  auto create = Run({"help", "new"});
  EXPECT_NE(create.out.find("--from FILE|-"), std::string::npos);
  EXPECT_NE(create.out.find("materials=[{"), std::string::npos);  // how a list field is written
  EXPECT_NE(Run({"help", "report"}).out.find("--format"), std::string::npos);
  auto global = Run({"--help"});
  for (const cli::Command* c : cli::AllCommands()) EXPECT_NE(global.out.find(std::string("  ") + c->name + " "), std::string::npos);
  EXPECT_EQ(Run({"help", "frobnicate"}).code, 2);
}

TEST_F(CliHelpTest, AnOptionIsAFlagOrTakesAValueAlikeInEveryCommand) {
  std::map<std::string, bool> takes_value;
  for (const cli::Option& o : cli::GlobalOptions()) takes_value[o.name] = o.value != nullptr;
  for (const cli::Command* c : cli::AllCommands())
    for (const cli::Option& o : c->options) {
      auto [it, fresh] = takes_value.emplace(o.name, o.value != nullptr);
      EXPECT_EQ(it->second, o.value != nullptr) << c->name << " " << o.name;
      EXPECT_NE(std::string(o.vi), std::string(o.en)) << c->name << " " << o.name;
    }
}

TEST_F(CliHelpTest, ACommandRefusesAnotherCommandsOption) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"list", "--deadline", "10m"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("list does not take --deadline"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"status", "--with-files"}).code, 2);
  EXPECT_EQ(Run({"list", "--search", "x"}).code, 0);
}

}  // namespace
}  // namespace ocop::client

namespace ocop::client {
namespace {

TEST_F(CliTest, StatusIsGivenAsTheListShowsItAndAnUnknownOneIsRefused) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  NewIdea("Ổi Đôn Nhân");
  for (const char* given : {"draft", "Nháp", "nhap", "Draft"}) {
    auto r = Run({"list", "--status", given, "--json"});
    ASSERT_EQ(r.code, 0) << given << ": " << r.err;
    json::Var v;
    ASSERT_TRUE(json::Parse(r.out, &v).ok());
    EXPECT_EQ(v.extract<json::Array::Ptr>()->size(), 1u) << given;
  }
  auto wrong = Run({"list", "--status", "foo"});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("no status 'foo'"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("Draft (draft)"), std::string::npos) << wrong.err;  // the choices, as labels
  EXPECT_EQ(Run({"list", "poem"}).code, 3);  // an unknown form is not "0 records"
}

TEST_F(CliTest, AnIdPrefixMayBeTypedWithoutHyphensInEitherCase) {
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string id = NewIdea("Chè Shan");
  std::string digits;
  for (char c : id)
    if (c != '-') digits.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  auto r = Run({"show", digits.substr(0, 14), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(id), std::string::npos);
  EXPECT_EQ(Run({"show", id.substr(0, 13)}).code, 0);  // with its hyphen, as before
  EXPECT_EQ(Run({"show", "zz" + digits.substr(0, 10)}).code, 3);
}

TEST_F(CliTest, SyncOnADeviceNotLoggedInSaysSoWithoutAskingTheServer) {
  // The server address points nowhere: were it asked, this would be "no connection".
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  auto r = Run({"sync", "--server", "http://127.0.0.1:9"});
  EXPECT_EQ(r.code, 6);
  EXPECT_NE(r.err.find("not logged in"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("refused"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ocop::client

namespace ocop::client {
namespace {

TEST_F(CliTest, TheListFieldExampleOfNewsHelpIsAcceptedAsWrittenAndFormsShowsItsRows) {
  std::string help = Run({"help", "new"}).out;
  size_t from = help.find("materials=[{"), to = help.find("}]'", from);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  std::string example;
  for (size_t i = from; i < to + 2; ++i) {
    if (help[i] == '\n') {
      while (i + 1 < to && help[i + 1] == ' ') ++i;  // the help wraps the line; a shell would not
      continue;
    }
    example.push_back(help[i]);
  }
  ASSERT_EQ(Run({"init", "--commune", "08800"}).code, 0);
  std::string idea = NewIdea("Chè búp");
  auto r = Run({"new", "confirmation", "--set", "idea_id=" + idea, "--set", "year=2026", "--set", "workers_total=10",
                "--set", "workers_local=8", "--set", example});
  EXPECT_EQ(r.code, 0) << example << "\n" << r.err;
  // `ocop forms confirmation` lists each row's keys and the choices the help points to.
  auto forms = Run({"forms", "confirmation"});
  EXPECT_NE(forms.out.find("      origin"), std::string::npos) << forms.out;
  EXPECT_NE(forms.out.find("commune, province"), std::string::npos) << forms.out;
}

}  // namespace
}  // namespace ocop::client
