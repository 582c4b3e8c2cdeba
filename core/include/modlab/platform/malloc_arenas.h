// How many malloc arenas the process keeps. Torch-free: ui/ and app/ may include it.
//
// glibc gives every thread that allocates at the same time an arena of its own, and an arena
// keeps the memory it freed. Two family workers then each held the largest family's activations:
// the RNN bench peaked at 790 MiB with a worker's arena each, 516 MiB with one arena, at the
// same speed (a step allocates a few hundred blocks, so the workers hardly ever wait on the
// arena's lock). limitMallocArenas() keeps one arena, unless the user chose a number.
#pragma once

#include <string>

namespace modlab {

struct MallocArenas {
  int limit = 0;    // the arenas set here; 0: none set (the user's choice or glibc's default)
  std::string how;  // "one (...)" or "set by the user: MALLOC_ARENA_MAX=4"
};

// The choice for the environment's MALLOC_ARENA_MAX and GLIBC_TUNABLES (null when unset): a
// value the user set for either is always respected.
MallocArenas chooseMallocArenas(const char* arenaMax, const char* tunables);

// Applies the choice for this process's environment. Call first in main(), before any thread.
void limitMallocArenas();

// What limitMallocArenas() chose, for 'info'.
const MallocArenas& mallocArenas();

}  // namespace modlab
