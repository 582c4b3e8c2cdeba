#include "reference_bench.h"

#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <sys/wait.h>

#include "modlab/experiment/experiment_config.h"
#include "modlab/platform/gemm_backend.h"

namespace modlab::cli {

namespace {

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct CommandResult {
  int status = -1;     // the exit code; -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

CommandResult runCommand(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot start: " + command);
  CommandResult result;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) result.output += buffer;
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string lastLines(const std::string& text, std::size_t count) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string tail;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i)
    tail += lines[i] + (i + 1 < lines.size() ? "\n" : "");
  return tail;
}

}  // namespace

std::string referenceName(Setting setting) {
  switch (setting) {
    case Setting::Mlp: return "MLP";
    case Setting::Mha: return "MHA";
    case Setting::Rnn: return "RNN";
  }
  return "?";
}

std::string referenceName(Family family) { return family == Family::GtModular ? "GT_Modular" : toString(family); }

ReferenceBench::ReferenceBench(std::string directory) : directory_(std::move(directory)) {
  if (!std::filesystem::is_regular_file(std::filesystem::path(directory_) / "bench_ref.py"))
    throw ConfigError("--reference", "invalid --reference '" + directory_ +
                                         "': no bench_ref.py there; lay the folder out with "
                                         "reference-setup MIRROR_OF_Mod_Arch DIR");
}

ReferenceMeasurement parseReferenceOutput(const std::string& output) {
  static const std::regex line(R"(params=(\d+) steps/s=([0-9.eE+-]+))");
  std::smatch match;
  if (!std::regex_search(output, match, line))
    throw std::runtime_error("no 'params=N steps/s=X' line in the reference's output:\n" + lastLines(output, 8));
  ReferenceMeasurement m;
  m.parameters = std::stoll(match[1].str());
  m.stepsPerSecond = std::stod(match[2].str());
  return m;
}

// One thread on both sides: torch (REF_THREADS) and OpenBLAS's own pool, as modlab's bench; and
// modlab's sgemm_ with modlab's choice of library, when it is installed next to this program.
std::string ReferenceBench::python() const {
  std::string variables = "REF_THREADS=1 OPENBLAS_NUM_THREADS=1";
  if (const std::string preload = sgemmPreloadLibrary(); !preload.empty())
    variables += " LD_PRELOAD=" + shellQuote(preload) + " MODLAB_GEMM=" +
                 (gemmStatus().backend == GemmBackend::OneDnn ? "onednn" : "openblas");
  return "cd " + shellQuote(directory_) + " && " + variables + " " + kPython;
}

ReferenceMeasurement ReferenceBench::run(Setting setting, Family family, int rules, std::int64_t steps) const {
  const std::string command = python() + " bench_ref.py " + referenceName(setting) + " " +
                              referenceName(family) + " " + std::to_string(rules) + " " + std::to_string(steps);
  const CommandResult result = runCommand(command);
  if (result.status != 0)
    throw std::runtime_error("the reference failed (exit " + std::to_string(result.status) + "): " + command + "\n" +
                             lastLines(result.output, 8));
  ReferenceMeasurement m = parseReferenceOutput(result.output);
  m.steps = steps;
  return m;
}

std::string ReferenceBench::ask(const std::string& code) const {
  const CommandResult result = runCommand(python() + " -c " + shellQuote(code));
  const std::string last = lastLines(result.output, 1);  // warnings may come first
  if (result.status != 0 || last.empty()) return "unknown (" + last + ")";
  return last;
}

std::string ReferenceBench::kernel() const {
  return ask("import torch, ctypes; blas = ctypes.CDLL('libopenblas.so.0'); "
             "blas.openblas_get_corename.restype = ctypes.c_char_p; print(blas.openblas_get_corename().decode())");
}

std::string ReferenceBench::gemm() const {
  return ask("import torch, ctypes\n"
             "try:\n"
             "    f = ctypes.CDLL(None).modlab_gemm_library\n"
             "    f.restype = ctypes.c_char_p\n"
             "    print(f().decode())\n"
             "except AttributeError:\n"
             "    print('OpenBLAS')\n");
}

}  // namespace modlab::cli
