#include "server/review_service.h"

#include "shared/xlsx.h"

#include <algorithm>

#include "shared/dates.h"
#include "shared/localisation.h"
#include "shared/ids.h"
#include "shared/text.h"

namespace ocop::server {

namespace {

// The words of a search, each already folded like the records' search text.
std::vector<std::string> SearchWords(const std::string& query) {
  std::vector<std::string> words;
  std::string key = text::SearchKey(query);
  size_t pos = 0;
  while (pos <= key.size()) {
    size_t sp = key.find(' ', pos);
    if (sp == std::string::npos) sp = key.size();
    if (sp > pos) words.push_back(key.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return words;
}

Status ParseFields(const StoredRecord& rec, json::Object::Ptr* out) {
  Status s = json::ParseObject(rec.fields, out);
  if (!s.ok()) return Status::Internal("record " + rec.id + " holds unreadable fields: " + s.message());
  return Status::Ok();
}

}  // namespace

std::string ReviewService::Today() const { return dates::IsoDateFromMillis(clock_.NowMillis()); }

Status ReviewService::ForEachRecord(const std::string& path_prefix, const std::function<Status(StoredRecord&)>& fn,
                                    bool with_deleted) {
  int64_t cursor = 0;
  // Bounded: each page moves the cursor forward, and there are finitely many records.
  for (bool more = true; more;) {
    std::vector<StoredRecord> page;
    int64_t next = cursor;
    Status s = store_.ReadSince(path_prefix, cursor, 1000, "", &page, &next, &more);
    if (!s.ok()) return s;
    for (auto& rec : page) {
      if (rec.deleted && !with_deleted) continue;
      s = fn(rec);
      if (!s.ok()) return s;
    }
    if (more && next <= cursor) return Status::Internal("record pages did not advance");
    cursor = next;
  }
  return Status::Ok();
}

Status ReviewService::ScopePath(const AuthUser& user, const std::string& unit, std::string* path) {
  if (unit.empty()) {
    *path = user.unit_path;
    return Status::Ok();
  }
  auto units = sync_.Units();
  if (!units->Find(unit)) return Status::Invalid("unknown unit code '" + unit + "'");
  if (!units->IsWithin(unit, user.unit)) return Status::Denied("unit " + unit + " is outside your scope");
  *path = units->Path(unit);
  return Status::Ok();
}

Status ReviewService::WeeklyReport(const AuthUser& user, const std::string& day, int target,
                                   report::WeeklyReport* out) {
  const std::string today = Today();
  std::optional<std::string> day_iso = dates::ParseDate(day.empty() ? today : day);
  // A record changed since the day's end is taken back to how it stood then;
  // only those need their audit trail read.
  const std::string end = day_iso && *day_iso < today ? report::EndOfDayUtc(*day_iso) : "";
  std::vector<report::ReportRecord> records;
  std::map<std::string, std::vector<report::FieldChangeAt>> changes;
  Status s = ForEachRecord(
      user.unit_path,
      [&](StoredRecord& rec) {
        const bool changed_since = !end.empty() && rec.updated_at >= end;
        if (rec.deleted && !changed_since) return Status::Ok();
        json::Object::Ptr fields;
        Status p = ParseFields(rec, &fields);
        if (!p.ok()) return p;
        if (changed_since) {
          std::vector<AuditRow> audit;
          p = store_.Audit(rec.id, &audit);
          if (!p.ok()) return p;
          auto& list = changes[rec.id];
          for (const auto& a : audit)
            if (a.kind != "conflict") list.push_back({a.field, a.new_value, a.at});  // held, not applied
        }
        records.push_back({rec.id, rec.form, rec.unit, *fields, rec.conflict});
        return Status::Ok();
      },
      /*with_deleted=*/!end.empty());
  if (!s.ok()) return s;
  if (!end.empty()) report::RewindTo(end, changes, &records);
  return report::BuildWeeklyReport(records, *sync_.Units(), user.unit, day.empty() ? today : day, target, out);
}

Status ReviewService::Search(const AuthUser& user, const RecordQuery& q, std::vector<StoredRecord>* out,
                             size_t* total) {
  if (q.limit < 1 || q.limit > 1000) return Status::Invalid("limit must be 1 to 1000");
  if (!q.form.empty() && !FormCatalog::Default().Find(q.form))
    return UnknownForm(q.form);
  if (!text::IsValidUtf8(q.text)) return Status::Invalid("search text is not valid UTF-8");
  if (q.text.size() > 200) return Status::Invalid("search text is longer than 200 bytes");
  std::string path;
  Status s = ScopePath(user, q.unit, &path);
  if (!s.ok()) return s;
  std::vector<std::string> words = SearchWords(q.text);
  std::vector<StoredRecord> hits;
  s = ForEachRecord(path, [&](StoredRecord& rec) {
    if (!q.form.empty() && rec.form != q.form) return Status::Ok();
    if (q.conflicts_only && !rec.conflict) return Status::Ok();
    if (!q.status.empty() || !words.empty()) {
      json::Object::Ptr fields;
      Status p = ParseFields(rec, &fields);
      if (!p.ok()) return p;
      if (!q.status.empty() && (!fields->has("status") || fields->get("status").toString() != q.status))
        return Status::Ok();
      if (!words.empty()) {
        const FormSchema* schema = FormCatalog::Default().ForRecord(rec.form, *fields);
        std::string haystack = schema ? SearchText(*schema, *fields) : "";
        for (const auto& w : words)
          if (haystack.find(w) == std::string::npos) return Status::Ok();
      }
    }
    hits.push_back(std::move(rec));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::sort(hits.begin(), hits.end(), [](const StoredRecord& a, const StoredRecord& b) {
    return a.updated_at != b.updated_at ? a.updated_at > b.updated_at : a.id < b.id;
  });
  *total = hits.size();
  if (hits.size() > static_cast<size_t>(q.limit)) hits.resize(static_cast<size_t>(q.limit));
  *out = std::move(hits);
  return Status::Ok();
}

Status ReviewService::Detail(const AuthUser& user, const std::string& record_id, RecordDetail* out) {
  Status s = sync_.ConflictsOf(user, record_id, &out->record, &out->open_conflicts);
  if (!s.ok()) return s;
  return sync_.History(user, record_id, &out->history);
}

Status ReviewService::Export(const AuthUser& user, const std::string& form, const std::string& unit,
                             const ExportOptions& options, std::string* out) {
  const FormSchema* schema = FormCatalog::Default().Find(form);
  if (!schema) return UnknownForm(form);
  std::string path;
  Status s = ScopePath(user, unit, &path);
  if (!s.ok()) return s;
  std::vector<report::ReportRecord> rows;
  s = ForEachRecord(path, [&](StoredRecord& rec) {
    if (rec.form != form) return Status::Ok();
    json::Object::Ptr fields;
    Status p = ParseFields(rec, &fields);
    if (!p.ok()) return p;
    rows.push_back({rec.id, rec.form, rec.unit, *fields, rec.conflict});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::sort(rows.begin(), rows.end(),
            [](const report::ReportRecord& a, const report::ReportRecord& b) { return a.id < b.id; });
  sheet::Table table =
      report::RecordsTable(FormCatalog::Default().AllFields(form), rows, *sync_.Units(), options.lang, options.codes);
  *out = options.format == "xlsx" ? xlsx::Write(table, options.codes ? form : schema->label.In(options.lang))
                                  : sheet::ToCsv(table, options.bom);
  return Status::Ok();
}

Status ReviewService::ImportRecords(const AuthUser& user, const std::string& form, const std::string& bytes,
                                    const sheet::ImportOptions& options, sheet::ImportSummary* out) {
  const FormSchema* schema = FormCatalog::Default().Find(form);
  if (!schema) return UnknownForm(form);
  sheet::Table table;
  Status s = sheet::ReadSheet(bytes, &table);
  if (!s.ok()) return s;
  std::vector<sheet::ImportRow> rows;
  s = sheet::ReadImportRows(*schema, table, &rows, out);
  if (!s.ok()) return s;
  auto units = sync_.Units();
  std::vector<sync::Change> changes;
  std::vector<size_t> lines;
  for (auto& row : rows) {
    // The unit: given, or the officer's own commune.
    std::string unit = row.unit.empty() && units->Children(user.unit).empty() ? user.unit : row.unit;
    const Unit* u = unit.empty() ? nullptr : units->Find(unit);
    Status problem;
    if (unit.empty()) problem = Status::Invalid("give the row's commune in a unit column (Đơn vị)");
    else if (!u) problem = Status::Invalid("unknown unit code '" + unit + "'");
    else if (!units->Children(unit).empty()) problem = Status::Invalid("unit " + unit + " is not a commune");
    else if (!units->IsWithin(unit, user.unit)) problem = Status::Denied("unit " + unit + " is outside your scope");
    else if (!u->valid_to.empty()) problem = Status::Invalid("unit " + unit + " (" + u->name + ") was closed on " + dates::ToDisplay(u->valid_to));
    if (problem.ok()) problem = ValidateRecord(*schema, &row.fields, Completeness::kComplete, /*allow_system=*/false);
    if (!problem.ok()) {
      out->problems.push_back({row.line, problem.message()});
      continue;
    }
    ApplyComputedFields(form, &row.fields);
    StampFormVersion(*schema, &row.fields);
    sync::Change c;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    c.form = form;
    c.unit = unit;
    c.op = sync::op::kCreate;
    std::vector<std::string> keys;
    row.fields.getNames(keys);
    for (const auto& k : keys) c.fields.push_back({k, "null", json::ToText(row.fields.get(k))});
    c.author = user.name;
    c.device = user.device.empty() ? "console" : user.device;
    c.hlc = sync_.NextHlc();
    changes.push_back(std::move(c));
    lines.push_back(row.line);
  }
  // The checks a push makes (references, links between records, workflow).
  std::vector<Status> checked;
  s = sync_.CheckEach(user, &changes, &checked);
  if (!s.ok()) return s;
  std::vector<sync::Change> good;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (checked[i].ok()) good.push_back(std::move(changes[i]));
    else out->problems.push_back({lines[i], checked[i].message()});
  }
  std::stable_sort(out->problems.begin(), out->problems.end(),
                   [](const sheet::ImportProblem& a, const sheet::ImportProblem& b) { return a.line < b.line; });
  out->good = good.size();
  if (options.dry_run || (!out->problems.empty() && !options.skip_bad)) return Status::Ok();
  // As change sets of at most 1,000 rows: each is taken whole, like a device's.
  constexpr size_t kPerSet = 1000;
  for (size_t at = 0; at < good.size(); at += kPerSet) {
    sync::ChangeSet cs;
    cs.id = ids::NewUuid();
    cs.device = good[at].device;
    cs.changes.assign(std::make_move_iterator(good.begin() + static_cast<long>(at)),
                      std::make_move_iterator(good.begin() + static_cast<long>(std::min(good.size(), at + kPerSet))));
    sync::PushResult result;
    s = sync_.Push(user, std::move(cs), &result);
    if (!s.ok()) return s;
    out->stored += result.outcomes.size();
  }
  return Status::Ok();
}

Status ReviewService::ImportUnits(const AuthUser& admin, const std::string& csv, bool apply, UnitListChange* out) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators import unit lists");
  if (!text::IsValidUtf8(csv)) return Status::Invalid("the unit list is not UTF-8 text (save it as CSV UTF-8)");
  UnitTree incoming;
  Status s = UnitTree::ParseCsv(csv, &incoming);
  if (!s.ok()) return s;
  if (incoming.size() == 0) return Status::Invalid("the unit list holds no units");
  auto current = sync_.Units();
  UnitTree merged;
  s = MergeUnitList(*current, incoming, Today(), &merged, out);
  if (!s.ok()) return s;
  // A unit is the administrator's to change when it (or, for a new one, its
  // parent in the list) lies within the administrator's unit.
  auto outside = [&](const Unit& u) {
    return !merged.IsWithin(u.code, admin.unit) && !current->IsWithin(u.code, admin.unit);
  };
  for (const auto& u : out->added)
    if (outside(u)) return Status::Denied("the list adds unit " + u.code + " (" + u.name + "), outside your scope");
  for (const auto& u : out->closed) {
    if (outside(u)) return Status::Denied("the list leaves out unit " + u.code + " (" + u.name + "), outside your scope: "
                                          "import only your own units' list, or ask an administrator above you");
    if (current->IsWithin(admin.unit, u.code))
      return Status::Invalid("the list leaves out your own unit " + u.code + " (" + u.name + ")");
  }
  for (const auto& [before, after] : out->renamed)
    if (outside(before)) return Status::Denied("the list renames unit " + before.code + ", outside your scope");
  for (const auto& [before, after] : out->moved)
    if (!current->IsWithin(before.code, admin.unit) || !merged.IsWithin(after.code, admin.unit))
      return Status::Denied("the list moves unit " + before.code + " (" + before.name + ") from or to a place outside your scope");
  if (!apply) return Status::Ok();
  // Moves and mergers are applied: ReplaceUnits gives the records of the
  // units concerned their new place in the tree.
  return sync_.ReplaceUnits(admin, std::move(merged));
}

}  // namespace ocop::server
