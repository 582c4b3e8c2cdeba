// The sweep grid parser: any bytes give a grid (whose every run is a valid config) or a ConfigError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "modlab/sweep/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const modlab::SweepGrid g = modlab::parseGrid(std::string(reinterpret_cast<const char*>(data), size));
    for (const modlab::SweepRun& run : modlab::expand(g)) {
      modlab::validate(run.config);
      if (!modlab::isSafeName(run.name)) __builtin_trap();
    }
    modlab::parseGrid(modlab::toJson(g));  // what parses must round-trip
  } catch (const modlab::ConfigError&) {
  }
  return 0;
}
