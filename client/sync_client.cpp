#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "client/sync_client.h"

#include "client/officer_actions.h"

#include "shared/dates.h"
#include "shared/ids.h"
#include "shared/messages.h"
#include "sync/carried.h"
#include "sync/codec.h"
#include "sync/columns.h"
#include "shared/hash.h"

namespace ocop::client {

using json::Object;

Status SyncClient::Login(const std::string& user, const std::string& password) {
  Object req;
  req.set("user", user);
  req.set("password", password);
  req.set("device", store_.device_id());
  // The key this device signs carried files with (sync/carried.h): made once,
  // given to the server at every login so it can check those files later.
  std::string key = store_.Setting("device_key");
  if (key.empty()) {
    key = sync::carried::NewDeviceKey();
    Status k = store_.SetSetting("device_key", key);
    if (!k.ok()) return k;
  }
  req.set("device_key", key);
  std::string resp;
  Status s = http_.Call("POST", "/v1/login", json::ToText(req), &resp);
  if (!s.ok()) return s;
  RememberServerEncodings();
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

namespace {
double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
// A request the link cut (or the server was unreachable): worth trying again.
bool IsLinkFailure(const Status& s) { return s.code() == Code::kUnavailable || s.code() == Code::kResourceExhausted; }
}  // namespace

void SyncClient::Report(const char* phase, int64_t bytes_left) {
  live_.phase = phase;
  live_.seconds = Since(started_);
  live_.bytes_sent = http_.stats().bytes_sent + request_sent_;
  live_.bytes_received = http_.stats().bytes_received + request_received_;
  live_.bytes_left = bytes_left;
  if (progress_) progress_(live_);
}

Status SyncClient::Sync(SyncReport* report, const Progress& progress) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in: run `ocop login --user NAME` first");
  http_.set_token(token);
  http_.set_peer_encodings(store_.Setting("server_encodings"));
  progress_ = progress;
  started_ = std::chrono::steady_clock::now();
  StoreInfo before;
  (void)store_.Info(&before);
  live_.changes_total = before.pending_changes;
  // Retries are this loop's job (with the link's progress in view), not the
  // HTTP client's; Ctrl-C aborts the request under way at once.
  http_.set_max_attempts(1);
  http_.set_transfer_watch([this](int64_t sent, int64_t received) {
    request_sent_ = sent;
    request_received_ = received;
    Report(live_.phase);
    return !StopRequested();
  });
  std::mt19937 rng(std::random_device{}());
  long backoff = options_.first_backoff_ms;
  int no_progress_rounds = 0;
  Status s;
  bool done = false;
  for (int round = 0; round < 100000; ++round) {
    bool progressed = false;
    ++report->attempts;
    s = Round(report, &done, &progressed);
    if (done || !s.ok() || StopRequested()) break;
    // Nothing at all came back (no server there, no network): say so now
    // rather than wait out the deadline. A link that answers, even briefly,
    // is worth the wait. And a link that moves nothing for many rounds in a
    // row is given up on too.
    if (http_.stats().bytes_received == 0) break;
    no_progress_rounds = progressed ? 0 : no_progress_rounds + 1;
    if (no_progress_rounds >= options_.max_idle_rounds) break;
    // The link dropped. Wait a little (less after a round that moved
    // something: the link works, it just drops) and go on until the deadline.
    // After a round that moved something the link works, it only drops:
    // reconnect almost at once (jittered, so many devices do not move in step).
    long base = progressed ? options_.first_backoff_ms / 4 : backoff;
    if (progressed) backoff = options_.first_backoff_ms;
    long wait = static_cast<long>(static_cast<double>(base) * std::uniform_real_distribution<double>(0.5, 1.5)(rng));
    // A server that is busy says how long to wait (429, 503 with Retry-After): never resend sooner.
    wait = std::max<long>(wait, static_cast<long>(http_.last_retry_after_s() * 1000));
    if (Since(started_) + wait / 1000.0 > options_.deadline_s) {
      report->deadline_reached = true;
      break;
    }
    Report("wait");
    for (long waited = 0; waited < wait && !StopRequested(); waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50L, wait - waited)));
    backoff = std::min(backoff * 2, options_.max_backoff_ms);
  }
  http_.set_transfer_watch(nullptr);
  request_sent_ = request_received_ = 0;
  report->stopped_by_user = StopRequested();
  report->seconds = Since(started_);
  report->http = http_.stats();
  StoreInfo info;
  (void)store_.Info(&info);
  report->pending_after = info.pending_changes;
  report->open_conflicts = info.conflicts;
  std::vector<LocalStore::Upload> waiting;
  (void)store_.PendingUploads(&waiting);
  report->files_waiting = static_cast<int64_t>(waiting.size());
  if (!s.ok()) return s;
  if (!done) {
    std::string why = report->stopped_by_user     ? "stopped by the user"
                      : report->deadline_reached ? "the link kept dropping until the deadline: " + report->last_link_error
                                                 : report->last_link_error;
    return Status::Unavailable("no connection (" + why + "); " + std::to_string(info.pending_changes) +
                               " changes waiting; what arrived is kept: run `ocop sync` again");
  }
  return store_.SetSetting("last_sync", dates::IsoTimestamp(SystemClock::Get().NowMillis()));
}

