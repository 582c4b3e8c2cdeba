#include "ui/run_data.h"

#include <algorithm>
#include <cmath>

namespace modlab::ui {

void RunData::reset(const ExperimentConfig& config) {
  config_ = config;
  train_.clear();
  parts_.clear();
  routingChanges_.clear();
  routing_ = config.routing;
  evaluations_.clear();
  status_ = Snapshot{};
  status_.totalSteps = config.steps;
  for (Family f : config.families) {
    FamilyStatus s;
    s.family = f;
    s.learningRate = config.learningRate;
    status_.families.push_back(s);
  }
  replay_ = false;
}

void RunData::load(const RunRecord& record) {
  reset(record.config);
  replay_ = true;
  for (const TrainPoint& p : record.train) {
    if (std::isfinite(p.loss)) train_[p.family].push_back(QPointF(static_cast<double>(p.step), p.loss));
    addParts(p);
  }
  routingChanges_ = record.info.routingChanges;
  for (const RoutingChange& c : routingChanges_) setRoutingCoefficient(routing_, c.key, c.value);
  evaluations_ = record.evaluations;
  status_.step = record.info.stepsDone;
  status_.wallSeconds = record.info.wallSeconds;
  status_.device = record.info.device;
  status_.state = record.info.status == "finished" ? SessionState::Finished
                  : record.info.status == "failed" ? SessionState::Failed
                                                    : SessionState::Stopped;
  for (FamilyStatus& f : status_.families) {
    const auto it = record.info.familyStates.find(toString(f.family));
    if (it == record.info.familyStates.end()) continue;
    if (it->second.rfind("diverged", 0) == 0) {
      f.state = FamilyState::Diverged;
      const auto colon = it->second.find(": ");
      f.message = colon == std::string::npos ? "" : it->second.substr(colon + 2);
    } else {
      f.state = it->second == "finished" ? FamilyState::Finished : FamilyState::Stopped;
    }
  }
}

bool RunData::append(Snapshot snapshot) {
  for (const TrainPoint& p : snapshot.train) {
    if (std::isfinite(p.loss)) train_[p.family].push_back(QPointF(static_cast<double>(p.step), p.loss));
    addParts(p);
  }
  for (const RoutingChange& c : snapshot.routingChanges) routingChanges_.push_back(c);
  if (!snapshot.families.empty()) routing_ = snapshot.routing;
  const bool evaluated = !snapshot.evaluations.empty();
  for (EvaluationSnapshot& e : snapshot.evaluations) evaluations_.push_back(std::move(e));
  snapshot.train.clear();
  snapshot.evaluations.clear();
  if (!snapshot.families.empty() || snapshot.state == SessionState::Failed) status_ = std::move(snapshot);
  return evaluated;
}

const QVector<QPointF>& RunData::trainLoss(Family family) const {
  static const QVector<QPointF> empty;
  const auto it = train_.find(family);
  return it == train_.end() ? empty : it->second;
}

void RunData::addParts(const TrainPoint& p) {
  if (!p.hasParts) return;
  const double x = static_cast<double>(p.step);
  for (const auto& [part, value] : {std::pair{LossPart::Objective, p.objective}, std::pair{LossPart::Balance, p.balance},
                                    std::pair{LossPart::SampleEntropy, p.sampleEntropy},
                                    std::pair{LossPart::BatchEntropy, p.batchEntropy}})
    if (std::isfinite(value)) parts_[{p.family, part}].push_back(QPointF(x, value));
}

const QVector<QPointF>& RunData::lossPart(Family family, LossPart part) const {
  static const QVector<QPointF> empty;
  const auto it = parts_.find({family, part});
  return it == parts_.end() ? empty : it->second;
}

const FamilyEvaluation* RunData::latestEvaluation(Family family) const {
  for (auto it = evaluations_.rbegin(); it != evaluations_.rend(); ++it)
    for (const FamilyEvaluation& f : it->families)
      if (f.family == family) return &f;
  return nullptr;
}

QVector<QPointF> thin(const QVector<QPointF>& points, int maxPoints) {
  if (points.size() <= maxPoints || maxPoints < 4) return points;
  const int buckets = maxPoints / 2;
  const double per = static_cast<double>(points.size()) / buckets;
  QVector<QPointF> out;
  out.reserve(maxPoints);
  for (int b = 0; b < buckets; ++b) {
    const int begin = static_cast<int>(b * per), end = std::min<int>(static_cast<int>((b + 1) * per), points.size());
    if (begin >= end) continue;
    int lo = begin, hi = begin;
    for (int i = begin; i < end; ++i) {
      if (points[i].y() < points[lo].y()) lo = i;
      if (points[i].y() > points[hi].y()) hi = i;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
  }
  return out;
}

QVector<QPointF> ema(const QVector<QPointF>& points, double smoothing) {
  if (smoothing <= 0.0) return points;
  QVector<QPointF> out;
  out.reserve(points.size());
  double value = 0.0, weight = 0.0;
  for (const QPointF& p : points) {
    value = smoothing * value + (1.0 - smoothing) * p.y();
    weight = smoothing * weight + (1.0 - smoothing);
    out.push_back(QPointF(p.x(), value / weight));
  }
  return out;
}

}  // namespace modlab::ui
