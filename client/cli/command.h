// The command line's parts: parsed arguments, the table entry each command
// declares next to its code (usage, help, options, examples), and the context
// a command runs in (the store, the streams, the language, shared helpers).
//
// A command is a plain function `int Run(Context&)`: it parses what it needs
// from `c.a`, calls one function of the client core (client/*.h), renders the
// answer in the user's language and returns the exit code. The options a
// command accepts are the ones its table entry lists; the parser refuses any
// other, so the help printed from the table cannot drift from the flags.
#pragma once
#include <iosfwd>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "client/local_store.h"
#include "shared/json.h"
#include "shared/status.h"

namespace ocop::client::cli {

// Exit codes shared by every command (docs/server.md lists them with ocopd's).
constexpr int kExitUsage = 2;

// A wrong command line: printed as "ocop: <what>" with exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;  // --key VALUE
  std::set<std::string> flags;                      // --flag

  std::string Get(const std::string& k, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& k) const;
  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  bool Given(const std::string& k) const { return flags.count(k) > 0 || options.count(k) > 0; }
};

// One option of a command. `value` names its value in the help ("FILE");
// nullptr makes it a flag.
struct Option {
  const char* name;
  const char* value;
  const char* vi;
  const char* en;
};

class Context;

struct Command {
  const char* name;
  const char* usage;  // what follows "ocop NAME" in the usage line
  const char* summary_vi;
  const char* summary_en;
  const char* help_vi;  // paragraphs after the usage line; may be ""
  const char* help_en;
  std::vector<Option> options;
  std::vector<const char*> examples;
  int (*run)(Context&);
  bool online = false;  // listed under "Online" in the global help
};

// Options every command takes (--home, --json, --lang, --help).
const std::vector<Option>& GlobalOptions();
// --server URL and --ca FILE, for the commands that talk to the server.
std::vector<Option> WithServerOptions(std::vector<Option> options);

// The tables, one per file under client/cli/, in the order the global help lists them.
const std::vector<Command>& RecordCommands();    // records.cpp
const std::vector<Command>& CycleCommands();     // cycle.cpp
const std::vector<Command>& ReportCommands();    // reports.cpp
const std::vector<Command>& SyncCommands();      // sync.cpp
const std::vector<Command>& CarriedCommands();   // carried.cpp
const std::vector<Command>& ConflictCommands();  // conflicts.cpp
const std::vector<Command>& UiCommands();        // ui.cpp

// Every command, in help order; the one named, or null.
const std::vector<const Command*>& AllCommands();
const Command* FindCommand(const std::string& name);

// Parses argv against the options of every command; FindCommand + CheckOptions
// then refuse what the command named does not take.
Args Parse(const std::vector<std::string>& argv);
void CheckOptions(const Args& a, const Command& command);

// Help texts: the global list, or one command's usage, help, options, examples.
std::string GlobalHelp(const std::string& lang);
std::string CommandHelp(const Command& command, const std::string& lang);

// Shared by `outbox export` (sync.cpp) and the carried-file commands.
int OutboxExport(Context& c);

// What a command runs with. Public members: it is the commands' working set,
// not an abstraction with invariants to guard.
class Context {
 public:
  Context(const Args& args, std::istream& in, std::ostream& out, std::ostream& err, bool in_tty, bool err_tty);

  const Args& a;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool in_tty, err_tty;
  std::string home, lang;
  bool as_json = false;  // --json
  std::unique_ptr<LocalStore> store;  // opened by OpenStore
  std::string ca_override;            // --ca given on this command line

  std::string T(const char* vi, const char* en) const { return lang == "en" ? en : vi; }
  // Prints the failure in the user's language (or as JSON) and returns its exit code.
  int Fail(const Status& s);
  // Every problem at once (a form with several wrong values): each on its own
  // line; the exit code of the first.
  int FailAll(const std::vector<Status>& problems);
  Status OpenStore();
  // Exactly n positional arguments, else a usage error naming `what`.
  void NeedPositional(size_t n, const char* what);
  Status ResolveId(const std::string& given, std::string* id);
  // The record named by the one positional argument: opens the store, resolves
  // a short id, loads the record (when `r` is given).
  Status TargetRecord(std::string* id, Record* r = nullptr);
  // --from FILE|- then --set KEY=VALUE pairs, typed by the form's schema.
  // --from and --set values, typed. A value that is wrong goes to `problems`
  // (all of them, not just the first); the return is for what stops at once.
  Status CollectFields(const FormSchema& schema, json::Object* fields, bool* any, std::vector<Status>* problems);
  void PrintRecord(const Record& r);
  // Writes to --output FILE (atomically: a temporary file renamed) or stdout.
  int Emit(const std::string& content);

  HttpOptions QuickHttp();
  // Takes the CA certificate given with --ca: checked, then kept in the home
  // (so the device keeps trusting the server after the file is gone).
  Status InstallCa();
  // The server's URL (--server, kept once given), with the store open.
  Status NeedServer(std::string* url);
  std::string ReadPassword();

  // "10m", "90s", "1h", "45" (seconds): how long one `ocop sync` keeps trying.
  static double ParseDuration(const std::string& text);
  int YearOption();
  // One decimal, with a comma in Vietnamese (60,1 giây).
  std::string Decimal(double v) const;
  std::string Bytes(int64_t n) const;
};

}  // namespace ocop::client::cli
