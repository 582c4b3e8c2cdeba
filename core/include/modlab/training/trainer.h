// One model, its Adam optimiser (over flat parameters) and its loss: a training step and an evaluation (spec 3).
#pragma once

#include <memory>

#include <torch/types.h>

#include "modlab/models/rule_model.h"
#include "modlab/training/flat_adam.h"
#include "modlab/tasks/rule_task.h"

namespace modlab {

struct OptimiserConfig {
  double learningRate = 1e-4;  // Adam, betas (0.9, 0.999), eps 1e-8, no weight decay
  double clipNorm = 0.0;       // gradient-norm clipping; 0 = off (the RNN setting uses 1.0)
};

// Error % (classification) or L1 (regression) and the loss, averaged over batches.
struct Evaluation {
  double loss = 0.0;
  double error = 0.0;  // classification: 100 - accuracy %; regression: the L1 loss
};

// BCE-with-logits (classification) or L1 (regression), the mean over all elements.
torch::Tensor taskLoss(TaskKind kind, const torch::Tensor& prediction, const torch::Tensor& labels);
// Classification error in %: a prediction is correct iff 1[logit >= 0] equals the label.
double classificationError(const torch::Tensor& logits, const torch::Tensor& labels);

// One step's loss and, when the routing interventions are on, its parts: the loss optimised
// is task + balance * R sum f_i P_i + sampleEntropy * H(p_t) - batchEntropy * H(mean p)
// (modlab/models/routing.h), the parts recorded unweighted.
struct StepLosses {
  double total = 0.0;
  double task = 0.0;
  bool hasRoutingTerms = false;
  double balance = 0.0, sampleEntropy = 0.0, batchEntropy = 0.0;
};

class Trainer {
public:
  Trainer(RuleModel model, OptimiserConfig config);

  // One optimiser step on `batch`; returns the loss optimised, before the update.
  double step(const Batch& batch);
  const StepLosses& lastLosses() const { return last_; }
  Evaluation evaluate(const RuleTask& task, const SampleRequest& request, int batches,
                      torch::Generator& gen, torch::Device device);

  RuleModelImpl& model() { return *model_; }
  const RuleModel& modelPtr() const { return model_; }
  FlatAdam& optimiser() { return *optimiser_; }
  void setLearningRate(double lr);
  double learningRate() const { return optimiser_->learningRate(); }

private:
  RuleModel model_;
  OptimiserConfig config_;
  std::unique_ptr<FlatAdam> optimiser_;
  StepLosses last_;
};

}  // namespace modlab
