#include "server/store/store_migration.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <memory>

#include "server/store/pg.h"
#include "shared/sqlite.h"

namespace ocop::server {

namespace {

struct TableSpec {
  const char* name;
  std::vector<const char*> columns;
  std::vector<const char*> key;  // order of rows for the checksum
};

// Every table of the store (schemas/sql/server, schemas/sql/postgresql).
const std::vector<TableSpec>& Tables() {
  static const std::vector<TableSpec> tables = {
      {"units", {"code", "name", "level", "parent", "valid_from", "valid_to", "succeeded_by"}, {"code"}},
      {"users", {"name", "role", "unit", "password_hash", "disabled", "created_at"}, {"name"}},
      {"tokens", {"token_hash", "user", "device", "expires_ms", "revoked", "created_at"}, {"token_hash"}},
      {"records",
       {"id", "form", "unit", "unit_path", "fields", "deleted", "conflict", "version", "seq", "updated_hlc",
        "updated_by", "created_at", "updated_at", "updated_device", "echo_applied", "created_seq", "created_version",
        "field_versions"},
       {"id"}},
      {"changesets", {"id", "user", "device", "response", "received_at"}, {"id"}},
      {"changes", {"change_id", "changeset_id", "record_id", "result", "version"}, {"change_id"}},
      {"audit", {"id", "record_id", "change_id", "fields", "author", "device", "hlc", "at", "kind"}, {"id"}},
      {"conflicts",
       {"id", "record_id", "field", "base_value", "current_value", "incoming_value", "current_author",
        "current_device", "current_change_id", "incoming_author", "incoming_device", "incoming_change_id",
        "incoming_hlc", "created_at", "resolved_at", "resolved_by", "resolution"},
       {"id"}},
      {"receipt_counters", {"commune", "year", "next"}, {"commune", "year"}},
      {"files", {"sha256", "record_id", "size", "complete", "created_at"}, {"sha256"}},
      {"device_keys", {"device", "user", "key", "updated_at"}, {"device", "user"}},
      {"definitions", {"kind", "name", "version", "body", "published_at", "published_by"}, {"kind", "name", "version"}},
  };
  return tables;
}

std::string Join(const std::vector<const char*>& names) {
  std::string out;
  for (const char* n : names) out += std::string(out.empty() ? "" : ", ") + "\"" + n + "\"";
  return out;
}

// SHA-256 over rows: each value as text (NULL as a byte no text holds),
// values and rows separated by bytes no text holds either.
class RowDigest {
 public:
  RowDigest() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Value(const std::optional<std::string>& v) {
    if (v) EVP_DigestUpdate(ctx_.get(), v->data(), v->size());
    const unsigned char mark = v ? 0x1f : 0x00;
    EVP_DigestUpdate(ctx_.get(), &mark, 1);
  }
  void EndRow() {
    const unsigned char mark = 0x1e;
    EVP_DigestUpdate(ctx_.get(), &mark, 1);
  }
  std::string Hex() {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), d, &n);
    static const char k[] = "0123456789abcdef";
    std::string s;
    for (unsigned int i = 0; i < n; ++i) {
      s.push_back(k[d[i] >> 4]);
      s.push_back(k[d[i] & 15]);
    }
    return s;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

Status CopyTable(sql::Db& src, pg::Conn& dst, const TableSpec& t, TableCopy* copy) {
  std::string cols = Join(t.columns), params;  // $1,$2,…
  for (size_t i = 1; i <= t.columns.size(); ++i) params += (i > 1 ? ",$" : "$") + std::to_string(i);
  std::string insert = std::string("INSERT INTO ") + t.name + "(" + cols + ") VALUES (" + params + ")";
  auto st = src.Prepare(std::string("SELECT ") + cols + " FROM " + t.name + " ORDER BY " + Join(t.key));
  if (!st.status().ok()) return st.status();
  RowDigest digest;
  copy->table = t.name;
  copy->rows = 0;
  std::vector<pg::Param> row(t.columns.size());
  while (st.Step()) {
    for (size_t i = 0; i < row.size(); ++i) {
      int col = static_cast<int>(i);
      row[i] = st.IsNull(col) ? pg::Param() : pg::Param(st.Text(col));
      digest.Value(row[i]);
    }
    digest.EndRow();
    Status s = dst.Exec(insert, row);
    if (!s.ok()) return Status(s.code(), std::string("copying ") + t.name + ": " + s.message());
    ++copy->rows;
  }
  if (!st.status().ok()) return st.status();
  copy->sha256 = digest.Hex();
  return Status::Ok();
}

// The same count and digest, read back from PostgreSQL inside the copying
// transaction.
Status CheckTable(pg::Conn& dst, const TableSpec& t, const TableCopy& copy) {
  pg::Result res;
  Status s = dst.Exec(std::string("SELECT ") + Join(t.columns) + " FROM " + t.name + " ORDER BY " + Join(t.key), {},
                      &res);
  if (!s.ok()) return s;
  RowDigest digest;
  for (int r = 0; r < res.rows(); ++r) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      int col = static_cast<int>(i);
      digest.Value(res.IsNull(r, col) ? pg::Param() : pg::Param(res.Text(r, col)));
    }
    digest.EndRow();
  }
  if (res.rows() != copy.rows)
    return Status::Internal(std::string(t.name) + ": " + std::to_string(copy.rows) + " rows in SQLite but " +
                            std::to_string(res.rows()) + " in PostgreSQL");
  std::string hex = digest.Hex();
  if (hex != copy.sha256) return Status::Internal(std::string(t.name) + ": the rows differ after the copy (checksum)");
  return Status::Ok();
}

}  // namespace

Status MigrateSqliteToPostgres(const std::string& sqlite_file, const std::string& conninfo,
                               std::vector<TableCopy>* report) {
  struct stat info;
  if (stat(sqlite_file.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
    return Status::NotFound("no SQLite store at " + sqlite_file);
  sql::Db src;
  Status s = src.Open(sqlite_file);
  if (s.ok()) s = src.Migrate("server");
  if (!s.ok()) return Status(s.code(), sqlite_file + ": " + s.message());
  std::unique_ptr<pg::Conn> dst;
  s = pg::Conn::Connect(conninfo, &dst);
  if (!s.ok()) return s;
  // Nothing of a running province may be overwritten.
  pg::Result res;
  s = dst->Exec("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM records) + "
                "(SELECT count(*) FROM changesets) + (SELECT count(*) FROM audit)",
                {}, &res);
  if (!s.ok()) return s;
  if (res.Int(0, 0) != 0)
    return Status::Precondition("the PostgreSQL store already holds accounts or records; migrate into an empty database");
  // One read snapshot of the source, one transaction on the target.
  s = src.Exec("BEGIN");
  if (!s.ok()) return s;
  pg::Txn tx(dst.get());
  if (!tx.status().ok()) return tx.status();
  s = dst->Exec("DELETE FROM units");  // the sample list a fresh ocopd may have written
  report->clear();
  for (const auto& t : Tables()) {
    if (!s.ok()) break;
    TableCopy copy;
    s = CopyTable(src, *dst, t, &copy);
    if (s.ok()) report->push_back(copy);
  }
  (void)src.Exec("COMMIT");
  if (!s.ok()) return s;
  // The audit trail's numbering goes on after the copied rows.
  s = dst->Exec("SELECT setval(pg_get_serial_sequence('audit', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM audit");
  for (size_t i = 0; s.ok() && i < Tables().size(); ++i) s = CheckTable(*dst, Tables()[i], (*report)[i]);
  if (!s.ok()) return s;
  return tx.Commit();
}

}  // namespace ocop::server
