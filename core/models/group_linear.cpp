#include "modlab/models/group_linear.h"

#include <cmath>

#include <torch/torch.h>

namespace modlab {

GroupLinearImpl::GroupLinearImpl(std::int64_t modules, std::int64_t in, std::int64_t out, bool withBias)
    : modules_(modules), in_(in), out_(out) {
  weight = register_parameter("weight", torch::empty({modules, in, out}));
  if (withBias) bias = register_parameter("bias", torch::empty({1, modules, out}));
}

void GroupLinearImpl::reset(torch::Generator& gen) {
  torch::NoGradGuard noGrad;
  const double bound = std::sqrt(1.0 / static_cast<double>(in_));
  weight.uniform_(-bound, bound, gen);
  if (bias.defined()) bias.uniform_(-bound, bound, gen);
}

torch::Tensor GroupLinearImpl::forward(const torch::Tensor& x) {
  // (..., R, din) -> (R, T, din) x (R, din, dout) -> (T, R, dout)
  const auto lead = x.sizes().slice(0, x.dim() - 2);
  const torch::Tensor flat = x.reshape({-1, modules_, in_}).transpose(0, 1);
  torch::Tensor y = torch::bmm(flat, weight).transpose(0, 1);
  if (bias.defined()) y = y + bias;
  std::vector<std::int64_t> shape(lead.begin(), lead.end());
  shape.push_back(modules_);
  shape.push_back(out_);
  return y.reshape(shape);
}

torch::Tensor GroupLinearImpl::forwardShared(const torch::Tensor& x) {
  const torch::Tensor w = weight.permute({1, 0, 2}).reshape({in_, modules_ * out_});
  torch::Tensor y = bias.defined() ? torch::addmm(bias.reshape({modules_ * out_}), x.reshape({-1, in_}), w)
                                   : torch::mm(x.reshape({-1, in_}), w);
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(modules_);
  shape.push_back(out_);
  return y.reshape(shape);
}

torch::Tensor GroupLinearImpl::forwardMixed(const torch::Tensor& x, const torch::Tensor& p,
                                            std::int64_t columns) {
  const torch::Tensor w = weight.narrow(2, 0, columns).reshape({modules_ * in_, columns});
  const torch::Tensor weighted = (x * p.unsqueeze(-1)).reshape({x.size(0), modules_ * in_});
  if (!bias.defined()) return torch::mm(weighted, w);
  return torch::addmm(torch::mm(p, bias[0].narrow(1, 0, columns)), weighted, w);
}

torch::Tensor GroupLinearImpl::forwardColumn(const torch::Tensor& x, std::int64_t column) {
  torch::Tensor s = (x * weight.select(2, column)).sum(-1);  // (T, R)
  if (bias.defined()) s = s + bias[0].select(1, column);
  return s;
}

torch::Tensor GroupLinearImpl::forwardRouted(const torch::Tensor& x, const torch::Tensor& modules) {
  return routeByModule(x, modules, modules_, [&](std::int64_t m, const torch::Tensor& rows) {
    return bias.defined() ? torch::addmm(bias[0][m], rows, weight[m]) : torch::mm(rows, weight[m]);
  });
}

}  // namespace modlab
