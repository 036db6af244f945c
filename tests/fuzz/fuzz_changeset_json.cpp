// libFuzzer target: a push body in JSON, as the server decodes it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ocop::sync::ChangeSet cs;
  if (ocop::sync::DecodeJson(text, &cs).ok()) (void)ocop::sync::ValidateChangeSet(cs, 5000);
  ocop::sync::PushResult r;
  (void)ocop::sync::DecodeJson(text, &r);
  return 0;
}
