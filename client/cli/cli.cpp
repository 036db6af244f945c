// The command line's entry: parses against the table of commands, prints the
// global help or one command's, and runs the command named.
#include "client/cli/cli.h"

#include <iostream>
#include <sstream>

#include "client/cli/command.h"
#include "shared/messages.h"

namespace ocop::client::cli {

const std::vector<Option>& GlobalOptions() {
  static const std::vector<Option> options = {
      {"--home", "DIR", "nơi lưu kho dữ liệu (hoặc OCOP_HOME; mặc định ~/.local/share/ocop)",
       "where the store lives (or OCOP_HOME; default ~/.local/share/ocop)"},
      {"--json", nullptr, "kết quả cho máy đọc (JSON)", "machine-readable output (JSON)"},
      {"--lang", "vi|en", "ngôn ngữ (mặc định vi, hoặc en với locale tiếng Anh)",
       "language of labels and messages (default vi, or en for an English locale)"},
      {"--help", nullptr, "trợ giúp của lệnh", "the command's help"},
      {"--version", nullptr, "phiên bản", "the version"},
  };
  return options;
}

std::vector<Option> WithServerOptions(std::vector<Option> options) {
  options.push_back({"--server", "URL", "địa chỉ máy chủ (ghi nhớ cho lần sau)", "the server's address (kept for next time)"});
  options.push_back({"--ca", "FILE", "chứng chỉ CA của máy chủ (PEM)", "the server's CA certificate (PEM)"});
  return options;
}

const std::vector<const Command*>& AllCommands() {
  static const std::vector<const Command*> all = [] {
    std::vector<const Command*> v;
    for (const auto* table : {&RecordCommands(), &CycleCommands(), &ReportCommands(), &SyncCommands(),
                              &CarriedCommands(), &ConflictCommands(), &UiCommands()})
      for (const Command& c : *table) v.push_back(&c);
    return v;
  }();
  return all;
}

const Command* FindCommand(const std::string& name) {
  for (const Command* c : AllCommands())
    if (name == c->name) return c;
  return nullptr;
}

namespace {

// Whether an option takes a value, from the tables: an option is a flag or
// takes a value in every command alike (CliTest checks the tables agree).
const Option* FindOption(const std::string& name) {
  for (const Option& o : GlobalOptions())
    if (name == o.name) return &o;
  for (const Command* c : AllCommands())
    for (const Option& o : c->options)
      if (name == o.name) return &o;
  return nullptr;
}

std::string In(const std::string& lang, const char* vi, const char* en) { return lang == "en" ? en : vi; }

std::string OptionLine(const Option& o, const std::string& lang) {
  std::string left = std::string("  ") + o.name + (o.value ? std::string(" ") + o.value : "");
  if (left.size() < 24) left += std::string(24 - left.size(), ' ');
  else left += "\n" + std::string(24, ' ');
  return left + In(lang, o.vi, o.en) + "\n";
}

}  // namespace

Args Parse(const std::vector<std::string>& argv) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string value;
      size_t eq = arg.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      const Option* o = FindOption(arg);
      if (!o) throw UsageError("unknown option " + arg);
      if (o->value) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) throw UsageError("option " + arg + " needs a value");
          value = argv[++i];
        }
        a.options.emplace(arg, value);
      } else {
        if (inline_value) throw UsageError("option " + arg + " takes no value");
        a.flags.insert(arg);
      }
    } else if (a.command.empty()) {
      a.command = arg;
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

void CheckOptions(const Args& a, const Command& command) {
  auto known = [&](const std::string& name) {
    for (const Option& o : GlobalOptions())
      if (name == o.name) return true;
    for (const Option& o : command.options)
      if (name == o.name) return true;
    return false;
  };
  for (const auto& [name, value] : a.options)
    if (!known(name)) throw UsageError(std::string(command.name) + " does not take " + name + " (see ocop help " + command.name + ")");
  for (const auto& name : a.flags)
    if (!known(name)) throw UsageError(std::string(command.name) + " does not take " + name + " (see ocop help " + command.name + ")");
}

std::string GlobalHelp(const std::string& lang) {
  std::ostringstream o;
  o << "ocop — ghi phiếu OCOP không cần mạng, đồng bộ khi có mạng\n"
       "       records OCOP forms offline and syncs them with the ocopd server\n\n"
    << In(lang, "Cách dùng", "Usage") << ": ocop [--home DIR] [--json] [--lang vi|en] " << In(lang, "LỆNH", "COMMAND")
    << " [...]\n";
  for (bool online : {false, true}) {
    o << "\n" << (online ? In(lang, "Cần mạng:", "Online:") : In(lang, "Trên thiết bị (không cần mạng):", "Local (no network needed):"))
      << "\n";
    for (const Command* c : AllCommands()) {
      if (c->online != online) continue;
      std::string name = std::string("  ") + c->name;
      o << name << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << In(lang, c->summary_vi, c->summary_en) << "\n";
    }
  }
  o << "\n" << In(lang, "Tuỳ chọn chung:", "Options for every command:") << "\n";
  for (const Option& opt : GlobalOptions()) o << OptionLine(opt, lang);
  o << "\n"
    << In(lang,
          "Trợ giúp của một lệnh: ocop help LỆNH hoặc ocop LỆNH --help.\n"
          "ID có thể rút gọn thành tiền tố duy nhất, ít nhất 8 ký tự.\n"
          "Mã thoát: 0 xong, 2 sai cú pháp, 3 dữ liệu không hợp lệ, 4 không tìm thấy, 5 không có kết nối,\n"
          "6 máy chủ từ chối, 1 lỗi khác.\n",
          "One command's help: ocop help COMMAND or ocop COMMAND --help.\n"
          "IDs may be shortened to any unique prefix of at least 8 characters.\n"
          "Exit codes: 0 done, 2 usage error, 3 invalid input, 4 not found, 5 no connection,\n"
          "6 refused by the server, 1 other failure.\n");
  return o.str();
}

std::string CommandHelp(const Command& c, const std::string& lang) {
  std::ostringstream o;
  o << "ocop " << c.name << " — " << In(lang, c.summary_vi, c.summary_en) << "\n\n"
    << In(lang, "Cách dùng", "Usage") << ": ocop " << c.name << (*c.usage ? " " : "") << c.usage << "\n";
  std::string help = In(lang, c.help_vi, c.help_en);
  if (!help.empty()) o << "\n" << help << "\n";
  if (!c.options.empty()) {
    o << "\n" << In(lang, "Tuỳ chọn:", "Options:") << "\n";
    for (const Option& opt : c.options) o << OptionLine(opt, lang);
  }
  if (!c.examples.empty()) {
    o << "\n" << In(lang, "Ví dụ:", "Examples:") << "\n";
    for (const char* e : c.examples) o << "  " << e << "\n";
  }
  o << "\n" << In(lang, "Tuỳ chọn chung: --home DIR, --json, --lang vi|en (xem ocop --help).",
                  "Options for every command: --home DIR, --json, --lang vi|en (see ocop --help).")
    << "\n";
  return o.str();
}

}  // namespace ocop::client::cli

