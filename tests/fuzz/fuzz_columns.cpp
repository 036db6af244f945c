// libFuzzer target: the column encoding as both ends decode it (a change set
// on the server, a pull page and a push answer on the device), and the zstd
// bodies it travels in.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/codec.h"
#include "sync/columns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ocop::sync::ChangeSet cs;
  (void)ocop::sync::DecodeColumns(bytes, &cs);
  ocop::sync::PullPage page;
  (void)ocop::sync::DecodeColumns(bytes, &page);
  // A push answer is read against the change set it answers: two changes.
  static const ocop::sync::ChangeSet sent = [] {
    ocop::sync::ChangeSet s;
    s.id = "fuzz-set";
    s.changes.resize(2);
    s.changes[0].change_id = "c1";
    s.changes[1].change_id = "c2";
    return s;
  }();
  ocop::sync::PushResult r;
  (void)ocop::sync::DecodeColumns(bytes, sent, &r);
  std::string plain;
  (void)ocop::sync::Decompress(bytes, 1 << 20, &plain);
  return 0;
}
