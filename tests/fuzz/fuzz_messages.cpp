// libFuzzer target: the message catalogue's translation of a message, which can
// quote what a client sent ("unknown form '<anything>'"): never a crash, a
// hang or an answer that is not valid UTF-8 when the message was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "shared/messages.h"
#include "shared/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string message(reinterpret_cast<const char*>(data), size);
  for (const char* lang : {"vi", "en"}) {
    std::string out = ocop::msg::Localise(message, lang);
    if (ocop::text::IsValidUtf8(message) && !ocop::text::IsValidUtf8(out)) std::abort();
  }
  return 0;
}
