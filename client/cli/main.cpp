#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return ocop::client::RunCli(args, std::cin, std::cout, std::cerr, isatty(0), isatty(2));
}
