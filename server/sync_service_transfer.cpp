// The sync service's transfers: pull pages, carried files, photo uploads and
// downloads, resumable push bodies.
#include "server/sync_service.h"

#include "shared/media.h"

#include "server/disk_space.h"
#include "shared/receipt.h"

#include <set>

#include "server/store/file_store.h"
#include "server/password.h"
#include "shared/dates.h"
#include "shared/hash.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "shared/workflow.h"
#include "sync/carried.h"
#include "sync/codec.h"
#include "sync/columns.h"
#include "sync/merge.h"
#include "sync/patch.h"


namespace ocop::server {

using json::Object;
using json::Var;

// ---- pull ----

Status SyncService::Pull(const AuthUser& user, const PullRequest& req, sync::PullPage* out) {
  if (req.since < 0) return Status::Invalid("'since' must not be negative");
  if (req.limit < 1 || req.limit > limits_.max_pull_limit)
    return Status::Invalid("'limit' must be between 1 and " + std::to_string(limits_.max_pull_limit));
  if (req.reserve_receipts < 0 || req.reserve_receipts > 1000)
    return Status::Invalid("'reserve_receipts' must be between 0 and 1000");
  if (req.max_bytes < 0) return Status::Invalid("'max_bytes' must not be negative");
  if (req.patch_since < 0 || req.patch_since > req.since)
    return Status::Invalid("'patch_since' must be between 0 and 'since'");
  std::vector<StoredRecord> rows;
  bool more = false;
  int64_t cursor = req.since;
  Status s = store_.ReadSince(user.unit_path, req.since, req.limit, user.device, &rows, &cursor, &more);
  if (!s.ok()) return s;
  sync::PullPage page;
  page.records.reserve(rows.size());
  int64_t bytes = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    sync::RecordState state = ToRecordState(rows[i]);
    int64_t base = 0;
    if (req.patch_since > 0) {
      sync::PatchPlan plan =
          sync::PlanPatch(rows[i].created_seq, rows[i].created_version, rows[i].field_versions, req.patch_since);
      Object::Ptr current;
      if (!plan.whole && json::ParseObject(rows[i].fields, &current).ok()) {
        state.fields = sync::PatchText(*current, plan.keys);
        base = plan.base;
      }
      page.patch_bases.push_back(base);
    }
    // The page holds the record's text now: the row's copy goes, so a page
    // of a few MB is not held twice.
    std::string().swap(rows[i].fields);
    std::string().swap(rows[i].field_versions);
    // Pages sized by bytes for slow links: stop once the records reach
    // max_bytes (always at least one record, so every page makes progress).
    bytes += static_cast<int64_t>(state.fields.size() + state.id.size() + state.updated_hlc.size() +
                                  state.updated_by.size() + 64);
    if (req.max_bytes > 0 && bytes > req.max_bytes && i > 0) {
      if (!page.patch_bases.empty()) page.patch_bases.pop_back();
      cursor = rows[i - 1].seq;
      more = true;
      break;
    }
    page.records.push_back(std::move(state));
  }
  page.cursor = cursor;
  page.more = more;
  page.server_hlc = Tick();
  if (req.reserve_receipts > 0 && user.role == "officer") {
    int year = req.receipt_year;
    if (year < 2018 || year > 2100) return Status::Invalid("'receipt_year' must be a year between 2018 and 2100");
    int64_t first = 0, last = 0;
    // The number names the province and district, not the commune: one
    // counter per district (shared/receipt.h). Numbers used to be counted per
    // commune; a district's counter starts past every number its communes
    // already gave out, so none is given twice across the change.
    const std::string scope = ReceiptScope(*Units(), user.unit);
    std::vector<std::string> legacy = ReceiptScopeCommunes(*Units(), scope);
    s = store_.RunWrite([&](WriteTxn& txn) {
      int64_t floor = 1;
      for (const auto& commune : legacy) {
        if (commune == scope) continue;
        int64_t next = 0;
        Status st = txn.PeekReceiptCounter(commune, year, &next);
        if (!st.ok()) return st;
        floor = std::max(floor, next);
      }
      return txn.ReserveReceipts(scope, year, req.reserve_receipts, floor, &first, &last);
    });
    if (!s.ok()) return s;
    page.receipt_year = year;
    page.receipt_first = first;
    page.receipt_last = last;
  }
  *out = std::move(page);
  return Status::Ok();
}


