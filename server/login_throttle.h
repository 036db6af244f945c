// Slows down password guessing. Three counts of consecutive failed logins:
// an account from one address (from the 4th on), a client address whatever
// the names (from the 11th), and an account from every address together
// (from the 21st). Past its free failures a count makes the next attempt
// wait 1 s, 2 s, 4 s … (capped at 15 minutes); an attempt inside a wait is
// refused at once with 429 and Retry-After, without computing PBKDF2.
// So a stranger's few wrong passwords slow the stranger's address, not the
// owner logging in from elsewhere; a guesser spread over many addresses is
// still bounded by the account's total. A successful login clears the
// account's counts and the address's.
// Pure logic with the time passed in, so tests need no sleeping.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ocop::server {

class LoginThrottle {
 public:
  struct Policy {
    int free_failures = 3;                 // failures allowed before any wait, per account and address
    int account_free_failures = 20;        // ... per account, from all addresses together
    // Per address more are free: many officers may share one carrier NAT
    // address, and one mistyping colleague should not slow the others.
    int address_free_failures = 10;
    int64_t first_wait_ms = 1000;          // then 1 s, 2 s, 4 s, ...
    int64_t max_wait_ms = 15 * 60 * 1000;  // ... up to 15 minutes
    size_t max_entries = 100000;           // memory bound under a spray of names
  };
  LoginThrottle() : LoginThrottle(Policy{}) {}
  explicit LoginThrottle(Policy p) : policy_(p) {}

  // Milliseconds to wait before this attempt may be tried (0: go ahead).
  int64_t WaitMs(const std::string& account, const std::string& address, int64_t now_ms);
  void Failed(const std::string& account, const std::string& address, int64_t now_ms);
  void Succeeded(const std::string& account, const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    int64_t next_allowed_ms = 0;
  };
  void Bump(std::unordered_map<std::string, Entry>& map, const std::string& key, int free, int64_t now_ms);
  static int64_t Remaining(const std::unordered_map<std::string, Entry>& map, const std::string& key, int64_t now_ms);

  Policy policy_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> pairs_;     // account "\n" address
  std::unordered_map<std::string, Entry> accounts_;
  std::unordered_map<std::string, Entry> addresses_;
};

}  // namespace ocop::server
