-- The client's local store. One file per device home (ocop --home DIR).
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One row per record. `fields` is what the officer sees: the server's state with
-- this device's pending edits on top. `server_fields` is the state last pulled
-- (NULL: the server has never sent it), kept so pulls can rebase pending edits.
CREATE TABLE records (
  id             TEXT PRIMARY KEY,
  form           TEXT NOT NULL,
  unit           TEXT NOT NULL,
  fields         TEXT NOT NULL,
  deleted        INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  server_fields  TEXT,
  server_deleted INTEGER NOT NULL DEFAULT 0,
  conflict       INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  search_text    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX records_form_updated ON records(form, updated_at);

-- Field-level changes not yet acknowledged by the server, in the order made.
-- (005 replaced `changeset_id` with a range of `seq` on the inflight row.)
-- `body` is the change (sync/change.h) in cereal's portable binary encoding. `changeset_id` is set
-- when the change is frozen into a change set being sent: until the server
-- answers, that exact change set is what gets re-sent.
CREATE TABLE outbox (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  change_id    TEXT NOT NULL UNIQUE,
  record_id    TEXT NOT NULL,
  body         BLOB NOT NULL,
  changeset_id TEXT
);
CREATE INDEX outbox_record ON outbox(record_id);
CREATE INDEX outbox_changeset ON outbox(changeset_id);

-- Frozen change sets awaiting the server's answer (at most one at a time).
CREATE TABLE inflight (
  changeset_id TEXT PRIMARY KEY,
  body         BLOB NOT NULL,
  created_at   TEXT NOT NULL
);

-- Every field change this device made or received: who, when, which device,
-- old -> new. origin: 'local' (made here) or 'server' (the server's audit trail).
CREATE TABLE history (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id TEXT NOT NULL,
  change_id TEXT NOT NULL,
  field     TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  author    TEXT NOT NULL,
  device    TEXT NOT NULL,
  at        TEXT NOT NULL,
  origin    TEXT NOT NULL DEFAULT 'local'
);
CREATE INDEX history_record ON history(record_id, id);

-- Receipt-number blocks reserved by the server for this device.
CREATE TABLE receipt_blocks (
  commune TEXT NOT NULL,
  year    INTEGER NOT NULL,
  next    INTEGER NOT NULL,
  last    INTEGER NOT NULL,
  PRIMARY KEY (commune, year, next)
);
