#include "ui/loss_chart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QSlider>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/appearance.h"
#include "ui/family_style.h"

namespace modlab::ui {

// A chart view with wheel zoom, rubber-band zoom and middle-drag pan; any of them
// tells the owner that the user took over the view.
class ChartView : public QChartView {
  Q_OBJECT
public:
  using QChartView::QChartView;
Q_SIGNALS:
  void userMovedView();

protected:
  void wheelEvent(QWheelEvent* e) override {
    const double factor = e->angleDelta().y() > 0 ? 1.25 : 0.8;
    QRectF r = chart()->plotArea();
    const QPointF c = chart()->mapFromScene(mapToScene(e->position().toPoint()));
    r.setWidth(r.width() / factor);
    r.setHeight(r.height() / factor);
    r.moveCenter(c);
    chart()->zoomIn(r);
    Q_EMIT userMovedView();
    e->accept();
  }
  void mousePressEvent(QMouseEvent* e) override {
    if (e->button() == Qt::MiddleButton) {
      panning_ = true;
      last_ = e->position();
      e->accept();
      return;
    }
    QChartView::mousePressEvent(e);
  }
  void mouseMoveEvent(QMouseEvent* e) override {
    if (panning_) {
      const QPointF d = e->position() - last_;
      chart()->scroll(-d.x(), d.y());
      last_ = e->position();
      Q_EMIT userMovedView();
      return;
    }
    QChartView::mouseMoveEvent(e);
  }
  void mouseReleaseEvent(QMouseEvent* e) override {
    if (panning_ && e->button() == Qt::MiddleButton) {
      panning_ = false;
      return;
    }
    const bool rubber = e->button() == Qt::LeftButton && rubberBand() != QChartView::NoRubberBand;
    QChartView::mouseReleaseEvent(e);
    if (rubber) Q_EMIT userMovedView();
  }

private:
  bool panning_ = false;
  QPointF last_;
};

namespace {
QLineSeries* makeSeries(const QColor& color, qreal width, Qt::PenStyle style, int alpha = 255) {
  auto* s = new QLineSeries;
  QColor c = color;
  c.setAlpha(alpha);
  s->setPen(seriesPen(c, width, style));
  return s;
}

// 1, 2 or 5 times a power of ten, at least `raw`.
double niceStep(double raw) {
  if (!(raw > 0)) return 1.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10.0 * power;
}

QVector<QPointF> finite(QVector<QPointF> points, bool positive) {
  points.erase(std::remove_if(points.begin(), points.end(),
                              [&](const QPointF& p) {
                                return !std::isfinite(p.x()) || !std::isfinite(p.y()) || (positive && p.y() <= 0.0);
                              }),
               points.end());
  return points;
}
}  // namespace

LossChart::LossChart(QWidget* parent) : QWidget(parent) {
  chart_ = new QChart;
  chart_->setTitle(tr("Loss and error"));
  chart_->legend()->setAlignment(Qt::AlignBottom);
  chart_->setMargins(QMargins(4, 4, 4, 4));
  view_ = new ChartView(chart_);
  view_->setRenderHint(QPainter::Antialiasing);
  view_->setRubberBand(QChartView::RectangleRubberBand);
  view_->setToolTip(tr("Drag: zoom to a rectangle; wheel: zoom; middle-drag: pan; right-click: export"));

  quantity_ = new QComboBox;
  quantity_->addItems({tr("Loss"), tr("Error % / L1")});
  quantity_->setToolTip(tr("Loss: BCE (classification) or L1 (regression). Error: classification error % (ID/OoD evaluations)."));
  showTrain_ = new QCheckBox(tr("Train"));
  showId_ = new QCheckBox(tr("ID"));
  showOod_ = new QCheckBox(tr("OoD"));
  for (QCheckBox* b : {showTrain_, showId_, showOod_}) b->setChecked(true);
  showTrain_->setToolTip(tr("Training loss of every step (raw curve faint, smoothed curve solid)"));
  showId_->setToolTip(tr("In-distribution evaluation (dashed)"));
  showOod_->setToolTip(tr("Out-of-distribution evaluation: inputs x2 (MHA/RNN: also the longest length) (dotted)"));
  logBox_ = new QCheckBox(tr("Log y"));
  logBox_->setChecked(log_);
  smoothingSlider_ = new QSlider(Qt::Horizontal);
  smoothingSlider_->setRange(0, 99);
  smoothingSlider_->setValue(90);
  smoothingSlider_->setMaximumWidth(140);
  smoothingSlider_->setToolTip(tr("Exponential moving average of the training loss; 0 turns smoothing off"));
  smoothingLabel_ = new QLabel;
  smoothingLabel_->setMinimumWidth(60);
  followButton_ = new QToolButton;
  followButton_->setText(tr("Follow latest"));
  followButton_->setCheckable(true);
  followButton_->setChecked(true);
  followButton_->setToolTip(tr("Keep the whole run in view as it grows (zooming or panning turns this off)"));

  auto* controls = new QHBoxLayout;
  controls->setContentsMargins(4, 2, 4, 0);
  controls->addWidget(quantity_);
  controls->addWidget(showTrain_);
  controls->addWidget(showId_);
  controls->addWidget(showOod_);
  controls->addSpacing(8);
  controls->addWidget(logBox_);
  controls->addSpacing(8);
  controls->addWidget(new QLabel(tr("Smoothing")));
  controls->addWidget(smoothingSlider_);
  controls->addWidget(smoothingLabel_);
  controls->addStretch();
  controls->addWidget(followButton_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(controls);
  layout->addWidget(view_, 1);
  auto* caption = new QLabel(tr("<small>Solid: training loss (smoothed; the raw curve faint behind). Dashed: ID evaluation. "
                                "Dotted with dots: OoD evaluation (inputs x2; MHA/RNN also the longest length).</small>"));
  caption->setContentsMargins(8, 0, 8, 2);
  caption->setWordWrap(true);
  layout->addWidget(caption);

  connect(quantity_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  for (QCheckBox* b : {showTrain_, showId_, showOod_}) connect(b, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(logBox_, &QCheckBox::toggled, this, &LossChart::setLogScale);
  connect(smoothingSlider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
  connect(followButton_, &QToolButton::toggled, this, &LossChart::setFollowing);
  connect(view_, &ChartView::userMovedView, this, [this] { setFollowing(false); });
  setSmoothing(0.9);
  attachAxes();
}

QChartView* LossChart::chartView() const { return view_; }

void LossChart::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void LossChart::rebuild() {
  chart_->removeAllSeries();
  series_.clear();
  if (!data_) return;
  for (Family f : data_->families()) {
    const QColor c = familyColor(f);
    FamilySeries s;
    s.raw = makeSeries(c, 1.0, Qt::SolidLine, 60);
    s.smooth = makeSeries(c, 2.0, Qt::SolidLine);
    s.id = makeSeries(c, 2.0, Qt::DashLine);
    s.ood = makeSeries(c, 2.0, Qt::DotLine);
    s.raw->setName(familyName(f) + tr(" (raw)"));
    s.smooth->setName(familyName(f));
    s.id->setName(familyName(f) + tr(" ID"));
    s.ood->setName(familyName(f) + tr(" OoD"));
    for (QLineSeries* line : {s.raw, s.smooth, s.id, s.ood}) chart_->addSeries(line);
    s.ood->setPointsVisible(true);  // dotted with markers: OoD; dashed: ID
    connect(s.smooth, &QLineSeries::hovered, this, [this, f](const QPointF& p, bool on) { onHover(f, tr("train"), p, on); });
    connect(s.id, &QLineSeries::hovered, this, [this, f](const QPointF& p, bool on) { onHover(f, tr("ID"), p, on); });
    connect(s.ood, &QLineSeries::hovered, this, [this, f](const QPointF& p, bool on) { onHover(f, tr("OoD"), p, on); });
    series_[f] = s;
  }
  attachAxes();
  // One legend entry per family: the smoothed train curve stands for its colour.
  for (QLegendMarker* m : chart_->legend()->markers())
    m->setVisible(!m->label().contains(tr(" (raw)")) && !m->label().contains(tr(" ID")) && !m->label().contains(tr(" OoD")));
  setFollowing(true);
  refresh();
}

void LossChart::attachAxes() {
  removeAxes(chart_);
  auto* x = new QValueAxis;
  x->setTitleText(tr("Step"));
  x->setLabelFormat("%.0f");
  xAxis_ = x;
  if (log_) {
    auto* y = new QLogValueAxis;
    y->setBase(10);
    y->setLabelFormat("%.3g");
    y->setMinorTickCount(8);
    yAxis_ = y;
  } else {
    auto* y = new QValueAxis;
    y->setLabelFormat("%.3g");
    yAxis_ = y;
  }
  yAxis_->setTitleText(quantity_->currentIndex() == 0 ? tr("Loss") : tr("Error % / L1"));
  chart_->addAxis(xAxis_, Qt::AlignBottom);
  chart_->addAxis(yAxis_, Qt::AlignLeft);
  for (QAbstractSeries* s : chart_->series()) {
    s->attachAxis(xAxis_);
    s->attachAxis(yAxis_);
  }
  styleChart(chart_);
}

void LossChart::setLogScale(bool log) {
  if (log == log_) return;
  log_ = log;
  logBox_->setChecked(log);
  attachAxes();
  refresh();
  Q_EMIT logScaleChanged(log);
}

void LossChart::setSmoothing(double smoothing) {
  smoothing_ = std::clamp(smoothing, 0.0, 0.99);
  smoothingSlider_->blockSignals(true);
  smoothingSlider_->setValue(static_cast<int>(std::lround(smoothing_ * 100)));
  smoothingSlider_->blockSignals(false);
  smoothingLabel_->setText(smoothing_ <= 0.0 ? tr("off") : QString::number(smoothing_, 'f', 2));
  refresh();
}

void LossChart::setFollowing(bool follow) {
  const bool changed = follow != follow_;
  follow_ = follow;
  followButton_->blockSignals(true);
  followButton_->setChecked(follow);
  followButton_->blockSignals(false);
  if (follow) fitAxes();
  if (changed) Q_EMIT followingChanged(follow);
}

void LossChart::refresh() {
  if (!data_) return;
  const bool errorView = quantity_->currentIndex() == 1;
  yAxis_->setTitleText(errorView ? tr("Error % / L1") : tr("Loss"));
  const int maxPoints = std::max(400, view_->width() * 2);
  for (auto& [family, s] : series_) {
    QVector<QPointF> raw, id, ood;
    if (showTrain_->isChecked() && !errorView) raw = data_->trainLoss(family);
    for (const EvaluationSnapshot& e : data_->evaluations())
      for (const FamilyEvaluation& f : e.families) {
        if (f.family != family) continue;
        const double x = static_cast<double>(e.step);
        if (showId_->isChecked()) id.push_back(QPointF(x, errorView ? f.id.error : f.id.loss));
        if (showOod_->isChecked()) ood.push_back(QPointF(x, errorView ? f.ood.error : f.ood.loss));
      }
    // The raw curve is drawn faint behind the smoothed one; with smoothing off only the raw one shows.
    s.raw->replace(smoothing_ > 0.0 ? finite(thin(raw, maxPoints), log_) : QVector<QPointF>{});
    s.smooth->replace(finite(thin(ema(raw, smoothing_), maxPoints), log_));
    s.id->replace(finite(id, log_));
    s.ood->replace(finite(ood, log_));
  }
  if (follow_) fitAxes();
}

void LossChart::fitAxes() {
  double xMax = 1.0, yMin = std::numeric_limits<double>::infinity(), yMax = -std::numeric_limits<double>::infinity();
  for (auto& [family, s] : series_)
    for (QLineSeries* line : {s.raw, s.smooth, s.id, s.ood}) {
      for (const QPointF& p : line->points()) {
        xMax = std::max(xMax, p.x());
        yMin = std::min(yMin, p.y());
        yMax = std::max(yMax, p.y());
      }
    }
  if (data_) xMax = std::max({xMax, static_cast<double>(data_->step()), static_cast<double>(data_->config().steps)});
  if (!std::isfinite(yMin)) yMin = log_ ? 0.01 : 0.0, yMax = 1.0;
  if (log_) {
    yMin = std::max(yMin * 0.8, 1e-6);
    yMax = std::max(yMax * 1.25, yMin * 10);
  } else {
    const double pad = std::max((yMax - yMin) * 0.05, 1e-6);
    yMin = std::max(0.0, yMin - pad);
    yMax += pad;
  }
  xAxis_->setRange(0.0, xMax);
  yAxis_->setRange(yMin, yMax);
  auto* x = static_cast<QValueAxis*>(xAxis_);
  x->setTickType(QValueAxis::TicksDynamic);
  x->setTickAnchor(0.0);
  x->setTickInterval(niceStep(xMax / 6.0));
  if (!log_) static_cast<QValueAxis*>(yAxis_)->applyNiceNumbers();
}

void LossChart::onHover(Family family, const QString& what, const QPointF& point, bool state) {
  if (!state) {
    QToolTip::hideText();
    return;
  }
  QToolTip::showText(QCursor::pos(), QString("%1 %2\nstep %3: %4")
                                         .arg(familyName(family), what)
                                         .arg(point.x(), 0, 'f', 0)
                                         .arg(point.y(), 0, 'g', 5));
}

QString LossChart::toCsv() const {
  QString out = "step,family,series,value\n";
  if (!data_) return out;
  for (Family family : data_->families()) {
    const QString name = familyName(family);
    for (const QPointF& p : data_->trainLoss(family))
      out += QString("%1,%2,train_loss,%3\n").arg(p.x(), 0, 'f', 0).arg(name).arg(p.y(), 0, 'g', 9);
    for (const EvaluationSnapshot& e : data_->evaluations())
      for (const FamilyEvaluation& f : e.families) {
        if (f.family != family) continue;
        for (const auto& [label, c] : {std::pair{"id", &f.id}, std::pair{"ood", &f.ood}}) {
          out += QString("%1,%2,%3_loss,%4\n").arg(e.step).arg(name, label).arg(c->loss, 0, 'g', 9);
          out += QString("%1,%2,%3_error,%4\n").arg(e.step).arg(name, label).arg(c->error, 0, 'g', 9);
        }
      }
  }
  return out;
}

}  // namespace modlab::ui

#include "loss_chart.moc"
