#include <cstdio>
#include <memory>

#include "client/sync_client.h"

#include "shared/dates.h"
#include "sync/codec.h"

namespace ocop::client {

using json::Object;

Status SyncClient::Login(const std::string& user, const std::string& password) {
  Object req;
  req.set("user", user);
  req.set("password", password);
  req.set("device", store_.device_id());
  std::string resp;
  Status s = http_.Call("POST", "/v1/login", json::ToText(req), &resp);
  if (!s.ok()) return s;
  Object::Ptr o;
  s = json::ParseObject(resp, &o);
  if (!s.ok()) return Status::Unavailable("unreadable login answer: " + s.message());
  std::string role = o->optValue<std::string>("role", ""), unit = o->optValue<std::string>("unit", "");
  if (role == "officer" && unit != store_.commune())
    return Status::Denied("user " + user + " is an officer of unit " + unit + ", but this device records for commune " +
                          store_.commune());
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"token", o->optValue<std::string>("token", "")}, {"token_expires", o->optValue<std::string>("expires_at", "")},
           {"user", o->optValue<std::string>("user", user)}, {"role", role}, {"user_unit", unit}}) {
    s = store_.SetSetting(k, v);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status SyncClient::Logout() {
  std::string token = store_.Setting("token");
  if (!token.empty()) {
    http_.set_token(token);
    std::string resp;
    Status s = http_.Call("POST", "/v1/logout", "{}", &resp);
    if (!s.ok() && s.code() != Code::kUnauthenticated) return s;
  }
  return store_.SetSetting("token", "");
}

Status SyncClient::Sync(SyncReport* report, const Progress& progress) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in: run `ocop login --user NAME` first");
  http_.set_token(token);
  Status s = Push(report, progress);
  if (s.ok()) s = Pull(report, progress);
  // Files travel after the forms and never hold them back: a failed upload is
  // reported and resumes at the next sync.
  if (s.ok()) {
    Status f = UploadFiles(report, progress);
    if (!f.ok()) report->files_error = f.message();
    if (options_.with_files) {
      std::vector<std::string> missing;
      f = store_.MissingFiles(&missing);
      for (size_t i = 0; f.ok() && i < missing.size(); ++i) {
        f = FetchFile(missing[i]);
        if (f.ok()) ++report->files_downloaded;
      }
      if (!f.ok() && report->files_error.empty()) report->files_error = f.message();
    }
    std::vector<LocalStore::Upload> waiting;
    (void)store_.PendingUploads(&waiting);
    report->files_waiting = static_cast<int64_t>(waiting.size());
  }
  report->http = http_.stats();
  StoreInfo info;
  (void)store_.Info(&info);
  report->pending_after = info.pending_changes;
  report->open_conflicts = info.conflicts;
  if (!s.ok()) {
    if (s.code() == Code::kUnavailable)
      return Status::Unavailable("no connection (" + s.message() + "); " + std::to_string(info.pending_changes) +
                                 " changes waiting");
    return s;
  }
  return store_.SetSetting("last_sync", dates::IsoTimestamp(SystemClock::Get().NowMillis()));
}

Status SyncClient::Push(SyncReport* report, const Progress& progress) {
  // Bounded: each round either empties part of the outbox or fails.
  for (int round = 0; round < 1000000; ++round) {
    sync::ChangeSet cs;
    bool has = false;
    Status s = store_.NextChangeSet(options_.push_batch, &cs, &has);
    if (!s.ok() || !has) return s;
    // The binary encoding of the same messages: cheaper for both ends (bench/).
    std::string body = sync::EncodeBinary(cs);
    std::string resp, type;
    s = http_.Call("POST", "/v1/push", body, sync::kBinaryContentType, sync::kBinaryContentType, &resp, &type);
    if (!s.ok()) {
      if (s.code() != Code::kUnavailable && s.code() != Code::kUnauthenticated) {
        // Kept as it is: the officer decides (see `ocop outbox`).
        (void)store_.SetSetting("refused", s.message());
        return Status(s.code(), "the server refused the changes waiting to be sent: " + s.message() +
                                    " (see `ocop outbox`; `ocop outbox discard` drops them)");
      }
      return s;
    }
    sync::PushResult result;
    s = type == sync::kBinaryContentType ? sync::DecodeBinary(resp, &result) : sync::DecodeJson(resp, &result);
    if (!s.ok()) return Status::Unavailable("unreadable push answer: " + s.message());
    if (result.changeset_id != cs.id) return Status::Unavailable("push answer is for another change set");
    s = store_.AckChangeSet(result);
    if (!s.ok()) return s;
    report->changes_sent += static_cast<int64_t>(cs.changes.size());
    for (const auto& o : result.outcomes) {
      if (o.result == sync::outcome::kApplied) ++report->changes_applied;
      else if (o.result == sync::outcome::kMerged) ++report->changes_merged;
      else if (o.result == sync::outcome::kConflict) {
        ++report->changes_in_conflict;
        report->conflict_records.push_back(o.record_id);
      }
    }
    if (progress) progress("sent " + std::to_string(report->changes_sent) + " changes");
  }
  return Status::Internal("push did not finish");
}

