#include "server/upload_budget.h"

namespace ocop::server {

void UploadBudget::ExpireLocked(int64_t now_ms) {
  std::erase_if(open_, [&](const auto& kv) { return now_ms - kv.second.started_ms > policy_.expire_ms; });
}

Status UploadBudget::Admit(const std::string& account, const std::string& key, int64_t size, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now_ms);
  if (open_.count(key)) return Status::Ok();
  int64_t count = 0, bytes = 0;
  for (const auto& [k, e] : open_)
    if (e.account == account) ++count, bytes += e.size;
  if (count >= policy_.max_open || bytes + size > policy_.max_bytes)
    return Status::Exhausted("this account has " + std::to_string(count) + " unfinished uploads (" +
                             std::to_string(bytes / (1024 * 1024)) +
                             " MB); finish them, or wait until they expire, before starting another");
  open_[key] = {account, size, now_ms};
  return Status::Ok();
}

void UploadBudget::Finished(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(key);
}

UploadBudget::Totals UploadBudget::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals t;
  for (const auto& [k, e] : open_) ++t.uploads, t.bytes += e.size;
  return t;
}

UploadBudget::Totals UploadBudget::Of(const std::string& account) const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals t;
  for (const auto& [k, e] : open_)
    if (e.account == account) ++t.uploads, t.bytes += e.size;
  return t;
}

}  // namespace ocop::server
