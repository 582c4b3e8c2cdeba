// Floating-point work of a training step, for the benchmark and sweep estimates (private to core).
#pragma once

#include "modlab/experiment/experiment_config.h"
#include "modlab/models/rule_model.h"

namespace modlab {

// Multiply-adds of one forward pass per sample (MLP) or token (MHA, RNN): every weight
// matrix once, module weights once per routed module for GT-Modular, plus attention.
double forwardMacsPerToken(RuleModelImpl& model, const ExperimentConfig& config);
// GFLOP of one training step of one family (forward + backward = 3 x forward).
double gflopPerStep(RuleModelImpl& model, const ExperimentConfig& config);

}  // namespace modlab
