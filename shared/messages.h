// The one message catalogue (schemas/messages/catalogue.json): status names,
// report words, and the Vietnamese of every message the core writes.
//
// The core writes its messages once, in English (logs, the wire's "message",
// `--lang en`); the edges that show a message to a person call Localise, which
// finds the message's template in the catalogue and fills in the Vietnamese.
// Parts of a message that are messages themselves ("record X: <why>") are
// translated too. Field names written as "field 'key' (nhãn / label)" become
// the label in the reader's language. Thread-safe: loaded once, read-only.
#pragma once
#include <string>

#include "shared/forms.h"

namespace ocop::msg {

// A status name ("submitted" -> "Đã tiếp nhận"); the status itself if unknown.
const Label& StatusName(const std::string& status);
std::string StatusName(const std::string& status, const std::string& lang);
// A word or phrase of the report and pages by id; {1}.. filled from `args`.
std::string Text(const std::string& id, const std::string& lang, const std::vector<std::string>& args = {});
Label TextLabel(const std::string& id);
// Longer messages are returned as written.
inline constexpr size_t kMaxLocalisedBytes = 1024;
// `message` (English, as the core wrote it) in `lang` ("vi" or "en").
std::string Localise(const std::string& message, const std::string& lang);
// The status's message in `lang`.
inline std::string Localise(const Status& s, const std::string& lang) { return Localise(s.message(), lang); }

// How a field is named in messages: its key and both labels, so each reader
// sees the label in their language.
std::string FieldName(const FieldDef& f);
// The field a core message names ("field 'phone': ..."), or "": the pages
// mark that field.
std::string FieldOfMessage(const std::string& message);

// For tests: every template's Vietnamese uses only placeholders its English has.
bool CatalogueIsConsistent(std::string* problem);

// Puts corrections published by the server (a catalogue file: statuses,
// texts, messages) in force over the build's own catalogue: its entries win,
// entries it lacks stay the build's. "" goes back to the build's alone.
// Checked whole (each template's Vietnamese uses only its English's
// placeholders) before anything changes.
Status Install(const std::string& corrections, bool check_only = false);

}  // namespace ocop::msg
