// Estimating the activation matrix and Adaptation from a trained model (spec 4.2, 4.4).
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

#include <torch/types.h>

#include "modlab/metrics/specialisation.h"
#include "modlab/models/rule_model.h"
#include "modlab/tasks/rule_task.h"

namespace modlab {

// How many samples the estimates use. MLP counts samples, MHA and RNN count sequences
// of the task's training length. paper() gives the counts of the reference scripts.
struct EstimateOptions {
  std::int64_t matrixSamples = 20000;   // prob.py: 10^6 (MLP, MHA), 10^5 (RNN)
  std::int64_t batch = 1000;            // samples (or sequences) per forward pass
  int adaptationPriors = 100;           // Dirichlet(1) priors, RandomState(0..99)
  std::int64_t adaptationSamples = 10000;  // per prior: 10 batches x 1000
  const std::atomic<bool>* cancel = nullptr;  // set: the estimate stops at its next batch
  static EstimateOptions paper(Setting setting);
  static EstimateOptions quick(Setting setting);  // cheap enough to run during training
};

// An evaluation stopped through EstimateOptions::cancel (a stop request, Ctrl-C).
class EvaluationCancelled : public std::runtime_error {
public:
  EvaluationCancelled() : std::runtime_error("evaluation cancelled") {}
};

// P[r, m] = (1/R) mean over samples of rule r of p_m, from fresh ID data with uniform rules.
ActivationMatrix estimateActivationMatrix(RuleModelImpl& model, const RuleTask& task,
                                          const EstimateOptions& options, torch::Generator& gen,
                                          torch::Device device = torch::kCPU);

// Mean over the Dirichlet priors of adaptationTerm(p, q), q the module marginal under p.
double adaptation(RuleModelImpl& model, const RuleTask& task, const EstimateOptions& options,
                  torch::Generator& gen, torch::Device device = torch::kCPU);

// All five metrics of a modular model.
SpecialisationMetrics measureSpecialisation(RuleModelImpl& model, const RuleTask& task,
                                            const EstimateOptions& options, torch::Generator& gen,
                                            torch::Device device, ActivationMatrix* matrixOut = nullptr);

}  // namespace modlab
