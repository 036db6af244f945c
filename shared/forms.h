// Form definitions (loaded from the versioned JSON files in schemas/forms/) and
// the one validator that both the client and the server use.
//
// A record's fields are a JSON object: field key -> value. Every form also has
// the system field "status" (its choices are the form's statuses). Values are
// normalised on the way in: text to NFC, dates to ISO, numbers to their type.
// Thread-safe once loaded: FormCatalog is immutable after construction.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "shared/json.h"
#include "shared/status.h"

namespace ocop {

struct Label {
  std::string vi, en;
  const std::string& In(const std::string& lang) const { return lang == "en" && !en.empty() ? en : vi; }
};

enum class FieldType { kText, kInteger, kNumber, kBool, kDate, kChoice, kMultiChoice, kRef, kList };
const char* FieldTypeName(FieldType t);

struct Choice {
  std::string value;
  Label label;
};

struct FieldDef {
  std::string key;
  FieldType type = FieldType::kText;
  Label label;
  Label help;
  bool required = false;
  bool system = false;    // set by workflow commands, not by --set
  bool computed = false;  // derived (see localisation.h); never set from outside
  bool multiline = false;
  // A date of something that has happened (a visit, a receipt): not later
  // than tomorrow (a day's grace for clocks and time zones).
  bool past = false;
  // Kept with the record but shown nowhere (the form version it was written with).
  bool hidden = false;
  size_t max_length = 0;  // text, in code points; 0 = no limit beyond the global one
  bool has_min = false, has_max = false;
  double min = 0, max = 0;
  std::string pattern;   // named pattern: "phone", "digits_dashes", "hh_mm"
  std::string ref_form;  // for kRef
  std::vector<Choice> choices;
  std::vector<FieldDef> item_fields;  // for kList: each item is an object of these
  Label items_label;                  // for kList: what its rows are, counted ("3 nguyên liệu")
  size_t max_items = 0;
};

struct FormSchema {
  std::string form;
  int version = 0;
  Label label;
  std::vector<std::string> statuses;
  std::string initial_status;
  std::string title_field;
  std::vector<FieldDef> fields;
  std::string source;  // the definition file it was read from (served to the screens as it is)

  const FieldDef* Field(const std::string& key) const;
};

// The system field every record carries: the version of its form it was
// written with. Records from before versions were published carry none and are
// of version 1. A record keeps its version; its changes are checked against it.
inline constexpr const char* kFormVersionKey = "form_version";
int FormVersionOf(const json::Object& fields);
// Marks a new record as written with `schema`'s version (version 1 is left
// unmarked, as records were before versions were published).
void StampFormVersion(const FormSchema& schema, json::Object* fields);

// {"vi": ..., "en": ...} under `key` of a definition file (empty if absent).
Label ReadLabel(const json::Object::Ptr& o, const std::string& key);

// "unknown form 'x' (choose idea, confirmation, ...)", naming the catalog's forms.
Status UnknownForm(const std::string& form);

// Limits that hold for every text whatever the schema says.
constexpr size_t kMaxTextBytes = 16 * 1024;

// Every version of every form. The catalog in force (Default) is the embedded
// one, with what the server published installed over it (Install): a form's
// new version serves new records, and its older versions the records written
// with them.
class FormCatalog {
 public:
  // Parses one form definition file.
  static Status ParseSchema(const std::string& json_text, FormSchema* out);
  // The catalog in force: the embedded schemas/forms/*.json, plus the
  // definitions installed last. Aborts the program if an embedded file is
  // broken: that is a build defect, caught by the tests.
  static const FormCatalog& Default();
  // Only the embedded definitions: what a build knows by itself.
  static const FormCatalog& Embedded();
  // The embedded definitions plus `published` (definition files, each checked
  // with CheckPublishable in order). The evaluation form's "sheet" field
  // offers `sheets` (the criteria sheets in force) beside its own choices.
  static Status Build(const std::vector<std::string>& published, const std::vector<Choice>& sheets,
                      std::unique_ptr<const FormCatalog>* out);
  // Makes a built catalog the one in force. References to an earlier catalog
  // stay valid: catalogs are few (one per publication) and small, so they are
  // kept for the life of the process.
  static const FormCatalog& PutInForce(std::unique_ptr<const FormCatalog> catalog);
  // Build with the criteria sheets in force, then PutInForce.
  static Status Install(const std::vector<std::string>& published);

