// The authors' implementation, run beside modlab's bench (modlab-cli bench --reference DIR).
#pragma once

#include <cstdint>
#include <string>

#include "modlab/training/run_evaluation.h"

namespace modlab::cli {

// A folder laid out by reference-setup: <Setting>/<Task>/{data,model}.py and bench_ref.py, run
// with Debian's Python (python3-torch: the same LibTorch and OpenBLAS as modlab). The reference
// inherits this process's environment, OPENBLAS_CORETYPE included, so it runs on the same kernel,
// and gets the same sgemm_ as modlab through LD_PRELOAD (libmodlab_sgemm.so, gemm_backend.h)
// with MODLAB_GEMM set to the library this process chose, so its products use the same library.
class ReferenceBench {
public:
  static constexpr const char* kPython = "/usr/bin/python3";

  // Throws ConfigError("--reference") when DIR has no bench_ref.py.
  explicit ReferenceBench(std::string directory);

  // Trains `family` for `steps` timed steps with one thread (bench_ref.py: batch 256, Adam,
  // classification). Throws std::runtime_error with the command and its output when it fails.
  ReferenceMeasurement run(Setting setting, Family family, int rules, std::int64_t steps) const;

  // The OpenBLAS kernel the reference's Python reports, or "unknown (why)".
  std::string kernel() const;
  // What computes the reference's products ("oneDNN 2.6.3 (avx512_core_amx)", "OpenBLAS"),
  // as the preloaded library reports it in the reference's process.
  std::string gemm() const;

  const std::string& directory() const { return directory_; }

private:
  std::string python() const;  // "cd DIR && VARIABLES /usr/bin/python3"
  // The last line the reference's Python prints for `code`, or "unknown (why)".
  std::string ask(const std::string& code) const;

  std::string directory_;
};

// Parses bench_ref.py's result line "MLP Classification Monolithic R=8 params=N steps/s=X";
// throws std::runtime_error quoting the output when it has none.
ReferenceMeasurement parseReferenceOutput(const std::string& output);

std::string referenceName(Setting setting);  // "MLP", "MHA", "RNN"
std::string referenceName(Family family);    // "Monolithic", "Modular", "Modular-op", "GT_Modular"

}  // namespace modlab::cli