namespace ocop::client {

int RunCli(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err,
           bool stdin_is_tty, bool stderr_is_tty) {
  using namespace cli;
  // The language for messages, known before the arguments are parsed whole
  // (a usage error is said in the reader's language too).
  std::string lang = "vi";
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == "--lang" && argv[i + 1] == "en") lang = "en";
  try {
    Args a = Parse(argv);
    if (a.Has("--version")) {
      out << "ocop 0.1.0\n";
      return 0;
    }
    Context context(a, in, out, err, stdin_is_tty, stderr_is_tty);
    if (a.command == "help" || a.command.empty()) {
      if (a.command.empty() || a.positional.empty()) {
        out << GlobalHelp(context.lang);
        return a.command.empty() && !a.Has("--help") ? kExitUsage : 0;
      }
      const Command* c = FindCommand(a.positional[0]);
      if (!c) throw UsageError("unknown command '" + a.positional[0] + "' (see ocop --help)");
      out << CommandHelp(*c, context.lang);
      return 0;
    }
    const Command* command = FindCommand(a.command);
    if (!command) throw UsageError("unknown command '" + a.command + "' (see ocop --help)");
    if (a.Has("--help")) {
      out << CommandHelp(*command, context.lang);
      return 0;
    }
    CheckOptions(a, *command);
    return command->run(context);
  } catch (const UsageError& e) {
    err << "ocop: " << msg::Localise(e.what(), lang) << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "ocop: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ocop::client
