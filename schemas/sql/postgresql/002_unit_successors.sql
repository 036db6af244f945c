-- A unit closed by a merger names the unit that took it over; its records'
-- place in the tree (records.unit_path) then lies below that unit.
ALTER TABLE units ADD COLUMN succeeded_by TEXT COLLATE "C" NOT NULL DEFAULT '';
