-- Pulls that send only what changed (sync/patch.h): when each record was
-- created (seq and version) and, per field, the version and seq of its last
-- change ("key version seq" lines). Records already stored count as created
-- at their current state: devices get them whole once more at most.
ALTER TABLE records ADD COLUMN created_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN created_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN field_versions TEXT NOT NULL DEFAULT '';
UPDATE records SET created_seq = seq, created_version = version;
