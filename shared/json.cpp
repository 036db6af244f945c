#include "shared/json.h"

#include <Poco/JSON/Parser.h>

#include <cstring>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <sstream>

namespace ocop::json {

namespace {
void Write(const Var& v, std::string* out);

void WriteString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void WriteObject(const Object& o, std::string* out) {
  // Poco::JSON::Object keeps keys in a std::map unless told otherwise: sorted.
  std::vector<std::string> names;
  o.getNames(names);
  std::sort(names.begin(), names.end());
  out->push_back('{');
  bool first = true;
  for (const auto& k : names) {
    if (!first) out->push_back(',');
    first = false;
    WriteString(k, out);
    out->push_back(':');
    Write(o.get(k), out);
  }
  out->push_back('}');
}

void WriteArray(const Array& a, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < a.size(); ++i) {
    if (i) out->push_back(',');
    Write(a.get(static_cast<unsigned>(i)), out);
  }
  out->push_back(']');
}

void Write(const Var& v, std::string* out) {
  if (v.isEmpty()) {
    out->append("null");
  } else if (v.type() == typeid(Object::Ptr)) {
    auto p = v.extract<Object::Ptr>();
    if (p) WriteObject(*p, out); else out->append("null");
  } else if (v.type() == typeid(Object)) {
    WriteObject(v.extract<Object>(), out);
  } else if (v.type() == typeid(Array::Ptr)) {
    auto p = v.extract<Array::Ptr>();
    if (p) WriteArray(*p, out); else out->append("null");
  } else if (v.type() == typeid(Array)) {
    WriteArray(v.extract<Array>(), out);
  } else if (v.isString()) {
    WriteString(v.convert<std::string>(), out);
  } else if (v.type() == typeid(bool)) {
    out->append(v.extract<bool>() ? "true" : "false");
  } else if (v.isNumeric()) {
    if (v.type() == typeid(double) || v.type() == typeid(float)) {
      double d = v.convert<double>();
      if (!std::isfinite(d)) {
        out->append("null");
      } else if (d == std::floor(d) && std::fabs(d) < 1e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", d);
        out->append(buf);
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", d);
        out->append(buf);
      }
    } else {
      out->append(v.convert<std::string>());
    }
  } else {
    WriteString(v.convert<std::string>(), out);
  }
}
}  // namespace

std::string ToText(const Var& v) {
  std::string out;
  Write(v, &out);
  return out;
}

std::string ToText(const Object& o) {
  std::string out;
  WriteObject(o, &out);
  return out;
}

namespace {
// The values of form fields are mostly plain strings and numbers; parsing them
// by hand is much cheaper than Poco's general parser. Anything unusual (escapes,
// exponents, nesting) takes the general path.
bool ParseSimpleScalar(const std::string& t, Var* out) {
  size_t n = t.size();
  if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
    for (size_t i = 1; i + 1 < n; ++i) {
      unsigned char c = static_cast<unsigned char>(t[i]);
      if (c == '\\' || c == '"' || c < 0x20) return false;
    }
    *out = t.substr(1, n - 2);
    return true;
  }
  if (t == "null") { *out = Var(); return true; }
  if (t == "true") { *out = true; return true; }
  if (t == "false") { *out = false; return true; }
  if (n == 0 || n > 20) return false;
  bool integer = true;
  for (size_t i = 0; i < n; ++i) {
    char c = t[i];
    if (c >= '0' && c <= '9') continue;
    if (c == '-' && i == 0 && n > 1) continue;
    if (c == '.' && i > 0 && i + 1 < n && integer) { integer = false; continue; }
    return false;
  }
  if (t[0] == '0' && n > 1 && t[1] != '.') return false;  // JSON forbids leading zeros
  if (t.size() > 1 && t[0] == '-' && t[1] == '0' && n > 2 && t[2] != '.') return false;
  if (integer) {
    if (n > 18) return false;
    *out = static_cast<Poco::Int64>(std::strtoll(t.c_str(), nullptr, 10));
  } else {
    *out = std::strtod(t.c_str(), nullptr);
  }
  return true;
}
}  // namespace

Status CheckNesting(const std::string& text, int max_depth, bool integers_only) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return Status::Invalid("JSON nests deeper than " + std::to_string(max_depth) + " levels (at byte " + std::to_string(i) + ")");
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (integers_only && (c == '-' || (c >= '0' && c <= '9'))) {
      size_t start = i;
      while (i + 1 < text.size() && std::strchr("0123456789+-.eE", text[i + 1])) ++i;
      std::string token = text.substr(start, i - start + 1);
      if (token.find_first_of(".eE+") != std::string::npos || token.size() > 18)
        return Status::Invalid("'" + token.substr(0, 40) + "' is not an integer of at most 18 digits");
    }
  }
  return Status::Ok();
}

Status Parse(const std::string& text, Var* out) {
  if (ParseSimpleScalar(text, out)) return Status::Ok();
  // Poco's parser recurses per level; refuse hostile nesting before it starts.
  Status nesting = CheckNesting(text, kMaxNesting);
  if (!nesting.ok()) return Status::Invalid("malformed JSON: " + nesting.message());
  try {
    Poco::JSON::Parser parser;
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] != '{' && text[first] != '[') {
      // A bare scalar ("1", "\"x\"", "null"): parse it as the one element of a list.
      Var wrapped = parser.parse("[" + text + "]");
      auto arr = wrapped.extract<Array::Ptr>();
      if (!arr || arr->size() != 1) return Status::Invalid("malformed JSON: expected one value");
      *out = arr->get(0);
      return Status::Ok();
    }
    *out = parser.parse(text);
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Invalid("malformed JSON: " + e.message());
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("malformed JSON: ") + e.what());
  }
}

Status ParseObject(const std::string& text, Object::Ptr* out) {
  Var v;
  Status s = Parse(text, &v);
  if (!s.ok()) return s;
  if (v.type() != typeid(Object::Ptr)) return Status::Invalid("expected a JSON object");
  *out = v.extract<Object::Ptr>();
  return Status::Ok();
}

std::string Canonical(const std::string& text) {
  if (text.empty()) return "null";
  Var v;
  if (!Parse(text, &v).ok()) return text;
  return ToText(v);
}

std::string Quote(const std::string& s) {
  std::string out;
  WriteString(s, &out);
  return out;
}

bool Equal(const Var& a, const Var& b) {
  if (a.isEmpty() || b.isEmpty()) return a.isEmpty() && b.isEmpty();
  if (a.isNumeric() && b.isNumeric() && a.type() != typeid(bool) && b.type() != typeid(bool))
    return a.convert<double>() == b.convert<double>();
  return ToText(a) == ToText(b);
}

}  // namespace ocop::json
