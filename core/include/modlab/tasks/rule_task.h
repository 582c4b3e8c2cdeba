// The rule-based data processes of the paper (spec section 1): a task is fixed by
// its data seed (coefficients from numpy's RandomState); per-sample randomness
// comes from a torch generator seeded with the model seed.
#pragma once

#include <memory>
#include <vector>

#include <torch/types.h>

#include "modlab/types.h"

namespace modlab {

struct TaskSpec {
  Setting setting = Setting::Mlp;
  TaskKind kind = TaskKind::Classification;
  int rules = 2;               // R
  int dataSeed = 0;            // RandomState(dataSeed) draws the task's coefficients
  int searchVersion = 1;       // MHA: 1 (scalar keys) or 2 (unit 2-vectors)
  int length = 10;             // training sequence length N (MHA, RNN)
  int dataDim = 32;            // RNN data dimension d
  std::vector<double> rulePrior;  // empty: uniform over the R rules
};

// Throws InvalidArgument naming the field, the value and what is allowed.
void validate(const TaskSpec& spec);

// One batch: model inputs x (data with the one-hot rule context appended), labels y
// and the rule indices (B) or (B, N).
struct Batch {
  torch::Tensor x;
  torch::Tensor y;
  torch::Tensor rules;
};

struct SampleRequest {
  std::int64_t batch = 256;
  std::int64_t length = 0;         // 0: the task's training length (ignored by MLP)
  double scale = 1.0;              // OoD: 2.0 multiplies every random input feature
  const std::vector<double>* prior = nullptr;  // overrides the task's rule prior
};

class RuleTask {
public:
  static std::unique_ptr<RuleTask> create(const TaskSpec& spec);
  virtual ~RuleTask() = default;

  const TaskSpec& spec() const { return spec_; }
  int rules() const { return spec_.rules; }
  bool sequential() const { return spec_.setting != Setting::Mlp; }

  // Features per sample (MLP) or token (MHA, RNN) that the model receives.
  virtual int inputDim() const = 0;
  // Output features per sample or token: 1, except RNN regression (d).
  virtual int outputDim() const { return 1; }

  // Draws a fresh batch on `device` (generated on the CPU generator `gen`).
  Batch sample(const SampleRequest& request, torch::Generator& gen,
               torch::Device device = torch::kCPU) const;

  // Labels for given model inputs (the one-hot context is the last R features).
  Batch fromInputs(const torch::Tensor& x) const;

protected:
  explicit RuleTask(TaskSpec spec) : spec_(std::move(spec)) {}
  // Unscaled random features, (B, 2) / (B, N, kR) / (B, N, d).
  virtual torch::Tensor drawData(std::int64_t batch, std::int64_t length,
                                 torch::Generator& gen) const = 0;
  // The task's y before thresholding: regression targets, or w^T s for RNN classification.
  virtual torch::Tensor target(const torch::Tensor& data, const torch::Tensor& rules) const = 0;

  torch::Tensor labelsOf(const torch::Tensor& y) const;
  TaskSpec spec_;
};

// The coefficient draws of section 1, in the reference's order, from RandomState(dataSeed).
struct LinearCoefficients {
  std::vector<double> alpha, beta;  // R each
};
LinearCoefficients drawLinearCoefficients(int dataSeed, int rules);

struct LinearDynamics {
  std::vector<double> A;  // (R, 1, d, d) row-major, / sqrt(d)
  std::vector<double> B;  // (R, d, d), / sqrt(d)
  std::vector<double> w;  // (d, 1): the classification decoder, drawn last
};
LinearDynamics drawLinearDynamics(int dataSeed, int rules, int dim);

}  // namespace modlab