// ---- carried files ----

Status SyncService::ImportCarried(const std::string& bytes, const AuthUser* importer, CarriedImport* out) {
  sync::carried::CarriedFile file;
  Status s = sync::carried::Read(bytes, &file);
  if (!s.ok()) return s;
  if (file.kind != "changes") return Status::Invalid("this is a return file; it goes to the device it was written for");
  std::string user_name = file.user, key;
  bool found = false;
  s = store_.GetDeviceKey(file.device, &user_name, &key, &found);
  if (!s.ok()) return s;
  if (!found || user_name != file.user)
    return Status::Denied("the server knows no key of device " + file.device + " for user " + file.user +
                          ": the device must have logged in once (online) before its files can be carried");
  s = sync::carried::CheckSignature(bytes, key);
  if (!s.ok()) return s;
  UserRow row;
  s = store_.GetUser(file.user, &row);
  if (!s.ok() || row.disabled) return Status::Denied("the account " + file.user + " that wrote the file is disabled or gone");
  auto units = Units();
  AuthUser writer{row.name, row.role, row.unit, units->Path(row.unit), file.device};
  if (importer && !units->IsWithin(row.unit, importer->unit))
    return Status::Denied("the file is from unit " + row.unit + ", outside the scope of " + importer->name);
  out->device = file.device;
  out->user = file.user;
  out->unit = row.unit;
  // One change set at a time, in the order the device froze them: a refused
  // one (a rule broken while the file travelled) does not stop the others, as
  // it would not online.
  for (const auto& cs : file.change_sets) {
    CarriedSetResult r;
    r.changeset_id = cs.id;
    r.status = Push(writer, cs, &r.result);
    out->sets.push_back(std::move(r));
  }
  for (const auto& photo : file.photos) {
    int64_t received = 0, size = 0;
    Status p = BeginUpload(writer, photo.sha256, static_cast<int64_t>(photo.bytes.size()), photo.record_id, &received);
    if (p.ok() && received < static_cast<int64_t>(photo.bytes.size()))
      p = AppendUpload(writer, photo.sha256, received, photo.bytes.substr(static_cast<size_t>(received)), &received, &size);
    if (p.ok()) {
      ++out->photos_stored;
    } else {
      ++out->photos_refused;
      out->photo_error = p.message();
    }
  }
  return Status::Ok();
}

