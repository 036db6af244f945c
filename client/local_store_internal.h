// Helpers the two halves of LocalStore share (local_store.cpp, local_store_sync.cpp);
// not part of the client's interface.
#pragma once
#include <string>

#include "shared/json.h"
#include "shared/status.h"

namespace ocop::client::internal {

// mkdir -p, with mode 0700 (a device's store is its officer's alone).
Status MakeDirs(const std::string& path);
bool FileExists(const std::string& path);
// A stored fields text as an object; an unreadable one as an empty object.
json::Object ParseFields(const std::string& text);

}  // namespace ocop::client::internal
