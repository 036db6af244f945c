// Storage behind the server. The sync logic (sync_service.h) speaks only to this
// interface, so another engine can be added without touching it; the embedded
// default is SQLite (sqlite_server_store.h).
//
// Thread-safety: every method may be called from any request thread. Writes go
// through RunWrite, which runs its function inside one serialised transaction:
// all of it commits, durably, or none of it does.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/units.h"
#include "sync/change.h"

namespace ocop::server {

struct UserRow {
  std::string name, role, unit, password_hash;
  bool disabled = false;
};

struct TokenRow {
  std::string token_hash, user, device;
  int64_t expires_ms = 0;
  bool revoked = false;
};

struct StoredRecord {
  std::string id, form, unit, unit_path;
  std::string fields = "{}";  // canonical JSON
  bool deleted = false, conflict = false;
  int64_t version = 0, seq = 0;
  std::string updated_hlc, updated_by, created_at, updated_at;
  std::string updated_device;  // the device (from its token) that made the latest change
  bool echo_applied = false;   // that change was applied exactly as the device sent it
  // For pulls that send what changed (sync/patch.h): when the record was
  // created, and the version and seq of each field's last change.
  int64_t created_seq = 0, created_version = 0;
  std::string field_versions;
  // Written by the caller before PutRecord: the fields this write changes
  // (PutRecord stamps them with the new version and seq, then clears this).
  std::vector<std::string> changed_keys;
};

// One field of one audited change, as read back.
// One published definition (schemas/sql/server/007_definitions.sql).
struct DefinitionRow {
  std::string kind, name;
  int version = 0;
  std::string body, published_at, published_by;
};

struct AuditRow {
  std::string record_id, change_id, field, old_value, new_value, author, device, hlc, at, kind;
};

// One audited change, as written: its fields with old and new values.
struct AuditChange {
  std::string record_id, change_id;
  std::vector<sync::FieldChange> fields;
  std::string author, device, hlc, at, kind;
};

struct ConflictRow {
  std::string id, record_id, field, base_value, current_value, incoming_value;
  std::string current_author, current_device, current_change_id;
  std::string incoming_author, incoming_device, incoming_change_id, incoming_hlc;
  std::string created_at, resolved_at, resolved_by, resolution;
};

// Operations available inside one write transaction.
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;
  // The stored answer to a change set already applied, if any.
  virtual Status FindChangeSet(const std::string& id, std::string* response, bool* found) = 0;
  virtual Status SaveChangeSet(const std::string& id, const std::string& user, const std::string& device,
                               const std::string& response) = 0;
  virtual Status FindChange(const std::string& change_id, std::string* result, int64_t* version, bool* found) = 0;
  virtual Status SaveChange(const std::string& change_id, const std::string& changeset_id,
                            const std::string& record_id, const std::string& result, int64_t version) = 0;
  virtual Status GetRecord(const std::string& id, StoredRecord* out, bool* found) = 0;
  // Live records of one form in one commune (by its unit path), this
  // transaction's own writes included.
  virtual Status ListRecords(const std::string& unit_path, const std::string& form, std::vector<StoredRecord>* out) = 0;
  // Inserts or replaces; gives the record the next seq (written back to `rec`).
  virtual Status PutRecord(StoredRecord* rec) = 0;
  // Every (unit, unit_path) the records carry: how a unit-list import finds
  // the records whose unit moved in the tree, or merged into another.
  virtual Status RecordPlaces(std::vector<std::pair<std::string, std::string>>* out) = 0;
  // Ids of the records of `unit` placed at `unit_path`.
  virtual Status RecordIdsAt(const std::string& unit, const std::string& unit_path, std::vector<std::string>* out) = 0;
  virtual Status AddAudit(const AuditChange& change) = 0;
  // Who last set `field` of the record (from the audit trail).
  virtual Status LastAuthor(const std::string& record_id, const std::string& field, AuditRow* out, bool* found) = 0;
  virtual Status AddConflict(const ConflictRow& row) = 0;
  virtual Status OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) = 0;
  virtual Status ResolveConflict(const std::string& id, const std::string& by, const std::string& at,
                                 const std::string& resolution) = 0;
  // Reserves `count` receipt numbers of one counter (the scope a number is
  // unique in: shared/receipt.h) and year: [*first, *last], never below `floor`.
  virtual Status ReserveReceipts(const std::string& scope, int year, int count, int64_t floor, int64_t* first,
                                 int64_t* last) = 0;
  // The next free number of a counter (0 when it has none yet).
  virtual Status PeekReceiptCounter(const std::string& scope, int year, int64_t* next) = 0;
};

