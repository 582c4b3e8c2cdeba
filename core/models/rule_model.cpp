#include "modlab/models/rule_model.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "models/model_parts.h"

namespace modlab {

int mhaHeadDim(int rules, int attDim) { return attDim / (2 * rules); }

int mhaModuleWidth(int rules, int dModel, int attDim) {
  const long long R = rules, H = 2, d = dModel, att = attDim;
  return static_cast<int>((2 * d * (R * H * (att + d) + att)) / (R * (att * (H + 1) + R * H * d)));
}

int rnnModuleHidden(int rules, int encoder, int hidden) {
  const double R = rules, E = encoder, H = hidden;
  const double b = 4 * R * E + 1;
  const double rhs = 5 * H * H + H * (4 * E + 1);
  return static_cast<int>(std::floor((std::sqrt(b * b + 4 * (4 * R + 1) * rhs) - b) / (2 * (4 * R + 1))));
}

void validate(const ModelSpec& spec) {
  if (spec.rules < 2 || spec.rules > 256)
    throw InvalidArgument("rules", std::to_string(spec.rules), "an integer from 2 to 256");
  if (spec.size < 1 || spec.size > 8192)
    throw InvalidArgument("size", std::to_string(spec.size), "a positive integer up to 8192");
  const int wide = spec.wide();
  switch (spec.setting) {
    case Setting::Mlp:
      if (wide / spec.rules < 1)
        throw InvalidArgument("size", std::to_string(spec.size),
                              "at least R/4 = " + std::to_string((spec.rules + 3) / 4) +
                                  " so that every module has a hidden unit (D/R >= 1)");
      break;
    case Setting::Mha:
      if (spec.searchVersion != 1 && spec.searchVersion != 2)
        throw InvalidArgument("search version", std::to_string(spec.searchVersion), "1 or 2");
      if (mhaHeadDim(spec.rules, wide) < 1)
        throw InvalidArgument("size", std::to_string(spec.size),
                              "at least R/2 = " + std::to_string((spec.rules + 1) / 2) +
                                  " so that every head has a dimension (4d / 2R >= 1)");
      break;
    case Setting::Rnn:
      if (spec.dataDim < 1)
        throw InvalidArgument("data dim", std::to_string(spec.dataDim), "a positive integer");
      break;
  }
}

RuleModel makeModel(const ModelSpec& spec, std::uint64_t seed) {
  validate(spec);
  RuleModel model;
  switch (spec.setting) {
    case Setting::Mlp: model = makeMlpModel(spec); break;
    case Setting::Mha: model = makeMhaModel(spec); break;
    case Setting::Rnn: model = makeRnnModel(spec); break;
  }
  model->initialise(seed);
  return model;
}

void RuleModelImpl::setRouting(const RoutingOptions& options, std::uint64_t noiseSeed) {
  validate(options);
  routing_ = options;
  noiseSeed_ = noiseSeed;
  setRoutingStep(routingStep_);
}

void RuleModelImpl::setRoutingStep(std::int64_t step) {
  routingStep_ = step;
  if (routing_.mode != RoutingMode::Gumbel) return;
  // splitmix64 of (seed, step): an independent stream per update
  std::uint64_t z = noiseSeed_ + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(step) + 0x5151ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  noise_ = at::make_generator<at::CPUGeneratorImpl>(z ^ (z >> 31));
}

torch::Tensor RuleModelImpl::route(const torch::Tensor& scores) {
  Routed r = routeScores(scores, routing_, is_training(), routingStep_, noise_ ? &*noise_ : nullptr);
  routerProbs_.push_back(r.soft);
  return r.weights;
}

torch::Tensor RuleModelImpl::takeRouterProbs() {
  if (routerProbs_.empty()) return {};
  std::vector<torch::Tensor> parts;
  for (const auto& p : routerProbs_) parts.push_back(p.reshape({-1, p.size(-1)}));
  routerProbs_.clear();
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
}

void RuleModelImpl::initialise(std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::size_t initialised = 0;
  for (const auto& m : modules(/*include_self=*/false)) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(linear->options.in_features()));
      for (auto& p : linear->parameters(false)) p.uniform_(-bound, bound, gen), ++initialised;
    } else if (auto* lstm = dynamic_cast<torch::nn::LSTMCellImpl*>(m.get())) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(lstm->options.hidden_size()));
      for (auto& p : lstm->parameters(false)) p.uniform_(-bound, bound, gen), ++initialised;
    } else if (auto* group = dynamic_cast<GroupLinearImpl*>(m.get())) {
      group->reset(gen);
      initialised += group->parameters(false).size();
    } else if (auto* cell = dynamic_cast<GroupLstmCellImpl*>(m.get())) {
      cell->reset(gen);
      initialised += cell->parameters(false).size();
    }
  }
  if (initialised != parameters().size())
    throw std::logic_error("model initialisation missed " + std::to_string(parameters().size() - initialised) +
                           " parameter tensors");
}

std::int64_t RuleModelImpl::parameterCount() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

torch::Tensor RuleModelImpl::ruleOneHot(const torch::Tensor& x) const {
  return x.narrow(-1, x.size(-1) - spec_.rules, spec_.rules);
}

torch::Tensor RuleModelImpl::ruleIndices(const torch::Tensor& x) const {
  return ruleOneHot(x).argmax(-1).reshape({-1});
}

}  // namespace modlab
