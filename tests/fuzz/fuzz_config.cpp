// The experiment config parser and --set overrides: any bytes give a config or a ConfigError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "modlab/experiment/experiment_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const modlab::ExperimentConfig c = modlab::parseConfig(text);
    // What parses must round-trip.
    if (!(modlab::parseConfig(modlab::toJson(c)) == c)) __builtin_trap();
  } catch (const modlab::ConfigError&) {
  }
  // The same bytes as the value of a --set.
  try {
    modlab::ExperimentConfig c;
    const auto eq = text.find('=');
    modlab::applyOverrides(c, {eq == std::string::npos ? "rules=" + text : text});
  } catch (const modlab::ConfigError&) {
  }
  return 0;
}
