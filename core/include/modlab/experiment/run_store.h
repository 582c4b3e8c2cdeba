// A run folder: config.json, metrics.csv (tidy), activations.jsonl, checkpoints/, run.json.
// Whole files are written atomically (temp file + rename); the logs are appended line by
// line, so a killed process leaves valid files. No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"
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
  std::map<std::string, std::string> familyStates;  // family -> "training" / "diverged: ..."
  std::vector<std::pair<std::int64_t, double>> learningRateChanges;  // (step, lr)
};

// Everything a run folder recorded, for replay and evaluation.
struct RunRecord {
  ExperimentConfig config;
  RunInfo info;
  std::vector<TrainPoint> train;
  std::vector<EvaluationSnapshot> evaluations;
};

class RunStore {
public:
  // A new run folder; throws ConfigError when it exists and holds a run, unless overwrite.
  static RunStore create(const std::filesystem::path& dir, const ExperimentConfig& config, bool overwrite);
  // An existing run folder (to resume): throws ConfigError when it holds no run.
  static RunStore open(const std::filesystem::path& dir);
  static RunRecord load(const std::filesystem::path& dir);

  const std::filesystem::path& directory() const { return dir_; }
  std::filesystem::path checkpointDirectory() const { return dir_ / "checkpoints"; }

  void appendTrain(const std::vector<TrainPoint>& points);
  void appendEvaluation(const EvaluationSnapshot& evaluation);
  void writeInfo(const RunInfo& info);
  RunInfo readInfo() const;
  ExperimentConfig readConfig() const;
  // Drops every log row after `step` (resuming from the checkpoint at `step`).
  void truncateAfter(std::int64_t step);

private:
  explicit RunStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

void writeFileAtomic(const std::filesystem::path& path, const std::string& content);
std::string readFile(const std::filesystem::path& path);
std::string utcNow();

}  // namespace modlab
