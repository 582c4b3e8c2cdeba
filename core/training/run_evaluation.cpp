#include "modlab/training/run_evaluation.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <sys/resource.h>

#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "models/model_parts.h"
#include "modlab/training/session.h"
#include "training/checkpoint.h"
#include "training/evaluation.h"
#include "training/flops.h"
#include "training/family_pool.h"

namespace modlab {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void EvaluationSize::validate() const {
  auto check = [](const char* option, std::int64_t value, std::int64_t lo, std::int64_t hi) {
    if (value < lo || value > hi)
      throw ConfigError(option, std::string("invalid ") + option + " " + std::to_string(value) + ": allowed is from " +
                                    std::to_string(lo) + " to " + std::to_string(hi));
  };
  if (batches) check("--batches", *batches, 1, 10000);
  if (batchSize) check("--batch-size", *batchSize, 1, 65536);
  if (matrixSamples) check("--matrix-samples", *matrixSamples, 1, 100'000'000);
}

RunEvaluation evaluateRun(const std::string& dir, const EvaluationSize& size, const std::string& checkpoint) {
  size.validate();
  const RunStore store = RunStore::open(dir);
  RunEvaluation out;
  out.config = store.readConfig();
  out.checkpoint = checkpoint;
  out.paperSamples = size.paperSamples;
  useSingleComputeThread();
  const torch::Device device = cudaAvailable() && out.config.device != "cpu" ? torch::kCUDA : torch::kCPU;
  const auto task = RuleTask::create(taskSpecOf(out.config));
  std::vector<RuleModel> models;
  std::vector<RuleModelImpl*> raw;
  const std::vector<RoutingChange> routingChanges = store.readInfo().routingChanges;
  const std::vector<Variant> variants = variantsOf(out.config);
  std::vector<std::string> names;
  for (const Variant& v : variants) {
    names.push_back(v.name);
    models.push_back(makeModel(modelSpecOf(out.config, v.family), 0));
    raw.push_back(models.back().get());
  }
  const bool writerRunning = FolderLock::isHeld(dir);
  const std::vector<LoadedModel> loaded = loadModels(store.checkpointDirectory(), names, checkpoint, raw, writerRunning);
  std::vector<RuleModelImpl*> evaluated;
  std::vector<std::string> evaluatedNames;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    out.warnings.insert(out.warnings.end(), loaded[i].warnings.begin(), loaded[i].warnings.end());
    if (checkpoint == "last") out.step = loaded[i].step;
    if (loaded[i].diverged) {  // its weights are not numbers any more: nothing to evaluate
      out.warnings.push_back(v.name + " is left out: it diverged (" + loaded[i].message + ")");
      continue;
    }
    out.checkpoints.push_back({v.name, loaded[i].step, loaded[i].validation, loaded[i].hasValidation});
    // Routed as it was at that checkpoint: the config's routing with the live changes made by then.
    if (isRouted(v.family))
      models[i]->setRouting(variantsAt(out.config, routingChanges, loaded[i].step)[i].routing,
                            static_cast<std::uint64_t>(out.config.modelSeed));
    models[i]->to(device);
    evaluated.push_back(raw[i]);
    evaluatedNames.push_back(v.name);
  }
  if (evaluated.empty()) throw ReadError("every model of " + dir + " diverged: there is nothing to evaluate");
  if (writerRunning && checkpoint == "last")
    out.warnings.push_back("the run is still training: this is its checkpoint at step " + std::to_string(out.step) +
                           ", every model from that same step");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  FamilyPool pool(device.is_cuda() ? 1 : std::min<int>(cores, static_cast<int>(evaluated.size())));
  if (checkpoint == "best")  // the evaluation samples of the run's last checkpoint, for comparability
    out.step = std::max_element(out.checkpoints.begin(), out.checkpoints.end(), [](const auto& a, const auto& b) {
                 return a.step < b.step;
               })->step;
  EvaluationPlan plan = size.paperSamples ? paperPlan(out.config) : trainingPlan(out.config, std::max<std::int64_t>(0, out.step));
  if (size.batches) plan.batches = *size.batches;
  if (size.batchSize) plan.batchSize = *size.batchSize;
  if (size.matrixSamples) {
    plan.estimates.matrixSamples = *size.matrixSamples;
    plan.estimates.batch = std::clamp<std::int64_t>(*size.matrixSamples, 1, std::max<std::int64_t>(plan.estimates.batch, 1000));
  }
  out.data = {plan.batches, plan.batchSize, plan.estimates.matrixSamples, plan.estimates.batch,
              plan.estimates.adaptationPriors, plan.estimates.adaptationSamples, plan.seed, activationSeed(plan)};
  out.result = evaluateFamilies(out.config, *task, evaluated, plan, pool, device);
  for (std::size_t i = 0; i < evaluated.size(); ++i) out.result.families[i].variant = evaluatedNames[i];
  out.result.step = out.step;
  return out;
}

