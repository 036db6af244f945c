// ServerStore on PostgreSQL (store.engine = postgresql), for deployments that
// run several ocopd on one database behind a load balancer (docs/deploy/).
//
// Why libpq and not Poco::Data's connector: the engine needs the SQLSTATE of a
// failure (to retry serialization failures, deadlocks and lost connections,
// and to tell a unique-key violation apart), transaction-scoped advisory
// locks and prepared statements per connection — all plain libpq, while
// Poco::Data would put a second type system between the SQL and the store.
//
// Consistency with several ocopd on one database:
// - Every RunWrite transaction first takes one transaction-scoped advisory
//   lock, so writes are serialised across processes exactly as the embedded
//   engine serialises them across threads. That is what keeps pull cursors
//   sound: seq N+1 can only be given out after the transaction holding N has
//   committed (the lock is released after the commit is visible), so no reader
//   ever sees N+1 without N. READ COMMITTED is then enough: every statement
//   after the lock sees every committed write.
// - Exactly-once rests on the same primary keys as in SQLite (change sets,
//   changes): two replicas receiving one change set queue on the lock and the
//   second finds the first one's answer. A failure that leaves the transaction
//   undone (serialization failure, deadlock, lost connection, a unique key
//   taken by a concurrent writer) is retried whole, a few times.
// - Pull pages are read in one REPEATABLE READ snapshot, so a page and its
//   cursor agree.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/store/pg.h"
#include "server/store/server_store.h"

namespace ocop::server {

struct PostgresOptions {
  std::string conninfo;  // libpq connection string or postgresql:// URL
  int pool_size = 8;     // connections this process keeps at most
};

class PostgresServerStore final : public ServerStore {
 public:
  // Connects and applies the migrations (schemas/sql/postgresql/), under an
  // advisory lock so that replicas starting together do not race.
  static Status Open(const PostgresOptions& options, std::unique_ptr<PostgresServerStore>* out);

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

  // How many times RunWrite started a transaction again (for tests and logs).
  int64_t write_retries() const;

  // A connection from the pool, returned on destruction (dropped if broken).
  class Lease;

 private:
  PostgresServerStore() = default;
  std::unique_ptr<pg::Conn> Acquire(Status* s);
  void Release(std::unique_ptr<pg::Conn> c);

  PostgresOptions options_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pg::Conn>> idle_;
  int open_ = 0;
  int64_t retries_ = 0;
};

}  // namespace ocop::server
