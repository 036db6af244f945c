// `ocop ui`: the officer's screens, served from the device itself to a browser
// on the same machine (or, with a password, to the commune office's Wi-Fi).
// Every page and script is inside the binary (client/ui/ and the shared
// toolkit in shared/web/), so it works with no network at all. The screens call
// a small JSON API here, which calls the same client functions as the command
// line: LocalStore for records, ParseInput/ValidateRecord for what was typed,
// officer_actions for decisions, SyncClient for sync. Routes and rules:
// docs/ui.md.
#pragma once
#include <memory>
#include <string>

#include "client/http_client.h"
#include "shared/status.h"

namespace ocop::client {

struct UiOptions {
  std::string home;              // the device's store
  std::string host = "127.0.0.1";
  int port = 8470;               // 0: any free port
  // Needed when `host` is not a loopback address: whoever opens the page from
  // another machine logs in with it.
  std::string password;
  HttpOptions http;              // for sync (CA file)
  double sync_deadline_s = 600;
};

class UiServer {
 public:
  // Opens the store and starts listening; fails when the store cannot be
  // opened, the port is taken, or a non-loopback host has no password.
  static Status Start(const UiOptions& options, std::unique_ptr<UiServer>* out);
  ~UiServer();
  int port() const;
  std::string url() const;
  // Stops a running sync (keeping what arrived) and the server.
  void Stop();

  struct Impl;

 private:
  explicit UiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace ocop::client
