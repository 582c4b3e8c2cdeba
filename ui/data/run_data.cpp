#include "ui/data/run_data.h"

#include <algorithm>
#include <cmath>

#include "ui/style/family_style.h"

namespace modlab::ui {

void RunData::reset(const ExperimentConfig& config) {
  config_ = config;
  train_.clear();
  parts_.clear();
  routingChanges_.clear();
  routing_ = config.routing;
  variants_ = variantsOf(config);
  evaluations_.clear();
  status_ = Snapshot{};
  status_.totalSteps = config.steps;
  for (const Variant& v : variants_) {
    FamilyStatus s;
    s.variant = v.name;
    s.learningRate = config.learningRate;
    s.routing = v.routing;
    status_.families.push_back(s);
  }
  replay_ = false;
  following_ = false;
}

void RunData::load(const RunRecord& record) {
  reset(record.config);
  replay_ = true;
  for (const TrainPoint& p : record.train) {
    if (std::isfinite(p.loss)) train_[p.variant].push_back(QPointF(static_cast<double>(p.step), p.loss));
    addParts(p);
  }
  routingChanges_ = record.info.routingChanges;
  for (const RoutingChange& c : routingChanges_) {
    if (c.variant.empty()) setRoutingCoefficient(routing_, c.key, c.value);
    applyRoutingChange(variants_, config_, c);
  }
  for (std::size_t i = 0; i < variants_.size(); ++i) status_.families[i].routing = variants_[i].routing;
  evaluations_ = record.evaluations;
  status_.step = record.info.stepsDone;
  status_.wallSeconds = record.info.wallSeconds;
  status_.device = record.info.device;
  status_.state = record.info.status == "finished" ? SessionState::Finished
                  : record.info.status == "failed" ? SessionState::Failed
                                                    : SessionState::Stopped;
  for (FamilyStatus& f : status_.families) {
    const auto it = record.info.familyStates.find(f.variant);
    if (it == record.info.familyStates.end()) continue;
    if (it->second.rfind("diverged", 0) == 0) {
      f.state = FamilyState::Diverged;
      const auto colon = it->second.find(": ");
      f.message = colon == std::string::npos ? "" : it->second.substr(colon + 2);
    } else {
      // "finished", or "finished: imported from ..." (a model of the authors', modlab-cli import-reference).
      f.state = it->second.rfind("finished", 0) == 0 ? FamilyState::Finished : FamilyState::Stopped;
    }
  }
}

bool RunData::append(Snapshot snapshot) {
  for (const TrainPoint& p : snapshot.train) {
    if (std::isfinite(p.loss)) train_[p.variant].push_back(QPointF(static_cast<double>(p.step), p.loss));
    addParts(p);
  }
  for (const RoutingChange& c : snapshot.routingChanges) routingChanges_.push_back(c);
  if (!snapshot.families.empty()) {
    routing_ = snapshot.routing;
    for (const FamilyStatus& f : snapshot.families)
      for (Variant& v : variants_)
        if (v.name == f.variant) v.routing = f.routing;
  }
  const bool evaluated = !snapshot.evaluations.empty();
  for (EvaluationSnapshot& e : snapshot.evaluations) evaluations_.push_back(std::move(e));
  snapshot.train.clear();
  snapshot.evaluations.clear();
  if (!snapshot.families.empty() || snapshot.state == SessionState::Failed) status_ = std::move(snapshot);
  return evaluated;
}

const Variant* RunData::variant(const std::string& name) const {
  for (const Variant& v : variants_)
    if (v.name == name) return &v;
  return nullptr;
}

QColor RunData::color(const std::string& variant) const { return variantColor(config_, variant); }
QColor RunData::textColor(const std::string& variant) const { return variantTextColor(config_, variant); }

const QVector<QPointF>& RunData::trainLoss(const std::string& variant) const {
  static const QVector<QPointF> empty;
  const auto it = train_.find(variant);
  return it == train_.end() ? empty : it->second;
}

void RunData::addParts(const TrainPoint& p) {
  if (!p.hasParts) return;
  const double x = static_cast<double>(p.step);
  for (const auto& [part, value] : {std::pair{LossPart::Objective, p.objective}, std::pair{LossPart::Balance, p.balance},
                                    std::pair{LossPart::SampleEntropy, p.sampleEntropy},
                                    std::pair{LossPart::BatchEntropy, p.batchEntropy}})
    if (std::isfinite(value)) parts_[{p.variant, part}].push_back(QPointF(x, value));
}

const QVector<QPointF>& RunData::lossPart(const std::string& variant, LossPart part) const {
  static const QVector<QPointF> empty;
  const auto it = parts_.find({variant, part});
  return it == parts_.end() ? empty : it->second;
}

const FamilyEvaluation* RunData::latestEvaluation(const std::string& variant) const {
  for (auto it = evaluations_.rbegin(); it != evaluations_.rend(); ++it)
    for (const FamilyEvaluation& f : it->families)
      if (f.variant == variant) return &f;
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
