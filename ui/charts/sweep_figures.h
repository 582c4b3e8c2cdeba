// The paper's figures from a sweep report, with the app's chart code: ranking pies
// (Fig. 3), performance vs rules (Fig. 4), the five metrics vs rules and per model with
// the Random baseline (Figs. 5-6), and training curves (Fig. 7).
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

#include "modlab/sweep/report.h"

class QWidget;

namespace modlab::ui {

enum class SweepFigure { Ranking, Performance, MetricsVsRules, MetricsPerModel, TrainingCurves, Routing };
const std::vector<std::pair<SweepFigure, QString>>& sweepFigures();  // (figure, file stem)

// A widget showing one figure (a grid of charts), parentless.
QWidget* makeSweepFigure(const SweepReport& report, SweepFigure figure);
// Renders every figure as PNG (at `scale` times its pixels) and SVG into `directory`; returns the
// files written whole; each that could not be is named in `failures` ("FILE: reason").
QStringList renderSweepFigures(const SweepReport& report, const QString& directory, double scale = 1.0,
                               QStringList* failures = nullptr);

}  // namespace modlab::ui
