#include "modlab/experiment/run_csv.h"

#include <cstdio>

namespace modlab {

namespace {
// As Qt writes arg(value, 0, 'g', 9): the app's exports have always been in this form.
std::string g9(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}
}  // namespace

const std::vector<std::string>& metricNames() {
  static const std::vector<std::string> names{"Collapse-Avg", "Collapse-Worst", "Alignment", "Adaptation", "Inverse MI"};
  return names;
}

double metricValue(const SpecialisationMetrics& m, int index) {
  switch (index) {
    case 0: return m.collapseAvg;
    case 1: return m.collapseWorst;
    case 2: return m.alignment;
    case 3: return m.adaptation;
    default: return m.inverseMutualInformation;
  }
}

std::string lossCsv(const std::vector<ModelCurve>& models, const std::vector<EvaluationSnapshot>& evaluations) {
  std::string out = "step,model,series,value\n";
  for (const ModelCurve& m : models) {
    char step[40];
    for (const auto& [x, y] : m.trainLoss) {
      std::snprintf(step, sizeof step, "%.0f", x);
      out += std::string(step) + "," + m.model + ",train_loss," + g9(y) + "\n";
    }
    for (const EvaluationSnapshot& e : evaluations)
      for (const FamilyEvaluation& f : e.families) {
        if (f.variant != m.model) continue;
        for (const auto& [label, c] : {std::pair{"id", &f.id}, std::pair{"ood", &f.ood}}) {
          const std::string prefix = std::to_string(e.step) + "," + m.model + "," + label;
          out += prefix + "_loss," + g9(c->loss) + "\n";
          out += prefix + "_error," + g9(c->error) + "\n";
        }
      }
  }
  return out;
}

std::string metricsCsv(const std::vector<EvaluationSnapshot>& evaluations, int rules, std::int64_t onlyStep) {
  std::string out = "step,model,metric,value\n";
  for (const EvaluationSnapshot& e : evaluations) {
    if (onlyStep >= 0 && e.step != onlyStep) continue;
    for (const FamilyEvaluation& f : e.families) {
      if (!f.hasMetrics) continue;
      for (int i = 0; i < 5; ++i)
        out += std::to_string(e.step) + "," + f.variant + "," + metricNames()[i] + "," + g9(metricValue(f.metrics, i)) + "\n";
    }
  }
  if (rules < 2) return out;
  for (const auto& [name, m] : {std::pair{"random routing (analytic)", randomRoutingMetrics(rules)},
                                std::pair{"total collapse (analytic)", totalCollapseMetrics(rules)}})
    for (int i = 0; i < 5; ++i) out += std::string(",") + name + "," + metricNames()[i] + "," + g9(metricValue(m, i)) + "\n";
  return out;
}

std::string heatmapCsv(const std::string& model, std::int64_t step, int rules, const std::vector<double>& moduleGivenRule,
                       bool withHeader) {
  std::string out = withHeader ? "model,step,rule,module,p_module_given_rule\n" : "";
  for (int r = 0; r < rules; ++r)
    for (int m = 0; m < rules; ++m) {
      const std::size_t i = static_cast<std::size_t>(r) * rules + m;
      out += model + "," + std::to_string(step) + "," + std::to_string(r + 1) + "," + std::to_string(m + 1) + "," +
             g9(i < moduleGivenRule.size() ? moduleGivenRule[i] : 0.0) + "\n";
    }
  return out;
}

}  // namespace modlab
