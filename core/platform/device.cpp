#include "modlab/platform/device.h"

#include <torch/cuda.h>

namespace modlab {

bool cudaAvailable() { return torch::cuda::is_available(); }

bool onGpu(const std::string& requested) { return requested == "cuda" || (requested == "auto" && cudaAvailable()); }

std::string describeDevice(const std::string& requested) {
  if (onGpu(requested))
    return cudaAvailable() ? "CUDA (" + std::to_string(torch::cuda::device_count()) + " device(s))" : "CUDA (unavailable)";
  return "CPU";
}

}  // namespace modlab
