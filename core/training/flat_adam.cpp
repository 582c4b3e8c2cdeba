#include "modlab/training/flat_adam.h"

#include <cmath>

#include <torch/torch.h>

namespace modlab {

namespace {
// The Adam update in one pass; compiled for AVX-512, AVX2 and baseline x86-64, chosen at load time.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void adamUpdate(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                std::int64_t n, float b1, float b2, float c1, float c2, float rootBc2, float eps, float size) {
  for (std::int64_t i = 0; i < n; ++i) {
    m[i] = m[i] * b1 + c1 * g[i];
    v[i] = v[i] * b2 + c2 * g[i] * g[i];
    p[i] -= size * m[i] / (std::sqrt(v[i]) / rootBc2 + eps);
  }
}
}  // namespace

FlatAdam::FlatAdam(std::vector<torch::Tensor> parameters, double learningRate)
    : params_(std::move(parameters)), lr_(learningRate) {
  rebind();
  expAvg_ = torch::zeros_like(flat_);
  expAvgSq_ = torch::zeros_like(flat_);
}

void FlatAdam::rebind() {
  torch::NoGradGuard noGrad;
  std::int64_t total = 0;
  for (const auto& p : params_) total += p.numel();
  const auto options = params_.empty() ? torch::TensorOptions() : params_[0].options();
  flat_ = torch::empty({total}, options.requires_grad(false));
  grad_ = torch::zeros({total}, options.requires_grad(false));
  std::int64_t offset = 0;
  for (auto& p : params_) {
    const std::int64_t n = p.numel();
    torch::Tensor view = flat_.narrow(0, offset, n).view(p.sizes());
    view.copy_(p);
    p.set_data(view);
    p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

void FlatAdam::zeroGrad() { grad_.zero_(); }

void FlatAdam::step(double clipNorm) {
  torch::NoGradGuard noGrad;
  if (clipNorm > 0.0) {  // torch.nn.utils.clip_grad_norm_
    const double norm = grad_.norm().item<double>();
    const double coefficient = clipNorm / (norm + 1e-6);
    if (coefficient < 1.0) grad_.mul_(coefficient);
  }
  ++step_;
  const double biasCorrection1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
  const double biasCorrection2 = 1.0 - std::pow(beta2_, static_cast<double>(step_));
  const double stepSize = lr_ / biasCorrection1;
  if (flat_.is_cpu() && flat_.scalar_type() == torch::kFloat) {
    // One pass over the buffers; the same arithmetic as torch's Adam, in float.
    adamUpdate(flat_.data_ptr<float>(), grad_.data_ptr<float>(), expAvg_.data_ptr<float>(),
               expAvgSq_.data_ptr<float>(), flat_.numel(), static_cast<float>(beta1_), static_cast<float>(beta2_),
               static_cast<float>(1.0 - beta1_), static_cast<float>(1.0 - beta2_),
               static_cast<float>(std::sqrt(biasCorrection2)), static_cast<float>(eps_), static_cast<float>(stepSize));
    return;
  }
  expAvg_.mul_(beta1_).add_(grad_, 1.0 - beta1_);
  expAvgSq_.mul_(beta2_).addcmul_(grad_, grad_, 1.0 - beta2_);
  const torch::Tensor denom = (expAvgSq_.sqrt() / std::sqrt(biasCorrection2)).add_(eps_);
  flat_.addcdiv_(expAvg_, denom, -stepSize);
}

void FlatAdam::save(torch::serialize::OutputArchive& archive) const {
  archive.write("exp_avg", expAvg_);
  archive.write("exp_avg_sq", expAvgSq_);
  archive.write("step", torch::tensor(step_));
  archive.write("learning_rate", torch::tensor(lr_, torch::kDouble));
}

void FlatAdam::load(torch::serialize::InputArchive& archive) {
  torch::Tensor avg, avgSq, step, lr;
  archive.read("exp_avg", avg);
  archive.read("exp_avg_sq", avgSq);
  archive.read("step", step);
  archive.read("learning_rate", lr);
  torch::NoGradGuard noGrad;
  expAvg_.copy_(avg);
  expAvgSq_.copy_(avgSq);
  step_ = step.item<std::int64_t>();
  lr_ = lr.item<double>();
}

}  // namespace modlab
