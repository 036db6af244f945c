// The embedded default ServerStore: one SQLite file in the data directory (WAL,
// synchronous=FULL). One connection for writes, serialised by a mutex (SQLite
// allows one writer; queuing here avoids busy-wait polling), and a small pool of
// read connections that see committed snapshots concurrently.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/store/server_store.h"
#include "shared/sqlite.h"

namespace ocop::server {

class SqliteServerStore final : public ServerStore {
 public:
  // Opens (creating and migrating) `dir`/ocopd.db.
  static Status Open(const std::string& dir, std::unique_ptr<SqliteServerStore>* out);
  // Copies the store in `dir` into `dest` with SQLite's online backup: a
  // consistent snapshot even while another process (a serving ocopd) writes.
  // The copy is checked (integrity_check) before this returns; `dest` is
  // written beside and renamed, so a failed backup leaves no half file.
  static Status Backup(const std::string& dir, const std::string& dest);

  Status CreateUser(const UserRow& user) override;
  Status GetUser(const std::string& name, UserRow* out) override;
  Status ListUsers(std::vector<UserRow>* out) override;
  Status UpdateUser(const UserRow& user) override;
  Status RevokeUserTokens(const std::string& user) override;
  Status SaveDeviceKey(const std::string& device, const std::string& user, const std::string& key) override;
  Status GetDeviceKey(const std::string& device, std::string* user, std::string* key, bool* found) override;
  Status PruneSessions(const std::string& user, int keep_tokens, int keep_devices) override;
  Status ChangeSetAnswers(const std::string& device, int limit, std::vector<std::string>* responses) override;
  Status SaveToken(const TokenRow& token) override;
  Status GetToken(const std::string& token_hash, TokenRow* out) override;
  Status RevokeToken(const std::string& token_hash) override;
  Status LoadUnits(UnitTree* out) override;
  Status SaveUnits(const UnitTree& units) override;
  Status LoadDefinitions(const std::string& kind, std::vector<DefinitionRow>* out) override;
  Status SaveDefinition(const DefinitionRow& row) override;
  Status RunWrite(const std::function<Status(WriteTxn&)>& fn) override;
  Status ReadSince(const std::string& path_prefix, int64_t since, int limit, const std::string& skip_device,
                   std::vector<StoredRecord>* out, int64_t* cursor, bool* more) override;
  Status GetRecord(const std::string& id, StoredRecord* out, bool* found) override;
  Status Audit(const std::string& record_id, std::vector<AuditRow>* out) override;
  Status ListConflicts(const std::string& path_prefix, bool open_only, std::vector<ConflictRow>* out) override;
  Status OpenConflicts(const std::string& record_id, std::vector<ConflictRow>* out) override;
  Status PutFile(const std::string& sha256, const std::string& record_id, int64_t size) override;
  Status GetFile(const std::string& sha256, std::string* record_id, int64_t* size, bool* found) override;
  bool Healthy() override;

 private:
  class Reader;  // RAII lease of a read connection
  std::unique_ptr<sql::Db> AcquireReader(Status* s);
  void ReleaseReader(std::unique_ptr<sql::Db> db);

  std::string path_;
  std::mutex write_mu_;
  sql::Db writer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<sql::Db>> pool_;
};

}  // namespace ocop::server