// Carried files of other devices imported here (ocop import-changes): each
// sent whole; the server applies it as the device that wrote it. A refusal of
// the file itself (signature, scope) is kept as its result and not retried.
Status SyncClient::PushCarried(SyncReport* report, bool* progressed) {
  std::vector<LocalStore::CarriedIn> files;
  Status s = store_.CarriedInFiles(true, &files);
  if (!s.ok()) return s;
  for (const auto& f : files) {
    Report("carried");
    std::string resp, type;
    s = http_.Call("POST", "/v1/carried", f.body, "application/octet-stream", "application/json", &resp, &type);
    if (IsLinkFailure(s)) return s;
    *progressed = true;
    std::string result = s.ok() ? resp : "{\"refused\":" + json::Quote(s.message()) + "}";
    Status m = store_.MarkCarriedInSent(f.sha256, result);
    if (!m.ok()) return m;
    if (s.ok()) ++report->carried_sent;
    else ++report->carried_refused;
  }
  return Status::Ok();
}

void SyncClient::RememberServerEncodings() {
  if (http_.last_status() > 0 && store_.Setting("server_encodings") != http_.peer_encodings())
    (void)store_.SetSetting("server_encodings", http_.peer_encodings());
}

Status SyncClient::Round(SyncReport* report, bool* done, bool* progressed) {
  // Photos go after the forms (their record must be on the server) but a
  // failing push, upload or pull does not stop the others in this round.
  Status push = Push(report, progressed);
  if (!push.ok() && !IsLinkFailure(push)) return push;
  if (StopRequested()) return Status::Ok();
  if (push.ok()) {
    Status carried = PushCarried(report, progressed);
    if (!carried.ok() && !IsLinkFailure(carried)) return carried;
    if (StopRequested()) return Status::Ok();
  }
  int64_t waiting = 0;
  Status files = UploadFiles(report, progressed, &waiting);
  if (!files.ok() && !IsLinkFailure(files)) report->files_error = files.message();
  if (StopRequested()) return Status::Ok();
  // Once this sync has pulled everything, a round that only continues a cut
  // photo does not pull again (a request and a round trip per cut on a slow
  // link); the pull runs again in the round that finishes the photos.
  Status pull;
  bool files_settled = files.ok() || !IsLinkFailure(files);
  if (!(pulled_ && !files_settled)) pull = Pull(report, progressed);
  if (pull.ok()) pulled_ = true;
  if (!pull.ok() && !IsLinkFailure(pull)) return pull;
  // Ideas received before this device held receipt numbers get theirs now
  // that a pull may have brought a block; the next round sends them.
  int numbered = 0;
  if (pull.ok()) {
    Status n = NumberWaitingIdeas(store_, &numbered);
    if (!n.ok()) return n;
    report->numbered += numbered;
    if (numbered > 0) *progressed = true;
  }
  if (pull.ok() && options_.with_files && !StopRequested()) {
    std::vector<std::string> missing;
    Status f = store_.MissingFiles(&missing);
    for (size_t i = 0; f.ok() && i < missing.size() && !StopRequested(); ++i) {
      f = FetchFile(missing[i]);
      if (f.ok()) ++report->files_downloaded;
    }
    if (!f.ok()) {
      if (IsLinkFailure(f)) pull = f;
      else if (report->files_error.empty()) report->files_error = f.message();
    }
  }
  report->files_waiting = waiting;
  RememberServerEncodings();
  for (const Status* part : {&push, &files, &pull})
    if (IsLinkFailure(*part)) {
      ++report->cuts;
      report->last_link_error = part->message();
    }
  live_.cuts = report->cuts;
  // Files the server refused (not a link failure) wait for the officer; they
  // do not keep the loop going.
  *done = push.ok() && pull.ok() && files_settled && numbered == 0;
  return Status::Ok();
}

