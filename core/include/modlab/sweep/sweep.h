// Sweeps: a grid of experiments expanded into numbered run configs in a sweep folder,
// run locally (resumable) or on a Slurm cluster as a job array (engine API, no torch).
//
// A sweep folder:  sweep.json (version, grid, count)  configs/NNNNN.json  runs/NNNNN-<name>/
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"

namespace modlab {

inline constexpr int kSweepFormatVersion = 1;

struct SweepGrid {
  std::string name = "sweep";
  std::vector<Setting> settings{Setting::Mlp};
  std::vector<TaskKind> tasks{TaskKind::Classification};
  std::vector<int> rules{2};
  std::vector<int> sizes{32};
  std::vector<int> dataSeeds{0};
  std::vector<int> modelSeeds{0};
  std::vector<int> searchVersions{1};  // MHA only
  std::vector<Family> families{kAllFamilies.begin(), kAllFamilies.end()};
  std::vector<RoutingOptions> routings{RoutingOptions{}};  // routing interventions (modlab/routing.h)
  std::map<Setting, ExperimentConfig> base;  // per-setting optimiser, steps and evaluation
};

SweepGrid parseGrid(const std::string& json);  // throws ConfigError (unknown key, empty axis, bad value)
std::string toJson(const SweepGrid& grid);
SweepGrid paperGrid();      // the paper: 20,000 models (5,000 runs of four families)
SweepGrid paperLiteGrid();  // its structure at sizes and steps for about an hour on 2 cores
SweepGrid routingGrid();    // routing interventions on MLP classification, R = 16: 12 runs of two families
SweepGrid namedGrid(const std::string& nameOrFile);  // "paper", "paper-lite", "routing" or a grid file

struct SweepRun {
  int index = 0;
  std::string name;  // e.g. mha-sv2-regression-R16-E32-ds0-ms0
  ExperimentConfig config;
};
std::vector<SweepRun> expand(const SweepGrid& grid);

struct SweepPlan {
  std::string directory;
  int runs = 0;
  int models = 0;        // runs x families
  double cpuHours = 0.0;  // from benchmark throughput (GFLOP/s per setting)
  double maxRunCpuSeconds = 0.0;  // the longest run's training steps, the same way
  std::map<Setting, double> gflops;  // the throughput used for the estimate
};
// Writes the sweep folder; an existing one is never overwritten without `force`.
// `benchJson` (modlab-cli bench --json) replaces the built-in throughput figures.
SweepPlan planSweep(const SweepGrid& grid, const std::string& directory, bool force, const std::string& benchJson = "");

struct Sweep {
  std::string directory;
  SweepGrid grid;
  std::vector<SweepRun> runs;
  double maxRunCpuSeconds = 0.0;  // the plan's estimate for its longest run (0: not recorded)
  std::string runDirectory(const SweepRun& run) const;   // runs/NNNNN-<name>
  std::string configPath(const SweepRun& run) const;     // configs/NNNNN.json
};
Sweep loadSweep(const std::string& directory);  // throws ConfigError (no sweep, other version)

// Running: a live process holds the run folder's lock. Damaged: its record cannot be read, or
// says finished without being complete. Stale: its config.json is not its plan's (the sweep was
// planned again): never a result, run again by 'sweep run'. One verdict for status, run and report.
enum class RunState { Pending, Running, Finished, Stopped, Failed, Damaged, Stale };
std::string toString(RunState s);
RunState runState(const Sweep& sweep, const SweepRun& run, std::string* error = nullptr);
// What the run folder records, whether or not a process is working on it now.
RunState recordedState(const Sweep& sweep, const SweepRun& run, std::string* error = nullptr);

struct SweepProgress {
  int total = 0, finished = 0, failed = 0, running = 0, skipped = 0;
  int elsewhere = 0;  // claimed by another runner (its folder's lock was held)
  std::int64_t stepsDone = 0, stepsTotal = 0;
  std::vector<std::string> failures;  // "name: message"
};
// Runs every unfinished run (finished ones are skipped, interrupted ones resumed), `jobs`
// at a time. Each run is claimed through its folder's lock, so several runners on one
// sweep (here or on other machines sharing the folder) split the work. `progress` is called from the calling thread about 4 times a second.
// `only`: that run alone (a Slurm array task), else all of them.
SweepProgress runSweep(const Sweep& sweep, int jobs, const std::function<void(const SweepProgress&)>& progress,
                       const std::atomic<bool>* stop = nullptr, std::optional<int> only = std::nullopt);

struct SlurmOptions {
  std::string partition, time = "04:00:00", account, cli;  // cli: path to modlab-cli on the nodes
  int cpus = 2, gpus = 0, memoryGiB = 4, maxParallel = 0;
  int maxArraySize = 1001;  // the cluster's MaxArraySize: array indices stay below it
};
// The Slurm defaults for a sweep from its plan's estimate: CPUs for its families (one thread
// each, at most 8), and a time limit of `margin` times its longest run's estimate on them,
// rounded up to 15 minutes (at least 30 minutes); "04:00:00" for a plan without an estimate.
int slurmCpus(const Sweep& sweep);
std::string slurmTime(const Sweep& sweep, int cpus, double margin);
// A word the shell takes literally: single quotes, each ' written as '\''.
std::string shellQuote(const std::string& text);
// One job array of the sweep: tasks 0..count-1 run the runs offset..offset+count-1.
struct SlurmArray {
  int offset = 0, count = 0;
  std::string sbatchArguments;  // --array=0-N[%P] --export=ALL,MODLAB_ARRAY_OFFSET=offset
};
struct SlurmScript {
  std::string script;  // slurm/array.sh
  std::string submit;  // slurm/submit.sh: one sbatch line per array
  std::vector<SlurmArray> arrays;  // several when the runs outnumber MaxArraySize
};
// Writes slurm/array.sh (one array task per run config), split into arrays of at most
// MaxArraySize tasks, and slurm/submit.sh that submits them all.
SlurmScript writeSlurmScript(const Sweep& sweep, const SlurmOptions& options);

}  // namespace modlab
