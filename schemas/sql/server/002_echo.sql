-- Which device made a record's latest change, and whether that change was
-- applied exactly as the device sent it. Such a record is not sent back to
-- that device on pull: it already holds that state (see docs/protocol.md).
ALTER TABLE records ADD COLUMN updated_device TEXT NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN echo_applied INTEGER NOT NULL DEFAULT 0;