void SyncClient::Encode(bool columns, Outgoing* out) {
  // The column encoding under zstd when the server reads it (a fifth smaller
  // than the binary encoding under gzip); the server tells them apart.
  out->body = columns ? sync::Zstd(sync::EncodeColumns(out->cs)) : sync::Gzip(sync::EncodeBinary(out->cs));
  out->sha = hash::Sha256Hex(out->body);
}

Status SyncClient::Push(SyncReport* report, bool* progressed) {
  using Clock = std::chrono::steady_clock;
  const bool columns = http_.PeerReads("columns") && http_.PeerReads("zstd");
  Outgoing current;
  bool has = false;
  auto t0 = Clock::now();
  Status s = store_.NextChangeSet(options_.push_batch, &current.cs, &has);
  report->phases.freeze += Since(t0);
  if (has) {
    t0 = Clock::now();
    Encode(columns, &current);
    report->phases.encode += Since(t0);
  }
  // The answer to the set sent before, recorded while the next one travels.
  std::optional<sync::PushResult> unanswered;
  size_t unanswered_changes = 0;
  auto record_answer = [&]() -> Status {
    if (!unanswered) return Status::Ok();
    auto t = Clock::now();
    Status a = store_.AckChangeSet(*unanswered);
    report->phases.ack += Since(t);
    if (!a.ok()) return a;
    report->changes_sent += static_cast<int64_t>(unanswered_changes);
    for (const auto& o : unanswered->outcomes) {
      if (o.result == sync::outcome::kApplied) ++report->changes_applied;
      else if (o.result == sync::outcome::kMerged) ++report->changes_merged;
      else if (o.result == sync::outcome::kConflict) {
        ++report->changes_in_conflict;
        report->conflict_records.push_back(o.record_id);
      }
    }
    unanswered.reset();
    *progressed = true;
    return Status::Ok();
  };
  // Bounded: each round empties part of the outbox or fails.
  for (int round = 0; round < 1000000; ++round) {
    if (!has) {
      Status a = record_answer();
      live_.changes_sent = report->changes_sent;
      live_.changes_total = live_.changes_sent;  // edits of one record go as one change
      if (!a.ok()) return a;
    }
    if (!s.ok() || !has) return s;
    // A body tried before (the link dropped) continues where the server is.
    bool ask = store_.Setting("push_body_sha") == current.sha;
    if (!ask) {
      s = store_.SetSetting("push_body_sha", current.sha);
      if (!s.ok()) return s;
    }
    // While this change set travels and the server applies it, this thread
    // records the answer to the one before and freezes and encodes the next,
    // on the other core. The travelling thread does not touch the store; this
    // one does not touch the link or the progress shown.
    Outgoing next;
    bool has_next = false, sent_progress = false;
    Status next_status;
    sync::PushResult result;
    auto t_push = Clock::now();
    double push_s = 0;
    std::thread travel([&] {
      s = PushOne(current, ask, &result, &sent_progress);
      push_s = Since(t_push);
    });
    Status answered = record_answer();
    if (answered.ok()) {
      auto t = Clock::now();
      next_status = store_.FreezeNextAfter(current.cs.id, options_.push_batch, &next.cs, &has_next);
      report->phases.freeze += Since(t);
      if (next_status.ok() && has_next) {
        t = Clock::now();
        Encode(columns, &next);
        report->phases.encode += Since(t);
      }
    }
    travel.join();
    report->phases.push_wait += push_s;
    *progressed = *progressed || sent_progress;
    live_.changes_sent = report->changes_sent;
    if (!answered.ok()) return answered;
    if (!s.ok() && has_next) {
      // The set frozen ahead goes back among the pending changes: the one
      // before it is continued (or decided on) first, as if it never was.
      Status thawed = store_.ThawChangeSet(next.cs.id);
      if (!thawed.ok()) return thawed;
    }
    if (!s.ok()) {
      // A full disk refuses nothing of the changes themselves: they wait as they are.
      if (!IsLinkFailure(s) && s.code() != Code::kUnauthenticated && s.code() != Code::kInsufficientStorage) {
        // Kept as it is: the officer decides (see `ocop outbox`).
        (void)store_.SetSetting("refused", s.message());
        return Status(s.code(), "the server refused the changes waiting to be sent: " + s.message() +
                                    " (see `ocop outbox`; `ocop outbox discard` drops them)");
      }
      return s;
    }
    if (result.changeset_id != current.cs.id) return Status::Unavailable("push answer is for another change set");
    unanswered = std::move(result);
    unanswered_changes = current.cs.changes.size();
    *progressed = true;
    Report("push");
    if (!next_status.ok()) {
      Status a = record_answer();
      return a.ok() ? next_status : a;
    }
    if (has_next) {
      current = std::move(next);
      continue;
    }
    // Others in flight (frozen by a carried-file export) go next, oldest
    // first; the answer just received is recorded before they are looked up.
    s = record_answer();
    live_.changes_sent = report->changes_sent;
    if (!s.ok()) return s;
    current = Outgoing();
    auto t = Clock::now();
    s = store_.NextChangeSet(options_.push_batch, &current.cs, &has);
    report->phases.freeze += Since(t);
    if (s.ok() && has) {
      t = Clock::now();
      Encode(columns, &current);
      report->phases.encode += Since(t);
    }
  }
  return Status::Internal("push did not finish");
}

