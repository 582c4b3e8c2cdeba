#include "training/evaluation.h"

#include <algorithm>

#include <torch/torch.h>

#include "modlab/training/trainer.h"

namespace modlab {

TaskSpec taskSpecOf(const ExperimentConfig& c) {
  TaskSpec t;
  t.setting = c.setting;
  t.kind = c.task;
  t.rules = c.rules;
  t.dataSeed = c.dataSeed;
  t.searchVersion = c.searchVersion;
  t.length = c.length;
  t.dataDim = c.dataDim;
  return t;
}

ModelSpec modelSpecOf(const ExperimentConfig& c, Family f) {
  ModelSpec m;
  m.setting = c.setting;
  m.family = f;
  m.kind = c.task;
  m.rules = c.rules;
  m.size = c.size;
  m.modelDim = c.modelDim;
  m.searchVersion = c.searchVersion;
  m.dataDim = c.dataDim;
  return m;
}

namespace {
// Separate streams for evaluation, fixed by (model seed, step): evaluation never perturbs
// the training stream, and a resumed run draws exactly what the original drew.
std::uint64_t streamSeed(std::uint64_t base, std::uint64_t salt) {
  std::uint64_t z = base + 0x9E3779B97F4A7C15ULL * (salt + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct Condition {
  int length;
  double scale;
};
}  // namespace

EvaluationPlan trainingPlan(const ExperimentConfig& c, std::int64_t step) {
  EvaluationPlan plan;
  plan.batches = c.evalBatches;
  plan.batchSize = c.batchSize;
  plan.estimates = EstimateOptions::quick(c.setting);
  if (c.matrixSamples > 0) plan.estimates.matrixSamples = c.matrixSamples;
  if (c.adaptationPriors > 0) plan.estimates.adaptationPriors = c.adaptationPriors;
  if (c.adaptationSamples > 0) plan.estimates.adaptationSamples = c.adaptationSamples;
  plan.estimates.batch = std::clamp<std::int64_t>(plan.estimates.matrixSamples, 1, plan.estimates.batch);
  plan.seed = streamSeed(static_cast<std::uint64_t>(c.modelSeed), static_cast<std::uint64_t>(step));
  return plan;
}

EvaluationPlan paperPlan(const ExperimentConfig& c) {
  EvaluationPlan plan;
  plan.batches = 100;
  // perf.py: batch 1000 for MLP and MHA classification, 256 for MHA regression and RNN.
  plan.batchSize = (c.setting == Setting::Mlp || (c.setting == Setting::Mha && c.task == TaskKind::Classification)) ? 1000 : 256;
  plan.estimates = EstimateOptions::paper(c.setting);
  plan.seed = streamSeed(static_cast<std::uint64_t>(c.modelSeed), 0xFFFFFFFFULL);
  return plan;
}

std::uint64_t activationSeed(const EvaluationPlan& plan) { return streamSeed(plan.seed, 1000); }

EvaluationSnapshot evaluateFamilies(const ExperimentConfig& config, const RuleTask& task,
                                    const std::vector<RuleModelImpl*>& models, const EvaluationPlan& plan,
                                    FamilyPool& pool, torch::Device device) {
  torch::NoGradGuard noGrad;
  const bool sequential = config.setting != Setting::Mlp;
  // 0: ID and 1: validation at the training length; 2: the paper's OoD; then every length.
  std::vector<Condition> conditions{{config.length, 1.0}, {config.length, 1.0}};
  const int oodLength = sequential ? *std::max_element(config.evalLengths.begin(), config.evalLengths.end()) : 1;
  conditions.push_back({oodLength, 2.0});
  if (sequential)
    for (int len : config.evalLengths)
      for (double scale : {1.0, 2.0}) conditions.push_back({len, scale});

  std::vector<std::vector<Batch>> batches(conditions.size());
  for (std::size_t c = 0; c < conditions.size(); ++c) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(streamSeed(plan.seed, c));
    SampleRequest r;
    r.batch = plan.batchSize;
    r.length = conditions[c].length;
    r.scale = conditions[c].scale;
    for (int b = 0; b < plan.batches; ++b) batches[c].push_back(task.sample(r, gen, device));
  }

  EvaluationSnapshot snapshot;
  snapshot.families.resize(models.size());
  std::vector<std::function<void()>> jobs;
  for (std::size_t i = 0; i < models.size(); ++i) {
    jobs.push_back([&, i] {
      torch::NoGradGuard threadNoGrad;  // grad mode is thread-local
      RuleModelImpl& model = *models[i];
      FamilyEvaluation& out = snapshot.families[i];
      out.family = model.spec().family;
      const bool wasTraining = model.is_training();
      model.eval();
      auto measure = [&](std::size_t c) {
        ConditionResult r{sequential ? conditions[c].length : 0, conditions[c].scale, 0.0, 0.0};
        for (const Batch& b : batches[c]) {
          if (plan.estimates.cancel && plan.estimates.cancel->load()) throw EvaluationCancelled();
          const torch::Tensor y = model.forward(b.x).y;
          r.loss += taskLoss(config.task, y, b.y).item<double>();
          if (config.task == TaskKind::Classification)
            r.error += classificationError(y, b.y);
        }
        const double n = static_cast<double>(batches[c].size());
        r.loss /= n;
        r.error = config.task == TaskKind::Classification ? r.error / n : r.loss;
        return r;
      };
      out.id = measure(0);
      out.validation = measure(1);
      out.ood = measure(2);
      for (std::size_t c = 3; c < conditions.size(); ++c) out.conditions.push_back(measure(c));
      if (isModular(out.family)) {
        // The same samples for every family: one stream per evaluation.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(activationSeed(plan));
        ActivationMatrix P;
        out.metrics = measureSpecialisation(model, task, plan.estimates, gen, device, &P);
        out.hasMetrics = true;
        out.rules = P.rules();
        for (int r = 0; r < P.rules(); ++r)
          for (int m = 0; m < P.modules(); ++m) out.moduleGivenRule.push_back(P.moduleGivenRule(r, m));
      }
      model.train(wasTraining);
    });
  }
  pool.run(jobs);
  return snapshot;
}

}  // namespace modlab
