#include "modlab/sweep/report.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "training/evaluation.h"

namespace modlab {

namespace fs = std::filesystem;

namespace {
constexpr int kCurvePoints = 20;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::int64_t parameterCount(const ExperimentConfig& c, Family f) {
  static std::map<std::tuple<int, int, int, int, int, int>, std::int64_t> cache;
  const auto key = std::make_tuple(int(c.setting), int(c.task), c.rules, c.size, c.searchVersion, int(f));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  torch::NoGradGuard noGrad;
  return cache[key] = makeModel(modelSpecOf(c, f), 0)->parameterCount();
}
}  // namespace

Ranking rankRows(const std::vector<ReportRow>& rows) {
  Ranking ranking;
  // Fig. 3: per (setting, search version, task, R, size, data seed), each family's ID
  // performance averaged over model seeds; the lowest wins.
  std::map<std::tuple<int, int, int, int, int, int>, std::map<Family, std::pair<double, int>>> groups;
  for (const ReportRow& r : rows) {
    if (!r.routing.empty() || r.variant != toString(r.family)) continue;
    auto& [sum, n] = groups[{int(r.setting), r.searchVersion, int(r.task), r.rules, r.size, r.dataSeed}][r.family];
    sum += r.id;
    ++n;
  }
  // Equal up to rounding in the averages: a tie, counted as such (never as either side's win).
  const auto same = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); };
  for (const auto& [key, families] : groups) {
    Family best = families.begin()->first;
    double bestValue = 1e300;
    for (const auto& [family, value] : families)
      if (value.first / value.second < bestValue) bestValue = value.first / value.second, best = family;
    int atBest = 0;
    for (const auto& [family, value] : families) atBest += same(value.first / value.second, bestValue);
    if (atBest > 1) ++ranking.ties;
    else ++ranking.wins[best];
    ++ranking.comparisons;
    const auto modular = families.find(Family::Modular), mono = families.find(Family::Monolithic);
    if (modular != families.end() && mono != families.end()) {
      const double m = modular->second.first / modular->second.second, o = mono->second.first / mono->second.second;
      if (same(m, o)) ++ranking.modularTies;
      else (m < o ? ranking.modularWins : ranking.monolithicWins)++;
    }
  }
  return ranking;
}

SweepReport collectReport(const Sweep& sweep) {
  SweepReport report;
  std::map<std::pair<Family, std::int64_t>, std::pair<double, int>> curves;
  for (const SweepRun& run : sweep.runs) {
    std::string error;
    const RunState state = runState(sweep, run, &error);
    if (state == RunState::Pending) {
      report.missing.push_back(run.name);
      continue;
    }
    if (state == RunState::Running) {
      report.missing.push_back(run.name + " (running now)");
      continue;
    }
    if (state == RunState::Damaged || state == RunState::Failed) {
      report.failed.push_back(run.name + ": " + (state == RunState::Damaged ? "damaged: " : "") + (error.empty() ? "failed" : error));
      continue;
    }
    if (state == RunState::Stale) {  // trained to an older plan: not a result of this one
      report.missing.push_back(run.name + " (" + error + ")");
      continue;
    }
    if (state == RunState::Stopped) {  // interrupted: not a result yet
      report.missing.push_back(run.name + " (interrupted: resume it with 'modlab-cli sweep run')");
      continue;
    }
    RunRecord record;
    try {
      record = RunStore::loadFinished(sweep.runDirectory(run));
    } catch (const std::exception& e) {
      report.failed.push_back(run.name + ": damaged: " + e.what());
      continue;
    }
    const EvaluationSnapshot& last = record.evaluations.back();
    const std::vector<Variant> variants = variantsOf(run.config);
    for (const FamilyEvaluation& f : last.families) {
      ReportRow row;
      row.run = run.name;
      row.setting = run.config.setting;
      row.task = run.config.task;
      row.searchVersion = run.config.searchVersion;
      row.family = f.family;
      row.variant = f.variant;
      row.routing = describe(findVariant(variants, f.variant).routing);
      row.rules = run.config.rules;
      row.size = run.config.size;
      row.dataSeed = run.config.dataSeed;
      row.modelSeed = run.config.modelSeed;
      row.parameters = parameterCount(run.config, f.family);
      row.steps = last.step;
      row.id = f.id.error;
      row.ood = f.ood.error;
      row.conditions = f.conditions;
      row.hasMetrics = f.hasMetrics;
      row.metrics = f.metrics;
      row.wallSeconds = record.info.wallSeconds;
      report.rows.push_back(row);
    }
    // Each run's curve on a common grid of training progress (0%, 5%, ..., 100% of its
    // steps), so that settings with different step counts and eval cadences average cleanly.
    for (Family family : run.config.families) {
      if (!run.config.routing.isPaper()) break;  // Fig. 7 is the paper's routing
      std::vector<std::pair<double, double>> curve;
      for (const EvaluationSnapshot& e : record.evaluations)
        for (const FamilyEvaluation& f : e.families)
          if (f.variant == toString(family)) curve.push_back({static_cast<double>(e.step) / static_cast<double>(run.config.steps), f.id.error});
      if (curve.size() < 2) continue;
      for (int k = 0; k <= kCurvePoints; ++k) {
        const double x = static_cast<double>(k) / kCurvePoints;
        std::size_t i = 1;
        while (i + 1 < curve.size() && curve[i].first < x) ++i;
        const auto& [x0, y0] = curve[i - 1];
        const auto& [x1, y1] = curve[i];
        const double t = x1 > x0 ? std::clamp((x - x0) / (x1 - x0), 0.0, 1.0) : 1.0;
        auto& [sum, n] = curves[{family, k}];
        sum += y0 + t * (y1 - y0);
        ++n;
      }
    }
  }
  for (const auto& [key, value] : curves)
    report.trainingCurves[key.first].push_back({static_cast<double>(key.second) / kCurvePoints, value.first / value.second});

  report.ranking = rankRows(report.rows);
  return report;
}

