#include "models/model_parts.h"

#include <cmath>

namespace modlab {

GroupLstmCellImpl::GroupLstmCellImpl(std::int64_t modules, std::int64_t in, std::int64_t hidden)
    : modules_(modules), in_(in), hidden_(hidden) {
  weightX = register_parameter("weight_x", torch::empty({in, modules * 4 * hidden}));
  weightH = register_parameter("weight_h", torch::empty({hidden, modules * 4 * hidden}));
}

void GroupLstmCellImpl::reset(torch::Generator& gen) {
  torch::NoGradGuard noGrad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_));  // as LSTMCell(h)
  weightX.uniform_(-bound, bound, gen);
  weightH.uniform_(-bound, bound, gen);
}

std::pair<torch::Tensor, torch::Tensor> GroupLstmCellImpl::preActivations(const torch::Tensor& x,
                                                                          const torch::Tensor& h) {
  const auto B = x.size(0);
  return {torch::mm(x, weightX).view({B, modules_, 4 * hidden_}),
          torch::mm(h, weightH).view({B, modules_, 4 * hidden_})};
}

namespace {
// (h_m, c_m) of LSTM cells from their pre-activations (..., 4h) and the previous cell state.
std::pair<torch::Tensor, torch::Tensor> lstmGates(const torch::Tensor& pre, const torch::Tensor& cPrev,
                                                  std::int64_t h) {
  const torch::Tensor ifo = torch::sigmoid(pre.narrow(-1, 0, 3 * h));
  const torch::Tensor g = torch::tanh(pre.narrow(-1, 3 * h, h));
  const torch::Tensor c = ifo.narrow(-1, h, h) * cPrev + ifo.narrow(-1, 0, h) * g;
  return {ifo.narrow(-1, 2 * h, h) * torch::tanh(c), c};
}
}  // namespace

std::pair<torch::Tensor, torch::Tensor> GroupLstmCellImpl::mixedStep(const torch::Tensor& pre,
                                                                     const torch::Tensor& c,
                                                                     const torch::Tensor& p) {
  auto [hm, cm] = lstmGates(pre, c.unsqueeze(1), hidden_);  // (B, R, h)
  const torch::Tensor w = p.unsqueeze(-1);
  return {(hm * w).sum(1), (cm * w).sum(1)};
}

GroupLstmCellImpl::ModuleWeights GroupLstmCellImpl::moduleWeights() {
  return {weightX.view({in_, modules_, 4 * hidden_}).unbind(1), weightH.view({hidden_, modules_, 4 * hidden_}).unbind(1)};
}

std::pair<torch::Tensor, torch::Tensor> GroupLstmCellImpl::routedStep(const torch::Tensor& x,
                                                                      const torch::Tensor& h,
                                                                      const torch::Tensor& c,
                                                                      const torch::Tensor& modules,
                                                                      const ModuleWeights& weights) {
  const std::int64_t H = hidden_, E = in_;
  const torch::Tensor state = torch::cat({x, h, c}, 1);
  const torch::Tensor out = routeByModule(state, modules, modules_, [&](std::int64_t m, const torch::Tensor& rows) {
    const torch::Tensor pre = torch::addmm(torch::mm(rows.narrow(1, 0, E), weights.x[static_cast<std::size_t>(m)]),
                                           rows.narrow(1, E, H), weights.h[static_cast<std::size_t>(m)]);
    auto [hm, cm] = lstmGates(pre, rows.narrow(1, E + H, H), H);
    return torch::cat({hm, cm}, 1);
  });
  return {out.narrow(1, 0, H), out.narrow(1, H, H)};
}

}  // namespace modlab
