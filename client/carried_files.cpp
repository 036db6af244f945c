#include "client/carried_files.h"

#include <cstdio>
#include <fstream>
#include <set>

#include "sync/carried.h"
#include "shared/hash.h"

namespace ocop::client {

namespace {

namespace carried = sync::carried;

Status WriteWhole(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Invalid("cannot write " + path + " (does its folder exist, is it writable?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::Internal("could not write all of " + path + " (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::Internal("cannot put the file at " + path);
  }
  return Status::Ok();
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status WriteCarriedFile(const std::string& path, const std::string& bytes) { return WriteWhole(path, bytes); }

Status ReadCarriedFile(const std::string& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  bytes->clear();
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    bytes->append(buf, static_cast<size_t>(in.gcount()));
    if (bytes->size() > carried::kMaxFileBytes)
      return Status(Code::kPayloadTooLarge, path + " is larger than a carried file may be (512 MB)");
  }
  return Status::Ok();
}

namespace {

// The file's bytes and its structure (not yet its signature).
Status ReadAndCheck(const std::string& path, std::string* bytes, carried::CarriedFile* f) {
  Status s = ReadCarriedFile(path, bytes);
  if (!s.ok()) return s;
  return carried::Read(*bytes, f);
}

}  // namespace

Status ExportOutbox(LocalStore& store, const std::string& output, bool with_files, ExportSummary* out) {
  std::string key = store.Setting("device_key");
  if (key.empty())
    return Status::Precondition(
        "this device has no key yet: log in once where there is a link (ocop login), so the server can later "
        "recognise this device's files");
  std::vector<sync::ChangeSet> sets;
  Status s = store.FreezePending(500, &sets);
  if (!s.ok()) return s;
  carried::CarriedFile f;
  f.kind = "changes";
  f.device = store.device_id();
  f.user = store.Setting("user");
  f.unit = store.commune();
  f.created_at = store.NowIso();
  f.change_sets = sets;
  if (with_files) {
    std::vector<LocalStore::Upload> uploads;
    s = store.PendingUploads(&uploads);
    if (!s.ok()) return s;
    for (const auto& u : uploads) {
      std::string bytes;
      s = ReadCarriedFile(store.FilePath(u.sha256), &bytes);
      if (!s.ok()) return Status::Internal("photo " + u.sha256 + " is missing from this device: " + s.message());
      f.photos.push_back({u.sha256, u.record_id, std::move(bytes)});
    }
  }
  if (f.change_sets.empty() && f.photos.empty())
    return Status::Precondition("nothing to export: no change is waiting to be sent");
  std::string bytes = carried::Write(f, key);
  s = WriteWhole(output, bytes);
  if (!s.ok()) return s;
  std::vector<std::string> ids;
  for (const auto& cs : f.change_sets) {
    ids.push_back(cs.id);
    out->changes += cs.changes.size();
  }
  s = store.NoteExported(ids, BaseName(output));
  if (!s.ok()) return s;
  out->change_sets = f.change_sets.size();
  out->photos = f.photos.size();
  out->bytes = bytes.size();
  return Status::Ok();
}

Status ImportChangesFile(LocalStore& store, const std::string& path, CarriedInSummary* out) {
  std::string bytes;
  carried::CarriedFile f;
  Status s = ReadAndCheck(path, &bytes, &f);
  if (!s.ok()) return s;
  if (f.kind != "changes") return Status::Invalid("this is a return file: import it on its device with ocop import-pull");
  if (f.device == store.device_id())
    return Status::Invalid("this file was written by this very device; its changes are sent by its own sync");
  if (store.Setting("token").empty())
    return Status::Unauth("log in first (ocop login): the file is pushed with your account at the next sync");
  // Only within the scope of this device's account: the server checks again.
  std::string scope = store.Setting("user_unit", store.commune());
  if (!store.units().IsWithin(f.unit, scope))
    return Status::Denied("the file is from unit " + f.unit + ", outside your scope (" + scope + ")");
  // The signature is the server's to check (only it and the writing device
  // hold the key); the structure was checked above.
  LocalStore::CarriedIn in;
  in.sha256 = hash::Sha256Hex(bytes);
  in.body = bytes;
  in.device = f.device;
  in.user = f.user;
  in.unit = f.unit;
  for (const auto& cs : f.change_sets) in.changes += static_cast<int64_t>(cs.changes.size());
  s = store.AddCarriedIn(in, &out->already);
  if (!s.ok()) return s;
  out->device = f.device;
  out->user = f.user;
  out->unit = f.unit;
  out->changes = in.changes;
  out->photos = f.photos.size();
  return Status::Ok();
}

Status ImportReturnFile(LocalStore& store, const std::string& path, ReturnSummary* out) {
  std::string bytes;
  carried::CarriedFile f;
  Status s = ReadAndCheck(path, &bytes, &f);
  if (!s.ok()) return s;
  if (f.kind != "return") return Status::Invalid("this is a file of changes: it goes to the server (ocopd --import-changes)");
  if (f.device != store.device_id())
    return Status::Invalid("this return file is for device " + f.device + ", not this one (" + store.device_id() + ")");
  std::string key = store.Setting("device_key");
  if (key.empty()) return Status::Precondition("this device has no key to check the file with (log in once first)");
  s = carried::CheckSignature(bytes, key);
  if (!s.ok()) return s;
  // Answers first: they settle change sets this device still holds in flight
  // (sent by link or carried); answers to sets already settled are old news.
  std::vector<std::string> inflight;
  s = store.InflightIds(&inflight);
  if (!s.ok()) return s;
  std::set<std::string> waiting(inflight.begin(), inflight.end());
  for (const auto& a : f.answers) {
    if (!waiting.count(a.changeset_id)) continue;
    s = store.AckChangeSet(a);
    if (!s.ok()) return s;
    ++out->answers_applied;
  }
  StoreInfo info;
  s = store.Info(&info);
  if (!s.ok()) return s;
  if (f.since > info.cursor)
    return Status::Precondition("the file starts at cursor " + std::to_string(f.since) + " but this device is at " +
                                std::to_string(info.cursor) + "; ask for a return file --since " +
                                std::to_string(info.cursor));
  // Pages at or before the device's cursor hold nothing it lacks; applying
  // them would move the cursor back.
  for (const auto& page : f.pages) {
    if (page.cursor <= info.cursor) continue;
    s = store.ApplyPullPage(page);
    if (!s.ok()) return s;
    info.cursor = page.cursor;
    ++out->pages_applied;
    out->records += page.records.size();
  }
  out->cursor = info.cursor;
  out->nothing_new = out->answers_applied == 0 && out->pages_applied == 0;
  return Status::Ok();
}

}  // namespace ocop::client
