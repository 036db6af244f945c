#include "server/login_throttle.h"

#include <algorithm>

namespace ocop::server {

int64_t LoginThrottle::Remaining(const std::unordered_map<std::string, Entry>& map, const std::string& key,
                                 int64_t now_ms) {
  auto it = map.find(key);
  return it == map.end() ? 0 : std::max<int64_t>(0, it->second.next_allowed_ms - now_ms);
}

int64_t LoginThrottle::WaitMs(const std::string& account, const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::max({Remaining(pairs_, account + "\n" + address, now_ms), Remaining(accounts_, account, now_ms),
                   Remaining(addresses_, address, now_ms)});
}

void LoginThrottle::Bump(std::unordered_map<std::string, Entry>& map, const std::string& key, int free, int64_t now_ms) {
  if (map.size() >= policy_.max_entries && !map.count(key)) {
    // Forget entries whose wait is over; if that is not enough, start afresh
    // rather than grow without bound (the addresses' counts still apply).
    std::erase_if(map, [&](const auto& kv) { return kv.second.next_allowed_ms <= now_ms; });
    if (map.size() >= policy_.max_entries) map.clear();
  }
  Entry& e = map[key];
  ++e.failures;
  int over = e.failures - free;
  if (over <= 0) return;
  int64_t wait = policy_.first_wait_ms;
  for (int i = 1; i < over && wait < policy_.max_wait_ms; ++i) wait *= 2;
  e.next_allowed_ms = now_ms + std::min(wait, policy_.max_wait_ms);
}

void LoginThrottle::Failed(const std::string& account, const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Bump(pairs_, account + "\n" + address, policy_.free_failures, now_ms);
  Bump(accounts_, account, policy_.account_free_failures, now_ms);
  Bump(addresses_, address, policy_.address_free_failures, now_ms);
}

void LoginThrottle::Succeeded(const std::string& account, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(pairs_, [&](const auto& kv) { return kv.first.compare(0, account.size() + 1, account + "\n") == 0; });
  accounts_.erase(account);
  addresses_.erase(address);
}

}  // namespace ocop::server
