// The four model families of the paper for each setting (spec section 2).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "modlab/models/routing.h"
#include "modlab/types.h"

namespace modlab {

struct ModelSpec {
  Setting setting = Setting::Mlp;
  Family family = Family::Monolithic;
  TaskKind kind = TaskKind::Classification;
  int rules = 2;          // R: modules = rules
  int size = 32;          // E (MLP, RNN encoder) or d_model (MHA)
  int modelDim = 0;       // D = att = H; 0: the paper's 4 * size
  int wide() const { return modelDim > 0 ? modelDim : 4 * size; }
  int searchVersion = 1;  // MHA input width: 5R (v1) or 7R (v2)
  int dataDim = 32;       // RNN data dimension d
};

// Throws InvalidArgument naming the field, the value and what is allowed.
void validate(const ModelSpec& spec);

// Model inputs to outputs, with the per-sample (or per-token) module activations
// p in the probability simplex over modules; undefined for Monolithic.
struct ModelOutput {
  torch::Tensor y;            // logits or predictions: (B), (B, N) or (B, N, out)
  torch::Tensor activations;  // (B, R) or (B, N, R)
  torch::Tensor routerProbs;  // Modular, Modular-op: the soft router probabilities (decisions, R)
};

class RuleModelImpl : public torch::nn::Module {
public:
  explicit RuleModelImpl(ModelSpec spec) : spec_(spec) {}
  const ModelSpec& spec() const { return spec_; }
  virtual ModelOutput forward(const torch::Tensor& x) = 0;

  // Re-draws every parameter with the specified initialisation from a generator
  // seeded with `seed` (never from torch's global generator).
  void initialise(std::uint64_t seed);
  std::int64_t parameterCount() const;

  // Routing interventions (Modular and Modular-op; the others have no router). Gumbel noise
  // comes from a stream fixed by (noiseSeed, step), so a resumed run draws the same noise.
  void setRouting(const RoutingOptions& options, std::uint64_t noiseSeed);
  const RoutingOptions& routing() const { return routing_; }
  void setRoutingStep(std::int64_t step);  // the update about to be computed

protected:
  // The mixing weights from a router's scores (..., R); keeps the soft probabilities for
  // ModelOutput::routerProbs (takeRouterProbs).
  torch::Tensor route(const torch::Tensor& scores);
  void noteRouterProbs(const torch::Tensor& soft) { routerProbs_.push_back(soft); }
  torch::Tensor takeRouterProbs();  // every decision since the last call, (decisions, R)
  void discardRouterProbs() { routerProbs_.clear(); }  // at the start of a forward pass
  torch::Tensor ruleIndices(const torch::Tensor& x) const;  // argmax of the trailing one-hot
  torch::Tensor ruleOneHot(const torch::Tensor& x) const;   // the trailing R features
  ModelSpec spec_;

private:
  RoutingOptions routing_;
  std::uint64_t noiseSeed_ = 0;
  std::int64_t routingStep_ = 0;
  std::optional<at::Generator> noise_;
  std::vector<torch::Tensor> routerProbs_;
};

using RuleModel = std::shared_ptr<RuleModelImpl>;

// Builds any (setting, family, R, size), initialised from `seed`.
RuleModel makeModel(const ModelSpec& spec, std::uint64_t seed);

// Capacity matching (spec 2.2 and 2.3).
int mhaHeadDim(int rules, int attDim);                 // att // (2R)
int mhaModuleWidth(int rules, int dModel, int attDim);  // I
int rnnModuleHidden(int rules, int encoder, int hidden);  // h

}  // namespace modlab