ExperimentConfig benchmarkConfig(Setting setting) {
  ExperimentConfig c;
  c.name = "bench-" + toString(setting);
  c.setting = setting;
  c.task = TaskKind::Classification;
  c.rules = 8;
  c.size = 64;  // MLP: E 64, D 256; MHA: d 64, att 256; RNN: encoder 64, hidden 256
  c.length = 10;
  c.searchVersion = 1;
  c.dataDim = 32;
  c.batchSize = 256;
  c.learningRate = 1e-4;
  c.device = "cpu";
  return c;
}

namespace {

struct Throughput {
  double stepsPerSecond = 0.0;
  std::int64_t steps = 0;
};

Throughput measureSteps(Trainer& trainer, const RuleTask& task, const ExperimentConfig& c, double seconds) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  SampleRequest r;
  r.batch = c.batchSize;
  for (int i = 0; i < 2; ++i) trainer.step(task.sample(r, gen));  // warm-up
  const auto start = Clock::now();
  std::int64_t steps = 0;
  double elapsed = 0.0;
  while (elapsed < seconds || steps < 3) {
    trainer.step(task.sample(r, gen));
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return {static_cast<double>(steps) / elapsed, steps};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The reference's rounds as one measurement: the median rate, every round's rate.
ReferenceMeasurement medianRound(const std::vector<ReferenceMeasurement>& rounds) {
  ReferenceMeasurement m = rounds.back();
  m.rounds.clear();
  for (const ReferenceMeasurement& r : rounds) m.rounds.push_back(r.stepsPerSecond);
  m.stepsPerSecond = median(m.rounds);
  return m;
}

// Family-steps/s of the four families trained by a Session as the app trains them (on
// `threads` workers, one data stream), timed between two snapshots after its first evaluation.
double familyStepsPerSecond(const ExperimentConfig& base, int threads, double seconds) {
  ExperimentConfig c = base;
  c.threads = threads;
  c.steps = 100'000'000;
  c.evalEvery = 100'000'000;
  c.evalBatches = 1;  // the first evaluation, before the timing, kept short
  c.evalLengths = {c.length};
  c.matrixSamples = 256;
  c.adaptationPriors = 1;
  c.adaptationSamples = 64;
  Session session(c);
  session.start();
  auto latest = [&](Snapshot& into) {
    for (Snapshot& s : session.drain()) into = std::move(s);
  };
  Snapshot first, last;
  while (first.step < 2 && first.state != SessionState::Failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    latest(first);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  latest(last);
  session.stop();
  session.wait();
  if (first.state == SessionState::Failed || last.step <= first.step) return 0.0;
  return static_cast<double>(last.step - first.step) * static_cast<double>(c.families.size()) /
         (last.wallSeconds - first.wallSeconds);
}

double sgemmGflops() {
  const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  torch::Tensor out = torch::mm(a, b);
  const auto start = Clock::now();
  int reps = 0;
  double elapsed = 0.0;
  while (elapsed < 1.0) {
    torch::mm_out(out, a, b);
    ++reps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return 2.0 * 1024.0 * 1024.0 * 1024.0 * reps / elapsed / 1e9;
}

}  // namespace

BenchmarkReport runBenchmark(const BenchmarkOptions& options) {
  useSingleComputeThread();
  BenchmarkReport report;
  report.device = "CPU";
  report.sgemmGflops = sgemmGflops();
  for (Setting s : options.settings) {
    const ExperimentConfig c = benchmarkConfig(s);
    const auto task = RuleTask::create(taskSpecOf(c));
    std::vector<std::unique_ptr<Trainer>> trainers;
    for (Family f : kAllFamilies) {
      auto trainer = std::make_unique<Trainer>(makeModel(modelSpecOf(c, f), 0),
                                               OptimiserConfig{c.learningRate, c.effectiveClipNorm()});
      BenchmarkRow row;
      row.setting = s;
      row.family = f;
      row.parameters = trainer->model().parameterCount();
      row.gflopPerStep = gflopPerStep(trainer->model(), c);
      std::vector<ReferenceMeasurement> references;
      for (int round = 0; round < std::max(1, options.rounds); ++round) {
        const Throughput throughput = measureSteps(*trainer, *task, c, options.secondsPerCase);
        row.rounds.push_back(throughput.stepsPerSecond);
        row.stepsPerSecond = throughput.stepsPerSecond;  // this round's, for measureReference
        row.steps = std::max(row.steps, throughput.steps);
        if (options.measureReference) references.push_back(options.measureReference(row, c.rules));
      }
      row.stepsPerSecond = median(row.rounds);
      if (!references.empty()) row.reference = medianRound(references);
      report.rows.push_back(row);
      trainers.push_back(std::move(trainer));
    }
    if (options.concurrency) {
      const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      ConcurrencyRow row;
      row.setting = s;
      row.threads = std::min(cores, 4);
      row.familyStepsPerSecond1 = familyStepsPerSecond(c, 1, options.secondsPerCase * 1.5);
      row.familyStepsPerSecondN = familyStepsPerSecond(c, row.threads, options.secondsPerCase * 1.5);
      report.concurrency.push_back(row);
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.peakResidentMiB = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return report;
}

}  // namespace modlab
