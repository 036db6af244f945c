-- The key each device proves its carried files with (sync/carried.h), learnt
-- when the device logs in. Keyed by device and user: another account logging
-- in with the same device id cannot replace this user's key.
CREATE TABLE device_keys (
  device     TEXT NOT NULL,
  user       TEXT NOT NULL,
  key        TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (device, user)
);
CREATE INDEX changesets_device ON changesets(device, received_at);
