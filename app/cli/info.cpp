// modlab-cli info: what this process runs on (versions, BLAS library and kernel, threads, device).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "modlab/platform/platform_info.h"

namespace modlab::cli {

namespace {

nlohmann::json infoJson(const PlatformInfo& p) {
  return {{"version", p.version},
          {"libtorch_version", p.libtorchVersion},
          {"libtorch_library", p.libtorchLibrary},
          {"blas_library", p.blasLibrary},
          {"blas_config", p.blasConfig},
          {"blas_kernel", p.blasKernel.kernel},
          {"blas_kernel_source", toString(p.blasKernel.source)},
          {"blas_kernel_how", p.blasKernel.how},
          {"blas_kernel_warning", p.blasKernel.warning},
          {"gemm", toString(p.gemm.backend)},
          {"gemm_library", p.gemm.library},
          {"gemm_how", p.gemm.how},
          {"gemm_warning", p.gemm.warning},
          {"kernels", p.kernels},
          {"malloc_arenas", p.mallocArenas},
          {"cpu", p.cpu},
          {"threads", {{"libtorch_intra_op", p.torchThreads}, {"openblas", p.blasThreads}, {"hardware", p.hardwareThreads}}},
          {"device", p.device},
          {"cuda_available", p.cudaAvailable}};
}

void printInfo(const PlatformInfo& p) {
  auto line = [](const char* label, const std::string& value) { std::printf("%-14s %s\n", label, value.c_str()); };
  line("Modularity Lab", p.version);
  line("LibTorch", p.libtorchVersion + " (" + p.libtorchLibrary + ")");
  line("BLAS library", p.blasLibrary.empty() ? "not OpenBLAS" : p.blasConfig + " (" + p.blasLibrary + ")");
  line("BLAS kernel", p.blasKernel.summary());
  if (!p.blasKernel.warning.empty()) line("BLAS warning", p.blasKernel.warning);
  line("GEMM", p.gemm.summary());
  line("own kernels", p.kernels);
  line("malloc arenas", p.mallocArenas);
  line("CPU", p.cpu);
  line("threads", "LibTorch intra-op " + std::to_string(p.torchThreads) + ", OpenBLAS " + std::to_string(p.blasThreads) +
                      ", hardware " + std::to_string(p.hardwareThreads));
  line("device", p.device + " (auto)");
  line("CUDA", p.cudaAvailable ? "available" : "not available");
}

}  // namespace

int info(bool asJson) {
  const PlatformInfo p = platformInfo();
  if (asJson) std::printf("%s\n", infoJson(p).dump(2).c_str());
  else printInfo(p);
  return 0;
}

}  // namespace modlab::cli
