// A Session trains several model families of one experiment side by side on one data
// stream. Engine API: no torch types. Every control is safe from any thread and is
// answered within one training step; results leave through a mailbox of snapshots.
#pragma once

#include "modlab/platform/device.h"

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"
#include "modlab/training/snapshot.h"

namespace modlab {

class FolderLock;

struct SessionOptions {
  std::string runDirectory;  // empty: nothing is written
  bool resume = false;       // continue the run in runDirectory from its last checkpoint
  bool overwrite = false;    // replace an existing run folder
  // The run folder's lock when the caller already holds it (a sweep runner's claim);
  // otherwise the session takes it and holds it for its life.
  std::shared_ptr<FolderLock> lock;
  // Fault injection for tests: when it returns true, that family's loss at that update
  // is treated as NaN (the divergence path is then exactly the real one).
  std::function<bool(const std::string& variant, std::int64_t step)> injectNaN;
};

class Session {
public:
  // Throws ConfigError at once for a bad config, an unavailable device, or a run folder
  // that already holds a run (without overwrite) or holds none (resume).
  explicit Session(ExperimentConfig config, SessionOptions options = {});
  ~Session();  // stops and joins the training thread
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();   // trains on a thread of its own
  void pause();
  void resume();
  void step();    // one update while paused
  void stop();
  void setLearningRate(double lr);  // every family, from the next update; recorded in the run
  // A routing coefficient (kRoutingCoefficientKeys) from the next update, recorded in the run:
  // of the named variant, or with "" of the experiment's routing (its Modular and Modular-op
  // families). Throws ConfigError naming the key for a bad value, or "variants" for an
  // unknown variant or an experiment without those families.
  void setRoutingCoefficient(const std::string& key, double value, const std::string& variant = "");
  RoutingOptions routing(const std::string& variant = "") const;  // the routing in effect
  void setThrottle(double stepsPerSecond);  // 0: as fast as possible
  void wait();    // until the training thread ends

  std::vector<Snapshot> drain();  // everything published since the last drain
  SessionState state() const;
  const ExperimentConfig& config() const;
  std::string device() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The worker threads a session trains its families on: `threads` when set, else one per core
// up to one per family; one on a GPU, which serialises the families anyway.
int familyWorkers(const ExperimentConfig& config);

// An error as a user should read it: LibTorch's message without its stack trace, and
// running out of memory named as such.
std::string describeError(const std::exception& e);

}  // namespace modlab
