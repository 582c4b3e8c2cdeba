#include <torch/torch.h>

#include "tasks/task_impls.h"

namespace modlab {

MlpTask::MlpTask(const TaskSpec& spec) : RuleTask(spec) {
  const LinearCoefficients c = drawLinearCoefficients(spec.dataSeed, spec.rules);
  alpha_ = torch::tensor(c.alpha, torch::kDouble);
  beta_ = torch::tensor(c.beta, torch::kDouble);
  coefficients_ = torch::stack({alpha_, beta_}, 1).to(torch::kFloat);  // (R, 2)
}

torch::Tensor MlpTask::drawData(std::int64_t batch, std::int64_t, torch::Generator& gen) const {
  return torch::randn({batch, 2}, gen, torch::kFloat);
}

torch::Tensor MlpTask::target(const torch::Tensor& data, const torch::Tensor& rules) const {
  if (data.scalar_type() == torch::kFloat && data.device().is_cpu() && data.is_contiguous() && rules.is_contiguous()) {
    // The training path: one pass over the batch.
    torch::Tensor y = torch::empty({data.size(0)}, data.options());
    const float* ab = data.data_ptr<float>();
    const float* coef = coefficients_.data_ptr<float>();
    const std::int64_t* c = rules.data_ptr<std::int64_t>();
    float* out = y.data_ptr<float>();
    for (std::int64_t i = 0; i < data.size(0); ++i) out[i] = coef[2 * c[i]] * ab[2 * i] + coef[2 * c[i] + 1] * ab[2 * i + 1];
    return y;
  }
  const auto opts = data.options();
  const torch::Tensor alpha = alpha_.to(opts).index_select(0, rules.to(data.device()));
  const torch::Tensor beta = beta_.to(opts).index_select(0, rules.to(data.device()));
  return alpha * data.select(-1, 0) + beta * data.select(-1, 1);
}

}  // namespace modlab
