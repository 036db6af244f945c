// The device store's sync side: freezing change sets from the outbox, recording
// the server's answers, laying pulled pages (and patches) over local records,
// carried files, photos waiting to upload, and the way back after a refusal.
// The records side (create, update, list, history) is in local_store.cpp.
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "client/local_store.h"
#include "client/local_store_internal.h"
#include "shared/dates.h"
#include "shared/hash.h"
#include "shared/media.h"
#include "shared/ids.h"
#include "shared/text.h"
#include "sync/codec.h"
#include "sync/merge.h"
#include "sync/patch.h"

namespace ocop::client {

using internal::FileExists;
using internal::MakeDirs;
using internal::ParseFields;
using json::Object;
using json::Var;

// ---- sync ----

namespace {
// A frozen change set as the inflight table keeps it: its binary encoding,
// zstd-compressed (level 1) behind a marker. Written when frozen and deleted
// when answered, a 2,000-form set is 2 MB plain and a quarter of that
// compressed: the store writes a quarter as much. Stores written before hold
// the plain encoding, which is still read.
constexpr std::string_view kPackedMarker = "OCZ1";

std::string PackChangeSet(const sync::ChangeSet& cs) {
  return std::string(kPackedMarker) + sync::Zstd(sync::EncodeBinary(cs), 1);
}

Status UnpackChangeSet(const std::string& stored, sync::ChangeSet* out) {
  if (stored.compare(0, kPackedMarker.size(), kPackedMarker) != 0) return sync::DecodeBinary(stored, out);
  std::string plain;
  Status s = sync::Unzstd(stored.substr(kPackedMarker.size()), 512u * 1024 * 1024, &plain);
  if (!s.ok()) return s;
  return sync::DecodeBinary(plain, out);
}

// An outbox row is frozen when its sequence number lies in the range of a
// change set waiting for the server (schemas/sql/client/005_outbox_ranges.sql).
#define OCOP_OUTBOX_FROZEN "EXISTS (SELECT 1 FROM inflight i WHERE outbox.seq BETWEEN i.seq_lo AND i.seq_hi)"
// The rows of the change set ?1.
#define OCOP_OUTBOX_OF_SET \
  "seq BETWEEN (SELECT seq_lo FROM inflight WHERE changeset_id = ?1) AND (SELECT seq_hi FROM inflight WHERE changeset_id = ?1)"
}  // namespace

Status LocalStore::NextChangeSet(size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  {
    auto st = db_.Prepare("SELECT body FROM inflight ORDER BY created_at, rowid LIMIT 1");
    if (st.Step()) {
      Status s = UnpackChangeSet(st.Blob(0), out);
      if (!s.ok()) return Status::Internal("stored change set is unreadable: " + s.message());
      *has = true;
      return Status::Ok();
    }
  }
  return FreezeNew(max_changes, out, has);
}

Status LocalStore::FreezeNextAfter(const std::string& in_flight, size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  auto st = db_.Prepare("SELECT COUNT(*), COALESCE(SUM(changeset_id = ?), 0) FROM inflight");
  st.Bind(1, in_flight);
  if (!st.Step()) return st.status();
  if (st.Int(0) != 1 || st.Int(1) != 1) return Status::Ok();
  return FreezeNew(max_changes, out, has);
}

Status LocalStore::ThawChangeSet(const std::string& id) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  // Its rows are pending again as soon as the range is gone.
  Status s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, id).Run();
  if (!s.ok()) return s;
  return tx.Commit();
}

Status LocalStore::FreezePending(size_t max_changes, std::vector<sync::ChangeSet>* out) {
  out->clear();
  // Bounded: each round freezes at least one pending change or stops.
  for (int round = 0; round < 1000000; ++round) {
    sync::ChangeSet cs;
    bool has = false;
    Status s = FreezeNew(max_changes, &cs, &has);
    if (!s.ok()) return s;
    if (!has) break;
  }
  auto st = db_.Prepare("SELECT body FROM inflight ORDER BY created_at, rowid");
  while (st.Step()) {
    sync::ChangeSet cs;
    Status s = UnpackChangeSet(st.Blob(0), &cs);
    if (!s.ok()) return Status::Internal("stored change set is unreadable: " + s.message());
    out->push_back(std::move(cs));
  }
  return st.status();
}

