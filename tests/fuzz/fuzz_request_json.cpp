// libFuzzer target: the JSON bodies of login, pull, resolve and users requests
// (all read with json::ParseObject), and canonical re-encoding of values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ocop::json::Object::Ptr o;
  if (ocop::json::ParseObject(text, &o).ok()) (void)ocop::json::ToText(*o);
  (void)ocop::json::Canonical(text);
  return 0;
}
