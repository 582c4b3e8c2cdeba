// Aggregating a sweep as the paper's tables do: one row per run and family, the ranking
// counts of Fig. 3, and the averaged training curves of Fig. 7 (engine API, no torch).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "modlab/sweep/sweep.h"
#include "modlab/training/snapshot.h"

namespace modlab {

struct ReportRow {
  std::string run;
  Setting setting;
  TaskKind task;
  int searchVersion = 1;
  Family family;
  std::string variant;  // the model's name: the family's own, or a named variant's
  std::string routing;  // the routing interventions (describe()): "" for the paper's routing
  int rules = 0, size = 0, dataSeed = 0, modelSeed = 0;
  std::int64_t parameters = 0, steps = 0;
  double id = 0.0, ood = 0.0;  // the paper's ID and OoD performance: error % or L1
  std::vector<ConditionResult> conditions;  // MHA/RNN: every length, ID and OoD
  bool hasMetrics = false;
  SpecialisationMetrics metrics;
  double wallSeconds = 0.0;
};

// A named variant's row (not one of the paper's families): the paper's figures leave it out.
inline bool isNamedVariant(const ReportRow& r) { return r.variant != toString(r.family); }

struct Ranking {
  std::map<Family, int> wins;  // Fig. 3 left: best of the four families
  int ties = 0;                // ... where two or more share the best value: nobody's win
  int modularWins = 0, monolithicWins = 0;  // Fig. 3 right: Modular vs Monolithic
  int modularTies = 0;                      // ... equal
  int comparisons = 0;
};

// Fig. 3's counts over the rows with the paper's families and routing.
Ranking rankRows(const std::vector<ReportRow>& rows);

struct SweepReport {
  std::vector<ReportRow> rows;
  std::vector<std::string> missing;  // runs with no result yet
  std::vector<std::string> failed;   // "run: message"
  Ranking ranking;  // over runs with the paper's routing
  // Fig. 7: per family, (fraction of training, mean ID performance over runs): error % and L1
  // mixed as the paper does; each run is interpolated onto 0, 5%, ..., 100% of its steps.
  std::map<Family, std::vector<std::pair<double, double>>> trainingCurves;
};

SweepReport collectReport(const Sweep& sweep);
std::string reportCsv(const SweepReport& report);
std::string rankingCsv(const Ranking& ranking);
// Routing interventions: per (setting, task, R, size, family, routing), each metric's mean, sd,
// min and max over seeds, and whether the mean lies outside the paper routing's seed range.
// Empty when the sweep has no routing axis.
std::string routingCsv(const SweepReport& report);
bool hasRoutingVariants(const SweepReport& report);

}  // namespace modlab