Status LocalStore::InflightIds(std::vector<std::string>* out) {
  out->clear();
  auto st = db_.Prepare("SELECT changeset_id FROM inflight ORDER BY created_at, rowid");
  while (st.Step()) out->push_back(st.Text(0));
  return st.status();
}

Status LocalStore::NoteExported(const std::vector<std::string>& ids, const std::string& file_name) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto st = db_.Prepare(
      "INSERT INTO carried_out(changeset_id, file_name, exported_at) VALUES (?,?,?) ON CONFLICT(changeset_id) DO "
      "UPDATE SET file_name = excluded.file_name, exported_at = excluded.exported_at");
  for (const auto& id : ids) {
    Status s = st.Bind(1, id).Bind(2, file_name).Bind(3, NowIso()).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

Status LocalStore::ExportedUnanswered(std::vector<Exported>* out) {
  out->clear();
  auto st = db_.Prepare("SELECT changeset_id, file_name, exported_at FROM carried_out ORDER BY exported_at, changeset_id");
  while (st.Step()) out->push_back({st.Text(0), st.Text(1), st.Text(2)});
  return st.status();
}

Status LocalStore::AddCarriedIn(const CarriedIn& f, bool* already) {
  auto st = db_.Prepare("SELECT 1 FROM carried_in WHERE sha256 = ?");
  st.Bind(1, f.sha256);
  *already = st.Step();
  if (*already) return Status::Ok();
  return db_
      .Prepare("INSERT INTO carried_in(sha256, body, device, user, unit, changes, imported_at) VALUES (?,?,?,?,?,?,?)")
      .Bind(1, f.sha256).BindBlob(2, f.body).Bind(3, f.device).Bind(4, f.user).Bind(5, f.unit).Bind(6, f.changes)
      .Bind(7, NowIso()).Run();
}

Status LocalStore::CarriedInFiles(bool unsent_only, std::vector<CarriedIn>* out) {
  out->clear();
  auto st = db_.Prepare(std::string("SELECT sha256, body, device, user, unit, imported_at, COALESCE(sent_at, ''), "
                                    "COALESCE(result, ''), changes FROM carried_in ") +
                        (unsent_only ? "WHERE sent_at IS NULL " : "") + "ORDER BY imported_at");
  while (st.Step()) {
    CarriedIn f{st.Text(0), unsent_only ? st.Blob(1) : std::string(), st.Text(2), st.Text(3), st.Text(4),
                st.Text(5), st.Text(6), st.Text(7), st.Int(8)};
    out->push_back(std::move(f));
  }
  return st.status();
}

Status LocalStore::MarkCarriedInSent(const std::string& sha256, const std::string& result) {
  return db_.Prepare("UPDATE carried_in SET sent_at = ?, result = ? WHERE sha256 = ?")
      .Bind(1, NowIso()).Bind(2, result).Bind(3, sha256).Run();
}

Status LocalStore::FreezeNew(size_t max_changes, sync::ChangeSet* out, bool* has) {
  *has = false;
  // Group the pending changes by record, in the order records were first touched.
  std::vector<std::string> order;
  std::map<std::string, std::vector<sync::Change>> by_record;
  // The set is one unbroken run of pending rows, from the first pending one:
  // it ends before a frozen row, before a record past `max_changes`, or after
  // twice that many rows. A record whose later edits fall past the end sends
  // them in the next change set, in order, which is still correct.
  int64_t seq_lo = 0, seq_hi = -1;
  {
    auto first = db_.Prepare("SELECT seq FROM outbox WHERE NOT " OCOP_OUTBOX_FROZEN " ORDER BY seq LIMIT 1");
    if (!first.Step()) return first.status();
    seq_lo = first.Int(0);
    auto st = db_.Prepare("SELECT seq, record_id, body, " OCOP_OUTBOX_FROZEN " FROM outbox WHERE seq >= ? ORDER BY seq LIMIT ?");
    st.Bind(1, seq_lo).Bind(2, static_cast<int64_t>(max_changes * 2));
    while (st.Step()) {
      if (st.Int(3) != 0) break;
      std::string rid = st.Text(1);
      if (!by_record.count(rid)) {
        if (order.size() >= max_changes) break;
        order.push_back(rid);
      }
      sync::Change c;
      Status s = sync::DecodeBinary(st.Blob(2), &c);
      if (!s.ok()) return Status::Internal("outbox entry unreadable: " + s.message());
      by_record[rid].push_back(std::move(c));
      seq_hi = st.Int(0);
    }
    if (!st.status().ok()) return st.status();
  }
  if (order.empty()) return Status::Ok();
  sync::ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = device_id_;
  auto version = db_.Prepare("SELECT server_version FROM records WHERE id = ?");
  for (const auto& rid : order) {
    for (auto& c : sync::Coalesce(std::move(by_record[rid]))) {
      version.Bind(1, rid);
      if (version.Step()) c.base_version = version.Int(0);
      version.Reset();
      cs.changes.push_back(std::move(c));
    }
  }
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  // Records created and deleted before the server ever saw them leave no trace
  // to sync; drop them locally too, so this device matches the server.
  auto purge = db_.Prepare("DELETE FROM records WHERE id = ? AND deleted = 1 AND server_fields IS NULL AND server_same = 0");
  std::set<std::string_view> sent;
  for (const auto& c : cs.changes) sent.insert(c.record_id);
  for (const auto& rid : order) {
    if (sent.count(rid)) continue;
    Status s = purge.Bind(1, rid).Run();
    if (!s.ok()) return s;
  }
  if (cs.changes.empty()) {
    // Everything cancelled out: nothing to send.
    Status s = db_.Prepare("DELETE FROM outbox WHERE seq BETWEEN ? AND ?").Bind(1, seq_lo).Bind(2, seq_hi).Run();
    if (!s.ok()) return s;
    return tx.Commit();
  }
  Status s = db_.Prepare("INSERT INTO inflight(changeset_id, body, created_at, seq_lo, seq_hi) VALUES (?, ?, ?, ?, ?)")
                 .Bind(1, cs.id).BindBlob(2, PackChangeSet(cs)).Bind(3, NowIso()).Bind(4, seq_lo).Bind(5, seq_hi).Run();
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  *out = std::move(cs);
  *has = true;
  return Status::Ok();
}

Status LocalStore::AckChangeSet(const sync::PushResult& result) {
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  auto conflict = db_.Prepare("UPDATE records SET conflict = 1 WHERE id = ?");
  for (const auto& o : result.outcomes) {
    if (o.result != sync::outcome::kConflict) continue;
    Status s = conflict.Bind(1, o.record_id).Run();
    if (!s.ok()) return s;
  }
  Status s = db_.Prepare("DELETE FROM outbox WHERE " OCOP_OUTBOX_OF_SET).Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  // "applied" means the server now holds exactly this device's view at that
  // version, and will not send it back (the echo is skipped on pull).
  auto adopt = db_.Prepare(
      "UPDATE records SET server_version = ?, server_fields = NULL, server_same = 1, server_deleted = deleted WHERE id = ? AND "
      "server_version < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = records.id)");
  for (const auto& o : result.outcomes) {
    if (o.result != sync::outcome::kApplied) continue;
    s = adopt.Bind(1, o.version).Bind(2, o.record_id).Bind(3, o.version).Run();
    if (!s.ok()) return s;
  }
  s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  s = db_.Prepare("DELETE FROM carried_out WHERE changeset_id = ?").Bind(1, result.changeset_id).Run();
  if (!s.ok()) return s;
  // A pull may already have brought the server's state after these changes
  // (when an earlier answer was lost): with nothing left pending, the record
  // shows that state rather than this device's possibly older overlay.
  auto refresh = db_.Prepare(
      "UPDATE records SET fields = server_fields, deleted = server_deleted WHERE id = ? AND server_same = 0 AND server_fields IS NOT NULL "
      "AND server_version >= ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = records.id)");
  for (const auto& o : result.outcomes) {
    s = refresh.Bind(1, o.record_id).Bind(2, o.version).Run();
    if (!s.ok()) return s;
  }
  hlc_.Observe(result.server_hlc);
  s = SaveHlc();
  if (!s.ok()) return s;
  return tx.Commit();
}

int64_t LocalStore::CompleteCursor() { return std::atoll(Setting("complete_cursor", "0").c_str()); }

Status LocalStore::ApplyPullPage(const sync::PullPage& page, bool* patch_missed) {
  if (patch_missed) *patch_missed = false;
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  // Patches first: each is laid over this device's copy of the server's state,
  // which must have reached the patch's base version.
  std::vector<std::string> whole(page.records.size());
  if (!page.patch_bases.empty()) {
    auto& copy = db_.Cached(
        "SELECT server_version, CASE WHEN server_same = 1 THEN fields ELSE server_fields END FROM records "
        "WHERE id = ? AND (server_same = 1 OR server_fields IS NOT NULL)");
    for (size_t i = 0; i < page.records.size(); ++i) {
      if (page.patch_bases[i] <= 0) continue;
      const auto& rs = page.records[i];
      copy.Bind(1, rs.id);
      bool have = copy.Step() && copy.Int(0) >= page.patch_bases[i];
      std::string held = have ? copy.Text(1) : std::string();
      copy.Reset();
      if (!have) {
        if (patch_missed) {
          *patch_missed = true;
          return Status::Ok();  // the transaction rolls back: nothing changed
        }
        return Status::Precondition("record " + rs.id + " came as a patch for version " +
                                    std::to_string(page.patch_bases[i]) + ", which this device does not hold");
      }
      Status s = sync::ApplyPatch(held, rs.fields, &whole[i]);
      if (!s.ok()) return s;
    }
  }
  bool any_pending = false;
  {
    auto& st = db_.Cached("SELECT EXISTS(SELECT 1 FROM outbox)");
    sql::ResetOnExit reset(st);
    any_pending = st.Step() && st.Int(0) != 0;
  }
  // created_at is set on insert only; an existing record keeps its own.
  auto& upsert = db_.Cached(
      "INSERT INTO records(id, form, unit, fields, deleted, server_version, server_fields, server_deleted, conflict, "
      "created_at, updated_at, search_text, server_same) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
      "form = excluded.form, unit = excluded.unit, fields = excluded.fields, deleted = excluded.deleted, "
      "server_version = excluded.server_version, server_fields = excluded.server_fields, "
      "server_deleted = excluded.server_deleted, conflict = excluded.conflict, updated_at = excluded.updated_at, "
      "search_text = excluded.search_text, server_same = excluded.server_same");
  std::string now = NowIso();
  for (size_t i = 0; i < page.records.size(); ++i) {
    const auto& rs = page.records[i];
    const std::string& server_fields = whole[i].empty() ? rs.fields : whole[i];
    // Parsed only when this device has edits to lay over the server's state;
    // the search text is made at the first search (FillSearchText).
    bool deleted = rs.deleted, rebased = false;
    Object fields;
    if (any_pending) {
      fields = ParseFields(server_fields);
      rebased = OverlayPending(rs.id, &fields, &deleted);
    }
    upsert.Bind(1, rs.id).Bind(2, rs.form).Bind(3, rs.unit).Bind(4, rebased ? json::ToText(fields) : server_fields)
        .Bind(5, deleted ? 1 : 0).Bind(6, rs.version).Bind(8, rs.deleted ? 1 : 0)
        .Bind(9, rs.conflict ? 1 : 0).Bind(10, now).Bind(11, now)
        .Bind(12, std::string()).Bind(13, rebased ? 0 : 1);
    // The server's copy is kept apart only when this device's edits lie over it.
    Status s = (rebased ? upsert.Bind(7, server_fields) : upsert.BindNull(7)).Run();
    if (!s.ok()) return s;
  }
  Status s = SetSetting("cursor", std::to_string(page.cursor));
  if (!s.ok()) return s;
  if (!page.more) {
    s = SetSetting("complete_cursor", std::to_string(page.cursor));
    if (!s.ok()) return s;
  }
  if (page.receipt_last > 0) {
    s = AddReceiptBlock(commune_, page.receipt_year, page.receipt_first, page.receipt_last);
    if (!s.ok()) return s;
  }
  hlc_.Observe(page.server_hlc);
  s = SaveHlc();
  if (!s.ok()) return s;
  return tx.Commit();
}

bool LocalStore::HasFile(const std::string& sha) const { return FileExists(FilePath(sha)); }

Status LocalStore::FrozenChangeCount(int64_t* out) {
  auto st = db_.Prepare("SELECT COUNT(*) FROM outbox WHERE " OCOP_OUTBOX_FROZEN);
  *out = st.Step() ? st.Int(0) : 0;
  return st.status();
}

Status LocalStore::PendingByRecord(std::vector<PendingRecord>* out) {
  out->clear();
  std::map<std::string, size_t> at;
  auto st = db_.Prepare("SELECT record_id, body, " OCOP_OUTBOX_FROZEN " FROM outbox ORDER BY seq");
  while (st.Step()) {
    std::string id = st.Text(0);
    auto [it, added] = at.emplace(id, out->size());
    if (added) out->push_back({id, 0, {}, false});
    PendingRecord& p = (*out)[it->second];
    ++p.changes;
    p.in_flight = p.in_flight || st.Int(2) != 0;
    sync::Change c;
    if (!sync::DecodeBinary(st.Blob(1), &c).ok()) continue;
    for (const auto& f : c.fields)
      if (std::find(p.fields.begin(), p.fields.end(), f.key) == p.fields.end()) p.fields.push_back(f.key);
  }
  return st.status();
}

Status LocalStore::MakeFilesDir() { return MakeDirs(home_ + "/files"); }

Status LocalStore::SaveFile(const std::string& sha, const std::string& bytes) {
  if (hash::Sha256Hex(bytes) != sha) return Status::Invalid("the file's bytes do not match SHA-256 " + sha);
  Status s = MakeDirs(home_ + "/files");
  if (!s.ok()) return s;
  std::string tmp = FilePath(sha) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::Internal("cannot write " + tmp);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), FilePath(sha).c_str()) != 0) return Status::Internal("cannot write " + FilePath(sha));
  return Status::Ok();
}

