// Where training runs: the CPU, or a GPU where this LibTorch has CUDA. The lowest floor:
// includes nothing above platform/ (engine API: no torch types).
#pragma once

#include <string>

namespace modlab {

bool cudaAvailable();
// Whether a session with this device setting ("auto", "cpu", "cuda") trains on the GPU.
bool onGpu(const std::string& requested);
// "CPU" or "CUDA (n device(s))" for a device setting.
std::string describeDevice(const std::string& requested);

}  // namespace modlab
