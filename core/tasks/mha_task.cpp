#include <limits>

#include <torch/torch.h>

#include "tasks/task_impls.h"

namespace modlab {

namespace {
// G[b, n, i, :] = T[b, i, c[b, n], :]: token i's features under the rule of token n.
torch::Tensor underRuleOfQuery(const torch::Tensor& T, const torch::Tensor& c) {
  const auto B = T.size(0), N = T.size(1), k = T.size(3);
  return T.permute({0, 2, 1, 3}).gather(1, c.view({B, N, 1, 1}).expand({B, N, N, k}));
}

// T[b, n, c[b, n], :]: token n's own features under its own rule.
torch::Tensor underOwnRule(const torch::Tensor& T, const torch::Tensor& c) {
  const auto B = T.size(0), N = T.size(1), k = T.size(3);
  return T.gather(2, c.view({B, N, 1, 1}).expand({B, N, 1, k})).squeeze(2);
}

// Index of the best match among the other tokens (the token itself excluded).
torch::Tensor bestOtherToken(torch::Tensor similarity) {
  const auto N = similarity.size(1);
  auto self = torch::eye(N, similarity.options().dtype(torch::kBool));
  return similarity.masked_fill(self, -std::numeric_limits<double>::infinity()).argmax(-1);
}

torch::Tensor retrieve(const torch::Tensor& values, const torch::Tensor& c,
                       const torch::Tensor& match) {
  return underRuleOfQuery(values.unsqueeze(-1), c).squeeze(-1).gather(2, match.unsqueeze(-1)).squeeze(-1);
}
}  // namespace

MhaTask::MhaTask(const TaskSpec& spec) : RuleTask(spec) {
  const LinearCoefficients c = drawLinearCoefficients(spec.dataSeed, spec.rules);
  alpha_ = torch::tensor(c.alpha, torch::kDouble);
  beta_ = torch::tensor(c.beta, torch::kDouble);
}

torch::Tensor MhaTask::drawData(std::int64_t batch, std::int64_t length, torch::Generator& gen) const {
  const std::int64_t R = rules();
  if (spec_.searchVersion == 1) return torch::randn({batch, length, 4 * R}, gen, torch::kFloat);
  torch::Tensor keys = torch::randn({batch, length, R, 2, 2}, gen, torch::kFloat);
  keys = keys / keys.norm(2, -1, /*keepdim=*/true);
  torch::Tensor values = torch::randn({batch, length, R, 2}, gen, torch::kFloat);
  return torch::cat({keys.view({batch, length, R, 4}), values}, -1).view({batch, length, 6 * R});
}

torch::Tensor MhaTask::target(const torch::Tensor& data, const torch::Tensor& rules) const {
  const std::int64_t B = data.size(0), N = data.size(1), R = this->rules();
  const torch::Tensor c = rules.to(data.device());
  const torch::Tensor T = data.view({B, N, R, featuresPerRule()});
  const std::int64_t keyDim = spec_.searchVersion == 1 ? 1 : 2;
  const torch::Tensor f = T.narrow(-1, 0, keyDim), g = T.narrow(-1, keyDim, keyDim);
  const torch::Tensor v = T.select(-1, 2 * keyDim), v2 = T.select(-1, 2 * keyDim + 1);

  auto similarity = [&](const torch::Tensor& key) {
    const torch::Tensor others = underRuleOfQuery(key, c);           // (B, N, N, k)
    const torch::Tensor own = underOwnRule(key, c).unsqueeze(2);     // (B, N, 1, k)
    if (spec_.searchVersion == 1) return -(others - own).abs().squeeze(-1);  // nearest scalar
    return (others * own).sum(-1);                                           // cosine
  };
  const torch::Tensor s = bestOtherToken(similarity(f));
  const torch::Tensor s2 = bestOtherToken(similarity(g));
  const auto opts = data.options();
  return alpha_.to(opts).index_select(0, c.flatten()).view({B, N}) * retrieve(v, c, s) +
         beta_.to(opts).index_select(0, c.flatten()).view({B, N}) * retrieve(v2, c, s2);
}

}  // namespace modlab