Status LocalStore::Attach(const std::string& id, const std::string& bytes, const std::string& name,
                          const std::string& caption, std::string* sha256, Record* out) {
  Record r;
  Status s = Get(id, &r);
  if (!s.ok()) return s;
  const FormSchema* schema = catalog_->Shown(r.form, r.fields);
  if (!schema || !schema->Field("photos")) return Status::Invalid("files are attached to site visits; this is a " + r.form);
  if (bytes.empty()) return Status::Invalid("the file is empty");
  if (media::ImageKind(bytes).empty())
    return Status::Invalid("the file is not a photo: only JPEG, PNG and WebP images are attached");
  std::string sha = hash::Sha256Hex(bytes);
  s = SaveFile(sha, bytes);  // the bytes are safe on disk before the record names them
  if (!s.ok()) return s;
  json::Array::Ptr photos = new json::Array;
  if (r.fields.has("photos")) {
    auto old = r.fields.getArray("photos");
    for (size_t i = 0; i < old->size(); ++i) {
      if (old->getObject(static_cast<unsigned>(i))->getValue<std::string>("sha256") == sha)
        return Status(Code::kAlreadyExists, "this file is already attached (" + sha.substr(0, 12) + "…)");
      photos->add(old->get(static_cast<unsigned>(i)));
    }
  }
  Object::Ptr item = new Object;
  item->set("sha256", sha);
  if (!name.empty()) item->set("name", name);
  if (!caption.empty()) item->set("caption", caption);
  item->set("size", static_cast<Poco::Int64>(bytes.size()));
  photos->add(item);
  s = db_.Prepare("INSERT OR IGNORE INTO uploads(sha256, record_id, size) VALUES (?, ?, ?)")
          .Bind(1, sha).Bind(2, id).Bind(3, static_cast<int64_t>(bytes.size())).Run();
  if (!s.ok()) return s;
  Object change;
  change.set("photos", photos);
  s = Update(id, change, out, /*allow_system=*/true);
  if (!s.ok()) return s;
  *sha256 = sha;
  return Status::Ok();
}

