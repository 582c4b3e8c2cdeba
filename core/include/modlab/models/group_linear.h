// GroupLinear(R, din, dout): one dense layer per module, W (R, din, dout), b (1, R, dout),
// both ~ U(-sqrt(1/din), +sqrt(1/din)).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace modlab {

class GroupLinearImpl : public torch::nn::Module {
public:
  GroupLinearImpl(std::int64_t modules, std::int64_t in, std::int64_t out, bool bias = true);

  // x (..., R, din) -> (..., R, dout): module m applied to its own input.
  torch::Tensor forward(const torch::Tensor& x);
  // x (..., din), the same input for every module -> (..., R, dout), as one GEMM.
  torch::Tensor forwardShared(const torch::Tensor& x);
  // relu(forward(x)) and relu(forwardShared(x)); on float CPU tensors one product per module
  // into its own columns, and one loop for the bias and ReLU.
  torch::Tensor forwardRelu(const torch::Tensor& x);
  torch::Tensor forwardSharedRelu(const torch::Tensor& x);
  // sum_m p_m * (x_m W_m + b_m)[:columns], as one GEMM. x (T, R, din), p (T, R) -> (T, columns).
  torch::Tensor forwardMixed(const torch::Tensor& x, const torch::Tensor& p, std::int64_t columns);
  // Column `column` of every module's output: x (T, R, din) -> (T, R).
  torch::Tensor forwardColumn(const torch::Tensor& x, std::int64_t column);
  // Only the module each row is routed to: x (T, din), modules (T) -> (T, dout).
  torch::Tensor forwardRouted(const torch::Tensor& x, const torch::Tensor& modules);
  // Module m alone on its rows: (n, din) -> (n, dout).
  torch::Tensor forwardModule(std::int64_t m, const torch::Tensor& rows);

  void reset(torch::Generator& gen);
  std::int64_t modules() const { return modules_; }

  torch::Tensor weight, bias;

private:
  std::int64_t modules_, in_, out_;
};
TORCH_MODULE(GroupLinear);

// second(ReLU(first(x))), each row through its own module only: the rows are sorted by
// module once for both layers, and each module's weight gradient is written in place
// (the same numbers as two forwardRouted calls).
torch::Tensor routedTwoLayer(GroupLinearImpl& first, GroupLinearImpl& second, const torch::Tensor& x,
                             const torch::Tensor& modules);

// Applies fn(m, rows of module m) to the rows routed to each module and returns the
// results in the original row order. Costs one sort, not R masks.
template <typename Fn>
torch::Tensor routeByModule(const torch::Tensor& x, const torch::Tensor& modules,
                            std::int64_t R, Fn&& fn);

}  // namespace modlab

#include "modlab/models/routing_impl.h"
