#include <cstdio>

#include "serve.h"

namespace modlab::cli {

int serve(const ServeArgs&, int, char**) {
  std::fprintf(stderr, "modlab-cli: error: this build has no browser view (configure with MODLAB_BUILD_GUI=ON)\n");
  return 2;
}

int benchServe(int, double, bool, int, char**) { return serve({}, 0, nullptr); }

}  // namespace modlab::cli
