// Free space on the filesystem that holds a directory: what the server checks
// before it takes more bytes (a push, an upload), so that a nearly full disk
// answers 507 with a sentence instead of failing half-way through a write.
#pragma once
#include <cstdint>
#include <string>

namespace ocop::server {

// Bytes an unprivileged process may still write under `dir`; -1 if unknown.
int64_t FreeBytes(const std::string& dir);

}  // namespace ocop::server
