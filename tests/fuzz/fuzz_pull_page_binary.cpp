// libFuzzer target: a server answer as the client decodes it (pull page and
// push answer, binary and JSON).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ocop::sync::PullPage page;
  (void)ocop::sync::DecodeBinary(bytes, &page);
  ocop::sync::PushResult r;
  (void)ocop::sync::DecodeBinary(bytes, &r);
  (void)ocop::sync::DecodeJson(bytes, &page);
  return 0;
}
