#include "ui/charts/chart_figure.h"

#include <QBoxLayout>
#include <QGraphicsEllipseItem>
#include <QGraphicsLineItem>
#include <QGraphicsSimpleTextItem>
#include <QLabel>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QTimer>
#include <QToolTip>
#include <QWheelEvent>
#include <QtCharts/QChart>
#include <QtCharts/QValueAxis>
#include <QtCharts/QXYSeries>
#include <cmath>
#include <limits>

#include "ui/style/appearance.h"
#include <QtCharts/QLogValueAxis>
#include "ui/charts/chart_axes.h"
#include "ui/charts/chart_legend.h"

namespace modlab::ui {

ChartView::ChartView(QChart* chart, QWidget* parent)
    : QChartView(chart, parent), cursorX_(std::numeric_limits<double>::quiet_NaN()) {
  setRenderHint(QPainter::Antialiasing);
  setMouseTracking(true);
  fitMinimumSize();
  cursor_ = new QGraphicsLineItem;
  cursor_->setZValue(50);
  cursor_->hide();
  chart->scene()->addItem(cursor_);
  highlight_ = new QGraphicsEllipseItem;
  highlight_->setZValue(60);
  highlight_->hide();
  chart->scene()->addItem(highlight_);
  connect(chart, &QChart::plotAreaChanged, this, [this] { placeCursor(); });
}

void ChartView::setZoomable(bool on) {
  zoomable_ = on;
  setRubberBand(on ? QChartView::RectangleRubberBand : QChartView::NoRubberBand);
}

namespace {
QAbstractAxis* axisOf(QChart* chart, Qt::Orientation o) {
  const auto axes = chart->axes(o);
  return axes.isEmpty() ? nullptr : axes.front();
}
bool axisRange(QAbstractAxis* axis, double& lo, double& hi, bool& log) {
  if (auto* v = qobject_cast<QValueAxis*>(axis)) {
    lo = v->min(), hi = v->max(), log = false;
    return true;
  }
  if (auto* l = qobject_cast<QLogValueAxis*>(axis)) {
    lo = l->min(), hi = l->max(), log = true;
    return true;
  }
  return false;
}
// [lo, hi] moved (not shrunk) into [minimum, maximum], or the whole of it when wider; on a log
// axis in decades.
void clampRange(double& lo, double& hi, double minimum, double maximum, bool log) {
  if (!(maximum > minimum)) return;
  const auto to = [log](double v) { return log ? std::log10(std::max(v, 1e-300)) : v; };
  const auto from = [log](double v) { return log ? std::pow(10.0, v) : v; };
  double a = to(lo), b = to(hi);
  const double lower = to(minimum), upper = to(maximum);
  if (!(b > a) || b - a >= upper - lower) {
    a = lower, b = upper;
  } else {
    if (a < lower) b += lower - a, a = lower;
    if (b > upper) a -= b - upper, b = upper;
  }
  lo = from(a), hi = from(b);
}
}  // namespace

void ChartView::setLimits(double xLo, double xHi, double yLo, double yHi) {
  limited_ = true;
  xLo_ = xLo, xHi_ = xHi, yLo_ = yLo, yHi_ = yHi;
}

void ChartView::setLimitsFromAxes() {
  double xLo, xHi, yLo, yHi;
  bool log;
  QAbstractAxis* x = axisOf(chart(), Qt::Horizontal);
  QAbstractAxis* y = axisOf(chart(), Qt::Vertical);
  if (x && y && axisRange(x, xLo, xHi, log) && axisRange(y, yLo, yHi, log)) setLimits(xLo, xHi, yLo, yHi);
}

void ChartView::extendXLimit(double xHi) { xHi_ = std::max(xHi_, xHi); }

void ChartView::setXRange(double lo, double hi) {
  QAbstractAxis* x = axisOf(chart(), Qt::Horizontal);
  double a, b;
  bool log;
  if (!x || !axisRange(x, a, b, log)) return;
  if (limited_) clampRange(lo, hi, xLo_, xHi_, log);
  x->setRange(lo, hi);
  placeCursor();
}

void ChartView::keepInLimits() {
  double lo, hi;
  bool log;
  if (limited_) {
    if (QAbstractAxis* y = axisOf(chart(), Qt::Vertical); y && axisRange(y, lo, hi, log)) {
      clampRange(lo, hi, yLo_, yHi_, log);
      y->setRange(lo, hi);
    }
  }
  QAbstractAxis* x = axisOf(chart(), Qt::Horizontal);
  if (!x || !axisRange(x, lo, hi, log)) return;
  if (limited_) {
    clampRange(lo, hi, xLo_, xHi_, log);
    x->setRange(lo, hi);
  }
  placeCursor();
  Q_EMIT xRangeChanged(lo, hi);
}

void ChartView::wheelEvent(QWheelEvent* e) {
  if (!zoomable_) return QChartView::wheelEvent(e);
  const double factor = e->angleDelta().y() > 0 ? 1.25 : 0.8;
  QRectF r = chart()->plotArea();
  const QPointF c = chart()->mapFromScene(mapToScene(e->position().toPoint()));
  r.setWidth(r.width() / factor);
  r.setHeight(r.height() / factor);
  r.moveCenter(c);
  chart()->zoomIn(r);
  keepInLimits();
  Q_EMIT userMovedView();
  e->accept();
}

void ChartView::mousePressEvent(QMouseEvent* e) {
  if (zoomable_ && e->button() == Qt::MiddleButton) {
    panning_ = true;
    last_ = e->position();
    e->accept();
    return;
  }
  if (e->button() == Qt::LeftButton) pressAt_ = e->position();
  QChartView::mousePressEvent(e);
}

void ChartView::mouseMoveEvent(QMouseEvent* e) {
  if (panning_) {
    const QPointF d = e->position() - last_;
    chart()->scroll(-d.x(), d.y());
    last_ = e->position();
    keepInLimits();
    Q_EMIT userMovedView();
    return;
  }
  hoverAt(e->position().toPoint());
  if (!hoverText_.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), hoverText_, this);
  else QToolTip::hideText();
  QChartView::mouseMoveEvent(e);
}

