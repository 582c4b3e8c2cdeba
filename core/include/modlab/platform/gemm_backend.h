// Which library computes LibTorch's single-precision matrix products. Torch-free.
//
// LibTorch (Debian's 1.13) calls the Fortran BLAS sgemm_ for every float matmul, addmm and
// bmm on the CPU. Modularity Lab defines sgemm_ itself (core/platform/gemm_backend.cpp) and
// hands each call to oneDNN's sgemm, which LibTorch already loads and which runs JIT kernels
// chosen by CPU feature, or to OpenBLAS's. On our training shapes (a few thousand rows, 16 to
// 768 columns) oneDNN is 15-50% faster per product than OpenBLAS's SkylakeX kernel.
//
// MODLAB_GEMM (auto, onednn, openblas) is always respected; "auto" takes oneDNN when it is
// loaded and multiplies like a plain loop (checkSgemm), OpenBLAS otherwise.
#pragma once

#include <optional>
#include <string>

namespace modlab {

enum class GemmBackend { OpenBlas, OneDnn };
std::string toString(GemmBackend backend);  // "OpenBLAS", "oneDNN"

struct GemmChoiceInput {
  std::optional<std::string> request;  // MODLAB_GEMM, when set
  std::string oneDnn;                  // "oneDNN 2.6.3 (avx512_core_amx)"; empty when not loaded
  bool oneDnnChecked = false;          // multiplies like a plain loop
  std::string checkDetail;             // the check's worst case, for a warning
};

struct GemmStatus {
  GemmBackend backend = GemmBackend::OpenBlas;
  std::string library;  // the oneDNN build when backend is OneDnn; empty otherwise
  std::string how;      // how it was chosen, one phrase
  std::string warning;  // empty unless something went wrong

  std::string name() const;     // "oneDNN 2.6.3 (avx512_core_amx)" or "OpenBLAS"
  std::string summary() const;  // "oneDNN 2.6.3 (avx512_core_amx) (chosen automatically: ...)"
};

// Pure: the backend for these facts.
GemmStatus chooseGemmBackend(const GemmChoiceInput& input);

// This process's backend, chosen at the first call (or the first sgemm_ call) and kept.
const GemmStatus& gemmStatus();

// The shared library that gives another process (the authors' reference under
// `bench --reference`) the same sgemm_ through LD_PRELOAD; empty when it is not installed
// next to this program.
std::string sgemmPreloadLibrary();

}  // namespace modlab

// The library that computes this process's products, as gemmStatus() names it ("oneDNN 2.6.3
// (avx512_core_amx)" or "OpenBLAS"); C linkage, so that the reference's Python can ask too.
extern "C" const char* modlab_gemm_library();
