#include "shared/messages.h"

#include <Poco/JSON/Parser.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "shared/embedded.h"
#include "shared/json.h"

namespace ocop::msg {
namespace {

struct Template {
  std::string en, vi;
  std::regex pattern;  // the English with each {n} as a capture group
  std::vector<int> slots;  // which {n} each capture group is
};

struct Catalogue {
  std::map<std::string, Label> statuses, texts;
  std::vector<Template> messages;
};

std::string EscapeRegex(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{}/)";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// "{1}: {2} is below" -> "^(.*): (.*) is below$", slots {1, 2}.
Template Compile(const std::string& en, const std::string& vi) {
  Template t{en, vi, {}, {}};
  std::string re = "^";
  size_t i = 0;
  while (i < en.size()) {
    size_t open = en.find('{', i);
    size_t close = open == std::string::npos ? open : en.find('}', open);
    if (open == std::string::npos || close == std::string::npos) {
      re += EscapeRegex(en.substr(i));
      break;
    }
    re += EscapeRegex(en.substr(i, open - i));
    int n = std::atoi(en.substr(open + 1, close - open - 1).c_str());
    auto seen = std::find(t.slots.begin(), t.slots.end(), n);
    if (seen == t.slots.end()) {
      re += "([\\s\\S]*?)";
      t.slots.push_back(n);
    } else {
      re += "\\" + std::to_string(seen - t.slots.begin() + 1);  // a repeated part matches itself
    }
    i = close + 1;
  }
  t.pattern = std::regex(re + "$");
  return t;
}

Label ReadLabel(const Poco::JSON::Object::Ptr& o) {
  return {o->optValue<std::string>("vi", ""), o->optValue<std::string>("en", "")};
}

const Catalogue& Get() {
  static const Catalogue cat = [] {
    Catalogue c;
    auto text = embedded::Find("messages/catalogue.json");
    try {
      if (!text) throw std::runtime_error("missing");
      Poco::JSON::Parser parser;
      auto root = parser.parse(*text).extract<Poco::JSON::Object::Ptr>();
      for (const char* section : {"statuses", "texts"}) {
        auto o = root->getObject(section);
        auto& into = std::string(section) == "statuses" ? c.statuses : c.texts;
        for (const auto& [k, v] : *o) into[k] = ReadLabel(v.extract<Poco::JSON::Object::Ptr>());
      }
      auto list = root->getArray("messages");
      for (size_t i = 0; i < list->size(); ++i) {
        auto m = list->getObject(i);
        c.messages.push_back(Compile(m->getValue<std::string>("en"), m->getValue<std::string>("vi")));
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "broken embedded message catalogue: %s\n", e.what());
      std::abort();
    }
    return c;
  }();
  return cat;
}

std::string Fill(const std::string& tmpl, const std::vector<std::string>& args) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = open == std::string::npos ? open : tmpl.find('}', open);
    if (open == std::string::npos || close == std::string::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    size_t n = static_cast<size_t>(std::atoi(tmpl.substr(open + 1, close - open - 1).c_str()));
    if (n >= 1 && n <= args.size()) out += args[n - 1];
    else out += tmpl.substr(open, close - open + 1);
    i = close + 1;
  }
  return out;
}

// "field 'key' (nhãn / label)" -> «nhãn» or «label»; " item 3" -> " dòng 3".
std::string NameFields(const std::string& m, bool en) {
  // Labels may hold parentheses themselves: the name ends at the ")" that is
  // followed by ":", a space or the end of the message.
  static const std::regex field(R"(field '([\w]+)' \((.*?) / (.*?)\)(?=[: ,;]|$))");
  static const std::regex item(R"( item (\d+))");
  std::string out = std::regex_replace(m, field, en ? "«$3»" : "«$2»");
  return en ? std::regex_replace(out, item, " row $1") : std::regex_replace(out, item, " dòng $1");
}

std::string ToVietnamese(const std::string& m, int depth) {
  if (depth > 4 || m.empty()) return m;
  std::smatch hit;
  for (const auto& t : Get().messages) {
    if (!std::regex_match(m, hit, t.pattern)) continue;
    std::vector<std::string> args;
    for (size_t g = 1; g < hit.size(); ++g) {
      int slot = t.slots[g - 1];
      if (static_cast<size_t>(slot) > args.size()) args.resize(slot);
      args[slot - 1] = ToVietnamese(hit[g].str(), depth + 1);
    }
    return Fill(t.vi, args);
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
  return Fill(TextLabel(id).In(lang), args);
}

std::string Localise(const std::string& message, const std::string& lang) {
  // Messages can quote what a client sent. Past this length a message is shown
  // as written: the templates' backtracking matcher must not be handed a
  // hostile megabyte (time, and the recursion depth of std::regex).
  if (message.size() > kMaxLocalisedBytes) return message;
  bool en = lang == "en";
  std::string named = NameFields(message, en);
  return en ? named : ToVietnamese(named, 0);
}

std::string FieldName(const FieldDef& f) { return "field '" + f.key + "' (" + f.label.vi + " / " + f.label.en + ")"; }

bool CatalogueIsConsistent(std::string* problem) {
  static const std::regex slot(R"(\{(\d+)\})");
  auto slots = [](const std::string& s) {
    std::set<std::string> out;
    for (std::sregex_iterator it(s.begin(), s.end(), slot), end; it != end; ++it) out.insert((*it)[1]);
    return out;
  };
  for (const auto& t : Get().messages) {
    auto en = slots(t.en), vi = slots(t.vi);
    for (const auto& s : vi)
      if (!en.count(s)) {
        *problem = "'" + t.vi + "' uses {" + s + "} which '" + t.en + "' does not have";
        return false;
      }
  }
  for (const auto& [id, l] : Get().texts)
    if (l.vi.empty() || l.en.empty()) {
      *problem = "text " + id + " lacks a language";
      return false;
    }
  return true;
}

}  // namespace ocop::msg