void ChartView::mouseReleaseEvent(QMouseEvent* e) {
  if (panning_ && e->button() == Qt::MiddleButton) {
    panning_ = false;
    return;
  }
  const bool left = e->button() == Qt::LeftButton;
  const bool click = left && (e->position() - pressAt_).manhattanLength() < 5;
  QChartView::mouseReleaseEvent(e);  // a click gives the rubber band an empty rectangle: no zoom
  if (click) {
    const QPointF inChart = chart()->mapFromScene(mapToScene(e->position().toPoint()));
    if (chart()->plotArea().contains(inChart) && !chart()->series().isEmpty())
      Q_EMIT clickedAt(chart()->mapToValue(inChart, chart()->series().first()).x());
  } else if (left && zoomable_) {
    keepInLimits();
    Q_EMIT userMovedView();
  }
}

void ChartView::leaveEvent(QEvent* e) {
  highlight_->hide();
  hoverText_.clear();
  QChartView::leaveEvent(e);
}

void ChartView::resizeEvent(QResizeEvent* e) {
  QChartView::resizeEvent(e);
  QPointer<ChartView> self(this);
  QTimer::singleShot(0, this, [self] {  // after the chart has laid out its plot area
    if (!self) return;
    refitValueAxes(self->chart());
    self->placeCursor();
  });
}

void ChartView::fitMinimumSize() {
  // Below this Qt Charts elides axis labels: two label rows, an axis title and a plot area
  // of a few lines; labels and a title beside it.
  const QFontMetrics fm(font());
  const int width = std::max(fm.height() * 9, static_cast<int>(widthFactor_ * fm.horizontalAdvance(widthSample_)));
  setMinimumSize(width, static_cast<int>(fm.height() * minimumLines_) + extraPixels_);
}

