#include <cmath>
#include <limits>
#include <string>

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
void checkRule(std::int64_t r, std::int64_t R) {
  if (r < 0 || r >= R) throw InvalidArgument("rule", std::to_string(r), "0 to " + std::to_string(R - 1));
}

// The same target, one token at a time (CPU, float): the search and retrieval of the
// operations above without their twenty tensors. Every value is computed as they compute it
// (float products and sums, the first best match on ties), so the bits are the same.
torch::Tensor targetByTokens(const torch::Tensor& data, const torch::Tensor& rules, const torch::Tensor& alpha,
                             const torch::Tensor& beta, int searchVersion, std::int64_t R) {
  const std::int64_t B = data.size(0), N = data.size(1), F = mhaFeaturesPerRule(searchVersion);
  const std::int64_t keyDim = mhaKeyDim(searchVersion);
  const torch::Tensor x = data.contiguous(), c = rules.to(torch::kLong).contiguous();
  const torch::Tensor a = alpha.to(torch::kFloat).contiguous(), b = beta.to(torch::kFloat).contiguous();
  const float *in = x.data_ptr<float>(), *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>();
  const std::int64_t* cp = c.data_ptr<std::int64_t>();
  torch::Tensor out = torch::empty({B, N}, x.options());
  float* y = out.data_ptr<float>();
  // Token m's features under rule r in sample s: F floats.
  const auto features = [&](std::int64_t s, std::int64_t m, std::int64_t r) { return in + ((s * N + m) * R + r) * F; };
  const auto similarity = [&](const float* key, const float* own) {
    if (keyDim == 1) return -std::fabs(key[0] - own[0]);
    const float first = key[0] * own[0], second = key[1] * own[1];
    return first + second;
  };
  for (std::int64_t s = 0; s < B; ++s)
    for (std::int64_t n = 0; n < N; ++n) {
      const std::int64_t r = cp[s * N + n];
      checkRule(r, R);
      const float* own = features(s, n, r);
      // The best match among the other tokens for key f (offset 0) and key g (offset keyDim).
      const auto bestOther = [&](std::int64_t offset) {
        float best = -std::numeric_limits<float>::infinity();
        std::int64_t at = 0;
        for (std::int64_t m = 0; m < N; ++m) {
          const float v = m == n ? -std::numeric_limits<float>::infinity()
                                 : similarity(features(s, m, r) + offset, own + offset);
          if (v > best) best = v, at = m;
        }
        return at;
      };
      const float v = features(s, bestOther(0), r)[2 * keyDim];
      const float v2 = features(s, bestOther(keyDim), r)[2 * keyDim + 1];
      const float first = ap[r] * v, second = bp[r] * v2;
      y[s * N + n] = first + second;
    }
  return out;
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
  return mhaTarget(data, rules, alpha_, beta_, spec_.searchVersion, this->rules(), false);
}

torch::Tensor mhaTarget(const torch::Tensor& data, const torch::Tensor& rules, const torch::Tensor& alpha,
                        const torch::Tensor& beta, int searchVersion, std::int64_t R, bool reference) {
  if (!reference && data.is_cpu() && data.scalar_type() == torch::kFloat)
    return targetByTokens(data, rules, alpha, beta, searchVersion, R);
  const std::int64_t B = data.size(0), N = data.size(1);
  const torch::Tensor c = rules.to(data.device());
  const torch::Tensor T = data.view({B, N, R, mhaFeaturesPerRule(searchVersion)});
  const std::int64_t keyDim = mhaKeyDim(searchVersion);
  const torch::Tensor f = T.narrow(-1, 0, keyDim), g = T.narrow(-1, keyDim, keyDim);
  const torch::Tensor v = T.select(-1, 2 * keyDim), v2 = T.select(-1, 2 * keyDim + 1);

  auto similarity = [&](const torch::Tensor& key) {
    const torch::Tensor others = underRuleOfQuery(key, c);           // (B, N, N, k)
    const torch::Tensor own = underOwnRule(key, c).unsqueeze(2);     // (B, N, 1, k)
    if (searchVersion == 1) return -(others - own).abs().squeeze(-1);  // nearest scalar
    return (others * own).sum(-1);                                     // cosine
  };
  const torch::Tensor s = bestOtherToken(similarity(f));
  const torch::Tensor s2 = bestOtherToken(similarity(g));
  const auto opts = data.options();
  return alpha.to(opts).index_select(0, c.flatten()).view({B, N}) * retrieve(v, c, s) +
         beta.to(opts).index_select(0, c.flatten()).view({B, N}) * retrieve(v2, c, s2);
}

}  // namespace modlab
