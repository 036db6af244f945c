// Files from schemas/ compiled into the binaries (see cmake/embed.cmake).
// Thread-safe: the table is built once and never changes.
#pragma once
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

}  // namespace ocop::embedded
