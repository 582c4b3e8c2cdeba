#include "modlab/version.h"
#include "modlab/platform/platform_info.h"

#include <cstdlib>
#include <thread>

#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "modlab/platform/device.h"
#include "modlab/platform/malloc_arenas.h"
#include "models/simd.h"

namespace modlab {

namespace {

std::string libraryOf(const void* symbol) {
  Dl_info info{};
  return dladdr(symbol, &info) != 0 && info.dli_fname ? std::string(info.dli_fname) : std::string();
}

// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21"
std::string blasName(const std::string& config) {
  const auto second = config.find(' ', config.find(' ') + 1);
  return config.substr(0, second);
}

}  // namespace

namespace {
// The width of modlab's own loops (attention, LSTM gates, module rows) and why.
std::string kernelsText() {
  std::string text;
  switch (simd::bestIsa()) {
    case simd::Isa::Avx512: text = "AVX-512, 16 floats"; break;
    case simd::Isa::Avx2: text = "AVX2, 8 floats"; break;
    case simd::Isa::Baseline: text = "baseline (SSE2), 4 floats"; break;
  }
  if (const char* asked = simd::kernelsAsked()) return text + " (MODLAB_KERNELS=" + asked + ")";
  const char* other = std::getenv("MODLAB_KERNELS");
  if (other && *other) return text + " (MODLAB_KERNELS=" + other + " ignored: baseline or avx2)";
  return text + " (the widest this CPU runs)";
}
}  // namespace

PlatformInfo platformInfo() {
  PlatformInfo info;
  info.version = versionString();
  info.libtorchVersion = TORCH_VERSION;
  info.libtorchLibrary = libraryOf(reinterpret_cast<const void*>(&at::get_num_threads));
  info.blasLibrary = blasLibraryPath();
  info.blasConfig = blasLibraryConfig();
  info.blasKernel = blasKernelStatus();
  info.gemm = gemmStatus();
  info.kernels = kernelsText();
  info.mallocArenas = mallocArenas().how;
  info.cpu = cpuModelName();
  info.torchThreads = at::get_num_threads();
  info.blasThreads = blasThreads();
  info.hardwareThreads = static_cast<int>(std::thread::hardware_concurrency());
  info.device = describeDevice("auto");
  info.cudaAvailable = cudaAvailable();
  return info;
}

std::string describeBlas(const PlatformInfo& info) {
  if (info.blasConfig.empty()) return "not OpenBLAS (" + info.blasKernel.how + ")";
  std::string text = blasName(info.blasConfig) + ", " + info.blasKernel.kernel + " kernel (" + info.blasKernel.how + ")";
  if (!info.blasKernel.warning.empty()) text += "; warning: " + info.blasKernel.warning;
  return text;
}

std::string describeGemm(const PlatformInfo& info) {
  const GemmStatus& g = info.gemm;
  std::string text = g.name() + " computes LibTorch's float products (" + g.how + ")";
  if (!g.warning.empty()) text += "; warning: " + g.warning;
  return text;
}

}  // namespace modlab
