// The `ocop` command line: parses arguments, calls the local store or the sync
// client, renders text or --json. Exit codes: 0 done, 2 usage error, 3 invalid
// input, 4 not found, 5 no connection, 6 refused by the server, 1 other failure.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace ocop::client {

// Runs one command. `stdin_is_tty` / `stdout_is_tty` decide interactive prompts
// and progress output.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
           bool stdin_is_tty, bool stdout_is_tty);

}  // namespace ocop::client