void ChartView::setMinimumWidthFor(const QString& sample, double factor) {
  widthSample_ = sample;
  widthFactor_ = factor;
  fitMinimumSize();
}

void ChartView::setMinimumLines(double lines, int extraPixels) {
  minimumLines_ = lines;
  extraPixels_ = extraPixels;
  fitMinimumSize();
}

void ChartView::changeEvent(QEvent* e) {
  if (e->type() == QEvent::FontChange) fitMinimumSize();
  QChartView::changeEvent(e);
}

void ChartView::hoverAt(const QPoint& position) {
  hoverText_.clear();
  highlight_->hide();
  const QPointF scenePos = mapToScene(position);
  const auto area = [&] {
    if (describeArea_) hoverText_ = describeArea_(chart()->mapFromScene(scenePos));
  };
  if (!describe_) return area();
  const double radius = 24.0 * appearance().scale;
  double best = radius * radius;
  QXYSeries* bestSeries = nullptr;
  QPointF bestPoint, bestScene;
  for (QAbstractSeries* s : chart()->series()) {
    auto* xy = qobject_cast<QXYSeries*>(s);
    if (!xy || !xy->isVisible() || xy->count() == 0 || describe_(xy, QPointF()).isEmpty()) continue;
    const QList<QPointF> points = xy->points();
    // Only the points near the cursor's x matter: the x values are sorted.
    const double x = chart()->mapToValue(chart()->mapFromScene(scenePos), xy).x();
    auto it = std::lower_bound(points.begin(), points.end(), x, [](const QPointF& p, double v) { return p.x() < v; });
    const auto from = it - std::min<qsizetype>(it - points.begin(), 40);
    const auto to = it + std::min<qsizetype>(points.end() - it, 40);
    for (auto p = from; p != to; ++p) {
      const QPointF at = chart()->mapToScene(chart()->mapToPosition(*p, xy));
      const double d2 = (at.x() - scenePos.x()) * (at.x() - scenePos.x()) + (at.y() - scenePos.y()) * (at.y() - scenePos.y());
      if (d2 < best) {
        best = d2;
        bestSeries = xy;
        bestPoint = *p;
        bestScene = at;
      }
    }
  }
  if (!bestSeries) return area();
  hoverText_ = describe_(bestSeries, bestPoint);
  const double r = 4.0 * appearance().scale;
  highlight_->setRect(bestScene.x() - r, bestScene.y() - r, 2 * r, 2 * r);
  QColor c = bestSeries->pen().color();
  c.setAlpha(255);
  highlight_->setBrush(c);
  highlight_->setPen(QPen(palette().color(QPalette::Base), 1.5));
  highlight_->show();
}

void ChartView::setCursorX(double x) {
  cursorX_ = x;
  placeCursor();
}

bool ChartView::cursorVisible() const { return cursor_->isVisible(); }

QPointF ChartView::cursorLine() const { return cursor_->line().p1(); }

void ChartView::setMarks(const std::vector<std::pair<double, QString>>& marks) {
  if (marks == marks_) return;
  marks_ = marks;
  for (auto& [line, text] : markItems_) {
    delete line;
    delete text;
  }
  markItems_.clear();
  for (std::size_t i = 0; i < marks_.size(); ++i) {
    auto* line = new QGraphicsLineItem;
    auto* text = new QGraphicsSimpleTextItem;
    line->setZValue(45);
    text->setZValue(45);
    chart()->scene()->addItem(line);
    chart()->scene()->addItem(text);
    markItems_.push_back({line, text});
  }
  placeMarks();
}

int ChartView::visibleMarks() const {
  int n = 0;
  for (const auto& item : markItems_) n += item.first->isVisible();
  return n;
}