// The frozen change set's body is uploaded under its SHA-256. The first try
// sends it whole; after a cut, the server says how many bytes it kept and only
// the rest is sent. The server applies it when the last byte is in, once by
// the change set's id, and keeps the body a day, so an answer lost on the way
// back costs one small request.
Status SyncClient::PushOne(const Outgoing& out, bool ask, sync::PushResult* result, bool* progressed) {
  Status s = PushResumable(out, ask, result, progressed);
  if (s.code() != Code::kNotFound) return s;
  // A server without resumable pushes: send the change set whole.
  std::string resp, type;
  s = http_.Call("POST", "/v1/push", sync::EncodeBinary(out.cs), sync::kBinaryContentType, sync::kBinaryContentType, &resp, &type);
  if (!s.ok()) return s;
  s = type == sync::kBinaryContentType ? sync::DecodeBinary(resp, result) : sync::DecodeJson(resp, result);
  if (!s.ok()) return Status::Unavailable("unreadable push answer: " + s.message());
  return Status::Ok();
}

Status SyncClient::PushResumable(const Outgoing& out, bool ask, sync::PushResult* result, bool* progressed) {
  const std::string& body = out.body;
  const std::string& sha = out.sha;
  const int64_t size = static_cast<int64_t>(body.size());
  int64_t offset = 0;
  for (int step = 0; step < 64; ++step) {
    std::string resp, type;
    if (ask) {
      Report("push", size - offset);
      Status s = http_.Call("GET", "/v1/push/" + sha, "", "application/json", "application/json", &resp, &type);
      if (!s.ok()) return s;
      Object::Ptr o;
      if (!json::ParseObject(resp, &o).ok()) return Status::Unavailable("unreadable push offset");
      int64_t got = o->optValue<Poco::Int64>("received", 0);
      if (got < 0 || got > size) return Status::Unavailable("the server reports an impossible push offset");
      if (got > offset) *progressed = true;
      offset = got;
    }
    Report("push", size - offset);
    Status s = http_.Call("PUT", "/v1/push/" + sha + "?offset=" + std::to_string(offset) + "&size=" + std::to_string(size),
                          body.substr(static_cast<size_t>(offset)), "application/octet-stream",
                          std::string(sync::kColumnsContentType) + ", " + sync::kBinaryContentType, &resp, &type);
    ask = true;
    if (s.code() == Code::kFailedPrecondition) {
      // With every byte already on the server there is no offset to disagree
      // on: the change set itself was refused (a workflow rule). Otherwise the
      // server holds another offset: ask it.
      if (offset == size) return s;
      continue;
    }
    if (!s.ok()) return s;
    if (type.find(sync::kColumnsContentType) != std::string::npos) {
      s = sync::DecodeColumns(resp, out.cs, result);
      if (!s.ok()) return Status::Unavailable("unreadable push answer: " + s.message());
      return Status::Ok();
    }
    if (type.find(sync::kBinaryContentType) != std::string::npos) {
      s = sync::DecodeBinary(resp, result);
      if (!s.ok()) return Status::Unavailable("unreadable push answer: " + s.message());
      return Status::Ok();
    }
    if (type.find("json") != std::string::npos && http_.last_status() == 200) {
      s = sync::DecodeJson(resp, result);
      if (!s.ok()) return Status::Unavailable("unreadable push answer: " + s.message());
      return Status::Ok();
    }
    // 202: part of the body is in; continue from what the server says.
  }
  return Status::Unavailable("push of change set " + out.cs.id + " did not finish");
}

