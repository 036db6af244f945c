// The SQLite wrapper's error mapping: a full disk is kInsufficientStorage (the
// server answers 507 and devices keep everything), a busy database
// kUnavailable, a taken key kAlreadyExists — never a bare internal error.
#include "shared/sqlite.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/client/test_home.h"

namespace ocop::sql {
namespace {

TEST(SqliteTest, AFullDatabaseIsInsufficientStorageAndKeepsWhatWasCommitted) {
  testing::TempDir dir;
  Db db;
  ASSERT_TRUE(db.Open(dir.Sub("full.db")).ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)").ok());
  ASSERT_TRUE(db.Prepare("INSERT INTO t(v) VALUES ('kept')").Run().ok());
  // The file may not grow past its current pages plus a few: as a full disk.
  auto pages = db.Prepare("PRAGMA page_count");
  ASSERT_TRUE(pages.Step());
  ASSERT_TRUE(db.Exec("PRAGMA max_page_count = " + std::to_string(pages.Int(0) + 2)).ok());
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    Transaction tx(&db);
    s = db.Prepare("INSERT INTO t(v) VALUES (?)").Bind(1, std::string(4096, 'x')).Run();
    if (s.ok()) s = tx.Commit();
  }
  EXPECT_EQ(s.code(), Code::kInsufficientStorage) << s.message();
  EXPECT_EQ(StatusHttpCode(s.code()), 507);
  auto kept = db.Prepare("SELECT v FROM t WHERE id = 1");
  ASSERT_TRUE(kept.Step());
  EXPECT_EQ(kept.Text(0), "kept");
  // The same through Exec.
  EXPECT_EQ(db.Exec("INSERT INTO t(v) VALUES ('" + std::string(20000, 'y') + "')").code(), Code::kInsufficientStorage);
  EXPECT_EQ(db.Prepare("INSERT INTO t(id, v) VALUES (1, 'again')").Run().code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace ocop::sql
