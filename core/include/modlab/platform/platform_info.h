// What this process runs on: versions, BLAS library and kernel, threads, device (engine API, no torch).
#pragma once

#include <string>

#include "modlab/platform/blas_kernel.h"
#include "modlab/platform/gemm_backend.h"

namespace modlab {

struct PlatformInfo {
  std::string version;         // Modularity Lab
  std::string libtorchVersion;  // of the headers built against ("1.13.0")
  std::string libtorchLibrary;  // the loaded libtorch_cpu
  std::string blasLibrary;      // the loaded OpenBLAS; empty when another BLAS is in use
  std::string blasConfig;       // openblas_get_config()
  BlasKernelStatus blasKernel;
  GemmStatus gemm;              // what computes LibTorch's float products
  std::string kernels;          // modlab's own loops: "AVX2, 8 floats (the widest this CPU runs)"
  std::string mallocArenas;     // how many and why: "one (set here: ...)" (malloc_arenas.h)
  std::string cpu;              // model name, family and model
  int torchThreads = 0;         // LibTorch intra-op threads of this process
  int blasThreads = 0;          // OpenBLAS's own pool (0 without OpenBLAS)
  int hardwareThreads = 0;
  std::string device;           // what the "auto" device resolves to
  bool cudaAvailable = false;
};

PlatformInfo platformInfo();

// The BLAS line of the app's About box and status bar: "OpenBLAS 0.3.21, SkylakeX kernel (chosen automatically: ...)".
std::string describeBlas(const PlatformInfo& info);
// The GEMM line: "oneDNN 2.6.3 (avx512_core_amx) computes LibTorch's float products (chosen automatically: ...)".
std::string describeGemm(const PlatformInfo& info);

}  // namespace modlab
