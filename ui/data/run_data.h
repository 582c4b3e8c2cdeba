// Everything a run has produced so far, as the views read it: training losses per
// model (a family, or a named variant: keyed by Variant::name), evaluations, and the latest status. Filled from the session's snapshots
// (live) or from a run folder (replay). GUI thread only.
#pragma once

#include <QColor>
#include <QPointF>
#include <QString>
#include <QVector>
#include <map>
#include <vector>

#include "modlab/experiment/experiment_config.h"
#include "modlab/experiment/run_store.h"
#include "modlab/training/snapshot.h"

namespace modlab::ui {

class RunData {
public:
  void reset(const ExperimentConfig& config);
  void load(const RunRecord& record);
  // Returns true when an evaluation arrived.
  bool append(Snapshot snapshot);

  const ExperimentConfig& config() const { return config_; }
  // Every model trained, in order (variantsOf), with its routing in effect now.
  const std::vector<Variant>& variants() const { return variants_; }
  const Variant* variant(const std::string& name) const;  // nullptr for an unknown name
  QColor color(const std::string& variant) const;      // for fills and lines
  QColor textColor(const std::string& variant) const;  // for text and thin marks
  const QVector<QPointF>& trainLoss(const std::string& variant) const;  // (step, loss), finite only
  // Routing interventions: the parts of a routed model's loss (unweighted), and the live
  // coefficient changes with their steps.
  enum class LossPart { Objective, Balance, SampleEntropy, BatchEntropy };
  const QVector<QPointF>& lossPart(const std::string& variant, LossPart part) const;
  const std::vector<RoutingChange>& routingChanges() const { return routingChanges_; }
  const RoutingOptions& routing() const { return routing_; }  // the experiment's, in effect now
  const std::vector<EvaluationSnapshot>& evaluations() const { return evaluations_; }
  const FamilyEvaluation* latestEvaluation(const std::string& variant) const;
  const Snapshot& status() const { return status_; }
  std::int64_t step() const { return status_.step; }
  bool isReplay() const { return replay_; }
  // A run folder another process is writing, followed live (a replay that still grows).
  bool isFollowing() const { return following_; }
  void setFollowing(bool on) { following_ = on; }
  QString source() const { return source_; }
  void setSource(const QString& s) { source_ = s; }

private:
  ExperimentConfig config_;
  std::vector<Variant> variants_;
  std::map<std::string, QVector<QPointF>> train_;
  std::map<std::pair<std::string, LossPart>, QVector<QPointF>> parts_;
  std::vector<RoutingChange> routingChanges_;
  RoutingOptions routing_;
  void addParts(const TrainPoint& p);
  std::vector<EvaluationSnapshot> evaluations_;
  Snapshot status_;
  bool replay_ = false;
  bool following_ = false;
  QString source_;
};

// At most `maxPoints` points that keep the curve's shape (min and max of each bucket).
QVector<QPointF> thin(const QVector<QPointF>& points, int maxPoints);
// Exponential moving average with weight `smoothing` in [0, 1) on the previous value
// (0 = off), bias-corrected like TensorBoard's so the start is not dragged to 0.
QVector<QPointF> ema(const QVector<QPointF>& points, double smoothing);

}  // namespace modlab::ui