void ChartView::placeMarks() {
  QValueAxis* axis = nullptr;
  for (QAbstractAxis* a : chart()->axes(Qt::Horizontal))
    if ((axis = qobject_cast<QValueAxis*>(a))) break;
  const QRectF plot = chart()->plotArea();
  const QColor color(0xe7, 0x29, 0x8a);  // the Routing dock's mark colour
  for (std::size_t i = 0; i < markItems_.size(); ++i) {
    auto [line, text] = markItems_[i];
    const double value = marks_[i].first;
    if (!axis || value < axis->min() || value > axis->max() || axis->max() <= axis->min()) {
      line->hide();
      text->hide();
      continue;
    }
    const double x = plot.left() + (value - axis->min()) / (axis->max() - axis->min()) * plot.width();
    line->setPen(QPen(color, scaled(1.5), Qt::DashLine));
    line->setLine(QLineF(chart()->mapToScene(QPointF(x, plot.top())), chart()->mapToScene(QPointF(x, plot.bottom()))));
    text->setText(marks_[i].second);
    text->setBrush(color);
    text->setFont(font());
    text->setPos(chart()->mapToScene(QPointF(x + 3, plot.top())));
    line->setToolTip(marks_[i].second);
    line->show();
    text->show();
  }
}

void ChartView::placeCursor() {
  placeMarks();
  QValueAxis* axis = nullptr;
  for (QAbstractAxis* a : chart()->axes(Qt::Horizontal))
    if ((axis = qobject_cast<QValueAxis*>(a))) break;
  const QRectF plot = chart()->plotArea();
  if (!axis || !std::isfinite(cursorX_) || cursorX_ < axis->min() || cursorX_ > axis->max() || axis->max() <= axis->min()) {
    cursor_->hide();
    return;
  }
  const double x = plot.left() + (cursorX_ - axis->min()) / (axis->max() - axis->min()) * plot.width();
  const QPointF top = chart()->mapToScene(QPointF(x, plot.top())), bottom = chart()->mapToScene(QPointF(x, plot.bottom()));
  QColor color = palette().color(QPalette::WindowText);
  color.setAlpha(150);
  cursor_->setPen(QPen(color, scaled(1.5), Qt::DashDotLine));
  cursor_->setLine(QLineF(top, bottom));
  cursor_->show();
}

namespace {
// Word-wrapped text whose height at its width is its minimum (layouts in splitters and
// tabs do not ask for height-for-width): never cut at the bottom.
class WrapLabel : public QLabel {
public:
  WrapLabel() { setWordWrap(true); }

protected:
  void resizeEvent(QResizeEvent* e) override {
    QLabel::resizeEvent(e);
    const int needed = text().isEmpty() ? 0 : heightForWidth(width());
    if (minimumHeight() != needed) setMinimumHeight(needed);
  }
};
}  // namespace

ChartFigure::ChartFigure(QWidget* parent) : QWidget(parent) {
  setAutoFillBackground(true);
  setBackgroundRole(QPalette::Base);
  title_ = new WrapLabel;
  title_->setAlignment(Qt::AlignHCenter);
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  legend_ = new ChartLegend;
  caption_ = new WrapLabel;
  caption_->setTextFormat(Qt::RichText);
  caption_->hide();
  body_ = new QBoxLayout(QBoxLayout::TopToBottom);
  body_->setSpacing(0);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 2);
  layout->setSpacing(2);
  layout->addWidget(title_);
  layout->addLayout(body_, 1);
  layout->addWidget(legend_);
  layout->addWidget(caption_);
}

void ChartFigure::setTitle(const QString& title) {
  title_->setText(title);
  title_->setVisible(!title.isEmpty());
}

QString ChartFigure::title() const { return title_->text(); }

void ChartFigure::setCaption(const QString& caption) {
  caption_->setText(caption);
  caption_->setVisible(!caption.isEmpty());
}

}  // namespace modlab::ui
