// Axis ticks that always fit: the tick interval is chosen from the pixels the axis has and
// the width of its widest label in the current font, so Qt Charts never has to elide an
// axis label ("3...") at small windows or large presentation scales.
#pragma once

#include <QString>

class QChart;
class QValueAxis;
class QLogValueAxis;
class QAbstractAxis;

namespace modlab::ui {

double niceStep(double raw);  // 1, 2 or 5 times a power of ten, at least `raw`
// A printf format with as many decimals as ticks `step` apart need to read distinct ("%.2f" for 0.05).
QString decimalsFormat(double step);
// Sets range [lo, hi] and a tick interval whose labels fit the axis' current length.
void fitValueAxis(QChart* chart, QValueAxis* axis, double lo, double hi, bool anchorAtZero = true);
// A log range that always shows at least two labels: rounded out to whole decades.
void roundOutToDecades(double& lo, double& hi);
// Sets a log axis to whole decades [lo, hi], each end labelled: Qt Charts finds its first tick by
// rounding log10(lo) up, and log10(0.001) is -2.9999999999999996, which lost the bottom label.
void setDecadeRange(QAbstractAxis* axis, double lo, double hi);
// Refits every value axis of `chart` (after a resize or a font change).
void refitValueAxes(QChart* chart);

}  // namespace modlab::ui
