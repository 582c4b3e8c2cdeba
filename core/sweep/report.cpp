#include "modlab/sweep/report.h"

#include <algorithm>
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
    for (const FamilyEvaluation& f : last.families) {
      ReportRow row;
      row.run = run.name;
      row.setting = run.config.setting;
      row.task = run.config.task;
      row.searchVersion = run.config.searchVersion;
      row.family = f.family;
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
      std::vector<std::pair<double, double>> curve;
      for (const EvaluationSnapshot& e : record.evaluations)
        for (const FamilyEvaluation& f : e.families)
          if (f.family == family) curve.push_back({static_cast<double>(e.step) / static_cast<double>(run.config.steps), f.id.error});
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

  // Fig. 3: per (setting, search version, task, R, size, data seed), each family's ID
  // performance averaged over model seeds; the lowest wins.
  std::map<std::tuple<int, int, int, int, int, int>, std::map<Family, std::pair<double, int>>> groups;
  for (const ReportRow& r : report.rows) {
    auto& [sum, n] = groups[{int(r.setting), r.searchVersion, int(r.task), r.rules, r.size, r.dataSeed}][r.family];
    sum += r.id;
    ++n;
  }
  for (const auto& [key, families] : groups) {
    Family best = families.begin()->first;
    double bestValue = 1e300;
    for (const auto& [family, value] : families)
      if (value.first / value.second < bestValue) bestValue = value.first / value.second, best = family;
    ++report.ranking.wins[best];
    ++report.ranking.comparisons;
    const auto modular = families.find(Family::Modular), mono = families.find(Family::Monolithic);
    if (modular != families.end() && mono != families.end()) {
      const double m = modular->second.first / modular->second.second, o = mono->second.first / mono->second.second;
      (m <= o ? report.ranking.modularWins : report.ranking.monolithicWins)++;
    }
  }
  return report;
}

std::string reportCsv(const SweepReport& report) {
  std::string out =
      "run,setting,search_version,task,family,rules,size,data_seed,model_seed,parameters,steps,id,ood,"
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
           toString(r.family) + "," + std::to_string(r.rules) + "," + std::to_string(r.size) + "," + std::to_string(r.dataSeed) +
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

std::string rankingCsv(const Ranking& ranking) {
  std::string out = "comparison,winner,wins,of\n";
  for (Family f : kAllFamilies) {
    const auto it = ranking.wins.find(f);
    out += "all four," + toString(f) + "," + std::to_string(it == ranking.wins.end() ? 0 : it->second) + "," +
           std::to_string(ranking.comparisons) + "\n";
  }
  out += "Modular vs Monolithic,Modular," + std::to_string(ranking.modularWins) + "," +
         std::to_string(ranking.modularWins + ranking.monolithicWins) + "\n";
  out += "Modular vs Monolithic,Monolithic," + std::to_string(ranking.monolithicWins) + "," +
         std::to_string(ranking.modularWins + ranking.monolithicWins) + "\n";
  return out;
}

}  // namespace modlab
