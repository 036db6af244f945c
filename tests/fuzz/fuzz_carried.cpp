// libFuzzer target: carried files (sync/carried.h), read from USB sticks and
// uploads: framing, header, gzip payload, sections, bounded decoders.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/carried.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ocop::sync::carried::CarriedFile file;
  (void)ocop::sync::carried::Read(bytes, &file);
  (void)ocop::sync::carried::CheckSignature(bytes, std::string(64, 'a'));
  return 0;
}
