#include "web/server/run_view.h"

#include <algorithm>
#include <cmath>

#include "modlab/experiment/run_csv.h"
#include "modlab/metrics/specialisation.h"
#include "ui/style/family_style.h"

namespace modlab::web {

using nlohmann::json;

namespace {

json finite(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json metricsJson(const SpecialisationMetrics& m) {
  json out = json::array();
  for (int i = 0; i < 5; ++i) out.push_back(finite(metricValue(m, i)));
  return out;
}

json conditionJson(const ConditionResult& c) {
  return {{"length", c.length}, {"scale", c.scale}, {"loss", finite(c.loss)}, {"error", finite(c.error)}};
}

std::string colorName(const QColor& c) { return c.name().toStdString(); }

}  // namespace

std::vector<std::pair<std::int64_t, double>> downsample(const std::vector<std::pair<std::int64_t, double>>& points,
                                                        int columns) {
  if (columns < 2 || points.size() <= static_cast<std::size_t>(2 * columns)) return points;
  const double first = static_cast<double>(points.front().first), last = static_cast<double>(points.back().first);
  const double width = std::max(1.0, last - first) / columns;
  std::vector<std::pair<std::int64_t, double>> out;
  out.reserve(2 * columns + 2);
  std::size_t i = 0;
  while (i < points.size()) {
    const auto column = static_cast<std::int64_t>((static_cast<double>(points[i].first) - first) / width);
    std::size_t lo = i, hi = i, j = i;
    for (; j < points.size() && static_cast<std::int64_t>((static_cast<double>(points[j].first) - first) / width) == column; ++j) {
      if (points[j].second < points[lo].second) lo = j;
      if (points[j].second > points[hi].second) hi = j;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    i = j;
  }
  if (out.back() != points.back()) out.push_back(points.back());
  if (out.front() != points.front()) out.insert(out.begin(), points.front());
  return out;
}

void RunView::reset(const ExperimentConfig& config, std::string name, bool curves) {
  name_ = std::move(name);
  curves_kept_ = curves;
  lastStep_ = 0;
  config_ = config;
  variants_ = variantsOf(config);
  points_.clear();
  curves_.assign(variants_.size(), {});
  evaluations_.clear();
  routingChanges_.clear();
  status_ = RunStatus{};
  status_.totalSteps = config.steps;
  ++generation_;
  ++revision_;
}

int RunView::modelIndex(const std::string& variant) const {
  for (std::size_t i = 0; i < variants_.size(); ++i)
    if (variants_[i].name == variant) return static_cast<int>(i);
  return -1;
}

void RunView::addTrain(const TrainPoint& point) {
  const int m = modelIndex(point.variant);
  if (m < 0 || !std::isfinite(point.loss)) return;  // the charts draw finite losses only, as the app's
  lastStep_ = std::max(lastStep_, point.step);
  if (!curves_kept_) return;
  points_.push_back({point.step, point.loss, m});
  curves_[static_cast<std::size_t>(m)].emplace_back(point.step, point.loss);
  ++revision_;
}

void RunView::addEvaluation(const EvaluationSnapshot& evaluation) {
  evaluations_.push_back(evaluation);
  ++revision_;
}

void RunView::addRoutingChange(const RoutingChange& change) {
  routingChanges_.push_back(change);
  ++revision_;
}

void RunView::setStatus(RunStatus status) {
  status_ = std::move(status);
  if (status_.totalSteps <= 0) status_.totalSteps = config_.steps;
  ++revision_;
}

json RunView::statusJson() const {
  return {{"state", status_.state},     {"step", status_.step},
          {"totalSteps", status_.totalSteps}, {"stepsPerSecond", finite(status_.stepsPerSecond)},
          {"wallSeconds", finite(status_.wallSeconds)}, {"error", status_.error},
          {"device", status_.device},   {"updated", status_.updated},
          {"modelStates", status_.modelStates}, {"warnings", status_.warnings}};
}

json RunView::summary() const {
  json models = json::array();
  for (const Variant& v : variants_) models.push_back(v.name);
  json last = json::object();
  for (auto e = evaluations_.rbegin(); e != evaluations_.rend(); ++e)
    for (const FamilyEvaluation& f : e->families)
      if (!last.contains(f.variant))
        last[f.variant] = {{"step", e->step}, {"id", finite(f.id.error)}, {"ood", finite(f.ood.error)},
                           {"metrics", f.hasMetrics ? metricsJson(f.metrics) : json(nullptr)}};
  return {{"name", name_},
          {"experiment", config_.name},
          {"setting", toString(config_.setting)},
          {"task", toString(config_.task)},
          {"rules", config_.rules},
          {"size", config_.size},
          {"modelSeed", config_.modelSeed},
          {"dataSeed", config_.dataSeed},
          {"models", models},
          {"status", statusJson()},
          {"final", last}};
}

json RunView::evaluationJson(const EvaluationSnapshot& e, bool withHeatmaps) const {
  json families = json::array();
  for (const FamilyEvaluation& f : e.families) {
    json one = {{"model", f.variant},          {"family", toString(f.family)},
                {"id", conditionJson(f.id)},   {"ood", conditionJson(f.ood)},
                {"hasMetrics", f.hasMetrics},  {"metrics", f.hasMetrics ? metricsJson(f.metrics) : json(nullptr)},
                {"rules", f.rules}};
    if (withHeatmaps && f.rules > 0 && f.moduleGivenRule.size() == static_cast<std::size_t>(f.rules) * f.rules) {
      one["p"] = f.moduleGivenRule;
      one["order"] = alignmentPermutation(ActivationMatrix::fromModuleGivenRule(f.rules, f.moduleGivenRule));
    }
    families.push_back(std::move(one));
  }
  return {{"step", e.step}, {"wallSeconds", finite(e.wallSeconds)}, {"families", families}};
}

json RunView::page(int width, double smoothing) const {
  const int columns = std::clamp(width, 50, 4000);
  smoothing = std::clamp(smoothing, 0.0, 0.999);
  json models = json::array();
  for (std::size_t i = 0; i < variants_.size(); ++i) {
    const Variant& v = variants_[i];
    const auto& raw = curves_[i];
    std::vector<std::pair<std::int64_t, double>> smooth;
    double value = 0.0, weight = 0.0;
    if (smoothing > 0.0) {
      smooth.reserve(raw.size());
      for (const auto& [step, loss] : raw) {  // RunData's ema(), the app's smoothing
        value = smoothing * value + (1.0 - smoothing) * loss;
        weight = smoothing * weight + (1.0 - smoothing);
        smooth.emplace_back(step, value / weight);
      }
    }
    models.push_back({{"name", v.name},
                      {"family", toString(v.family)},
                      {"routing", describe(v.routing)},
                      {"color", colorName(ui::variantColor(config_, v.name, false))},
                      {"textColor", colorName(ui::variantTextColor(config_, v.name, false))},
                      {"darkColor", colorName(ui::variantColor(config_, v.name, true))},
                      {"darkTextColor", colorName(ui::variantTextColor(config_, v.name, true))},
                      {"points", raw.size()},
                      {"train", downsample(raw, columns)},
                      {"smoothed", downsample(smooth, columns)},
                      {"ema", {value, weight}}});
  }
  json evaluations = json::array();
  for (std::size_t i = 0; i < evaluations_.size(); ++i)
    evaluations.push_back(evaluationJson(evaluations_[i], i + 1 == evaluations_.size()));
  json changes = json::array();
  for (const RoutingChange& c : routingChanges_)
    changes.push_back({{"step", c.step}, {"key", c.key}, {"value", c.value}, {"model", c.variant}});
  const int R = config_.rules;
  return {{"run", summary()},
          {"config", json::parse(toJson(config_))},
          {"smoothing", smoothing},
          {"width", columns},
          {"models", models},
          {"trainCount", points_.size()},
          {"evaluations", evaluations},
          {"routingChanges", changes},
          {"metricNames", metricNames()},
          {"references", {{"random", metricsJson(randomRoutingMetrics(R))}, {"collapse", metricsJson(totalCollapseMetrics(R))}}},
          {"generation", generation_}};
}

json RunView::update(std::size_t trainFrom, std::size_t evaluationsFrom) const {
  json train = json::object();
  for (std::size_t i = std::min(trainFrom, points_.size()); i < points_.size(); ++i) {
    const Point& p = points_[i];
    train[variants_[static_cast<std::size_t>(p.model)].name].push_back(json::array({p.step, p.loss}));
  }
  json evaluations = json::array();
  for (std::size_t i = std::min(evaluationsFrom, evaluations_.size()); i < evaluations_.size(); ++i)
    evaluations.push_back(evaluationJson(evaluations_[i], true));
  json changes = json::array();
  for (const RoutingChange& c : routingChanges_)
    changes.push_back({{"step", c.step}, {"key", c.key}, {"value", c.value}, {"model", c.variant}});
  return {{"trainCount", points_.size()},
          {"evaluationCount", evaluations_.size()},
          {"train", train},
          {"evaluations", evaluations},
          {"routingChanges", changes},
          {"status", statusJson()},
          {"generation", generation_}};
}

json RunView::heatmaps(std::size_t evaluation) const {
  if (evaluation >= evaluations_.size()) return nullptr;
  return evaluationJson(evaluations_[evaluation], true);
}

std::string RunView::lossCsv() const {
  std::vector<ModelCurve> models;
  for (std::size_t i = 0; i < variants_.size(); ++i) {
    ModelCurve m{variants_[i].name, {}};
    for (const auto& [step, loss] : curves_[i]) m.trainLoss.emplace_back(static_cast<double>(step), loss);
    models.push_back(std::move(m));
  }
  return modlab::lossCsv(models, evaluations_);
}

std::string RunView::metricsCsv(std::int64_t onlyStep) const { return modlab::metricsCsv(evaluations_, config_.rules, onlyStep); }

std::string RunView::heatmapsCsv(std::size_t evaluation) const {
  std::string out = "model,step,rule,module,p_module_given_rule\n";
  if (evaluation >= evaluations_.size()) return out;
  const EvaluationSnapshot& e = evaluations_[evaluation];
  for (const FamilyEvaluation& f : e.families)
    if (f.rules > 0) out += heatmapCsv(f.variant, e.step, f.rules, f.moduleGivenRule, false);
  return out;
}

}  // namespace modlab::web