Status SyncService::DeviceAccount(const std::string& device, const AuthUser* requester, UserRow* row,
                                  std::string* key) {
  std::string user_name;
  bool found = false;
  Status s = store_.GetDeviceKey(device, &user_name, key, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("the server knows no device " + device + " (it has never logged in)");
  s = store_.GetUser(user_name, row);
  if (!s.ok()) return s;
  if (requester && !Units()->IsWithin(row->unit, requester->unit))
    return Status::NotFound("no device " + device + " in your scope");
  return Status::Ok();
}

Status SyncService::ExportReturn(const std::string& device, int64_t since, std::string* bytes, int64_t* records,
                                 const AuthUser* requester) {
  if (!ids::IsUuid(device)) return Status::Invalid("'" + device + "' is not a device id (ocop status shows it)");
  if (since < 0) return Status::Invalid("--since must not be negative");
  UserRow row;
  std::string key;
  Status s = DeviceAccount(device, requester, &row, &key);
  if (!s.ok()) return s;
  AuthUser reader{row.name, row.role, row.unit, Units()->Path(row.unit), device};
  sync::carried::CarriedFile file;
  file.kind = "return";
  file.device = device;
  file.user = row.name;
  file.unit = row.unit;
  file.created_at = NowIso();
  file.since = since;
  file.cursor = since;
  *records = 0;
  // Bounded: each page moves the cursor forward; the limit stops a runaway.
  for (int n = 0; n < 100000; ++n) {
    PullRequest req;
    req.since = file.cursor;
    req.limit = limits_.max_pull_limit;
    sync::PullPage page;
    s = Pull(reader, req, &page);
    if (!s.ok()) return s;
    file.cursor = page.cursor;
    *records += static_cast<int64_t>(page.records.size());
    bool more = page.more;
    file.pages.push_back(std::move(page));
    if (!more) break;
  }
  std::vector<std::string> answers;
  s = store_.ChangeSetAnswers(device, 100000, &answers);
  if (!s.ok()) return s;
  for (const auto& text : answers) {
    sync::PushResult r;
    if (sync::DecodeJson(text, &r).ok()) file.answers.push_back(std::move(r));
  }
  *bytes = sync::carried::Write(file, key);
  return Status::Ok();
}


Status SyncService::ReturnFile(const std::string& device, int64_t since, const AuthUser& requester,
                               const std::string& wanted, std::string* bytes, std::string* sha) {
  if (!wanted.empty() && push_bodies_) {
    bool kept = false;
    {
      std::lock_guard<std::mutex> lock(returns_mu_);
      auto it = returns_kept_.find(wanted);
      kept = it != returns_kept_.end() && it->second == device;
    }
    // The scope is checked again: the file is only read back for whoever may have it written.
    UserRow row;
    std::string key;
    if (kept && DeviceAccount(device, &requester, &row, &key).ok() && push_bodies_->Complete(wanted) &&
        push_bodies_->Read(wanted, bytes).ok()) {
      *sha = wanted;
      return Status::Ok();
    }
  }
  int64_t records = 0;
  Status s = ExportReturn(device, since, bytes, &records, &requester);
  if (!s.ok()) return s;
  *sha = hash::Sha256Hex(*bytes);
  if (!push_bodies_) return Status::Ok();
  int64_t received = 0;
  // Keeping it is a convenience: a failure only means a cut download starts again.
  if (push_bodies_->Complete(*sha) ||
      push_bodies_->Append(*sha, static_cast<int64_t>(bytes->size()), 0, *bytes, &received).ok()) {
    std::lock_guard<std::mutex> lock(returns_mu_);
    if (returns_kept_.size() >= 256) returns_kept_.clear();  // bounded; older ones are simply written again
    returns_kept_[*sha] = device;
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, int64_t>> SyncService::FreeSpace() const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& dir : space_dirs_) out.emplace_back(dir, FreeBytes(dir));
  return out;
}

Status SyncService::CheckSpace() const {
  for (const auto& dir : space_dirs_) {
    int64_t free = FreeBytes(dir);
    if (free >= 0 && free < limits_.min_free_bytes)
      return Status::Full("the server's disk is nearly full (" + std::to_string(free / (1024 * 1024)) +
                          " MB free); everything stays on the device: sync again later");
  }
  return Status::Ok();
}

Status SyncService::BeginUpload(const AuthUser& user, const std::string& sha, int64_t size, const std::string& record_id,
                                int64_t* received) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!hash::IsSha256Hex(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  if (size < 1 || size > limits_.max_file_bytes)
    return Status(Code::kPayloadTooLarge, "a file must have 1 to " + std::to_string(limits_.max_file_bytes) + " bytes");
  if (!ids::IsUuid(record_id)) return Status::Invalid("'" + record_id + "' is not a record id");
  StoredRecord rec;
  bool found = false;
  Status s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("record " + record_id + " is not on the server yet; sync the forms first");
  if (!InScope(user, rec.unit_path)) return Status::Denied("record " + record_id + " is outside your scope");
  std::string owner;
  int64_t known_size = 0;
  s = store_.GetFile(sha, &owner, &known_size, &found);
  if (!s.ok()) return s;
  if (found && known_size != size) return Status::Invalid("file " + sha + " was announced with another size");
  *received = files_->Received(sha);
  if (*received >= size) return Status::Ok();  // complete already: nothing to take
  // A new or resumed upload takes disk: within the account's budget and above the floor.
  s = uploads_.Admit(user.name, "photo:" + sha, size, clock_.NowMillis());
  if (s.ok()) s = CheckSpace();
  if (!s.ok()) return s;
  if (!found) {
    s = store_.PutFile(sha, record_id, size);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status SyncService::AppendUpload(const AuthUser& user, const std::string& sha, int64_t offset, const std::string& bytes,
                                 int64_t* received, int64_t* size) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!hash::IsSha256Hex(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256");
  std::string record_id;
  bool found = false;
  Status s = store_.GetFile(sha, &record_id, size, &found);
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("no upload of " + sha + " was begun");
  StoredRecord rec;
  s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::Denied("file " + sha + " is outside your scope");
  if (files_->Complete(sha)) return files_->Append(sha, *size, offset, bytes, received);  // a repeated last chunk
  if (offset == 0 && !media::CanBeImage(bytes, *size)) {
    uploads_.Finished("photo:" + sha);
    return Status::Invalid("the file is not a photo: only JPEG, PNG and WebP images are taken");
  }
  s = uploads_.Admit(user.name, "photo:" + sha, *size, clock_.NowMillis());
  if (s.ok()) s = CheckSpace();
  if (!s.ok()) return s;
  s = files_->Append(sha, *size, offset, bytes, received);
  if ((s.ok() && *received >= *size) || s.code() == Code::kInvalidArgument) uploads_.Finished("photo:" + sha);
  // Photo uploads left unfinished are swept after two days (the budget lets them go then too).
  if (++uploads_appended_ % 256 == 1) files_->RemoveOlderThan(limits_.uploads.expire_ms / 1000, /*partials_only=*/true);
  return s;
}

Status SyncService::ReadFile(const AuthUser& user, const std::string& sha, std::string* content) {
  if (!files_) return Status::Unavailable("this server keeps no files");
  if (!hash::IsSha256Hex(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256");
  std::string record_id;
  int64_t size = 0;
  bool found = false;
  Status s = store_.GetFile(sha, &record_id, &size, &found);
  if (!s.ok()) return s;
  StoredRecord rec;
  if (found) s = store_.GetRecord(record_id, &rec, &found);
  if (!s.ok()) return s;
  if (!found || !InScope(user, rec.unit_path)) return Status::NotFound("no file " + sha + " in your scope");
  return files_->Read(sha, content);
}

Status SyncService::PushBodyReceived(const std::string& sha, int64_t* received) {
  if (!push_bodies_) return Status::NotFound("this server takes no resumable pushes; use POST /v1/push");
  if (!hash::IsSha256Hex(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  *received = push_bodies_->Received(sha);
  return Status::Ok();
}

Status SyncService::AppendPushBody(const AuthUser& user, const std::string& sha, int64_t size, int64_t offset,
                                   const std::string& bytes, int64_t* received, bool* applied,
                                   sync::PushResult* result) {
  *applied = false;
  if (!push_bodies_) return Status::NotFound("this server takes no resumable pushes; use POST /v1/push");
  if (!hash::IsSha256Hex(sha)) return Status::Invalid("'" + sha + "' is not a SHA-256 (64 lower-case hex digits)");
  if (size < 1 || size > limits_.max_push_body_bytes)
    return Status(Code::kPayloadTooLarge,
                  "a change-set body must have 1 to " + std::to_string(limits_.max_push_body_bytes) + " bytes");
  Status s = uploads_.Admit(user.name, "push:" + sha, size, clock_.NowMillis());
  if (s.ok()) s = CheckSpace();
  if (!s.ok()) return s;
  s = push_bodies_->Append(sha, size, offset, bytes, received);
  if (!s.ok() && s.code() == Code::kInvalidArgument) uploads_.Finished("push:" + sha);
  if (!s.ok() || *received < size) return s;
  uploads_.Finished("push:" + sha);
  // Complete and verified against its SHA-256: decode and push it. Pushing the
  // same body again (an answer lost on the way back) returns the stored answer.
  InHand in_hand(*this, InHand::kPush);
  sync::ChangeSet cs;
  {
    // The body and its decompressed bytes are freed before the change set is applied.
    std::string body, plain;
    s = push_bodies_->Read(sha, &body);
    if (s.ok()) s = sync::Decompress(body, limits_.max_inflated_bytes, &plain);
    if (s.ok()) s = sync::LooksLikeColumns(plain) ? sync::DecodeColumns(plain, &cs) : sync::DecodeBinary(plain, &cs);
  }
  if (!s.ok()) return Status(s.code(), "change-set body " + sha.substr(0, 12) + ": " + s.message());
  s = Push(user, std::move(cs), result);
  if (!s.ok()) return s;
  *applied = true;
  // Bodies are kept a day so that a lost answer costs one small request; sweep now and then.
  if (++bodies_completed_ % 64 == 1) push_bodies_->RemoveOlderThan(24 * 3600);
  return Status::Ok();
}


int64_t SyncService::FileReceived(const std::string& sha) {
  if (!files_ || !hash::IsSha256Hex(sha) || files_->Complete(sha)) return -1;  // complete: a repeated chunk is harmless
  return files_->Received(sha);
}

}  // namespace ocop::server
