-- Definitions an administrator published over the ones built in: each
-- version of a form (kind 'form', name the form) as its definition file.
-- A version is never changed or removed: records written with it keep it.
CREATE TABLE definitions (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  published_at TEXT NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (kind, name, version)
);
