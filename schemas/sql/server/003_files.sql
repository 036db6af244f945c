-- Files attached to records (site-visit photos). The bytes live in
-- <data dir>/files/<sha256> (complete) or <sha256>.part (being uploaded);
-- this table says which record each belongs to, for the scope check.
CREATE TABLE files (
  sha256     TEXT PRIMARY KEY,
  record_id  TEXT NOT NULL,
  size       INTEGER NOT NULL,
  complete   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