std::string reportCsv(const SweepReport& report) {
  std::string out =
      "run,setting,search_version,task,family,variant,rules,size,data_seed,model_seed,parameters,steps,id,ood,"
      "collapse_avg,collapse_worst,alignment,adaptation,inverse_mi,wall_seconds";
  std::vector<std::pair<int, double>> conditionKeys;
  for (const ReportRow& r : report.rows)
    for (const ConditionResult& c : r.conditions)
      if (std::find(conditionKeys.begin(), conditionKeys.end(), std::make_pair(c.length, c.scale)) == conditionKeys.end())
        conditionKeys.push_back({c.length, c.scale});
  for (const auto& [length, scale] : conditionKeys) out += std::string(scale == 1.0 ? ",id_" : ",ood_") + std::to_string(length);
  out += "\n";
  for (const ReportRow& r : report.rows) {
    out += r.run + "," + toString(r.setting) + "," + std::to_string(r.searchVersion) + "," + toString(r.task) + "," +
           toString(r.family) + ",\"" + r.variant + "\"," + std::to_string(r.rules) + "," + std::to_string(r.size) + "," + std::to_string(r.dataSeed) +
           "," + std::to_string(r.modelSeed) + "," + std::to_string(r.parameters) + "," + std::to_string(r.steps) + "," +
           num(r.id) + "," + num(r.ood);
    if (r.hasMetrics)
      out += "," + num(r.metrics.collapseAvg) + "," + num(r.metrics.collapseWorst) + "," + num(r.metrics.alignment) + "," +
             num(r.metrics.adaptation) + "," + num(r.metrics.inverseMutualInformation);
    else
      out += ",,,,,";
    out += "," + num(r.wallSeconds);
    for (const auto& key : conditionKeys) {
      std::string cell;
      for (const ConditionResult& c : r.conditions)
        if (c.length == key.first && c.scale == key.second) cell = num(c.error);
      out += "," + cell;
    }
    out += "\n";
  }
  return out;
}

bool hasRoutingVariants(const SweepReport& report) {
  return std::any_of(report.rows.begin(), report.rows.end(), [](const ReportRow& r) { return !r.routing.empty(); });
}

