// The run-folder readers: a folder whose run.json, metrics.csv and activations.jsonl are cut
// from the input gives a RunRecord or a ReadError/ConfigError naming the file, never a crash.
// Input: three parts separated by the byte 0x00 (run.json, metrics.csv, activations.jsonl).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "modlab/experiment/run_store.h"

namespace fs = std::filesystem;

namespace {
// A plain write: the harness needs no durability, and fsync would cost most of its time.
void put(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

const fs::path& folder() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("modlab-fuzz-run-" + std::to_string(getpid()));
    fs::create_directories(d);
    modlab::ExperimentConfig c;
    c.name = "fuzz";
    put(d / "config.json", modlab::toJson(c));
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string parts[3];
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = i < 2 ? input.find('\0', start) : std::string::npos;
    parts[i] = input.substr(std::min(start, input.size()), end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? input.size() : end + 1;
  }
  const fs::path& dir = folder();
  put(dir / "run.json", parts[0]);
  put(dir / "metrics.csv", parts[1]);
  put(dir / "activations.jsonl", parts[2]);
  try {
    const modlab::RunRecord r = modlab::RunStore::load(dir);
    for (const modlab::EvaluationSnapshot& e : r.evaluations)
      for (const modlab::FamilyEvaluation& f : e.families)
        if (f.moduleGivenRule.size() != static_cast<std::size_t>(f.rules) * static_cast<std::size_t>(f.rules)) __builtin_trap();
  } catch (const modlab::ReadError&) {
  } catch (const modlab::ConfigError&) {
  }
  return 0;
}
