// libFuzzer target: a push body in the binary encoding, as the server decodes it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ocop::sync::ChangeSet cs;
  if (ocop::sync::DecodeBinary(bytes, &cs).ok()) (void)ocop::sync::ValidateChangeSet(cs, 5000);
  ocop::sync::Change c;
  (void)ocop::sync::DecodeBinary(bytes, &c);
  return 0;
}