Status SyncClient::Pull(SyncReport* report, const Progress& progress) {
  int year = std::atoi(dates::IsoDateFromMillis(SystemClock::Get().NowMillis()).substr(0, 4).c_str());
  for (int page_no = 0; page_no < 10000000; ++page_no) {
    Object req;
    req.set("since", static_cast<Poco::Int64>(std::atoll(store_.Setting("cursor", "0").c_str())));
    req.set("limit", options_.pull_limit);
    if (page_no == 0 && store_.Setting("role") == "officer") {
      int64_t left = 0;
      Status s = store_.ReceiptNumbersLeft(year, &left);
      if (!s.ok()) return s;
      if (left < options_.receipt_low_water) {
        req.set("reserve_receipts", options_.receipt_block);
        req.set("receipt_year", year);
      }
    }
    std::string resp, type;
    Status s = http_.Call("POST", "/v1/pull", json::ToText(req), "application/json", sync::kBinaryContentType, &resp, &type);
    if (!s.ok()) return s;
    sync::PullPage page;
    s = type == sync::kBinaryContentType ? sync::DecodeBinary(resp, &page) : sync::DecodeJson(resp, &page);
    if (!s.ok()) return Status::Unavailable("unreadable pull answer: " + s.message());
    s = store_.ApplyPullPage(page);
    if (!s.ok()) return s;
    report->records_received += static_cast<int64_t>(page.records.size());
    ++report->pages;
    if (progress && page.more) progress("received " + std::to_string(report->records_received) + " records");
    if (!page.more) return Status::Ok();
  }
  return Status::Internal("pull did not finish");
}

Status SyncClient::FetchHistory(const std::string& record_id) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in");
  http_.set_token(token);
  std::string resp;
  Status s = http_.Call("GET", "/v1/records/" + record_id + "/history", "", &resp);
  if (!s.ok()) return s;
  Object::Ptr o;
  s = json::ParseObject(resp, &o);
  if (!s.ok()) return Status::Unavailable("unreadable history answer");
  std::vector<HistoryEntry> entries;
  auto arr = o->getArray("entries");
  for (size_t i = 0; arr && i < arr->size(); ++i) {
    auto e = arr->getObject(static_cast<unsigned>(i));
    std::string kind = e->optValue<std::string>("kind", "");
    entries.push_back({e->optValue<std::string>("change_id", ""), e->optValue<std::string>("field", ""),
                       e->optValue<std::string>("old", ""), e->optValue<std::string>("new", ""),
                       e->optValue<std::string>("author", ""), e->optValue<std::string>("device", ""),
                       e->optValue<std::string>("at", ""), "server:" + kind});
  }
  return store_.AddServerHistory(record_id, entries);
}

}  // namespace ocop::client

namespace ocop::client {

Status SyncClient::UploadFiles(SyncReport* report, const Progress& progress) {
  std::vector<LocalStore::Upload> uploads;
  Status s = store_.PendingUploads(&uploads);
  for (size_t i = 0; s.ok() && i < uploads.size(); ++i) s = UploadOne(uploads[i], report, progress);
  return s;
}

Status SyncClient::UploadOne(const LocalStore::Upload& u, SyncReport* report, const Progress& progress) {
  FILE* f = std::fopen(store_.FilePath(u.sha256).c_str(), "rb");
  if (!f) return Status::Internal("attached file " + u.sha256 + " is missing from the store");
  std::unique_ptr<FILE, int (*)(FILE*)> guard(f, &std::fclose);
  // Where to continue: the server says how much it has (bounded rounds).
  for (int round = 0; round < 10000; ++round) {
    Object begin;
    begin.set("size", static_cast<Poco::Int64>(u.size));
    begin.set("record_id", u.record_id);
    std::string resp;
    Status s = http_.Call("POST", "/v1/files/" + u.sha256, json::ToText(begin), &resp);
    if (!s.ok()) return s;
    Object::Ptr o;
    if (!json::ParseObject(resp, &o).ok()) return Status::Unavailable("unreadable upload answer");
    int64_t received = o->optValue<Poco::Int64>("received", 0);
    while (received < u.size) {
      std::string chunk(std::min<int64_t>(static_cast<int64_t>(options_.chunk_bytes), u.size - received), '\0');
      if (fseeko(f, received, SEEK_SET) != 0 || std::fread(chunk.data(), 1, chunk.size(), f) != chunk.size())
        return Status::Internal("cannot read attached file " + u.sha256);
      std::string type;
      s = http_.Call("PUT", "/v1/files/" + u.sha256 + "?offset=" + std::to_string(received), chunk,
                     "application/octet-stream", "application/json", &resp, &type);
      if (s.code() == Code::kFailedPrecondition) break;  // the server has more (a lost answer): ask again
      if (!s.ok()) return s;
      report->file_bytes_sent += static_cast<int64_t>(chunk.size());
      if (!json::ParseObject(resp, &o).ok()) return Status::Unavailable("unreadable upload answer");
      received = o->optValue<Poco::Int64>("received", 0);
      if (progress) progress("file " + u.sha256.substr(0, 8) + ": " + std::to_string(received * 100 / u.size) + " %");
    }
    if (received >= u.size) {
      ++report->files_uploaded;
      return store_.MarkUploaded(u.sha256);
    }
  }
  return Status::Internal("upload did not finish");
}

Status SyncClient::FetchFile(const std::string& sha256) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in");
  http_.set_token(token);
  std::string bytes, type;
  Status s = http_.Call("GET", "/v1/files/" + sha256, "", "application/json", "application/octet-stream", &bytes, &type);
  if (!s.ok()) return s;
  return store_.SaveFile(sha256, bytes);
}

}  // namespace ocop::client
