-- `server_same` = 1: the server's state of the record is `fields` itself, so
-- `server_fields` is left NULL rather than holding a second copy. That is the
-- usual case (an answered push, a pulled record with no edits pending) and
-- writing the copy cost answers and pulls half their time. A local edit first
-- moves `fields` into `server_fields` and clears the flag.
ALTER TABLE records ADD COLUMN server_same INTEGER NOT NULL DEFAULT 0;
