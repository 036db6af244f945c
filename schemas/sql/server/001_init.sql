-- The server's store (the embedded default engine).
CREATE TABLE units (
  code       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  level      TEXT NOT NULL,
  parent     TEXT NOT NULL DEFAULT '',
  valid_from TEXT NOT NULL DEFAULT '',
  valid_to   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('officer', 'coordinator', 'admin')),
  unit          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);

-- Bearer tokens, stored as SHA-256 of the token: a stolen database yields no sessions.
CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  user       TEXT NOT NULL REFERENCES users(name),
  device     TEXT NOT NULL DEFAULT '',
  expires_ms INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

-- Current state of every record. `seq` orders changes for pull cursors: each
-- write to a record gives it the next seq. `unit_path` ("/26/246/08869/")
-- makes scope checks a prefix test.
CREATE TABLE records (
  id          TEXT PRIMARY KEY,
  form        TEXT NOT NULL,
  unit        TEXT NOT NULL,
  unit_path   TEXT NOT NULL,
  fields      TEXT NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0,
  conflict    INTEGER NOT NULL DEFAULT 0,
  version     INTEGER NOT NULL,
  seq         INTEGER NOT NULL UNIQUE,
  updated_hlc TEXT NOT NULL,
  updated_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX records_path_seq ON records(unit_path, seq);

-- Exactly-once: every change set and change ever applied, with its answer.
CREATE TABLE changesets (
  id          TEXT PRIMARY KEY,
  user        TEXT NOT NULL,
  device      TEXT NOT NULL,
  response    TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE TABLE changes (
  change_id    TEXT PRIMARY KEY,
  changeset_id TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  result       TEXT NOT NULL,
  version      INTEGER NOT NULL
);

-- The audit trail: who changed which fields of a record, from which device,
-- when, old -> new. One row per change; `fields` is a JSON list of
-- {"key", "old", "new"} with the values as JSON.
-- kind: create, update, delete, conflict (incoming values held back), resolve.
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id  TEXT NOT NULL,
  change_id  TEXT NOT NULL,
  fields     TEXT NOT NULL,
  author     TEXT NOT NULL,
  device     TEXT NOT NULL,
  hlc        TEXT NOT NULL,
  at         TEXT NOT NULL,
  kind       TEXT NOT NULL
);
CREATE INDEX audit_record ON audit(record_id, id);

-- Conflicts held for an administrator: one row per conflicting field.
CREATE TABLE conflicts (
  id                 TEXT PRIMARY KEY,
  record_id          TEXT NOT NULL,
  field              TEXT NOT NULL,
  base_value         TEXT NOT NULL,
  current_value      TEXT NOT NULL,
  incoming_value     TEXT NOT NULL,
  current_author     TEXT NOT NULL,
  current_device     TEXT NOT NULL,
  current_change_id  TEXT NOT NULL,
  incoming_author    TEXT NOT NULL,
  incoming_device    TEXT NOT NULL,
  incoming_change_id TEXT NOT NULL,
  incoming_hlc       TEXT NOT NULL,
  created_at         TEXT NOT NULL,
  resolved_at        TEXT,
  resolved_by        TEXT,
  resolution         TEXT
);
CREATE INDEX conflicts_record ON conflicts(record_id);
CREATE INDEX conflicts_open ON conflicts(resolved_at);

-- Receipt numbers: the next free number per commune and year (shared/receipt.h).
CREATE TABLE receipt_counters (
  commune TEXT NOT NULL,
  year    INTEGER NOT NULL,
  next    INTEGER NOT NULL,
  PRIMARY KEY (commune, year)
);
