// One run as the browser view shows it, shared by every viewer of that run: its config and
// models, each model's training loss, the evaluations (losses, errors, the five metrics,
// p(module | rule)), the routing changes and the run's state. Filled incrementally, from a
// followed run folder (FolderRun) or from the app's session (LiveShare), and turned into the
// JSON the page reads: downsampled for the first load, what is new for a live update.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modlab/experiment/experiment_config.h"
#include "modlab/training/snapshot.h"

namespace modlab::web {

// running, paused, finished, stopped, failed, damaged (and created: nothing trained yet).
struct RunStatus {
  std::string state = "created";
  std::int64_t step = 0, totalSteps = 0;
  double stepsPerSecond = 0.0, wallSeconds = 0.0;
  std::string error;  // failed: the reason; damaged: what cannot be read
  std::string device, updated;
  std::map<std::string, std::string> modelStates;  // variant -> "training", "diverged: ...", ...
  std::vector<std::string> warnings;
};

class RunView {
public:
  // `curves` false: training points are counted, not kept (a run only listed, not opened).
  void reset(const ExperimentConfig& config, std::string name, bool curves = true);
  bool keepsCurves() const { return curves_kept_; }
  void addTrain(const TrainPoint& point);
  void addEvaluation(const EvaluationSnapshot& evaluation);
  void addRoutingChange(const RoutingChange& change);
  void setStatus(RunStatus status);

  const std::string& name() const { return name_; }
  const ExperimentConfig& config() const { return config_; }
  const RunStatus& status() const { return status_; }
  const std::vector<Variant>& variants() const { return variants_; }
  std::size_t trainCount() const { return points_.size(); }
  std::int64_t lastStep() const { return lastStep_; }  // of the training log
  std::size_t evaluationCount() const { return evaluations_.size(); }
  const std::vector<EvaluationSnapshot>& evaluations() const { return evaluations_; }
  const std::vector<RoutingChange>& routingChanges() const { return routingChanges_; }
  std::uint64_t revision() const { return revision_; }  // grows with every change
  std::uint64_t generation() const { return generation_; }  // grows with every reset

  // The runs page's row: name, setting, task, R, models, state, steps, final metrics.
  nlohmann::json summary() const;
  // The run page: each model's training loss as at most ~2 points per pixel column of
  // `width` (min and max of each column), raw and smoothed (TensorBoard's EMA, `smoothing`
  // in [0, 1)), with the EMA's state to continue it; every evaluation without its heatmaps,
  // the last one's heatmaps, the analytic references for R.
  nlohmann::json page(int width, double smoothing) const;
  // What was added after the page held `trainFrom` points and `evaluationsFrom` evaluations.
  nlohmann::json update(std::size_t trainFrom, std::size_t evaluationsFrom) const;
  // The heatmaps of one evaluation: per model p(module | rule) and its Hungarian order.
  nlohmann::json heatmaps(std::size_t evaluation) const;

  std::string lossCsv() const;
  std::string metricsCsv(std::int64_t onlyStep = -1) const;  // as MetricsView's: all, or one evaluation's
  std::string heatmapsCsv(std::size_t evaluation) const;

private:
  struct Point {
    std::int64_t step;
    double loss;
    int model;
  };
  int modelIndex(const std::string& variant) const;
  nlohmann::json evaluationJson(const EvaluationSnapshot& e, bool withHeatmaps) const;
  nlohmann::json statusJson() const;

  std::string name_;
  ExperimentConfig config_;
  std::vector<Variant> variants_;
  std::vector<Point> points_;  // in arrival order
  std::vector<std::vector<std::pair<std::int64_t, double>>> curves_;  // per model
  std::vector<EvaluationSnapshot> evaluations_;
  std::vector<RoutingChange> routingChanges_;
  RunStatus status_;
  std::uint64_t revision_ = 0, generation_ = 0;
  bool curves_kept_ = true;
  std::int64_t lastStep_ = 0;
};

// At most about 2 * `columns` points that keep the curve's shape: the minimum and the
// maximum of each column of steps, in step order (the first and last points always kept).
std::vector<std::pair<std::int64_t, double>> downsample(const std::vector<std::pair<std::int64_t, double>>& points,
                                                        int columns);

}  // namespace modlab::web
