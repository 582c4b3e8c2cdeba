// A run folder: config.json, metrics.csv (tidy), activations.jsonl, checkpoints/, run.json.
// Whole files are written atomically (temp file + fsync + rename); the logs are appended
// record by record, each line carrying its CRC-32, so a reader tells a torn tail (a kill
// mid-write: dropped) from a damaged record (the run is reported corrupt). A writer holds
// the folder's lock (.lock) for its whole life. No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"
#include "modlab/io/files.h"
#include "modlab/training/snapshot.h"

namespace modlab {

// Status and provenance of a run (run.json).
struct RunInfo {
  std::string status = "created";  // created | running | paused | finished | stopped | failed
  std::string version;             // Modularity Lab
  std::string torchVersion;
  std::string device;
  std::string started, updated;    // ISO 8601, UTC
  double wallSeconds = 0.0;
  std::int64_t stepsDone = 0;
  std::int64_t checkpointStep = -1;
  std::string error;
  std::map<std::string, std::string> familyStates;  // variant name -> "training" / "diverged: ..."
  std::vector<std::pair<std::int64_t, double>> learningRateChanges;  // (step, lr)
  std::vector<RoutingChange> routingChanges;
};

// A live routing change into the variants' routing (variantsOf order): RoutingChange::variant ""
// changes the experiment's routed families, a name that variant alone. Throws InvalidArgument
// for a value outside its range.
void applyRoutingChange(std::vector<Variant>& variants, const ExperimentConfig& config, const RoutingChange& change);
// The variants as they trained at `step`: variantsOf(config) with the changes made up to it.
std::vector<Variant> variantsAt(const ExperimentConfig& config, const std::vector<RoutingChange>& changes, std::int64_t step);

// Everything a run folder recorded, for replay and evaluation.
struct RunRecord {
  ExperimentConfig config;
  RunInfo info;
  std::vector<TrainPoint> train;
  std::vector<EvaluationSnapshot> evaluations;
  std::vector<std::string> warnings;  // e.g. a torn last line that was dropped
  // Read in part (loadReadable): something recorded could not be read. Shown, never scored.
  bool partial = false;
};

class RunStore {
public:
  // A new run folder, locked for this process (or under `held`, a lock the caller took).
  // Throws ConfigError when the folder is in use, holds a run (unless overwrite), or holds
  // anything that is not a Modularity Lab run (never replaced, not even with overwrite).
  static RunStore create(const std::filesystem::path& dir, const ExperimentConfig& config, bool overwrite,
                         std::shared_ptr<FolderLock> held = nullptr);
  // An existing run folder to continue, locked for this process (or under `held`).
  static RunStore openForWriting(const std::filesystem::path& dir, std::shared_ptr<FolderLock> held = nullptr);
  // An existing run folder to read: throws ConfigError when it holds no run.
  static RunStore open(const std::filesystem::path& dir);
  // Everything recorded, validated: throws ReadError naming the file and the reason when a
  // file is missing, damaged or a link, when config.json or run.json does not match its
  // checksum, or when an evaluation lacks a part before the end of the record (a torn last
  // line, or an incomplete last evaluation, is left out with a warning: never read as 0).
  static RunRecord load(const std::filesystem::path& dir);
  // What can be read of a damaged run, for showing it: each log up to its first line that cannot
  // be read, evaluations that lack a part left out; each loss named in a warning (file and
  // line) and the record marked partial. Throws ReadError when config.json or run.json cannot be read.
  static RunRecord loadReadable(const std::filesystem::path& dir);
  // A finished run's record, complete: its final evaluation of every family at the step
  // run.json names (but those run.json records as diverged, which are left out of evaluations
  // from then on). Throws ReadError otherwise (such a run is never scored).
  static RunRecord loadFinished(const std::filesystem::path& dir);
  // Whether `dir` holds a Modularity Lab run (a config.json that parses as an experiment).
  static bool holdsRun(const std::filesystem::path& dir);

  const std::filesystem::path& directory() const { return dir_; }
  std::filesystem::path checkpointDirectory() const { return dir_ / "checkpoints"; }

  void appendTrain(const std::vector<TrainPoint>& points);
  void appendEvaluation(const EvaluationSnapshot& evaluation);
  void writeInfo(const RunInfo& info);
  RunInfo readInfo() const;  // throws ReadError when run.json is damaged; defaults when absent
  ExperimentConfig readConfig() const;
  // Drops every log row after `step` (resuming from the checkpoint at `step`; -1: all) and a
  // torn last line, each drop named in a warning. The evaluation at `step` is kept when every
  // model of `evaluated` is in it, complete; otherwise it is dropped whole (evaluationKept
  // false: the caller evaluates that step again). Throws ReadError when a log is missing or a
  // record before the tail is damaged.
  struct Truncation {
    bool evaluationKept = true;
    std::vector<std::string> warnings;
  };
  Truncation truncateAfter(std::int64_t step, const std::vector<std::string>& evaluated = {});
  // Forces the logs onto the disk (before a checkpoint commits to them).
  void syncLogs();

private:
  RunStore(std::filesystem::path dir, std::shared_ptr<FolderLock> lock) : dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::filesystem::path dir_;
  std::shared_ptr<FolderLock> lock_;  // held by a writer
};

std::string utcNow();

// The runs folder the app and the CLI share: $MODLAB_RUNS_DIR when set, else
// $XDG_DATA_HOME/ModularityLab/runs, else ~/.local/share/ModularityLab/runs.
std::filesystem::path defaultRunsFolder();

}  // namespace modlab
