// Evaluating trained families: ID/OoD performance per condition and, for modular
// families, the activation matrix and the five metrics (private to core).
#pragma once

#include <vector>

#include <torch/types.h>

#include "modlab/experiment/experiment_config.h"
#include "modlab/metrics/activation.h"
#include "modlab/models/rule_model.h"
#include "modlab/tasks/rule_task.h"
#include "modlab/training/snapshot.h"
#include "training/family_pool.h"

namespace modlab {

struct EvaluationPlan {
  int batches = 4;              // per condition
  std::int64_t batchSize = 256;
  EstimateOptions estimates;
  std::uint64_t seed = 0;       // fixes every draw of this evaluation
};

// The plan used during training (the config's counts) and the paper's final one (perf.py, prob.py).
EvaluationPlan trainingPlan(const ExperimentConfig& config, std::int64_t step);
EvaluationPlan paperPlan(const ExperimentConfig& config);
// The seed of the samples the activation matrix and Adaptation are estimated from.
std::uint64_t activationSeed(const EvaluationPlan& plan);

EvaluationSnapshot evaluateFamilies(const ExperimentConfig& config, const RuleTask& task,
                                    const std::vector<RuleModelImpl*>& models, const EvaluationPlan& plan,
                                    FamilyPool& pool, torch::Device device);

TaskSpec taskSpecOf(const ExperimentConfig& config);
ModelSpec modelSpecOf(const ExperimentConfig& config, Family family);

}  // namespace modlab
