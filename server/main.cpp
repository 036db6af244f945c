#include <malloc.h>

#include "server/server_app.h"

int main(int argc, char** argv) {
  // glibc gives each thread its own malloc arena and keeps what it frees there;
  // with a pool of request threads that multiplies the resident memory. One
  // arena for all: sync_bench's peak went from 47–49 MB (two arenas) to
  // 45–46 MB, and 100 clients at once ran no slower on two cores.
  mallopt(M_ARENA_MAX, 1);
  // Buffers of a change set or a page (hundreds of KB to a few MB) come from
  // mmap and go back to the system when freed. Without a fixed threshold glibc
  // raises it after the first such free, and from then on keeps every big
  // buffer in the heap, where the peaks of successive requests add up.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  ocop::server::OcopdApp app;
  return app.run(argc, argv);
}