int64_t SyncClient::AdaptDown(int64_t current, int64_t arrived_estimate, int64_t min) const {
  // After a cut: half of what got through before the link dropped, so the next
  // try most likely fits between two drops; never more than half the last size.
  return std::max(min, std::min(current / 2, arrived_estimate / 2));
}

Status SyncClient::Pull(SyncReport* report, bool* progressed) {
  int year = std::atoi(dates::IsoDateFromMillis(SystemClock::Get().NowMillis()).substr(0, 4).c_str());
  int64_t page_bytes = std::atoll(store_.Setting("pull_page_bytes", std::to_string(options_.pull_page_bytes)).c_str());
  page_bytes = std::clamp(page_bytes, options_.min_pull_page_bytes, options_.max_pull_page_bytes);
  double ratio = 4;  // record bytes per wire byte (gzip), updated from every page
  bool patches = options_.pull_patches;
  for (int page_no = 0; page_no < 10000000; ++page_no) {
    Object req;
    int64_t since = std::atoll(store_.Setting("cursor", "0").c_str());
    req.set("since", static_cast<Poco::Int64>(since));
    req.set("limit", options_.pull_limit);
    req.set("max_bytes", static_cast<Poco::Int64>(page_bytes));
    // Records this device holds for sure come as their changed fields.
    int64_t complete = store_.CompleteCursor();
    if (patches && complete > 0 && complete <= since) req.set("patch_since", static_cast<Poco::Int64>(complete));
    if (page_no == 0 && store_.Setting("role") == "officer") {
      int64_t left = 0;
      Status s = store_.ReceiptNumbersLeft(year, &left);
      if (!s.ok()) return s;
      if (left < options_.receipt_low_water) {
        req.set("reserve_receipts", options_.receipt_block);
        req.set("receipt_year", year);
      }
    }
    Report("pull");
    std::string resp, type;
    auto t0 = std::chrono::steady_clock::now();
    Status s = http_.Call("POST", "/v1/pull", json::ToText(req), "application/json",
                          std::string(sync::kColumnsContentType) + ", " + sync::kBinaryContentType, &resp, &type);
    if (!s.ok()) {
      if (IsLinkFailure(s) && !http_.cancelled()) {
        int64_t arrived = static_cast<int64_t>(static_cast<double>(http_.last_bytes_received()) * ratio);
        (void)store_.SetSetting("pull_page_bytes", std::to_string(AdaptDown(page_bytes, arrived, options_.min_pull_page_bytes)));
      }
      return s;
    }
    report->phases.pull_wait += Since(t0);
    const std::string units_version = http_.last_units_version();
    const std::string definitions_version = http_.last_definitions_version();
    t0 = std::chrono::steady_clock::now();
    sync::PullPage page;
    s = type == sync::kColumnsContentType  ? sync::DecodeColumns(resp, &page)
        : type == sync::kBinaryContentType ? sync::DecodeBinary(resp, &page)
                                           : sync::DecodeJson(resp, &page);
    report->phases.decode += Since(t0);
    if (!s.ok()) return Status::Unavailable("unreadable pull answer: " + s.message());
    bool patch_missed = false;
    t0 = std::chrono::steady_clock::now();
    s = store_.ApplyPullPage(page, &patch_missed);
    report->phases.apply += Since(t0);
    if (!s.ok()) return s;
    if (patch_missed) {
      // This device's copy of a record is older than the patch expects (a
      // restored backup, say): the rest of this sync pulls whole records.
      patches = false;
      continue;
    }
    *progressed = true;
    if (http_.last_bytes_received() > 0)
      ratio = std::max(1.0, static_cast<double>(resp.size()) / static_cast<double>(http_.last_bytes_received()));
    page_bytes = std::min(options_.max_pull_page_bytes, page_bytes * 2);
    (void)store_.SetSetting("pull_page_bytes", std::to_string(page_bytes));
    report->records_received += static_cast<int64_t>(page.records.size());
    live_.records_received = report->records_received;
    ++report->pages;
    if (page_no == 0) {
      s = FollowUnits(units_version, report);
      if (s.ok()) s = FollowDefinitions(definitions_version, report);
      if (!s.ok()) return s;
    }
    if (!page.more) return Status::Ok();
  }
  return Status::Internal("pull did not finish");
}

