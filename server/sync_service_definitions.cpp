// Definitions published by an administrator over the ones built into the
// binaries (form versions, criteria sheets, catalogue corrections): kept in
// the store, put in force in this process (definitions::Install), and fetched
// by devices at sync when the version in a pull answer changes.
#include "server/sync_service.h"

#include "shared/evaluation.h"
#include "shared/json.h"

namespace ocop::server {

namespace {
using definitions::Published;

// The published definitions of `map` as devices and Install take them: forms
// by form and version, sheets, and the newest catalogue corrections.
Published Gather(const std::map<std::tuple<std::string, std::string, int>, std::string>& map) {
  Published p;
  for (const auto& [key, text] : map) {
    const std::string& kind = std::get<0>(key);
    if (kind == definitions::kForm) p.forms.push_back(text);
    else if (kind == definitions::kCriteria) p.criteria.push_back(text);
    else if (kind == definitions::kCatalogue) p.catalogue = text;  // in version order: the newest stays
  }
  return p;
}

int NewestVersion(const std::map<std::tuple<std::string, std::string, int>, std::string>& map, const std::string& kind,
                  const std::string& name) {
  int newest = 0;
  for (const auto& [key, text] : map)
    if (std::get<0>(key) == kind && std::get<1>(key) == name) newest = std::max(newest, std::get<2>(key));
  return newest;
}
}  // namespace

// Holds definitions_mu_.
Status SyncService::InstallDefinitions(DefinitionMap published) {
  Published p = Gather(published);
  Status s = definitions::Install(p);
  if (!s.ok()) return s;
  definitions_version_ = definitions::VersionOf(p);
  published_ = std::move(published);
  return Status::Ok();
}

Status SyncService::RefreshDefinitions(bool* changed) {
  *changed = false;
  DefinitionMap published;
  for (const char* kind : {definitions::kForm, definitions::kCriteria, definitions::kCatalogue}) {
    std::vector<DefinitionRow> rows;
    Status s = store_.LoadDefinitions(kind, &rows);
    if (!s.ok()) return s;
    for (auto& r : rows) published[{kind, r.name, r.version}] = std::move(r.body);
  }
  std::lock_guard<std::mutex> lock(definitions_mu_);
  if (published == published_) return Status::Ok();
  Status s = InstallDefinitions(std::move(published));
  if (!s.ok()) return Status(s.code(), "the published definitions in the store cannot be put in force: " + s.message());
  *changed = true;
  return Status::Ok();
}

Status SyncService::Publish(const std::string& by, const std::string& definition, bool check_only, Publication* out) {
  if (definition.size() > 1024 * 1024) return Status::Invalid("a definition is at most 1 MB");
  Status s = definitions::Identify(definition, &out->what);
  if (!s.ok()) return s;
  const definitions::Identity& what = out->what;
  // One publication at a time, checked against what is in force then.
  std::lock_guard<std::mutex> lock(definitions_mu_);
  if (what.kind == definitions::kForm) {
    FormSchema form;
    s = FormCatalog::ParseSchema(definition, &form);
    if (s.ok()) s = CheckPublishable(FormCatalog::Default(), form, &out->differences);
    if (!s.ok()) return s;
    out->previous_version = FormCatalog::Default().Find(form.form)->version;
  } else if (what.kind == definitions::kCriteria) {
    evaluation::CriteriaSheet sheet;
    s = evaluation::CriteriaSheet::Parse(definition, &sheet);
    if (!s.ok()) return s;
    out->replaces = sheet.replaces;
  } else {
    out->previous_version = NewestVersion(published_, what.kind, what.name);
    if (what.version <= out->previous_version)
      return Status::Invalid("the catalogue corrections are at version " + std::to_string(out->previous_version) +
                             " already: publish version " + std::to_string(out->previous_version + 1));
  }
  DefinitionMap next = published_;
  next[{what.kind, what.name, what.version}] = definition;
  s = definitions::Check(Gather(next));
  if (!s.ok() || check_only) return s;
  s = store_.SaveDefinition({what.kind, what.name, what.version, definition, NowIso(), by});
  if (!s.ok()) return s;
  s = InstallDefinitions(std::move(next));
  if (!s.ok()) return s;
  out->published = true;
  return Status::Ok();
}

std::string SyncService::DefinitionsVersion() const {
  std::lock_guard<std::mutex> lock(definitions_mu_);
  return definitions_version_;
}

std::string SyncService::PublishedDefinitionsJson() const {
  std::lock_guard<std::mutex> lock(definitions_mu_);
  return definitions::ToJson(Gather(published_), definitions_version_);
}

}  // namespace ocop::server
