#include "training/flops.h"

#include <torch/torch.h>

#include "models/model_parts.h"

namespace modlab {

// Multiply-adds of one forward pass per sample (MLP) or token (MHA, RNN): every weight
// matrix once, module weights once per routed module for GT-Modular, plus attention.
double forwardMacsPerToken(RuleModelImpl& model, const ExperimentConfig& c) {
  double macs = 0.0;
  const bool routed = model.spec().family == Family::GtModular;
  for (const auto& m : model.modules(false)) {
    const bool group = dynamic_cast<GroupLinearImpl*>(m.get()) || dynamic_cast<GroupLstmCellImpl*>(m.get());
    for (const auto& p : m->parameters(false)) {
      if (p.dim() < 2) continue;
      if (group && p.dim() == 3 && p.size(0) == 1) continue;  // a group bias
      macs += static_cast<double>(p.numel()) / (group && routed ? c.rules : 1);
    }
  }
  if (c.setting == Setting::Mha) {
    const double heads = 2.0 * c.rules, hd = mhaHeadDim(c.rules, c.wideDim());
    macs += 2.0 * heads * c.length * hd;  // QK^T and AV, per query token
  }
  return macs;
}

double gflopPerStep(RuleModelImpl& model, const ExperimentConfig& c) {
  const double tokens = static_cast<double>(c.batchSize) * (c.setting == Setting::Mlp ? 1 : c.length);
  return 6.0 * tokens * forwardMacsPerToken(model, c) / 1e9;  // 2 FLOP per multiply-add, forward + 2x backward
}

}  // namespace modlab
