// Vietnamese text handling: every stored string is valid NFC UTF-8, and search
// compares "folded" text (case folded, diacritics stripped, đ/Đ as d) so that
// `dong nhan` finds `Đôn Nhân` whatever keyboard produced it. Backed by utf8proc.
// Thread-safe: pure functions.
#pragma once
#include <string>
#include <string_view>

namespace ocop::text {

bool IsValidUtf8(std::string_view s);
// NFC form of `s`. REQUIRES: IsValidUtf8(s).
std::string ToNfc(std::string_view s);
// Lower-case, diacritic-free form for search. REQUIRES: IsValidUtf8(s).
std::string Fold(std::string_view s);
// The key search compares: Fold(s), then every word-final "ng" written as "n".
// Southern speech merges the finals -n and -ng, and officers type what they
// hear, so `dong nhan` must find `Đôn Nhân` and `thanh lon` `Thanh long`.
std::string SearchKey(std::string_view s);
// Number of code points. REQUIRES: IsValidUtf8(s).
size_t Length(std::string_view s);
// Whether `needle` occurs in `haystack` once both are folded.
bool FoldedContains(std::string_view haystack, std::string_view needle);

}  // namespace ocop::text