Status LocalStore::PendingUploads(std::vector<Upload>* out) {
  auto st = db_.Prepare("SELECT sha256, record_id, size FROM uploads WHERE done = 0 ORDER BY rowid");
  out->clear();
  while (st.Step()) out->push_back({st.Text(0), st.Text(1), st.Int(2)});
  return st.status();
}

Status LocalStore::MarkUploaded(const std::string& sha) {
  return db_.Prepare("UPDATE uploads SET done = 1 WHERE sha256 = ?").Bind(1, sha).Run();
}

Status LocalStore::MissingFiles(std::vector<std::string>* out) {
  auto st = db_.Prepare(
      "SELECT DISTINCT json_extract(p.value, '$.sha256') FROM records r, json_each(r.fields, '$.photos') p "
      "WHERE r.deleted = 0");
  out->clear();
  while (st.Step()) {
    std::string sha = st.Text(0);
    if (!sha.empty() && !HasFile(sha)) out->push_back(sha);
  }
  return st.status();
}

bool LocalStore::OverlayPending(const std::string& id, Object* fields, bool* deleted) {
  auto& pending = db_.Cached("SELECT body FROM outbox WHERE record_id = ? ORDER BY seq");
  sql::ResetOnExit reset(pending);
  pending.Bind(1, id);
  std::vector<sync::Change> mine;
  while (pending.Step()) {
    sync::Change c;
    if (sync::DecodeBinary(pending.Blob(0), &c).ok()) mine.push_back(std::move(c));
  }
  bool any = false;
  for (const auto& c : sync::Coalesce(mine)) {
    any = true;
    if (c.op == sync::op::kDelete) *deleted = true;
    for (const auto& f : c.fields) {
      Var v;
      if (!json::Parse(f.new_value, &v).ok()) continue;
      if (v.isEmpty()) fields->remove(f.key);
      else fields->set(f.key, v);
    }
  }
  return any;
}

