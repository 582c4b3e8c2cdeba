// Final evaluation of a run folder's checkpoints, and the benchmark (engine API, no torch).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"
#include "modlab/training/snapshot.h"

namespace modlab {

// The checkpoint a variant was evaluated from: the last one's step, or the step and
// validation value (error % or L1 loss) the best one was chosen at.
struct EvaluatedCheckpoint {
  std::string variant;  // Variant::name
  std::int64_t step = -1;  // -1: not recorded (best checkpoints of earlier versions)
  double validation = 0.0;
  bool hasValidation = false;
};

// How much data a final evaluation uses. Unset fields keep the run's own counts (or the
// paper's with paperSamples): performance is `batches` batches of `batchSize`, the
// activation matrix `matrixSamples` samples (sequences for MHA and RNN).
struct EvaluationSize {
  bool paperSamples = false;
  std::optional<int> batches;
  std::optional<std::int64_t> batchSize;
  std::optional<std::int64_t> matrixSamples;
  void validate() const;  // throws ConfigError naming the option
};

// The data an evaluation drew: enough to reproduce it or recompute every metric.
struct EvaluationData {
  int batches = 0;
  std::int64_t batchSize = 0;
  std::int64_t matrixSamples = 0;
  std::int64_t matrixBatch = 0;
  int adaptationPriors = 0;
  std::int64_t adaptationSamples = 0;
  std::uint64_t seed = 0;        // of the evaluation (per condition streams derive from it)
  std::uint64_t matrixSeed = 0;  // of the activation matrix's samples (the same for every family)
};

struct RunEvaluation {
  ExperimentConfig config;
  EvaluationData data;
  std::string checkpoint;      // "last" or "best"
  std::int64_t step = 0;       // of the last checkpoint
  EvaluationSnapshot result;   // per variant (variantsOf order)
  std::vector<EvaluatedCheckpoint> checkpoints;  // per variant, as result.families
  std::vector<std::string> warnings;  // e.g. a damaged newest checkpoint passed over
  bool paperSamples = false;
};

// Evaluates every variant of the run in `dir` from its checkpoint. paperSamples uses the
// reference's counts (100 batches; 10^6 samples for the activation matrix, 10^5 for RNN).
RunEvaluation evaluateRun(const std::string& dir, const EvaluationSize& size, const std::string& checkpoint = "last");
inline RunEvaluation evaluateRun(const std::string& dir, bool paperSamples, const std::string& checkpoint = "last") {
  EvaluationSize size;
  size.paperSamples = paperSamples;
  return evaluateRun(dir, size, checkpoint);
}

// The authors' implementation measured in the same run (modlab-cli bench --reference).
struct ReferenceMeasurement {
  double stepsPerSecond = 0.0;  // with several rounds: the median round's
  std::int64_t parameters = 0;
  std::int64_t steps = 0;  // timed steps
  std::vector<double> rounds;  // steps/s of each round, in order
};

struct BenchmarkRow {
  Setting setting;
  Family family;
  double stepsPerSecond = 0.0;  // with several rounds: the median round's
  std::int64_t steps = 0;  // timed steps
  std::vector<double> rounds;  // steps/s of each round, in order
  double gflopPerStep = 0.0;
  std::int64_t parameters = 0;
  std::optional<ReferenceMeasurement> reference;  // only when measured
};

struct ConcurrencyRow {
  Setting setting;
  int threads = 0;
  double familyStepsPerSecond1 = 0.0;  // aggregate over the four families, one thread
  double familyStepsPerSecondN = 0.0;  // the same with `threads` workers
};

struct BenchmarkReport {
  std::vector<BenchmarkRow> rows;
  std::vector<ConcurrencyRow> concurrency;
  double sgemmGflops = 0.0;  // single-core SGEMM 1024^3 on this machine, measured in the same run
  double peakResidentMiB = 0.0;
  std::string device;
};

struct BenchmarkOptions {
  double secondsPerCase = 2.0;
  std::vector<Setting> settings{Setting::Mlp, Setting::Mha, Setting::Rnn};
  bool concurrency = true;
  // When set, called right after modlab's measurement of each row (rules = the config's R), to
  // measure the authors' implementation in the same run.
  std::function<ReferenceMeasurement(const BenchmarkRow& row, int rules)> measureReference;
  // Each row is measured this many times, modlab and the reference alternating, and each side
  // reports its median round: a VM whose speed drifts by tens of percent from minute to minute
  // then moves a ratio much less than one pair of measurements does.
  int rounds = 1;
};

// Steps/s of every setting x family on the three fixed benchmark configs (batch 256, R = 8), one
// compute thread, on this process's BLAS kernel.
BenchmarkReport runBenchmark(const BenchmarkOptions& options);
ExperimentConfig benchmarkConfig(Setting setting);

}  // namespace modlab
