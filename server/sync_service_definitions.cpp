// Forms published by an administrator over the ones built into the binaries:
// kept in the store, put in force in this process (FormCatalog::Install), and
// fetched by devices at sync when the version in a pull answer changes.
#include "server/sync_service.h"

#include "shared/hash.h"
#include "shared/json.h"

namespace ocop::server {

namespace {
constexpr const char* kFormKind = "form";
}  // namespace

// Holds forms_mu_.
Status SyncService::InstallForms(std::map<std::pair<std::string, int>, std::string> published) {
  std::vector<std::string> texts;
  std::string all;
  for (const auto& [key, text] : published) {
    texts.push_back(text);
    all += text + '\x1e';
  }
  Status s = FormCatalog::Install(texts);
  if (!s.ok()) return s;
  forms_version_ = texts.empty() ? "" : hash::Sha256Hex(all).substr(0, 16);
  published_forms_ = std::move(published);
  return Status::Ok();
}

Status SyncService::RefreshForms(bool* changed) {
  *changed = false;
  std::vector<DefinitionRow> rows;
  Status s = store_.LoadDefinitions(kFormKind, &rows);
  if (!s.ok()) return s;
  std::map<std::pair<std::string, int>, std::string> published;
  for (auto& r : rows) published[{r.name, r.version}] = std::move(r.body);
  std::lock_guard<std::mutex> lock(forms_mu_);
  if (published == published_forms_) return Status::Ok();
  s = InstallForms(std::move(published));
  if (!s.ok()) return Status(s.code(), "the published forms in the store cannot be put in force: " + s.message());
  *changed = true;
  return Status::Ok();
}

Status SyncService::PublishForm(const std::string& by, const std::string& definition, bool check_only,
                                Publication* out) {
  if (definition.size() > 1024 * 1024) return Status::Invalid("a form definition is at most 1 MB");
  Status s = FormCatalog::ParseSchema(definition, &out->form);
  if (!s.ok()) return s;
  // One publication at a time, checked against what is in force then.
  std::lock_guard<std::mutex> lock(forms_mu_);
  s = CheckPublishable(FormCatalog::Default(), out->form, &out->differences);
  if (const FormSchema* newest = FormCatalog::Default().Find(out->form.form)) out->previous_version = newest->version;
  if (!s.ok() || check_only) return s;
  s = store_.SaveDefinition({kFormKind, out->form.form, out->form.version, definition, NowIso(), by});
  if (!s.ok()) return s;
  auto published = published_forms_;
  published[{out->form.form, out->form.version}] = definition;
  s = InstallForms(std::move(published));
  if (!s.ok()) return s;
  out->published = true;
  return Status::Ok();
}

std::string SyncService::FormsVersion() const {
  std::lock_guard<std::mutex> lock(forms_mu_);
  return forms_version_;
}

std::string SyncService::PublishedFormsJson() const {
  std::lock_guard<std::mutex> lock(forms_mu_);
  std::string out = "{\"version\":" + json::Quote(forms_version_) + ",\"forms\":[";
  bool first = true;
  for (const auto& [key, text] : published_forms_) {
    out += (first ? "" : ",") + text;
    first = false;
  }
  return out + "]}";
}

}  // namespace ocop::server
