#include "modlab/metrics/activation.h"

#include <algorithm>

#include <torch/torch.h>

#include "modlab/rng/random_state.h"

namespace modlab {

EstimateOptions EstimateOptions::paper(Setting setting) {
  EstimateOptions o;
  o.matrixSamples = setting == Setting::Rnn ? 100000 : 1000000;
  o.batch = setting == Setting::Rnn ? 100 : 1000;
  o.adaptationPriors = 100;
  o.adaptationSamples = 10000;
  return o;
}

EstimateOptions EstimateOptions::quick(Setting setting) {
  EstimateOptions o;
  o.matrixSamples = setting == Setting::Mlp ? 8192 : 1024;
  o.batch = setting == Setting::Mlp ? 4096 : 512;
  o.adaptationPriors = 20;
  o.adaptationSamples = setting == Setting::Mlp ? 2048 : 256;
  return o;
}

namespace {
// Runs the model over `samples` fresh samples in batches; calls fn(activations (T, R), rules (T)).
template <typename Fn>
void forEachBatch(RuleModelImpl& model, const RuleTask& task, std::int64_t samples, std::int64_t batch,
                  const std::vector<double>* prior, const std::atomic<bool>* cancel, torch::Generator& gen,
                  torch::Device device, Fn&& fn) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model.is_training();
  model.eval();
  for (std::int64_t done = 0; done < samples; done += batch) {
    if (cancel && cancel->load()) {
      model.train(wasTraining);
      throw EvaluationCancelled();
    }
    SampleRequest request;
    request.batch = std::min(batch, samples - done);
    request.prior = prior;
    const Batch b = task.sample(request, gen, device);
    const ModelOutput out = model.forward(b.x);
    if (!out.activations.defined())
      throw InvalidArgument("family", toString(model.spec().family), "a modular family (Monolithic has no modules)");
    fn(out.activations.reshape({-1, task.rules()}).to(torch::kDouble), b.rules.reshape({-1}));
  }
  model.train(wasTraining);
}
}  // namespace

ActivationMatrix estimateActivationMatrix(RuleModelImpl& model, const RuleTask& task, const EstimateOptions& options,
                                          torch::Generator& gen, torch::Device device) {
  const std::int64_t R = task.rules();
  const std::vector<double> uniform;  // the task's own prior is ignored: P assumes uniform rules
  torch::Tensor sums = torch::zeros({R, R}, torch::dtype(torch::kDouble).device(device));
  torch::Tensor counts = torch::zeros({R}, torch::dtype(torch::kDouble).device(device));
  forEachBatch(model, task, options.matrixSamples, options.batch, &uniform, options.cancel, gen, device,
               [&](const torch::Tensor& p, const torch::Tensor& rules) {
                 sums.index_add_(0, rules, p);
                 counts.index_add_(0, rules, torch::ones_like(rules, p.options()));
               });
  const torch::Tensor P = (sums / counts.clamp_min(1).unsqueeze(1) / static_cast<double>(R)).cpu().contiguous();
  return ActivationMatrix(static_cast<int>(R), static_cast<int>(R),
                          std::vector<double>(P.data_ptr<double>(), P.data_ptr<double>() + P.numel()));
}

double adaptation(RuleModelImpl& model, const RuleTask& task, const EstimateOptions& options,
                  torch::Generator& gen, torch::Device device) {
  const int R = task.rules();
  const std::int64_t batches = std::max<std::int64_t>(1, options.adaptationSamples / options.batch);
  const std::int64_t perBatch = options.adaptationSamples / batches;
  double total = 0.0;
  for (int seed = 0; seed < options.adaptationPriors; ++seed) {
    const std::vector<double> prior = RandomState(static_cast<std::uint32_t>(seed)).dirichletOnes(R);
    torch::Tensor q = torch::zeros({R}, torch::dtype(torch::kDouble).device(device));
    for (std::int64_t b = 0; b < batches; ++b)
      forEachBatch(model, task, perBatch, perBatch, &prior, options.cancel, gen, device,
                   [&](const torch::Tensor& p, const torch::Tensor&) { q += p.mean(0); });
    q = (q / static_cast<double>(batches)).cpu().contiguous();
    total += adaptationTerm(prior, std::vector<double>(q.data_ptr<double>(), q.data_ptr<double>() + R));
  }
  return total / options.adaptationPriors;
}

SpecialisationMetrics measureSpecialisation(RuleModelImpl& model, const RuleTask& task, const EstimateOptions& options,
                                            torch::Generator& gen, torch::Device device, ActivationMatrix* matrixOut) {
  const ActivationMatrix P = estimateActivationMatrix(model, task, options, gen, device);
  SpecialisationMetrics m;
  m.collapseAvg = collapseAvg(P);
  m.collapseWorst = collapseWorst(P);
  m.alignment = alignment(P);
  m.inverseMutualInformation = inverseMutualInformation(P);
  m.adaptation = adaptation(model, task, options, gen, device);
  if (matrixOut) *matrixOut = P;
  return m;
}

}  // namespace modlab
