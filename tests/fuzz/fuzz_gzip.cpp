// libFuzzer target: gzip request bodies, inflated with a bound (zip bombs).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string out;
  (void)ocop::sync::Gunzip(bytes, 1 << 20, &out);
  return 0;
}
