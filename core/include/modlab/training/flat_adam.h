// Adam (PyTorch's algorithm and defaults: betas 0.9/0.999, eps 1e-8, no weight decay)
// over one flat buffer: the model's parameters and gradients are views into two
// contiguous tensors, so a step is a handful of vector operations instead of a dozen
// per parameter tensor. Gradient-norm clipping is one norm over the flat gradient.
#pragma once

#include <vector>

#include <torch/serialize/archive.h>
#include <torch/types.h>

namespace modlab {

class FlatAdam {
public:
  FlatAdam(std::vector<torch::Tensor> parameters, double learningRate);

  void zeroGrad();
  // Clips the gradient norm to clipNorm (0: off), then updates every parameter.
  void step(double clipNorm = 0.0);

  double learningRate() const { return lr_; }
  void setLearningRate(double lr) { lr_ = lr; }
  std::int64_t steps() const { return step_; }

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);
  // Makes the parameters views of the flat buffer again (after they were replaced,
  // e.g. by Module::load), keeping their current values.
  void rebind();

private:
  std::vector<torch::Tensor> params_;
  torch::Tensor flat_, grad_, expAvg_, expAvgSq_;
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8;
  std::int64_t step_ = 0;
};

}  // namespace modlab
