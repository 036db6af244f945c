#include <malloc.h>

#include "server/server_app.h"

int main(int argc, char** argv) {
  // glibc gives each thread its own malloc arena and keeps what it frees there;
  // with a pool of request threads that multiplies the resident memory. Two
  // arenas keep the server's footprint small at little cost on two cores.
  mallopt(M_ARENA_MAX, 2);
  ocop::server::OcopdApp app;
  return app.run(argc, argv);
}
