-- Carried files (sync/carried.h). `carried_out`: change sets this device wrote
-- into a file, until the server answers them (by link or by return file).
-- `carried_in`: files of other devices brought here to be pushed at the next sync.
CREATE TABLE carried_out (
  changeset_id TEXT PRIMARY KEY,
  file_name    TEXT NOT NULL,
  exported_at  TEXT NOT NULL
);
CREATE TABLE carried_in (
  sha256      TEXT PRIMARY KEY,
  body        BLOB NOT NULL,
  device      TEXT NOT NULL,
  user        TEXT NOT NULL,
  unit        TEXT NOT NULL,
  changes     INTEGER NOT NULL,
  imported_at TEXT NOT NULL,
  sent_at     TEXT,
  result      TEXT
);
