#include "server/server_app.h"

int main(int argc, char** argv) {
  ocop::server::OcopdApp app;
  return app.run(argc, argv);
}
