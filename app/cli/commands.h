// The modlab-cli subcommands. Each returns the process exit code.
#pragma once

#include "figures.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modlab/training/session.h"

namespace modlab::cli {

struct TrainArgs {
  std::string preset, configFile, out;
  std::vector<std::string> overrides;
  bool resume = false, force = false, quiet = false;
  bool presetGiven = false, configGiven = false;  // an empty value given is an error, not the default
};
int train(const TrainArgs& args);

struct EvalArgs {
  std::string run, checkpoint = "last";
  bool paperSamples = false, json = false;
  // Given on the command line (otherwise the run's own, or the paper's, counts).
  std::optional<int> batches;
  std::optional<long long> batchSize, matrixSamples;
};
int eval(const EvalArgs& args);
// Steps/s of every setting x family; with referenceDir (laid out by reference-setup), the
// authors' implementation in the same run on the same BLAS kernel (bench.cpp).
int bench(bool json, double seconds, const std::vector<std::string>& settings, const std::string& referenceDir,
          int rounds = 1);
// Drives a session to its end with a live progress line (none when quiet); returns its final
// state, keeps its last evaluation and counts the evaluations when asked.
SessionState follow(Session& session, bool quiet, EvaluationSnapshot& lastEvaluation, int* evaluations = nullptr,
                    std::int64_t* step = nullptr);
// SIGINT and SIGTERM stop a training or sweep after its current step (a run that can be
// resumed), from the moment this is called: main calls it first for those commands.
void catchInterrupts();
// One whole experiment timed from start to finish: MHA R = 4, four families, 6,000 steps (time_to_insight.cpp).
int timeToInsight(bool json);
// Versions, BLAS library and kernel, threads, device (info.cpp).
int info(bool json);
int listPresets();
struct ImportArgs {
  std::string path, setting, task, family, out;
  int rules = 0;
  std::vector<std::string> overrides;
};
int importReference(const ImportArgs& args);
int exportReference(const std::string& run, const std::string& checkpoint, const std::string& out);
int configShow(const std::string& preset);  // the preset's full config as JSON
int configKeysTable();                      // every config key: type, allowed, default, meaning
int demo(const std::string& preset, const std::vector<std::string>& overrides);

int sweepPlan(const std::string& grid, const std::string& out, bool force, const std::string& bench);
// `task`: that run alone, as a Slurm array task runs it; `quiet`: no progress lines.
int sweepRun(const std::string& sweep, int jobs, std::optional<int> task = std::nullopt, bool quiet = false);
struct SlurmArgs {
  std::string sweep, partition, time, account;  // time "": from the plan's estimate
  int cpus = 0, gpus = 0, memory = 4, maxParallel = 0;  // cpus 0: one per family (at most 8)
  double margin = 3.0;  // the time limit over the plan's estimate (evaluations, a slower node)
  int maxArraySize = 0;  // 0: the cluster's (scontrol show config), else 1001
  bool submit = false;
};
int sweepSlurm(const SlurmArgs& args, const std::string& self);
int sweepStatus(const std::string& sweep);
// Writes the report CSVs; the figures come from renderFigures (the GUI library), when built.
int report(const std::string& sweep, const std::string& out,
           const FigureRenderer& renderFigures, double figureScale = 1.0);

}  // namespace modlab::cli