Status SyncClient::FollowUnits(const std::string& version, SyncReport* report) {
  if (version.empty() || version == store_.Setting("units_version")) return Status::Ok();
  std::string csv, type;
  Status s = http_.Call("GET", "/v1/units", "", "application/json", "text/csv", &csv, &type);
  if (!s.ok()) return s;  // the next sync asks again
  // A list without this device's own unit is not taken (codes are permanent,
  // so that is a server's mistake); it is asked for again at the next sync.
  if (!store_.SetUnits(csv).ok()) return Status::Ok();
  report->units_updated = true;
  return store_.SetSetting("units_version", version);
}

Status SyncClient::FollowDefinitions(const std::string& version, SyncReport* report) {
  if (version.empty() || version == store_.Setting("definitions_version")) return Status::Ok();
  std::string body, type;
  Status s = http_.Call("GET", "/v1/definitions", "", "application/json", "application/json", &body, &type);
  if (!s.ok()) return s;  // the next sync asks again
  definitions::Published published;
  s = definitions::FromJson(body, &published);
  // Definitions this device cannot put in force (a broken answer) are not
  // taken: it keeps those it has and asks again at the next sync.
  LocalStore::DefinitionsTaken taken;
  if (s.ok()) s = store_.SetPublishedDefinitions(published, &taken);
  if (!s.ok()) {
    report->definitions_problem = s.message();
    return Status::Ok();
  }
  report->forms_updated = std::move(taken.forms);
  report->sheets_updated = std::move(taken.sheets);
  report->catalogue_updated = taken.catalogue;
  return store_.SetSetting("definitions_version", version);
}

Status SyncClient::FetchConflicts(const std::string& record_id, std::vector<ConflictField>* out) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in");
  http_.set_token(token);
  std::string resp;
  Status s = http_.Call("GET", "/v1/conflicts/" + record_id, "", &resp);
  if (!s.ok()) return s;
  Object::Ptr o;
  if (!json::ParseObject(resp, &o).ok() || !o->has("conflicts")) return Status::Unavailable("unreadable conflicts answer");
  out->clear();
  auto arr = o->getArray("conflicts");
  for (size_t i = 0; arr && i < arr->size(); ++i) {
    auto c = arr->getObject(static_cast<unsigned>(i));
    auto by = [&](const char* side) {
      auto who = c->getObject(side);
      return who ? who->optValue<std::string>("author", "?") : std::string("?");
    };
    out->push_back({c->optValue<std::string>("field", ""), c->optValue<std::string>("current", "null"),
                    c->optValue<std::string>("incoming", "null"), by("current_by"), by("incoming_by")});
  }
  return Status::Ok();
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

Status SyncClient::UploadFiles(SyncReport* report, bool* progressed, int64_t* waiting) {
  std::vector<LocalStore::Upload> uploads;
  Status s = store_.PendingUploads(&uploads);
  if (!s.ok()) return s;
  Status first;
  for (const auto& u : uploads) {
    if (StopRequested()) break;
    s = UploadOne(u, report, progressed);
    if (s.ok()) continue;
    ++*waiting;
    if (first.ok()) first = s;
    // A photo whose record has not reached the server yet (its push was cut)
    // waits; the next photo may belong to a record that is there.
    if (IsLinkFailure(s)) break;
  }
  return first;
}

