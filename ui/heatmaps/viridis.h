// The viridis colour map (perceptually uniform, colour-blind safe).
#pragma once

#include <QColor>
#include <QVector>

namespace modlab::ui {

QColor viridis(double t);             // t in [0, 1]
const QVector<QRgb>& viridisTable();  // 256 entries, for indexed QImages

}  // namespace modlab::ui