std::string routingCsv(const SweepReport& report) {
  if (!hasRoutingVariants(report)) return {};
  using Key = std::tuple<int, int, int, int, int, int>;  // setting, search version, task, R, size, family
  struct Stats {
    std::vector<double> values;
    double mean() const { return std::accumulate(values.begin(), values.end(), 0.0) / values.size(); }
    double sd() const {
      if (values.size() < 2) return 0.0;
      const double m = mean();
      double s = 0.0;
      for (double v : values) s += (v - m) * (v - m);
      return std::sqrt(s / (values.size() - 1));
    }
  };
  const std::vector<std::pair<std::string, double (*)(const ReportRow&)>> metrics{
      {"id", [](const ReportRow& r) { return r.id; }},
      {"ood", [](const ReportRow& r) { return r.ood; }},
      {"collapse_avg", [](const ReportRow& r) { return r.metrics.collapseAvg; }},
      {"collapse_worst", [](const ReportRow& r) { return r.metrics.collapseWorst; }},
      {"alignment", [](const ReportRow& r) { return r.metrics.alignment; }},
      {"inverse_mi", [](const ReportRow& r) { return r.metrics.inverseMutualInformation; }},
  };
  std::map<Key, std::map<std::string, std::map<std::string, Stats>>> groups;  // key -> routing -> metric
  for (const ReportRow& r : report.rows) {
    if (r.family != Family::Modular && r.family != Family::ModularOp) continue;
    const Key key{int(r.setting), r.searchVersion, int(r.task), r.rules, r.size, int(r.family)};
    for (const auto& [name, value] : metrics)
      if (r.hasMetrics || name == "id" || name == "ood") groups[key][r.routing][name].values.push_back(value(r));
  }
  std::string out = "setting,search_version,task,rules,size,family,routing,metric,seeds,mean,sd,min,max,outside_paper_range\n";
  for (const auto& [key, routings] : groups) {
    const auto paper = routings.find("");
    for (const auto& [routing, byMetric] : routings)
      for (const auto& [name, unused] : metrics) {
        const auto it = byMetric.find(name);
        if (it == byMetric.end()) continue;
        const Stats& s = it->second;
        const auto [lo, hi] = std::minmax_element(s.values.begin(), s.values.end());
        std::string outside;
        if (!routing.empty() && paper != routings.end() && paper->second.count(name)) {
          const auto& p = paper->second.at(name).values;
          const auto [plo, phi] = std::minmax_element(p.begin(), p.end());
          outside = s.mean() < *plo || s.mean() > *phi ? "yes" : "no";
        }
        out += toString(Setting(std::get<0>(key))) + "," + std::to_string(std::get<1>(key)) + "," +
               toString(TaskKind(std::get<2>(key))) + "," + std::to_string(std::get<3>(key)) + "," +
               std::to_string(std::get<4>(key)) + "," + toString(Family(std::get<5>(key))) + ",\"" +
               (routing.empty() ? "paper" : routing) + "\"," + name + "," + std::to_string(s.values.size()) + "," +
               num(s.mean()) + "," + num(s.sd()) + "," + num(*lo) + "," + num(*hi) + "," + outside + "\n";
      }
  }
  return out;
}

std::string rankingCsv(const Ranking& ranking) {
  std::string out = "comparison,winner,wins,of\n";
  for (Family f : kAllFamilies) {
    const auto it = ranking.wins.find(f);
    out += "all four," + toString(f) + "," + std::to_string(it == ranking.wins.end() ? 0 : it->second) + "," +
           std::to_string(ranking.comparisons) + "\n";
  }
  out += "all four,tie," + std::to_string(ranking.ties) + "," + std::to_string(ranking.comparisons) + "\n";
  const std::string pairs = std::to_string(ranking.modularWins + ranking.monolithicWins + ranking.modularTies);
  out += "Modular vs Monolithic,Modular," + std::to_string(ranking.modularWins) + "," + pairs + "\n";
  out += "Modular vs Monolithic,Monolithic," + std::to_string(ranking.monolithicWins) + "," + pairs + "\n";
  out += "Modular vs Monolithic,tie," + std::to_string(ranking.modularTies) + "," + pairs + "\n";
  return out;
}

}  // namespace modlab
