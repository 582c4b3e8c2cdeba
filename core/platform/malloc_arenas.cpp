#include "modlab/platform/malloc_arenas.h"

#include <cstdlib>
#include <cstring>

#include <malloc.h>

namespace modlab {

MallocArenas chooseMallocArenas(const char* arenaMax, const char* tunables) {
  if (arenaMax) return {0, std::string("set by the user: MALLOC_ARENA_MAX=") + arenaMax};
  if (tunables && std::strstr(tunables, "glibc.malloc.arena_max"))
    return {0, std::string("set by the user: GLIBC_TUNABLES=") + tunables};
  return {1, "one (set here: an arena per worker would keep the largest family's activations in each)"};
}

namespace {

MallocArenas& chosen() {
  static MallocArenas arenas{0, "glibc's default (limitMallocArenas was not called)"};
  return arenas;
}

}  // namespace

void limitMallocArenas() {
  MallocArenas choice = chooseMallocArenas(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES"));
#ifdef M_ARENA_MAX
  if (choice.limit > 0 && mallopt(M_ARENA_MAX, choice.limit) != 1)
    choice = {0, "glibc's default (mallopt refused M_ARENA_MAX)"};
#else
  if (choice.limit > 0) choice = {0, "the C library's default (no M_ARENA_MAX)"};
#endif
  chosen() = choice;
}

const MallocArenas& mallocArenas() { return chosen(); }

}  // namespace modlab
