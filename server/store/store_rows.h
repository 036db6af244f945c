// What both store engines write and read the same way: the audit trail's
// field list, the range that a unit-path prefix covers, and the last author
// of a field. Kept here so the engines differ only in how they talk to their
// database.
#pragma once
#include <string>
#include <vector>

#include "server/store/server_store.h"

namespace ocop::server {

// The columns of a record and of a conflict, in the order the readers below
// expect (one SELECT list for both engines).
extern const char* const kRecordColumns;
extern const char* const kConflictColumns;

// Reads a row selected with those columns. `Row` has Text(col) and Int(col):
// a statement of the embedded engine, a result row of PostgreSQL.
template <class Row>
void ReadRecordRow(const Row& row, StoredRecord* r) {
  r->id = row.Text(0);
  r->form = row.Text(1);
  r->unit = row.Text(2);
  r->unit_path = row.Text(3);
  r->fields = row.Text(4);
  r->deleted = row.Int(5) != 0;
  r->conflict = row.Int(6) != 0;
  r->version = row.Int(7);
  r->seq = row.Int(8);
  r->updated_hlc = row.Text(9);
  r->updated_by = row.Text(10);
  r->created_at = row.Text(11);
  r->updated_at = row.Text(12);
  r->updated_device = row.Text(13);
  r->echo_applied = row.Int(14) != 0;
  r->created_seq = row.Int(15);
  r->created_version = row.Int(16);
  r->field_versions = row.Text(17);
}

template <class Row>
void ReadConflictRow(const Row& row, ConflictRow* c) {
  std::string* f[] = {&c->id, &c->record_id, &c->field, &c->base_value, &c->current_value, &c->incoming_value,
                      &c->current_author, &c->current_device, &c->current_change_id, &c->incoming_author,
                      &c->incoming_device, &c->incoming_change_id, &c->incoming_hlc, &c->created_at,
                      &c->resolved_at, &c->resolved_by, &c->resolution};
  for (int i = 0; i < 17; ++i) *f[i] = row.Text(i);
}

// [{"key":"phone","old":"0912…","new":"0987…"}]: values are embedded as JSON.
std::string EncodeAuditFields(const std::vector<sync::FieldChange>& fields);
// Appends one AuditRow per field of a stored audit entry (`base` carries the
// entry's other columns).
Status AppendAuditRows(const std::string& fields_json, const AuditRow& base, std::vector<AuditRow>* out);
// The upper bound of a prefix range: "/26/" -> "/260" ('/' + 1 == '0').
std::string PrefixEnd(std::string prefix);
// The newest audit row (oldest first in `rows`) that set `field` and was not
// held back as a conflict.
bool FindLastAuthor(const std::vector<AuditRow>& rows, const std::string& field, AuditRow* out);

// Gives a record about to be written its new seq and records, per field, the
// version and seq of this change (sync/patch.h); a new record, or one whose
// field versions cannot be kept, counts as created now and is sent whole.
void StampForWrite(StoredRecord* r, int64_t seq);

}  // namespace ocop::server
