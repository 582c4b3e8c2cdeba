// Follows a run folder as another process writes it (the CLI, a Slurm task, another app), as
// TensorBoard follows its logs: each poll reads only what was appended since the last one
// (from the last offset, complete lines only, each line's CRC checked) through the same
// reader as RunStore::load, and hands over the training points and evaluations that are
// complete. Read-only: it never writes or locks the folder. No torch here.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "modlab/experiment/run_store.h"

namespace modlab {

class RunFollower {
public:
  // Throws ConfigError when the folder holds no run, ReadError when its config is unreadable.
  explicit RunFollower(const std::filesystem::path& dir);
  ~RunFollower();
  RunFollower(const RunFollower&) = delete;
  RunFollower& operator=(const RunFollower&) = delete;

  struct Update {
    std::vector<TrainPoint> train;               // new since the last poll, in order
    std::vector<EvaluationSnapshot> evaluations;  // newly complete
    RunInfo info;                                 // run.json as it is now
    bool writing = false;   // a live process holds the run's lock and run.json has not ended (more may follow)
    bool restarted = false; // the logs were replaced (a resume cut them back): this update is the whole record again
    std::vector<std::string> warnings;
  };
  // What was appended since the last poll (the whole record at the first). Throws ReadError
  // when run.json or a record before the end is damaged.
  Update poll();
  const ExperimentConfig& config() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modlab
