// Definitions an administrator publishes on the server over the ones built
// into the binaries: form versions, criteria sheets, and corrections to the
// message catalogue. The server keeps them in its store; devices fetch them at
// sync (GET /v1/definitions, when X-Ocop-Definitions in a pull answer differs
// from the version they hold) and keep them for offline use. Both put them in
// force in their process with Install.
#pragma once
#include <string>
#include <vector>

#include "shared/forms.h"
#include "shared/status.h"

namespace ocop::definitions {

inline constexpr const char* kForm = "form";
inline constexpr const char* kCriteria = "criteria";
inline constexpr const char* kCatalogue = "catalogue";

struct Published {
  std::vector<std::string> forms;     // form definition files, by form and version
  std::vector<std::string> criteria;  // criteria sheets, in the order published
  std::string catalogue;              // the newest catalogue corrections ("": none)
  bool empty() const { return forms.empty() && criteria.empty() && catalogue.empty(); }
};

// What one definition file is: a form version ("form": name, "version": N), a
// criteria sheet ("sheet": id; version 1), or catalogue corrections
// ("messages": [...], "version": N; name "messages").
struct Identity {
  std::string kind, name;
  int version = 0;
  Label label;
};
Status Identify(const std::string& text, Identity* out);

// Puts `published` in force over the built-in definitions, all or nothing:
// checked whole (sheets, forms against their earlier versions, the catalogue)
// before anything changes.
Status Install(const Published& published);
// The same checks, nothing put in force.
Status Check(const Published& published);

// As GET /v1/definitions answers: {"version", "forms": [...], "criteria": [...],
// "catalogue": {...} or null}; and read back (each definition as JSON text).
std::string ToJson(const Published& published, const std::string& version);
Status FromJson(const std::string& text, Published* out);

// A short hash of the published definitions (empty when there are none).
std::string VersionOf(const Published& published);

}  // namespace ocop::definitions
