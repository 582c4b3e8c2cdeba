#include "ui/charts/loss_chart.h"

#include "modlab/experiment/run_csv.h"

#include <QApplication>
#include <QBoxLayout>
#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QLabel>
#include <QSlider>
#include <QTabBar>
#include <QResizeEvent>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/style/appearance.h"
#include "ui/charts/chart_axes.h"
#include "ui/charts/chart_figure.h"
#include "ui/charts/chart_legend.h"
#include "ui/style/family_style.h"
#include "ui/style/flow_layout.h"

namespace modlab::ui {

namespace {
QLineSeries* makeSeries(const QColor& color, qreal width, Qt::PenStyle style, int alpha = 255) {
  auto* s = new QLineSeries;
  QColor c = color;
  c.setAlpha(alpha);
  s->setPen(seriesPen(c, width, style));
  return s;
}

QVector<QPointF> finite(QVector<QPointF> points, bool positive) {
  points.erase(std::remove_if(points.begin(), points.end(),
                              [&](const QPointF& p) {
                                return !std::isfinite(p.x()) || !std::isfinite(p.y()) || (positive && p.y() <= 0.0);
                              }),
               points.end());
  return points;
}

QChart* makeChart(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->hide();  // the figure's key wraps and is shared by both panels
  chart->setMargins(QMargins(2, 2, 6, 2));
  chart->setBackgroundRoundness(0);
  return chart;
}

QColor keyColor() { return QApplication::palette().color(QPalette::WindowText); }
}  // namespace

LossChart::LossChart(QWidget* parent) : QWidget(parent), cursorStep_(std::numeric_limits<double>::quiet_NaN()) {
  trainChart_ = makeChart(tr("Training loss"));
  evalChart_ = makeChart(tr("Evaluation"));
  trainView_ = new ChartView(trainChart_);
  evalView_ = new ChartView(evalChart_);
  figure_ = new ChartFigure;
  for (ChartView* v : {trainView_, evalView_}) {
    v->setZoomable(true);
    v->setMinimumLines(8);  // a title above, labels and a title below the plot
    v->setToolTip(tr("Hover: values; click: jump the timeline there; drag: zoom to a rectangle; wheel: zoom; "
                     "middle-drag: pan; right-click: export"));
    v->setDescriber([this](QXYSeries* s, const QPointF& p) { return describe(s, p); });
    connect(v, &ChartView::userMovedView, this, [this] { setFollowing(false); });
    connect(v, &ChartView::clickedAt, this, &LossChart::stepClicked);
    // The training and evaluation panels share their steps: zoomed and panned together.
    connect(v, &ChartView::xRangeChanged, this, [this, v](double lo, double hi) { (v == trainView_ ? evalView_ : trainView_)->setXRange(lo, hi); });
    figure_->body()->addWidget(v, 1);
  }
  figure_->installEventFilter(this);
  connect(evalChart_, &QChart::plotAreaChanged, this, [this] { fitMarkers(); });

  quantity_ = new QComboBox;
  quantity_->addItems({tr("Loss"), tr("Error % / L1")});
  quantity_->setToolTip(tr("Loss: BCE (classification) or L1 (regression). Error: classification error % (ID/OoD evaluations)."));
  quantity_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  logBox_ = new QCheckBox(tr("Log y"));
  logBox_->setChecked(log_);
  smoothingSlider_ = new QSlider(Qt::Horizontal);
  smoothingSlider_->setRange(0, 99);
  smoothingSlider_->setValue(90);
  smoothingSlider_->setToolTip(tr("Exponential moving average of the training loss; 0 turns smoothing off"));
  smoothingLabel_ = new QLabel;
  followButton_ = new QToolButton;
  followButton_->setText(tr("Follow latest"));
  followButton_->setCheckable(true);
  followButton_->setChecked(true);
  followButton_->setToolTip(tr("Keep the whole run in view as it grows (zooming or panning turns this off)"));

  auto* controls = new FlowLayout;
  controls->setContentsMargins(4, 2, 4, 0);
  controls->addWidget(quantity_);
  controls->addWidget(logBox_);
  auto* smoothing = new QWidget;
  auto* sl = new QHBoxLayout(smoothing);
  sl->setContentsMargins(0, 0, 0, 0);
  sl->addWidget(new QLabel(tr("Smoothing")));
  sl->addWidget(smoothingSlider_);
  sl->addWidget(smoothingLabel_);
  controls->addWidget(smoothing);
  controls->addWidget(followButton_);
  panelTabs_ = new QTabBar;
  panelTabs_->addTab(tr("Training loss"));
  panelTabs_->addTab(tr("Evaluation"));
  panelTabs_->setDocumentMode(true);
  panelTabs_->hide();
  controls_ = controls;
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(controls);
  layout->addWidget(panelTabs_);
  layout->addWidget(figure_, 1);
  connect(panelTabs_, &QTabBar::currentChanged, this, [this] { applyVisibility(); });

  connect(quantity_, &QComboBox::currentIndexChanged, this, [this](int i) { setErrorView(i == 1); });
  connect(logBox_, &QCheckBox::toggled, this, &LossChart::setLogScale);
  connect(smoothingSlider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
  connect(followButton_, &QToolButton::toggled, this, &LossChart::setFollowing);
  connect(figure_->legend(), &ChartLegend::toggled, this, [this](int index, bool shown) {
    const int families = data_ ? static_cast<int>(data_->variants().size()) : 0;
    if (index < families) {
      const std::string& f = data_->variants()[static_cast<std::size_t>(index)].name;
      if (shown) hiddenFamilies_.erase(f);
      else hiddenFamilies_.insert(f);
    } else {
      const Kind kinds[] = {Kind::Train, Kind::Id, Kind::Ood};
      const int k = errorView_ ? index - families + 1 : index - families;
      if (k >= 0 && k < 3) {
        if (shown) hiddenKinds_.erase(kinds[k]);
        else hiddenKinds_.insert(kinds[k]);
      }
    }
    applyVisibility();
    if (follow_) fitAxes();
  });
  setSmoothing(0.9);
  attachAxes();
  buildLegend();
}

bool LossChart::eventFilter(QObject* watched, QEvent* event) {
  Q_UNUSED(watched);
  Q_UNUSED(event);
  return false;
}

void LossChart::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  arrangePanels();
  fitMarkers();
}

QSize LossChart::minimumSizeHint() const {
  const int controls = controls_->minimumSize().height() + controls_->heightForWidth(std::max(width(), 200)) / 2;
  const int h = controls + panelTabs_->sizeHint().height() + evalView_->minimumHeight() + figure_->legend()->minimumHeight() + 16;
  // The key inside the figure's margins (4 px each side).
  const QMargins m = figure_->layout() ? figure_->layout()->contentsMargins() : QMargins();
  const int key = figure_->legend()->minimumSizeHint().width() + m.left() + m.right();
  const int w = std::max({evalView_->minimumWidth() + 16, controls_->minimumSize().width(), key});
  return {w, h};
}

void LossChart::arrangePanels() {
  // Side by side when there is width to spare, stacked when there is height, else one at a
  // time: each panel keeps the room its labels need.
  const int viewsHeight = height() - controls_->geometry().height() - figure_->legend()->height() - 24;
  const int bothWide = trainView_->minimumWidth() + evalView_->minimumWidth() + 16;
  const int bothTall = trainView_->minimumHeight() + evalView_->minimumHeight() + 4;
  Arrangement a = Arrangement::OneAtATime;
  if (width() >= bothWide && (width() >= 1.3 * viewsHeight || width() >= 1100 || viewsHeight < bothTall)) a = Arrangement::SideBySide;
  else if (viewsHeight >= bothTall) a = Arrangement::Stacked;
  if (errorView_) a = Arrangement::SideBySide;  // one panel only
  arrangement_ = a;
  figure_->body()->setDirection(a == Arrangement::Stacked ? QBoxLayout::TopToBottom : QBoxLayout::LeftToRight);
  panelTabs_->setVisible(a == Arrangement::OneAtATime);
  applyVisibility();
}

void LossChart::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void LossChart::rebuild() {
  trainChart_->removeAllSeries();
  evalChart_->removeAllSeries();
  series_.clear();
  hiddenFamilies_.clear();
  if (data_) {
    for (const Variant& v : data_->variants()) {
      const std::string& f = v.name;
      const QColor c = data_->color(f);
      const QString name = QString::fromStdString(f);
      FamilySeries s;
      s.raw = makeSeries(c, 1.0, Qt::SolidLine, 60);
      s.smooth = makeSeries(c, 2.0, Qt::SolidLine);
      s.id = makeSeries(c, 2.0, Qt::DashLine);
      s.ood = makeSeries(c, 2.0, Qt::DotLine);
      s.raw->setName(name + tr(", training (raw)"));
      s.smooth->setName(name + tr(", training"));
      s.id->setName(name + tr(", ID"));
      s.ood->setName(name + tr(", OoD"));
      trainChart_->addSeries(s.raw);
      trainChart_->addSeries(s.smooth);
      evalChart_->addSeries(s.id);
      evalChart_->addSeries(s.ood);
      s.id->setPointsVisible(true);
      s.ood->setPointsVisible(true);
      s.ood->setMarkerSize(scaled(4.5));
      s.id->setMarkerSize(scaled(3));
      series_[f] = s;
    }
  }
  attachAxes();
  buildLegend();
  setFollowing(true);
  refresh();
}

void LossChart::buildLegend() {
  ChartLegend* legend = figure_->legend();
  legend->blockSignals(true);
  legend->clear();
  if (data_)
    for (const Variant& v : data_->variants()) {
      const int i = legend->addEntry({QString::fromStdString(v.name), data_->color(v.name), ChartLegend::Marker::Square});
      if (hiddenFamilies_.count(v.name)) legend->setShown(i, false);
    }
  const QColor key = keyColor();
  const std::pair<Kind, ChartLegend::Entry> kinds[] = {
      {Kind::Train, {tr("training (smoothed; raw faint)"), key, ChartLegend::Marker::Line, Qt::SolidLine, true,
                     tr("Training loss of every step: the smoothed curve solid, the raw one faint behind it"), tr("training")}},
      {Kind::Id, {tr("ID evaluation"), key, ChartLegend::Marker::Line, Qt::DashLine, true, tr("In-distribution evaluation (dashed)"), tr("ID")}},
      {Kind::Ood, {tr("OoD evaluation"), key, ChartLegend::Marker::LineWithDots, Qt::DotLine, true,
                   tr("Out-of-distribution evaluation: inputs x2 (MHA/RNN: also the longest length), dotted with dots"), tr("OoD")}}};
  for (const auto& [kind, entry] : kinds) {
    if (errorView_ && kind == Kind::Train) continue;
    const int i = legend->addEntry(entry);
    if (hiddenKinds_.count(kind)) legend->setShown(i, false);
  }
  legend->blockSignals(false);
}

bool LossChart::isShown(const std::string& family, Kind kind) const {
  if (hiddenFamilies_.count(family)) return false;
  if (kind == Kind::Raw) return !hiddenKinds_.count(Kind::Train) && !errorView_;
  if (kind == Kind::Train && errorView_) return false;
  return !hiddenKinds_.count(kind);
}

QLineSeries* LossChart::series(const std::string& family, Kind kind) const {
  const auto it = series_.find(family);
  if (it == series_.end()) return nullptr;
  switch (kind) {
    case Kind::Train: return it->second.smooth;
    case Kind::Raw: return it->second.raw;
    case Kind::Id: return it->second.id;
    case Kind::Ood: return it->second.ood;
  }
  return nullptr;
}

void LossChart::applyVisibility() {
  for (auto& [family, s] : series_) {
    s.raw->setVisible(isShown(family, Kind::Raw));
    s.smooth->setVisible(isShown(family, Kind::Train));
    s.id->setVisible(isShown(family, Kind::Id));
    s.ood->setVisible(isShown(family, Kind::Ood));
  }
  const bool one = arrangement_ == Arrangement::OneAtATime && !errorView_;
  trainView_->setVisible(!errorView_ && (!one || panelTabs_->currentIndex() == 0));
  evalView_->setVisible(!one || panelTabs_->currentIndex() == 1);
}

void LossChart::restyle() {
  for (QChart* chart : {trainChart_, evalChart_}) styleChart(chart);
  buildLegend();  // the key's colour is the theme's text
}

void LossChart::attachAxes() {
  for (QChart* chart : {trainChart_, evalChart_}) {
    removeAxes(chart);
    auto* x = new QValueAxis;
    x->setTitleText(tr("Step"));
    x->setLabelFormat("%.0f");
    QAbstractAxis* y;
    if (log_) {
      auto* logAxis = new QLogValueAxis;
      logAxis->setBase(10);
      logAxis->setLabelFormat("%g");
      logAxis->setMinorTickCount(8);
      y = logAxis;
    } else {
      auto* linear = new QValueAxis;
      linear->setLabelFormat("%.3g");
      y = linear;
    }
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (QAbstractSeries* s : chart->series()) {
      s->attachAxis(x);
      s->attachAxis(y);
    }
    if (chart == trainChart_) trainX_ = x, trainY_ = y;
    else evalX_ = x, evalY_ = y;
    styleChart(chart);
  }
  // The panel title already says "Training loss": no axis title, so that log labels down to
  // 0.0001 keep their room in a narrow panel (presentation scale on a small screen).
  trainY_->setTitleText(QString());
  evalY_->setTitleText(errorView_ ? tr("Error % / L1") : tr("Loss"));
}

void LossChart::setLogScale(bool log) {
  if (log == log_) return;
  log_ = log;
  logBox_->setChecked(log);
  attachAxes();
  refresh();
  if (!follow_) fitAxes();
  Q_EMIT logScaleChanged(log);
}

void LossChart::setSmoothing(double smoothing) {
  smoothing_ = std::clamp(smoothing, 0.0, 0.99);
  smoothingSlider_->blockSignals(true);
  smoothingSlider_->setValue(static_cast<int>(std::lround(smoothing_ * 100)));
  smoothingSlider_->blockSignals(false);
  smoothingLabel_->setText(smoothing_ <= 0.0 ? tr("off") : QString::number(smoothing_, 'f', 2));
  smoothingLabel_->setMinimumWidth(smoothingLabel_->fontMetrics().horizontalAdvance("0.00 "));
  // Smoothing off: the raw curves are the only ones, drawn thinner and translucent so
  // that no family hides the others where they overlap.
  for (auto& [family, s] : series_) {
    QColor c = data_->color(family);
    c.setAlpha(smoothing_ > 0.0 ? 60 : 150);
    s.raw->setPen(seriesPen(c, smoothing_ > 0.0 ? 1.0 : 1.3));
  }
  refresh();
}

void LossChart::setErrorView(bool error) {
  errorView_ = error;
  quantity_->blockSignals(true);
  quantity_->setCurrentIndex(error ? 1 : 0);
  quantity_->blockSignals(false);
  evalChart_->setTitle(error ? tr("Evaluation error") : tr("Evaluation"));
  evalY_->setTitleText(error ? tr("Error % / L1") : tr("Loss"));
  buildLegend();
  arrangePanels();
  refresh();
  if (follow_) {
    fitAxes();
  } else if (data_) {  // zoomed: the run may still be panned to as it grows
    for (ChartView* v : {trainView_, evalView_}) v->extendXLimit(static_cast<double>(data_->step()));
  }
}

void LossChart::setFollowing(bool follow) {
  const bool changed = follow != follow_;
  follow_ = follow;
  followButton_->blockSignals(true);
  followButton_->setChecked(follow);
  followButton_->blockSignals(false);
  if (follow) {
    trainChart_->zoomReset();
    evalChart_->zoomReset();
    fitAxes();
  }
  if (changed) Q_EMIT followingChanged(follow);
}

void LossChart::refresh() {
  applyVisibility();
  if (!data_) return;
  const int maxPoints = std::max(400, trainView_->width() * 2);
  for (auto& [family, s] : series_) {
    QVector<QPointF> raw, id, ood;
    if (!errorView_) raw = data_->trainLoss(family);
    for (const EvaluationSnapshot& e : data_->evaluations())
      for (const FamilyEvaluation& f : e.families) {
        if (f.variant != family) continue;
        const double x = static_cast<double>(e.step);
        id.push_back(QPointF(x, errorView_ ? f.id.error : f.id.loss));
        ood.push_back(QPointF(x, errorView_ ? f.ood.error : f.ood.loss));
      }
    // The raw curve is drawn faint behind the smoothed one; with smoothing off only the raw one shows.
    s.raw->replace(finite(thin(raw, maxPoints), log_));
    s.smooth->replace(smoothing_ > 0.0 ? finite(thin(ema(raw, smoothing_), maxPoints), log_) : QVector<QPointF>{});
    s.id->replace(finite(id, log_));
    s.ood->replace(finite(ood, log_));
  }
  // Routing coefficients changed while training (issue 12): a mark at each change's step.
  std::vector<std::pair<double, QString>> marks;
  for (const RoutingChange& c : data_->routingChanges())
    marks.push_back({static_cast<double>(c.step), (c.variant.empty() ? QString() : QString::fromStdString(c.variant) + ": ") +
                                                      QStringLiteral("%1 = %2").arg(QString::fromStdString(c.key)).arg(c.value)});
  trainView_->setMarks(marks);
  evalView_->setMarks(marks);
  if (follow_) fitAxes();
}

// The evaluations' markers shrink with their density (a large scale on a small screen made the
// chart a blob of markers) and go where they would touch; the dashes and dots stay.
void LossChart::fitMarkers() {
  int count = 0;
  for (const auto& [family, s] : series_) count = std::max(count, static_cast<int>(s.id->count()));
  const double width = evalChart_->plotArea().width() > 10 ? evalChart_->plotArea().width() : evalView_->width();
  const double spacing = width / std::max(1, count);
  for (auto& [family, s] : series_) {
    s.id->setPointsVisible(spacing >= 6);
    s.ood->setPointsVisible(spacing >= 6);
    s.id->setMarkerSize(std::min(scaled(3), spacing * 0.35));
    s.ood->setMarkerSize(std::min(scaled(4.5), spacing * 0.5));
  }
}

void LossChart::fitAxes() {
  double xMax = 1.0;
  if (data_) xMax = std::max({xMax, static_cast<double>(data_->step()), static_cast<double>(data_->config().steps)});
  for (auto [chart, xAxis, yAxis] : {std::tuple{trainChart_, trainX_, trainY_}, std::tuple{evalChart_, evalX_, evalY_}}) {
    double yMin = std::numeric_limits<double>::infinity(), yMax = -yMin;
    for (QAbstractSeries* abstract : chart->series()) {
      auto* line = static_cast<QLineSeries*>(abstract);
      if (!line->isVisible()) continue;
      for (const QPointF& p : line->points()) {
        xMax = std::max(xMax, p.x());
        yMin = std::min(yMin, p.y());
        yMax = std::max(yMax, p.y());
      }
    }
    if (!std::isfinite(yMin)) yMin = log_ ? 0.01 : 0.0, yMax = 1.0;
    if (log_) {
      // Whole decades: a range inside one decade would show a single label.
      roundOutToDecades(yMin, yMax);
      setDecadeRange(yAxis, yMin, yMax);
    } else {
      const double pad = std::max((yMax - yMin) * 0.05, 1e-6);
      fitValueAxis(chart, static_cast<QValueAxis*>(yAxis), std::max(0.0, yMin - pad), yMax + pad, true);
    }
    Q_UNUSED(xAxis);
  }
  fitValueAxis(trainChart_, static_cast<QValueAxis*>(trainX_), 0.0, xMax);
  fitValueAxis(evalChart_, static_cast<QValueAxis*>(evalX_), 0.0, xMax);
  trainView_->setLimitsFromAxes();
  evalView_->setLimitsFromAxes();
  trainView_->setCursorX(cursorStep_);
  evalView_->setCursorX(cursorStep_);
}

void LossChart::setCursorStep(double step) {
  cursorStep_ = step;
  trainView_->setCursorX(step);
  evalView_->setCursorX(step);
}

QString LossChart::describe(QXYSeries* s, const QPointF& p) const {
  for (const auto& [family, fs] : series_) {
    QString what;
    if (s == fs.smooth) what = smoothing_ > 0 ? tr("training loss (smoothed)") : QString();
    else if (s == fs.raw) what = smoothing_ > 0 ? QString() : tr("training loss");
    else if (s == fs.id) what = errorView_ ? tr("ID error") : tr("ID loss");
    else if (s == fs.ood) what = errorView_ ? tr("OoD error") : tr("OoD loss");
    else continue;
    if (what.isEmpty()) return {};
    if (p.isNull() && p.x() == 0 && p.y() == 0) return what;  // "is this series reported?"
    return tr("%1, %2\nstep %3: %4").arg(QString::fromStdString(family), what).arg(p.x(), 0, 'f', 0).arg(p.y(), 0, 'g', 4);
  }
  return {};
}

QString LossChart::toCsv() const {
  std::vector<ModelCurve> models;
  if (data_)
    for (const Variant& v : data_->variants()) {
      ModelCurve m{v.name, {}};
      for (const QPointF& p : data_->trainLoss(v.name)) m.trainLoss.emplace_back(p.x(), p.y());
      models.push_back(std::move(m));
    }
  return QString::fromStdString(lossCsv(models, data_ ? data_->evaluations() : std::vector<EvaluationSnapshot>{}));
}

}  // namespace modlab::ui