  // Keeps every version; the same form and version twice is refused.
  Status Add(FormSchema schema);
  // The newest version of `form`: the one new records use.
  const FormSchema* Find(const std::string& form) const;
  // One version of `form`, or null when this catalog does not have it.
  const FormSchema* Find(const std::string& form, int version) const;
  // The version a record was written with (FormVersionOf its fields).
  const FormSchema* ForRecord(const std::string& form, const json::Object& fields) const;
  // For showing a record: its version, or the newest when this catalog does
  // not have it yet (a device that has not fetched it: shown, not edited).
  const FormSchema* Shown(const std::string& form, const json::Object& fields) const;
  std::vector<std::string> Names() const;
  // The versions of `form`, oldest first.
  std::vector<const FormSchema*> Versions(const std::string& form) const;
  // The newest version with the fields only earlier versions have appended:
  // the columns of an export, where records of every version meet.
  FormSchema AllFields(const std::string& form) const;

 private:
  std::map<std::string, std::map<int, FormSchema>> forms_;
};

// What a new version changes, field by field, for the person who publishes it.
struct FieldDifference {
  enum Kind { kAdded, kRemoved, kChanged } kind = kAdded;
  std::string key;
  Label label;
  std::vector<std::string> what;  // for kChanged: "label", "required", "choices", "limits", "help", "items"
};

// Whether `next` may be published over the versions `catalog` holds: a form
// the catalog knows (a build adds forms; publishing changes them), a version
// above its newest, and no field key of any earlier version with another type
// (records of every version stay readable and editable). `differences` says
// what changed against the newest version.
Status CheckPublishable(const FormCatalog& catalog, const FormSchema& next, std::vector<FieldDifference>* differences);

// Checks `in` against `field` and writes the normalised value to `out`.
// The message names the field and the rule broken. A null `in` is valid for a
// field that is not required (it clears the field).
Status CheckValue(const FieldDef& field, const json::Var& in, json::Var* out);

// Converts what a person typed (a --set value or an interactive answer) into a
// typed value and checks it. Dates dd/mm/yyyy or ISO; choices by value, by number
// (1-based) or by label ignoring case and accents; booleans có/không/yes/no/true/
// false/1/0; multichoice as a comma-separated list; lists as JSON arrays.
// An empty string means "no value" (null).
Status ParseInput(const FieldDef& field, const std::string& typed, json::Var* out);

enum class Completeness { kPartial, kComplete };
// Validates a whole record: unknown keys, each value, required fields (only when
// kComplete), cross-field rules (local workers <= total, local value <= value).
// Normalises values in place. `allow_system` lets workflow fields through.
Status ValidateRecord(const FormSchema& schema, json::Object* fields, Completeness completeness,
                      bool allow_system);

// The record-level rules of ValidateRecord alone (required fields, cross-field
// rules), for values already checked one by one with CheckValue.
Status CheckRequiredAndCrossField(const FormSchema& schema, const json::Object& fields);

// Display form of a value ("" for null): dates dd/mm/yyyy, choices by label.
std::string DisplayValue(const FieldDef& field, const json::Var& v, const std::string& lang);
// What a person calls a record from its own fields, in `lang`: an idea by its
// product and subject; a visit by its purpose, date and subject; other forms by
// their product. Never an id (the device adds the idea's product, client
// RecordTitle).
std::string RecordTitleOf(const FormSchema& schema, const json::Object& fields, const std::string& lang);
// A stored value written as JSON text (as history keeps it) in words, for a
// person: labels for choices and statuses, dd/mm/yyyy, Vietnamese numbers
// (1.500.000; 21,45; years and codes ungrouped), lists counted ("3 nguyên
// liệu"), "(trống)" for no value. `field` may be null (an unknown key).
std::string DisplayJson(const FieldDef* field, const std::string& json_text, const std::string& lang);
// A number as a person reads it in `lang`: vi 1.234.567,5; en 1,234,567.5.
// `group` false for years and codes.
std::string NumberText(double n, const std::string& lang, bool group = true);

// What a search matches a record against (text::SearchKey of its texts, choice
// labels and list rows): the device's list and the server's console search the
// same words.
std::string SearchText(const FormSchema& schema, const json::Object& fields);

}  // namespace ocop
