#include "shared/messages.h"

#include <Poco/JSON/Parser.h>

#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "shared/embedded.h"
#include "shared/json.h"

namespace ocop::msg {
namespace {

// A template as pieces: literal text and numbered parts ({1}, {2}...).
struct Piece {
  bool slot = false;
  int n = 0;
  std::string text;
};

struct Template {
  std::string en, vi;
  std::vector<Piece> pieces;  // of the English
};

struct Catalogue {
  std::map<std::string, Label> statuses, texts;
  std::vector<Template> messages;
};

std::vector<Piece> Split(const std::string& t) {
  std::vector<Piece> out;
  size_t i = 0;
  while (i < t.size()) {
    size_t open = t.find('{', i);
    size_t close = open == std::string::npos ? open : t.find('}', open);
    bool number = close != std::string::npos && close > open + 1 &&
                  t.find_first_not_of("0123456789", open + 1) == close;
    if (!number) {
      std::string rest = open == std::string::npos ? t.substr(i) : t.substr(i, open + 1 - i);
      if (!out.empty() && !out.back().slot) out.back().text += rest;
      else out.push_back({false, 0, rest});
      if (open == std::string::npos) break;
      i = open + 1;
      continue;
    }
    if (open > i) {
      if (!out.empty() && !out.back().slot) out.back().text += t.substr(i, open - i);
      else out.push_back({false, 0, t.substr(i, open - i)});
    }
    out.push_back({true, std::atoi(t.substr(open + 1, close - open - 1).c_str()), ""});
    i = close + 1;
  }
  return out;
}

// Matches the whole of `m` against pieces[k..], each part as short as it can
// be (so "record {1}: {2}" takes the id, not everything up to the last ": ").
// The work is bounded by `budget` so that no message, however written, costs
// more than a few thousand comparisons per template; the recursion is at most
// as deep as the template has pieces.
bool Match(const std::vector<Piece>& pieces, size_t k, const std::string& m, size_t pos,
           std::map<int, std::string>* parts, int* budget) {
  if (--*budget < 0) return false;
  if (k == pieces.size()) return pos == m.size();
  const Piece& p = pieces[k];
  if (!p.slot) return m.compare(pos, p.text.size(), p.text) == 0 && Match(pieces, k + 1, m, pos + p.text.size(), parts, budget);
  auto seen = parts->find(p.n);
  if (seen != parts->end()) {  // a part named twice matches itself
    const std::string& same = seen->second;
    return m.compare(pos, same.size(), same) == 0 && Match(pieces, k + 1, m, pos + same.size(), parts, budget);
  }
  if (k + 1 == pieces.size()) {
    (*parts)[p.n] = m.substr(pos);
    return true;
  }
  const Piece& next = pieces[k + 1];
  if (next.slot) {  // two parts side by side: the first takes nothing more than it must
    for (size_t end = pos; end <= m.size(); ++end) {
      (*parts)[p.n] = m.substr(pos, end - pos);
      if (Match(pieces, k + 1, m, end, parts, budget)) return true;
      if (*budget < 0) break;
    }
  } else {
    for (size_t at = m.find(next.text, pos); at != std::string::npos; at = m.find(next.text, at + 1)) {
      (*parts)[p.n] = m.substr(pos, at - pos);
      if (Match(pieces, k + 1, m, at, parts, budget)) return true;
      if (*budget < 0) break;
    }
  }
  parts->erase(p.n);
  return false;
}


// Reads a catalogue file's sections into `c`: entries already there (from a
// published correction, read first) win; templates keep their order.
Status Read(const std::string& text, Catalogue* c) {
  try {
    Poco::JSON::Parser parser;
    auto root = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    for (const char* section : {"statuses", "texts"}) {
      auto o = root->getObject(section);
      if (!o) continue;
      auto& into = std::string(section) == "statuses" ? c->statuses : c->texts;
      for (const auto& [k, v] : *o) into.emplace(k, ReadLabel(o, k));
    }
    auto list = root->getArray("messages");
    for (size_t i = 0; list && i < list->size(); ++i) {
      auto m = list->getObject(i);
      if (!m) return Status::Invalid("message catalogue: message " + std::to_string(i + 1) + " is not an object");
      Template t{m->getValue<std::string>("en"), m->getValue<std::string>("vi"), {}};
      if (t.en.empty() || t.vi.empty()) return Status::Invalid("message catalogue: message " + std::to_string(i + 1) + " lacks a language");
      t.pieces = Split(t.en);
      c->messages.push_back(std::move(t));
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("message catalogue: ") + e.what());
  }
}

const Catalogue& Embedded() {
  static const Catalogue cat = [] {
    Catalogue c;
    auto text = embedded::Find("messages/catalogue.json");
    Status s = text ? Read(*text, &c) : Status::NotFound("missing");
    if (!s.ok()) {
      std::fprintf(stderr, "broken embedded message catalogue: %s\n", s.message().c_str());
      std::abort();
    }
    return c;
  }();
  return cat;
}

std::atomic<const Catalogue*> in_force{nullptr};

const Catalogue& Get() {
  const Catalogue* c = in_force.load(std::memory_order_acquire);
  return c ? *c : Embedded();
}

bool Consistent(const Catalogue& c, std::string* problem);


std::string Fill(const std::string& tmpl, const std::map<int, std::string>& args) {
  std::string out;
  for (const Piece& p : Split(tmpl)) {
    if (!p.slot) {
      out += p.text;
      continue;
    }
    auto it = args.find(p.n);
    out += it != args.end() ? it->second : "{" + std::to_string(p.n) + "}";
  }
  return out;
}

bool IsKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// "field 'key' (nhãn / label)" -> «nhãn» or «label»; " item 3" -> " dòng 3".
// Labels may hold parentheses themselves: a name ends at the ")" that is
// followed by ":", a space, ",", ";" or the end of the message.
std::string NameFields(const std::string& m, bool en) {
  std::string out;
  size_t i = 0;
  while (i < m.size()) {
    size_t at = m.find("field '", i);
    if (at == std::string::npos) break;
    size_t key_end = at + 7;
    while (key_end < m.size() && IsKeyChar(m[key_end])) ++key_end;
    size_t slash = std::string::npos, close = std::string::npos;
    if (key_end > at + 7 && m.compare(key_end, 3, "' (") == 0) {
      slash = m.find(" / ", key_end + 3);
      size_t c = slash == std::string::npos ? std::string::npos : m.find(')', slash + 3);
      for (; c != std::string::npos; c = m.find(')', c + 1))
        if (c + 1 == m.size() || std::strchr(": ,;", m[c + 1])) {
          close = c;
          break;
        }
    }
    if (close == std::string::npos) {
      out += m.substr(i, at + 7 - i);
      i = at + 7;
      continue;
    }
    out += m.substr(i, at - i);
    out += "«" + (en ? m.substr(slash + 3, close - slash - 3) : m.substr(key_end + 3, slash - key_end - 3)) + "»";
    i = close + 1;
  }
  out += m.substr(std::min(i, m.size()));
  // " item 3" -> " dòng 3" / " row 3"
  std::string result;
  size_t j = 0;
  for (size_t at = out.find(" item "); at != std::string::npos; at = out.find(" item ", at + 1)) {
    if (at + 6 >= out.size() || !std::isdigit(static_cast<unsigned char>(out[at + 6]))) continue;
    result += out.substr(j, at - j) + (en ? " row " : " dòng ");
    j = at + 6;
  }
  return result + out.substr(j);
}

std::string ToVietnamese(const std::string& m, int depth) {
  if (depth > 4 || m.empty()) return m;
  for (const auto& t : Get().messages) {
    std::map<int, std::string> parts;
    int budget = 4096;
    if (!Match(t.pieces, 0, m, 0, &parts, &budget)) continue;
    for (auto& [n, text] : parts) text = ToVietnamese(text, depth + 1);
    return Fill(t.vi, parts);
  }
  return m;
}

}  // namespace

const Label& StatusName(const std::string& status) {
  static const Label none;
  auto it = Get().statuses.find(status);
  return it == Get().statuses.end() ? none : it->second;
}

std::string StatusName(const std::string& status, const std::string& lang) {
  const Label& l = StatusName(status);
  return l.vi.empty() ? status : l.In(lang);
}

Label TextLabel(const std::string& id) {
  auto it = Get().texts.find(id);
  return it == Get().texts.end() ? Label{id, id} : it->second;
}

std::string Text(const std::string& id, const std::string& lang, const std::vector<std::string>& args) {
  std::map<int, std::string> parts;
  for (size_t i = 0; i < args.size(); ++i) parts[static_cast<int>(i) + 1] = args[i];
  return Fill(TextLabel(id).In(lang), parts);
}

std::string Localise(const std::string& message, const std::string& lang) {
  // Messages can quote what a client sent. Past this length a message is shown
  // as written: the templates' matcher need not wade through a hostile megabyte.
  if (message.size() > kMaxLocalisedBytes) return message;
  bool en = lang == "en";
  std::string named = NameFields(message, en);
  return en ? named : ToVietnamese(named, 0);
}

std::string FieldOfMessage(const std::string& message) {
  size_t at = message.find("field '");
  if (at == std::string::npos) return "";
  size_t start = at + 7, end = message.find('\'', start);
  return end == std::string::npos ? "" : message.substr(start, end - start);
}

std::string FieldName(const FieldDef& f) { return "field '" + f.key + "' (" + f.label.vi + " / " + f.label.en + ")"; }

bool CatalogueIsConsistent(std::string* problem) { return Consistent(Get(), problem); }

Status Install(const std::string& corrections, bool check_only) {
  auto next = std::make_unique<Catalogue>();
  if (!corrections.empty()) {
    Status s = Read(corrections, next.get());
    std::string problem;
    if (s.ok() && !Consistent(*next, &problem)) s = Status::Invalid("message catalogue: " + problem);
    if (!s.ok()) return s;
  }
  if (check_only) return Status::Ok();
  // The build's own entries after the corrections: new messages of a newer
  // build keep their Vietnamese, and a correction matches first.
  const Catalogue& built = Embedded();
  for (const auto& [k, v] : built.statuses) next->statuses.emplace(k, v);
  for (const auto& [k, v] : built.texts) next->texts.emplace(k, v);
  next->messages.insert(next->messages.end(), built.messages.begin(), built.messages.end());
  static std::mutex mu;
  static std::vector<std::unique_ptr<const Catalogue>> kept;  // never freed: a Label& handed out stays valid
  std::lock_guard<std::mutex> lock(mu);
  kept.push_back(std::move(next));
  in_force.store(kept.back().get(), std::memory_order_release);
  return Status::Ok();
}

namespace {
bool Consistent(const Catalogue& c, std::string* problem) {
  auto slots = [](const std::string& t) {
    std::set<int> out;
    for (const Piece& p : Split(t))
      if (p.slot) out.insert(p.n);
    return out;
  };
  for (const auto& t : c.messages) {
    auto en = slots(t.en), vi = slots(t.vi);
    for (int n : vi)
      if (!en.count(n)) {
        *problem = "'" + t.vi + "' uses {" + std::to_string(n) + "} which '" + t.en + "' does not have";
        return false;
      }
  }
  for (const auto& [id, l] : c.texts)
    if (l.vi.empty() || l.en.empty()) {
      *problem = "text " + id + " lacks a language";
      return false;
    }
  return true;
}
}  // namespace

}  // namespace ocop::msg