class ServerStore {
 public:
  virtual ~ServerStore() = default;

  virtual Status CreateUser(const UserRow& user) = 0;
  virtual Status GetUser(const std::string& name, UserRow* out) = 0;
  // Every account, by name.
  virtual Status ListUsers(std::vector<UserRow>* out) = 0;
  // Replaces role, unit, password hash and disabled of an existing account.
  virtual Status UpdateUser(const UserRow& user) = 0;
  // Ends every session of an account (after a password reset or disabling).
  virtual Status RevokeUserTokens(const std::string& user) = 0;
  // The key a device signs its carried files with (registered at login).
  // GetDeviceKey: for *user, or when *user is empty for the account that
  // logged in on that device last (written back to *user).
  virtual Status SaveDeviceKey(const std::string& device, const std::string& user, const std::string& key) = 0;
  virtual Status GetDeviceKey(const std::string& device, std::string* user, std::string* key, bool* found) = 0;
  // Keeps an account's `keep_tokens` newest live sessions (revoking older ones)
  // and its `keep_devices` most recently registered device keys.
  virtual Status PruneSessions(const std::string& user, int keep_tokens, int keep_devices) = 0;
  // The stored answers to the change sets one device sent, oldest first, at most `limit`.
  virtual Status ChangeSetAnswers(const std::string& device, int limit, std::vector<std::string>* responses) = 0;
  virtual Status SaveToken(const TokenRow& token) = 0;
  virtual Status GetToken(const std::string& token_hash, TokenRow* out) = 0;
  virtual Status RevokeToken(const std::string& token_hash) = 0;

  virtual Status LoadUnits(UnitTree* out) = 0;
  virtual Status SaveUnits(const UnitTree& units) = 0;

  // Published definitions of one kind, by name and version.
  virtual Status LoadDefinitions(const std::string& kind, std::vector<DefinitionRow>* out) = 0;
  // Adds one; the same kind, name and version twice is refused (kAlreadyExists).
  virtual Status SaveDefinition(const DefinitionRow& row) = 0;

  virtual Status RunWrite(const std::function<Status(WriteTxn&)>& fn) = 0;

  // Records with seq > since whose unit_path starts with `path_prefix`, in seq
  // order, at most `limit`, leaving out those whose latest change came from
  // `skip_device` and was applied as sent (it holds them already). *cursor is
  // the seq to resume from (past skipped records too); *more tells whether
  // others follow.
  virtual Status ReadSince(const std::string& path_prefix, int64_t since, int limit, const std::string& skip_device,
                           std::vector<StoredRecord>* out, int64_t* cursor, bool* more) = 0;
  virtual Status GetRecord(const std::string& id, StoredRecord* out, bool* found) = 0;
  // The audit trail of a record, one row per field changed, oldest first.
  virtual Status Audit(const std::string& record_id, std::vector<AuditRow>* out) = 0;
  // Conflicts (open only, or all) of records under `path_prefix`.
  virtual Status ListConflicts(const std::string& path_prefix, bool open_only, std::vector<ConflictRow>* out) = 0;
  // The open conflicts of one record (a read: no write lock).
  virtual Status OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) = 0;
  // Attached files: which record each belongs to, and its declared size.
  virtual Status PutFile(const std::string& sha256, const std::string& record_id, int64_t size) = 0;
  virtual Status GetFile(const std::string& sha256, std::string* record_id, int64_t* size, bool* found) = 0;

  // True when the store can serve (for /healthz).
  virtual bool Healthy() = 0;
};

}  // namespace ocop::server