Status LocalStore::Rebase(const std::string& id, const std::string& form, const std::string& server_fields,
                          bool server_deleted) {
  Object fields = ParseFields(server_fields);
  bool deleted = server_deleted;
  OverlayPending(id, &fields, &deleted);
  const FormSchema* schema = catalog_->Shown(form, fields);
  return db_.Prepare(
             "UPDATE records SET server_fields = CASE WHEN server_same = 1 THEN fields ELSE server_fields END, "
             "server_same = 0, fields = ?, deleted = ?, search_text = ?, updated_at = ? WHERE id = ?")
      .Bind(1, json::ToText(fields)).Bind(2, deleted ? 1 : 0).Bind(3, schema ? SearchText(*schema, fields) : "")
      .Bind(4, NowIso()).Bind(5, id)
      .Run();
}

Status LocalStore::DiscardInflight(const std::string& refused_record, std::vector<std::string>* records) {
  records->clear();
  sql::Transaction tx(&db_);
  if (!tx.status().ok()) return tx.status();
  std::string cs_id;
  {
    auto st = db_.Prepare("SELECT changeset_id FROM inflight ORDER BY created_at LIMIT 1");
    if (!st.Step()) return Status::Precondition("no change set is waiting for the server");
    cs_id = st.Text(0);
  }
  std::vector<std::string> in_set;
  {
    auto st = db_.Prepare("SELECT DISTINCT record_id FROM outbox WHERE " OCOP_OUTBOX_OF_SET);
    st.Bind(1, cs_id);
    while (st.Step()) in_set.push_back(st.Text(0));
  }
  if (std::find(in_set.begin(), in_set.end(), refused_record) != in_set.end()) records->push_back(refused_record);
  else *records = in_set;
  Status s;
  for (const auto& id : *records) {
    s = db_.Prepare("DELETE FROM outbox WHERE record_id = ?").Bind(1, id).Run();
    if (!s.ok()) return s;
    auto st = db_.Prepare(
        "SELECT form, CASE WHEN server_same = 1 THEN fields ELSE server_fields END, server_deleted FROM records WHERE id = ?");
    st.Bind(1, id);
    if (!st.Step()) continue;
    std::string form = st.Text(0);
    bool never_sent = st.IsNull(1);
    std::string server_fields = st.Text(1);
    bool server_deleted = st.Int(2) != 0;
    st.Reset();
    s = never_sent ? db_.Prepare("DELETE FROM records WHERE id = ?").Bind(1, id).Run()
                   : Rebase(id, form, server_fields, server_deleted);
    if (!s.ok()) return s;
  }
  // The rest goes out again, as a new change set: without the range, its rows are pending.
  s = db_.Prepare("DELETE FROM inflight WHERE changeset_id = ?").Bind(1, cs_id).Run();
  if (s.ok()) s = SetSetting("refused", "");
  if (!s.ok()) return s;
  return tx.Commit();
}

}  // namespace ocop::client
