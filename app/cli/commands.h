// The modlab-cli subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace modlab::cli {

struct TrainArgs {
  std::string preset, configFile, out;
  std::vector<std::string> overrides;
  bool resume = false, force = false, quiet = false;
};
int train(const TrainArgs& args);

int eval(const std::string& run, bool paperSamples, bool json, const std::string& checkpoint);
int bench(bool json, double seconds, const std::vector<std::string>& settings);
int listPresets();
int demo(const std::string& preset, const std::vector<std::string>& overrides);

}  // namespace modlab::cli
