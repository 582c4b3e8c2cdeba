#include "modlab/tasks/rule_task.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <torch/torch.h>

#include "modlab/rng/random_state.h"
#include "tasks/task_impls.h"

namespace modlab {

namespace {
std::string priorText(const std::vector<double>& p) {
  std::string s = "[";
  for (std::size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + std::to_string(p[i]);
  return s + "]";
}

void validatePrior(const std::vector<double>& prior, int rules) {
  if (prior.empty()) return;
  if (static_cast<int>(prior.size()) != rules)
    throw InvalidArgument("rule prior", priorText(prior),
                          "a probability vector of length R = " + std::to_string(rules));
  double sum = 0.0;
  for (double p : prior) {
    if (!(p >= 0.0) || !std::isfinite(p))
      throw InvalidArgument("rule prior", priorText(prior), "non-negative finite probabilities");
    sum += p;
  }
  if (std::abs(sum - 1.0) > 1e-6)
    throw InvalidArgument("rule prior", priorText(prior),
                          "probabilities that sum to 1 (they sum to " + std::to_string(sum) + ")");
}

void validateLength(Setting setting, std::int64_t length, const char* field) {
  if (setting == Setting::Mha && length < 2)
    throw InvalidArgument(field, std::to_string(length),
                          "at least 2 for MHA (a token searches the other tokens)");
  if (setting == Setting::Rnn && length < 1)
    throw InvalidArgument(field, std::to_string(length), "at least 1 for RNN");
}
}  // namespace

void validate(const TaskSpec& spec) {
  if (spec.rules < 2 || spec.rules > 256)
    throw InvalidArgument("rules", std::to_string(spec.rules), "an integer from 2 to 256");
  if (spec.dataSeed < 0)
    throw InvalidArgument("data seed", std::to_string(spec.dataSeed), "an integer >= 0");
  if (spec.setting == Setting::Mha && spec.searchVersion != 1 && spec.searchVersion != 2)
    throw InvalidArgument("search version", std::to_string(spec.searchVersion), "1 or 2");
  if (spec.setting == Setting::Rnn && spec.dataDim < 1)
    throw InvalidArgument("data dim", std::to_string(spec.dataDim), "a positive integer");
  validateLength(spec.setting, spec.length, "sequence length");
  validatePrior(spec.rulePrior, spec.rules);
}

std::unique_ptr<RuleTask> RuleTask::create(const TaskSpec& spec) {
  validate(spec);
  switch (spec.setting) {
    case Setting::Mlp: return std::make_unique<MlpTask>(spec);
    case Setting::Mha: return std::make_unique<MhaTask>(spec);
    case Setting::Rnn: return std::make_unique<RnnTask>(spec);
  }
  throw InvalidArgument("setting", "?", "one of mlp, mha, rnn");
}

torch::Tensor RuleTask::labelsOf(const torch::Tensor& y) const {
  if (spec_.kind == TaskKind::Regression) return y;
  if (y.is_cpu() && y.scalar_type() == torch::kFloat && y.is_contiguous()) {  // the training path: one pass
    torch::Tensor labels = torch::empty_like(y);
    const float* in = y.data_ptr<float>();
    float* out = labels.data_ptr<float>();
    for (std::int64_t i = 0; i < y.numel(); ++i) out[i] = in[i] >= 0.0f ? 1.0f : 0.0f;
    return labels;
  }
  return y.ge(0).to(y.scalar_type());
}

Batch RuleTask::sample(const SampleRequest& request, torch::Generator& gen,
                       torch::Device device) const {
  if (request.batch < 1)
    throw InvalidArgument("batch size", std::to_string(request.batch), "a positive integer");
  const std::int64_t length = sequential() ? (request.length > 0 ? request.length : spec_.length) : 1;
  if (sequential()) validateLength(spec_.setting, length, "sequence length");
  const std::vector<double>& prior = request.prior ? *request.prior : spec_.rulePrior;
  if (request.prior) validatePrior(prior, spec_.rules);

  torch::NoGradGuard noGrad;
  torch::Tensor data = drawData(request.batch, length, gen);
  const std::int64_t positions = sequential() ? request.batch * length : request.batch;
  torch::Tensor rules;
  if (prior.empty()) {
    rules = torch::randint(spec_.rules, {positions}, gen, torch::kLong);
  } else {
    auto p = torch::tensor(prior, torch::kDouble);
    rules = torch::multinomial(p, positions, /*replacement=*/true, gen);
  }
  rules = sequential() ? rules.view({request.batch, length}) : rules;
  if (request.scale != 1.0) data.mul_(request.scale);
  torch::Tensor y = target(data, rules);
  // [data, onehot(rules)] written into one buffer (cheaper than one_hot + cat).
  std::vector<std::int64_t> shape = data.sizes().vec();
  const std::int64_t features = shape.back();
  shape.back() = features + spec_.rules;
  torch::Tensor x = torch::zeros(shape, data.options());
  if (data.is_cpu() && data.scalar_type() == torch::kFloat && data.is_contiguous()) {
    const float* in = data.data_ptr<float>();
    const std::int64_t* c = rules.data_ptr<std::int64_t>();
    float* out = x.data_ptr<float>();
    const std::int64_t width = features + spec_.rules;
    for (std::int64_t i = 0; i < positions; ++i) {
      std::copy(in + i * features, in + (i + 1) * features, out + i * width);
      out[i * width + features + c[i]] = 1.0f;
    }
  } else {
    x.narrow(-1, 0, features).copy_(data);
    x.narrow(-1, features, spec_.rules).scatter_(-1, rules.unsqueeze(-1), 1.0);
  }
  Batch out{x, labelsOf(y), rules};
  if (device != torch::kCPU) {
    out.x = out.x.to(device);
    out.y = out.y.to(device);
    out.rules = out.rules.to(device);
  }
  return out;
}

Batch RuleTask::fromInputs(const torch::Tensor& x) const {
  torch::NoGradGuard noGrad;
  const std::int64_t features = x.size(-1);
  if (features != inputDim())
    throw InvalidArgument("input features", std::to_string(features),
                          std::to_string(inputDim()) + " for this task");
  torch::Tensor data = x.narrow(-1, 0, features - spec_.rules);
  torch::Tensor rules = x.narrow(-1, features - spec_.rules, spec_.rules).argmax(-1);
  return Batch{x, labelsOf(target(data, rules)), rules};
}

LinearCoefficients drawLinearCoefficients(int dataSeed, int rules) {
  RandomState rng(static_cast<std::uint32_t>(dataSeed));
  LinearCoefficients c;
  c.alpha = rng.randn(rules);
  c.beta = rng.randn(rules);
  return c;
}

LinearDynamics drawLinearDynamics(int dataSeed, int rules, int dim) {
  RandomState rng(static_cast<std::uint32_t>(dataSeed));
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim));  // order o = 1: sqrt(o*d)
  LinearDynamics dyn;
  dyn.A = rng.randn(static_cast<std::size_t>(rules) * dim * dim);
  for (double& v : dyn.A) v *= scale;
  dyn.B = rng.randn(static_cast<std::size_t>(rules) * dim * dim);
  for (double& v : dyn.B) v *= scale;
  dyn.w = rng.randn(dim);
  return dyn;
}

}  // namespace modlab
