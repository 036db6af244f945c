// How many request bodies ocopd reads at once. Poco serves a connection on a
// pool thread; a client that sends headers announcing 30 MB and then one byte
// would hold that thread while its body trickles in. The gate bounds the
// bodies being read, in total and per client address, below the number of
// threads, so the rest always serve /healthz, logins and short requests. A
// request that finds no room is answered 503 with Retry-After at once, and its
// connection closed, without reading its body. Bodies sent without a token
// (logins: a few KB) have a smaller share, so a stranger with no account holds
// at most `max_anonymous_per_address` threads from each address and, from many
// addresses together, at most `max_anonymous_total`: the rest of the gate stays
// for devices with an account. Thread-safe.
#pragma once
#include <map>
#include <mutex>
#include <string>

namespace ocop::server::http {

class BodyGate {
 public:
  struct Policy {
    int max_total = 16;        // of the 32 request threads (server.threads)
    int max_per_address = 4;
    int max_anonymous_per_address = 2;
    int max_anonymous_total = 8;
  };
  BodyGate() : BodyGate(Policy{}) {}
  explicit BodyGate(Policy p) : policy_(p) {}

  // A slot for reading one body from `address`, released when it goes out of scope.
  class Slot {
   public:
    Slot() = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
      if (gate_) gate_->Release(address_, anonymous_);
    }
    bool held() const { return gate_ != nullptr; }

   private:
    friend class BodyGate;
    BodyGate* gate_ = nullptr;
    std::string address_;
    bool anonymous_ = false;
  };
  // Takes a slot into `slot`, or returns false when the gate is full.
  // `anonymous`: the request carries no valid token (a login).
  bool Enter(const std::string& address, bool anonymous, Slot* slot);
  int reading() const;

 private:
  void Release(const std::string& address, bool anonymous);
  Policy policy_;
  mutable std::mutex mu_;
  int total_ = 0;
  int anonymous_total_ = 0;
  std::map<std::string, int> by_address_;
  std::map<std::string, int> anonymous_by_address_;
};

}  // namespace ocop::server::http