Status SyncClient::UploadOne(const LocalStore::Upload& u, SyncReport* report, bool* progressed) {
  FILE* f = std::fopen(store_.FilePath(u.sha256).c_str(), "rb");
  if (!f) return Status::Internal("attached file " + u.sha256 + " is missing from the store");
  std::unique_ptr<FILE, int (*)(FILE*)> guard(f, &std::fclose);
  int64_t chunk_bytes = std::atoll(store_.Setting("chunk_bytes", std::to_string(options_.chunk_bytes)).c_str());
  chunk_bytes = std::clamp(chunk_bytes, options_.min_chunk_bytes, options_.max_chunk_bytes);
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
    // Bytes of a chunk cut in an earlier round that the server kept count as
    // progress (the link carries something: keep the backoff short).
    auto known = file_offsets_.find(u.sha256);
    if (known != file_offsets_.end() && received > known->second) *progressed = true;
    file_offsets_[u.sha256] = received;
    while (received < u.size) {
      std::string chunk(std::min<int64_t>(chunk_bytes, u.size - received), '\0');
      if (fseeko(f, received, SEEK_SET) != 0 || std::fread(chunk.data(), 1, chunk.size(), f) != chunk.size())
        return Status::Internal("cannot read attached file " + u.sha256);
      std::string type;
      Report("files", u.size - received);
      s = http_.Call("PUT", "/v1/files/" + u.sha256 + "?offset=" + std::to_string(received), chunk,
                     "application/octet-stream", "application/json", &resp, &type);
      if (s.code() == Code::kFailedPrecondition) break;  // the server has more (a lost answer): ask again
      // After a cut the server has kept what arrived of this chunk; the next
      // try asks where it stopped. Chunks are not shrunk after a cut: nothing
      // of a cut chunk is lost, and every chunk boundary costs a round trip
      // with the link idle, so on a slow link larger chunks carry more.
      if (!s.ok()) return s;
      report->file_bytes_sent += static_cast<int64_t>(chunk.size());
      if (!json::ParseObject(resp, &o).ok()) return Status::Unavailable("unreadable upload answer");
      int64_t now = o->optValue<Poco::Int64>("received", 0);
      if (now > received) *progressed = true;
      received = now;
      chunk_bytes = std::min(options_.max_chunk_bytes, chunk_bytes * 2);
      (void)store_.SetSetting("chunk_bytes", std::to_string(chunk_bytes));
    }
    if (received >= u.size) {
      ++report->files_uploaded;
      *progressed = true;
      return store_.MarkUploaded(u.sha256);
    }
  }
  return Status::Internal("upload did not finish");
}

namespace {
Status ReadWholeFile(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::Internal("cannot read " + path);
  out->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok ? Status::Ok() : Status::Internal("cannot read " + path);
}
}  // namespace

Status SyncClient::DownloadResumable(const std::string& path, const std::string& part, const std::string& etag) {
  Status s;
  int idle = 0;
  for (int attempt = 0; attempt < 1000 && idle < 3; ++attempt) {
    bool complete = false;
    s = http_.Download(path, part, etag, &complete);
    if (complete) return Status::Ok();
    if (!IsLinkFailure(s) || http_.cancelled() || StopRequested()) return s;
    idle = http_.last_bytes_received() > 0 ? 0 : idle + 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(idle == 0 ? 50 : 500 * idle));
  }
  return s.ok() ? Status::Unavailable("the download did not finish") : s;
}

Status SyncClient::FetchFile(const std::string& sha256) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in");
  if (!hash::IsSha256Hex(sha256)) return Status::Invalid("'" + sha256 + "' is not a SHA-256");
  http_.set_token(token);
  // Resumable: the bytes that arrive are kept in <file>.part and a cut link
  // continues from there (Range), as long as each attempt brings some.
  Status s = store_.MakeFilesDir();
  if (!s.ok()) return s;
  const std::string part = store_.FilePath(sha256) + ".part";
  s = DownloadResumable("/v1/files/" + sha256, part, "\"" + sha256 + "\"");
  if (!s.ok()) return s;
  std::string bytes;
  s = ReadWholeFile(part, &bytes);
  if (!s.ok()) return s;
  std::remove(part.c_str());
  if (hash::Sha256Hex(bytes) != sha256)
    return Status::Invalid("the photo " + sha256.substr(0, 12) + "… arrived damaged (its bytes do not match); fetch it again");
  return store_.SaveFile(sha256, bytes);
}

Status FetchFileAlone(const std::string& home, const std::string& url, const HttpOptions& http_options,
                      const std::string& sha256) {
  std::unique_ptr<LocalStore> store;
  Status s = LocalStore::Open(home, SystemClock::Get(), &store);
  if (!s.ok()) return s;
  HttpClient http(url, http_options);
  SyncClient sc(*store, http);
  return sc.FetchFile(sha256);
}

