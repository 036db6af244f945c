#include "client/import.h"

namespace ocop::client {

Status ImportRecords(LocalStore& store, const std::string& form, const sheet::Table& table, const ImportOptions& options,
                     ImportSummary* out) {
  const FormSchema* schema = store.catalog().Find(form);
  if (!schema) return UnknownForm(form);
  std::vector<sheet::ImportRow> rows;
  Status s = sheet::ReadImportRows(*schema, table, &rows, out);
  if (!s.ok()) return s;
  // Each row as `ocop new` checks a form: references, the whole record, the unit.
  std::vector<Record> good;
  for (auto& row : rows) {
    Record r;
    s = store.PrepareNew(form, std::move(row.fields), row.unit, &r);
    if (!s.ok()) {
      out->problems.push_back({row.line, s.message()});
      continue;
    }
    good.push_back(std::move(r));
  }
  out->good = good.size();
  if (options.dry_run) return Status::Ok();
  if (!out->problems.empty() && !options.skip_bad) return Status::Ok();  // nothing stored; the caller says why
  s = store.CreateMany(good);
  if (!s.ok()) return s;
  out->stored = good.size();
  return Status::Ok();
}

}  // namespace ocop::client
