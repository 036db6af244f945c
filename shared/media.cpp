#include "shared/media.h"

#include <algorithm>

namespace ocop::media {

namespace {

// Signatures: JPEG's SOI and first marker, PNG's eight bytes, WebP's RIFF
// container ("RIFF" size "WEBP", the size bytes any).
constexpr std::string_view kJpeg("\xFF\xD8\xFF", 3);
constexpr std::string_view kPng("\x89PNG\r\n\x1A\n", 8);

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Whether `head` agrees with the pattern as far as it goes ('?' matches any byte).
bool Agrees(std::string_view head, std::string_view pattern) {
  size_t n = std::min(head.size(), pattern.size());
  for (size_t i = 0; i < n; ++i)
    if (pattern[i] != '?' && head[i] != pattern[i]) return false;
  return true;
}

}  // namespace

std::string ImageKind(std::string_view head) {
  if (StartsWith(head, kJpeg)) return "jpeg";
  if (StartsWith(head, kPng)) return "png";
  if (head.size() >= 12 && head.substr(0, 4) == "RIFF" && head.substr(8, 4) == "WEBP") return "webp";
  return "";
}

bool CanBeImage(std::string_view head, long long size) {
  head = head.substr(0, 12);
  if (!ImageKind(head).empty()) return true;
  if (head.size() >= 12 || static_cast<long long>(head.size()) >= size) return false;  // all there is to see
  return Agrees(head, kJpeg) || Agrees(head, kPng) || Agrees(head, "RIFF????WEBP");
}

}  // namespace ocop::media
