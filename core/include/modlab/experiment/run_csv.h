// The data behind a run's charts as CSV: what the app's Export CSV writes and the browser
// view downloads, from one place (engine API, no torch, no Qt).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "modlab/training/snapshot.h"

namespace modlab {

// A model's training loss: (step, loss) in order.
struct ModelCurve {
  std::string model;  // Variant::name
  std::vector<std::pair<double, double>> trainLoss;
};

// step,model,series,value: each model's training loss, then its ID/OoD loss and error at each evaluation.
std::string lossCsv(const std::vector<ModelCurve>& models, const std::vector<EvaluationSnapshot>& evaluations);
// step,model,metric,value: the five specialisation metrics of each evaluation (or of the one at
// `onlyStep`, as the bars show it), then the analytic references drawn beside them for R = `rules`:
// rows with no step, model "random routing (analytic)" and "total collapse (analytic)".
std::string metricsCsv(const std::vector<EvaluationSnapshot>& evaluations, int rules, std::int64_t onlyStep = -1);
// model,step,rule,module,p_module_given_rule: one model's R x R p(module | rule), rules and modules 1-based.
std::string heatmapCsv(const std::string& model, std::int64_t step, int rules, const std::vector<double>& moduleGivenRule,
                       bool withHeader = true);
// The metrics' names as the app and the CSV write them, in SpecialisationMetrics order.
const std::vector<std::string>& metricNames();
double metricValue(const SpecialisationMetrics& m, int index);

}  // namespace modlab
