// JSON helpers over Poco::JSON. Field values are Poco::Dynamic::Var holding one of:
// std::string, Poco::Int64, double, bool, Poco::JSON::Array::Ptr,
// Poco::JSON::Object::Ptr, or empty (null). "Canonical text" is compact JSON with
// object keys sorted, so equal values have equal text and can be compared,
// hashed and stored as strings.
#pragma once
#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <string>

#include "shared/status.h"

namespace ocop::json {

using Var = Poco::Dynamic::Var;
using Object = Poco::JSON::Object;
using Array = Poco::JSON::Array;

// Compact JSON text, keys sorted, UTF-8 kept as is.
std::string ToText(const Var& v);
std::string ToText(const Object& o);
// Deepest nesting any JSON we read may have (forms nest 3 deep: object, list, item).
inline constexpr int kMaxNesting = 64;
// Refuses text whose arrays/objects nest deeper than max_depth, in one linear
// pass that allocates nothing: run before any recursive parser sees the text.
// With integers_only, also refuses any number that is not an integer of at
// most 18 digits (sync messages carry no other numbers).
Status CheckNesting(const std::string& text, int max_depth, bool integers_only = false);
// Parses JSON text (at most kMaxNesting deep). Returns InvalidArgument with the parser's reason on failure.
Status Parse(const std::string& text, Var* out);
Status ParseObject(const std::string& text, Object::Ptr* out);
// Canonical text of a JSON text (re-encoded with sorted keys); "null" for "".
std::string Canonical(const std::string& text);
// Quotes a string as a JSON string literal.
std::string Quote(const std::string& s);
// Structural equality (numbers compare by value: 2 == 2.0).
bool Equal(const Var& a, const Var& b);

}  // namespace ocop::json
