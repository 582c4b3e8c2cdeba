// The three data processes (private to core; use RuleTask::create).
#pragma once

#include "modlab/tasks/rule_task.h"

namespace modlab {

// Section 1.1: y = alpha_c a + beta_c b.
class MlpTask final : public RuleTask {
public:
  explicit MlpTask(const TaskSpec& spec);
  int inputDim() const override { return 2 + rules(); }

protected:
  torch::Tensor drawData(std::int64_t batch, std::int64_t length, torch::Generator& gen) const override;
  torch::Tensor target(const torch::Tensor& data, const torch::Tensor& rules) const override;

private:
  torch::Tensor alpha_, beta_;  // (R) float64
  torch::Tensor coefficients_;  // (R, 2) float32: [alpha, beta]
};

// Each token's features per rule, [f, g, v, v2] with keys f and g of mhaKeyDim floats each.
inline int mhaKeyDim(int searchVersion) { return searchVersion == 1 ? 1 : 2; }
inline int mhaFeaturesPerRule(int searchVersion) { return 2 * mhaKeyDim(searchVersion) + 2; }

// Section 1.2: search and retrieval over a set of tokens (search version 1 or 2).
class MhaTask final : public RuleTask {
public:
  explicit MhaTask(const TaskSpec& spec);
  int inputDim() const override { return featuresPerRule() * rules() + rules(); }
  int featuresPerRule() const { return mhaFeaturesPerRule(spec_.searchVersion); }

protected:
  torch::Tensor drawData(std::int64_t batch, std::int64_t length, torch::Generator& gen) const override;
  torch::Tensor target(const torch::Tensor& data, const torch::Tensor& rules) const override;

private:
  torch::Tensor alpha_, beta_;
};

// The target of MHA data (B, N, R * features), rules (B, N): with torch operations
// (reference, and every device) or token by token (CPU float), the same bits either way.
torch::Tensor mhaTarget(const torch::Tensor& data, const torch::Tensor& rules, const torch::Tensor& alpha,
                        const torch::Tensor& beta, int searchVersion, std::int64_t R, bool reference);

// Section 1.3: switching linear dynamical system, s_n = s_{n-1} A_c + x_n B_c.
class RnnTask final : public RuleTask {
public:
  explicit RnnTask(const TaskSpec& spec);
  int inputDim() const override { return spec_.dataDim + rules(); }
  int outputDim() const override {
    return spec_.kind == TaskKind::Regression ? spec_.dataDim : 1;
  }

protected:
  torch::Tensor drawData(std::int64_t batch, std::int64_t length, torch::Generator& gen) const override;
  torch::Tensor target(const torch::Tensor& data, const torch::Tensor& rules) const override;

private:
  torch::Tensor A_, B_, w_;  // (R, d, d), (R, d, d), (d, 1), float64
};

}  // namespace modlab
