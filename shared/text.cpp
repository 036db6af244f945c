#include "shared/text.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace ocop::text {

namespace {
std::string Map(std::string_view s, int options) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                        static_cast<utf8proc_ssize_t>(s.size()), &out,
                        static_cast<utf8proc_option_t>(options));
  if (n < 0) return std::string();
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> guard(out, &std::free);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}
}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    if (*p < 0x80) {  // ASCII, most of any text here: no decoding needed
      ++p;
      --left;
      continue;
    }
    utf8proc_int32_t cp;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0 || cp < 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

namespace {
// True when every code point is one NFC leaves alone for sure: below U+0300
// (ASCII, Latin-1, Latin Extended-A/B, where Vietnamese keeps Đ, Ơ, Ư) or in
// Latin Extended Additional U+1E00–U+1EFF (the precomposed Vietnamese vowels).
// Combining marks (U+0300…) and anything else go through utf8proc.
bool SurelyNfc(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    if (*p < 0x80) {
      ++p;
      --left;
      continue;
    }
    utf8proc_int32_t cp;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return false;
    if (!(cp < 0x300 || (cp >= 0x1E00 && cp <= 0x1EFF))) return false;
    p += n;
    left -= n;
  }
  return true;
}
}  // namespace

std::string ToNfc(std::string_view s) {
  if (SurelyNfc(s)) return std::string(s);
  return Map(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
}

std::string Fold(std::string_view s) {
  std::string folded =
      Map(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD);
  // Unicode gives đ (U+0111) no decomposition, but Vietnamese readers treat it as d.
  std::string out;
  out.reserve(folded.size());
  for (size_t i = 0; i < folded.size(); ++i) {
    if (static_cast<unsigned char>(folded[i]) == 0xC4 && i + 1 < folded.size() &&
        static_cast<unsigned char>(folded[i + 1]) == 0x91) {
      out.push_back('d');
      ++i;
    } else {
      out.push_back(folded[i]);
    }
  }
  return out;
}

std::string SearchKey(std::string_view s) {
  std::string f = Fold(s);
  std::string out;
  out.reserve(f.size());
  auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c & 0x80); };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == 'n' && i + 1 < f.size() && f[i + 1] == 'g' && (i + 2 == f.size() || !is_letter(f[i + 2])) && i > 0 &&
        is_letter(f[i - 1])) {
      out.push_back('n');
      ++i;  // drop the g
      continue;
    }
    out.push_back(f[i]);
  }
  return out;
}

size_t Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool FoldedContains(std::string_view haystack, std::string_view needle) {
  return SearchKey(haystack).find(SearchKey(needle)) != std::string::npos;
}

}  // namespace ocop::text
