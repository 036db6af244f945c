-- Files attached on this device and not yet on the server. The bytes are in
-- <home>/files/<sha256>. Uploads are independent of record sync: a file that
-- is half sent never holds back the forms.
CREATE TABLE uploads (
  sha256    TEXT PRIMARY KEY,
  record_id TEXT NOT NULL,
  size      INTEGER NOT NULL,
  done      INTEGER NOT NULL DEFAULT 0
);
