-- A frozen change set is a range of outbox sequence numbers, kept on its
-- `inflight` row, instead of a change set id written into each outbox row:
-- freezing 2,000 new forms rewrote 2,000 rows of about 1 KB each.
ALTER TABLE inflight ADD COLUMN seq_lo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inflight ADD COLUMN seq_hi INTEGER NOT NULL DEFAULT -1;

-- Sets frozen by an earlier version marked rows one by one, and their rows may
-- interleave with others. Renumber so each set is one range: the frozen rows
-- first, set by set in the order they were frozen, then every other row; each
-- group keeps its own order, so every record's edits stay in the order made.
-- The new numbers are all above the old ones, so no two rows ever clash.
CREATE TEMP TABLE outbox_renumbered AS
  SELECT o.seq AS old_seq,
         (SELECT COALESCE(MAX(seq), 0) FROM outbox) +
           ROW_NUMBER() OVER (ORDER BY i.changeset_id IS NULL, i.created_at, i.rowid, o.seq) AS new_seq
  FROM outbox o LEFT JOIN inflight i ON i.changeset_id = o.changeset_id;
UPDATE outbox SET seq = (SELECT new_seq FROM outbox_renumbered WHERE old_seq = outbox.seq)
  WHERE EXISTS (SELECT 1 FROM outbox WHERE changeset_id IS NOT NULL);
UPDATE inflight SET
  seq_lo = COALESCE((SELECT MIN(seq) FROM outbox WHERE changeset_id = inflight.changeset_id), 0),
  seq_hi = COALESCE((SELECT MAX(seq) FROM outbox WHERE changeset_id = inflight.changeset_id), -1);
UPDATE outbox SET changeset_id = NULL WHERE changeset_id IS NOT NULL;
DROP TABLE outbox_renumbered;
DROP INDEX outbox_changeset;
