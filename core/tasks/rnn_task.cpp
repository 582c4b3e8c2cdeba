#include <torch/torch.h>

#include "tasks/task_impls.h"

namespace modlab {

RnnTask::RnnTask(const TaskSpec& spec) : RuleTask(spec) {
  const std::int64_t R = spec.rules, d = spec.dataDim;
  const LinearDynamics dyn = drawLinearDynamics(spec.dataSeed, spec.rules, spec.dataDim);
  A_ = torch::tensor(dyn.A, torch::kDouble).view({R, d, d});
  B_ = torch::tensor(dyn.B, torch::kDouble).view({R, d, d});
  w_ = torch::tensor(dyn.w, torch::kDouble).view({d, 1});
}

torch::Tensor RnnTask::drawData(std::int64_t batch, std::int64_t length, torch::Generator& gen) const {
  return torch::randn({batch, length, spec_.dataDim}, gen, torch::kFloat);
}

// Row-vector convention of the reference: s_n = s_{n-1} A_{c_n} + x_n B_{c_n}, s_0 = 0.
torch::Tensor RnnTask::target(const torch::Tensor& data, const torch::Tensor& rules) const {
  const auto opts = data.options();
  const torch::Tensor A = A_.to(opts), Bm = B_.to(opts);
  const torch::Tensor c = rules.to(data.device());
  const std::int64_t batch = data.size(0), length = data.size(1);
  torch::Tensor s = torch::zeros({batch, 1, spec_.dataDim}, opts);
  std::vector<torch::Tensor> states;
  states.reserve(length);
  for (std::int64_t n = 0; n < length; ++n) {
    const torch::Tensor cn = c.select(1, n);
    s = torch::bmm(s, A.index_select(0, cn)) +
        torch::bmm(data.select(1, n).unsqueeze(1), Bm.index_select(0, cn));
    states.push_back(s.squeeze(1));
  }
  torch::Tensor S = torch::stack(states, 1);  // (B, N, d)
  if (spec_.kind == TaskKind::Regression) return S;
  return torch::matmul(S, w_.to(opts));       // (B, N, 1)
}

}  // namespace modlab
