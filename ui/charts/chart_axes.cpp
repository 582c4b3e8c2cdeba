#include "ui/charts/chart_axes.h"

#include <QFontMetrics>
#include <QRegularExpression>
#include <QtCharts/QAbstractAxis>
#include <QtCharts/QChart>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

namespace modlab::ui {

double niceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})  // no 2.5: a one-decimal format would print 0.25 as 0.3
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  return 10.0 * power;
}

QString decimalsFormat(double step) {
  const int decimals = step > 0 && std::isfinite(step) ? std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 12) : 2;
  return QString("%.%1f").arg(decimals);
}

namespace {
QString formatted(const QValueAxis* axis, double v) {
  const QString format = axis->labelFormat().isEmpty() ? QStringLiteral("%.2f") : axis->labelFormat();
  // Integer conversions take an integer (as Qt Charts does for them).
  static const QRegularExpression integer(QStringLiteral("%[-+ #0]*\\d*[diouxX]"));
  if (integer.match(format).hasMatch()) return QString::asprintf(format.toLatin1().constData(), static_cast<int>(std::lround(v)));
  return QString::asprintf(format.toLatin1().constData(), v);
}

// Pixels the axis spans in its chart, or a guess before the first layout.
double axisLength(const QChart* chart, const QValueAxis* axis) {
  const QRectF plot = chart ? chart->plotArea() : QRectF();
  if (plot.width() < 2 || plot.height() < 2) return -1;
  return axis->orientation() == Qt::Horizontal ? plot.width() : plot.height();
}
}  // namespace

void fitValueAxis(QChart* chart, QValueAxis* axis, double lo, double hi, bool anchorAtZero) {
  if (!(hi > lo)) hi = lo + 1.0;
  axis->setRange(lo, hi);
  const double length = axisLength(chart, axis);
  const QFontMetrics fm(axis->labelsFont());
  int widest = 0;
  for (double v : {lo, hi, (lo + hi) / 2, lo + (hi - lo) / 3})
    widest = std::max(widest, fm.horizontalAdvance(formatted(axis, v)));
  // Qt Charts gives every label the axis length / label count, less padding on both sides.
  const double perLabel = axis->orientation() == Qt::Horizontal ? widest + fm.averageCharWidth() * 2.5 + 8
                                                                 : fm.height() * 1.8;
  const int labels = length > 0 ? std::clamp(static_cast<int>(length / perLabel), 2, 11) : 6;
  double step = niceStep((hi - lo) / std::max(1, labels - 1));
  // The step's own labels may be wider (more decimals): check once more.
  while (length > 0 && (hi - lo) / step + 1 > length / perLabel && step < (hi - lo)) step = niceStep(step * 1.01);
  // At least two labels: the largest nice step that still fits in the range.
  while (step > (hi - lo) * (1 + 1e-9)) {
    const double power = std::pow(10.0, std::floor(std::log10(step)));
    const double m = step / power;
    step = m > 5.01 ? 5 * power : m > 2.01 ? 2 * power : m > 1.01 ? power : 0.5 * power;
  }
  // Neighbouring ticks read the same in the axis' format ("2.84, 2.84" at %.3g): as many decimals as the step needs.
  const double first = std::ceil(lo / step) * step;
  if (formatted(axis, first) == formatted(axis, first + step)) axis->setLabelFormat(decimalsFormat(step));
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(anchorAtZero ? 0.0 : lo);
  axis->setTickInterval(step);
  axis->setProperty("modlabFit", QPointF(lo, hi));
  axis->setProperty("modlabAnchorZero", anchorAtZero);
}

void roundOutToDecades(double& lo, double& hi) {
  if (!(lo > 0)) lo = 1e-6;
  if (!(hi > lo)) hi = lo * 10;
  lo = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
  hi = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
  if (hi <= lo) hi = lo * 10;
}

void setDecadeRange(QAbstractAxis* axis, double lo, double hi) { axis->setRange(lo * (1 - 1e-9), hi * (1 + 1e-9)); }

void refitValueAxes(QChart* chart) {
  for (QAbstractAxis* a : chart->axes()) {
    auto* axis = qobject_cast<QValueAxis*>(a);
    if (!axis || !axis->property("modlabFit").isValid()) continue;
    const QPointF range(axis->min(), axis->max());
    fitValueAxis(chart, axis, range.x(), range.y(), axis->property("modlabAnchorZero").toBool());
  }
}

}  // namespace modlab::ui
