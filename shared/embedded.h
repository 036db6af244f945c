// Files from schemas/ compiled into the binaries (see cmake/embed.cmake).
// Thread-safe: the table is built once and never changes.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocop::embedded {

struct File {
  std::string path;  // relative to schemas/, e.g. "forms/idea.v1.json"
  std::string content;
};

const std::vector<File>& Files();

// Content of the embedded file at `path`, or nullopt.
inline std::optional<std::string> Find(std::string_view path) {
  for (const auto& f : Files())
    if (f.path == path) return f.content;
  return std::nullopt;
}

// The numbered files under `dir` ("sql/server/" holds 001_init.sql, …) in
// number order: the migrations of one store. Files without a number are left out.
inline std::vector<std::pair<int, const File*>> Numbered(const std::string& dir) {
  std::vector<std::pair<int, const File*>> steps;
  for (const auto& f : Files()) {
    if (f.path.rfind(dir, 0) != 0) continue;
    int n = std::atoi(f.path.c_str() + dir.size());
    if (n > 0) steps.emplace_back(n, &f);
  }
  std::sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return steps;
}

}  // namespace ocop::embedded