Status SyncClient::FetchReturnFile(const std::string& device, int64_t since, const std::string& part, std::string* bytes) {
  std::string token = store_.Setting("token");
  if (token.empty()) return Status::Unauth("not logged in");
  if (!ids::IsUuid(device)) return Status::Invalid("'" + device + "' is not a device id (ocop status on that device shows it)");
  http_.set_token(token);
  // Resumable like a photo: the server names the file by its SHA-256 (ETag)
  // and keeps it a day, so a cut link continues on the same bytes. The part
  // is named for the device and cursor: another export does not continue it.
  Status s = DownloadResumable("/v1/return/" + device + "?since=" + std::to_string(since), part, "");
  if (!s.ok()) return s;
  s = ReadWholeFile(part, bytes);
  if (!s.ok()) return s;
  const std::string etag = HttpClient::KeptEtag(part);
  if (etag.size() == 66 && hash::Sha256Hex(*bytes) != etag.substr(1, 64)) {
    std::remove(part.c_str());
    std::remove((part + ".etag").c_str());
    return Status::Unavailable("the return file arrived damaged (its bytes do not match); fetch it again");
  }
  std::remove(part.c_str());
  std::remove((part + ".etag").c_str());
  return Status::Ok();
}

std::string SyncOutcome(const Status& s, const SyncReport& report) {
  return s.ok()                          ? "done"
         : report.stopped_by_user        ? "stopped_by_user"
         : report.deadline_reached       ? "deadline"
         : s.code() == Code::kUnavailable ? "no_connection"
         : s.code() == Code::kInsufficientStorage ? "server_full"
                                          : "refused";
}

json::Object SyncSummary(const Status& s, const SyncReport& report) {
  json::Object o;
  o.set("ok", s.ok());
  o.set("stopped", SyncOutcome(s, report));
  if (!s.ok()) {
    o.set("error", s.message());
    o.set("error_vi", msg::Localise(s, "vi"));
    o.set("error_en", msg::Localise(s, "en"));
  }
  o.set("sent", report.changes_sent);
  o.set("applied", report.changes_applied);
  o.set("merged", report.changes_merged);
  o.set("in_conflict", report.changes_in_conflict);
  o.set("received", report.records_received);
  o.set("open_conflicts", report.open_conflicts);
  o.set("pending", report.pending_after);
  o.set("requests", report.http.requests);
  o.set("bytes_sent", report.http.bytes_sent);
  o.set("bytes_received", report.http.bytes_received);
  o.set("files_uploaded", report.files_uploaded);
  o.set("carried_sent", report.carried_sent);
  o.set("carried_refused", report.carried_refused);
  o.set("file_bytes_sent", report.file_bytes_sent);
  o.set("files_waiting", report.files_waiting);
  if (!report.files_error.empty()) o.set("files_error", report.files_error);  // why a photo waits
  o.set("files_downloaded", report.files_downloaded);
  o.set("numbered", report.numbered);
  o.set("units_updated", report.units_updated);
  Poco::JSON::Array::Ptr forms = new Poco::JSON::Array;
  for (const auto& [form, version] : report.forms_updated) {
    Poco::JSON::Object::Ptr f = new Poco::JSON::Object;
    f->set("form", form);
    f->set("version", version);
    forms->add(f);
  }
  o.set("forms_updated", forms);
  Poco::JSON::Array::Ptr sheets = new Poco::JSON::Array;
  for (const auto& id : report.sheets_updated) sheets->add(id);
  o.set("sheets_updated", sheets);
  o.set("catalogue_updated", report.catalogue_updated);
  if (!report.definitions_problem.empty()) o.set("definitions_problem", report.definitions_problem);
  o.set("attempts", report.attempts);
  o.set("drops", report.cuts);
  o.set("seconds", report.seconds);
  return o;
}

Status CheckPasswordTransport(const std::string& url, bool insecure) {
  if (url.rfind("https://", 0) == 0 || insecure) return Status::Ok();
  std::string host = url.substr(url.rfind("http://", 0) == 0 ? 7 : 0);
  host = host.substr(0, host.find_first_of("/"));
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
  if (host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0) return Status::Ok();
  return Status::Invalid("refusing to send a password over plain HTTP to " + host +
                         ": use an https:// server URL (ocop init --server https://... --ca FILE), or --insecure");
}

}  // namespace ocop::client
