#include "server/http/body_gate.h"

namespace ocop::server::http {

bool BodyGate::Enter(const std::string& address, bool anonymous, Slot* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto count = [&](const std::map<std::string, int>& m) {
    auto it = m.find(address);
    return it == m.end() ? 0 : it->second;
  };
  if (total_ >= policy_.max_total || count(by_address_) >= policy_.max_per_address) return false;
  if (anonymous && (count(anonymous_by_address_) >= policy_.max_anonymous_per_address ||
                    anonymous_total_ >= policy_.max_anonymous_total))
    return false;
  ++total_;
  if (anonymous) ++anonymous_total_;
  ++by_address_[address];
  if (anonymous) ++anonymous_by_address_[address];
  slot->gate_ = this;
  slot->address_ = address;
  slot->anonymous_ = anonymous;
  return true;
}

void BodyGate::Release(const std::string& address, bool anonymous) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  if (--by_address_[address] <= 0) by_address_.erase(address);
  if (anonymous) {
    --anonymous_total_;
    if (--anonymous_by_address_[address] <= 0) anonymous_by_address_.erase(address);
  }
}

int BodyGate::reading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace ocop::server::http
