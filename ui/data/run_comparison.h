// Comparing runs: which config keys differ between them, and each group of runs that
// differ only by seed as a mean curve with a band of one standard deviation.
#pragma once

#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>
#include <string>
#include <vector>

#include "modlab/experiment/run_store.h"

namespace modlab::ui {

enum class CompareQuantity {
  TrainLoss, IdLoss, OodLoss, IdError, OodError,
  // The specialisation metrics of the modular families, at each evaluation.
  CollapseAvg, CollapseWorst, Alignment, Adaptation, InverseMI
};
bool isMetric(CompareQuantity quantity);

struct ComparedGroup {
  QString label;                    // what distinguishes this group, short: e.g. "rules 16, lr 0.001"
  QString detail;                   // every difference in full (the key's tooltip)
  int seeds = 0;                    // runs averaged (they differ only by model seed)
  QVector<QPointF> mean, lower, upper;  // band: mean -/+ one sample standard deviation
  QStringList sources;
};

// Config keys whose values differ between the runs (seeds, names and resources excluded).
QStringList differingKeys(const std::vector<ExperimentConfig>& configs);
// The seed keys (data_seed, model_seed) whose values differ: what a group averages over.
QStringList differingSeedKeys(const std::vector<ExperimentConfig>& configs);
// The curve of one run for one model (Variant::name).
QVector<QPointF> runCurve(const RunRecord& run, const std::string& variant, CompareQuantity quantity, double smoothing);
// Groups runs that differ only by seeds (data and model); mean and band over the steps they all have.
std::vector<ComparedGroup> compareRuns(const std::vector<RunRecord>& runs, const QStringList& sources,
                                       const std::string& variant, CompareQuantity quantity, double smoothing);
// Mean and sample-standard-deviation band of curves over the x values common to all.
ComparedGroup meanBand(const std::vector<QVector<QPointF>>& curves);

}  // namespace modlab::ui
