#include "ui/charts/metrics_view.h"

#include "modlab/experiment/run_csv.h"

#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QHorizontalBarSeries>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/style/adaptive_split.h"
#include "ui/style/appearance.h"
#include "ui/charts/chart_axes.h"
#include "ui/charts/chart_figure.h"
#include "ui/charts/chart_legend.h"
#include "ui/style/family_style.h"
#include "ui/style/flow_layout.h"

namespace modlab::ui {

const std::array<QString, 5>& MetricsView::metricNames() {
  static const std::array<QString, 5> names{QStringLiteral("Collapse-Avg"), QStringLiteral("Collapse-Worst"),
                                            QStringLiteral("Alignment"), QStringLiteral("Adaptation"),
                                            QStringLiteral("Inverse MI")};
  return names;
}

const std::array<QString, 5>& MetricsView::shortMetricNames() {
  static const std::array<QString, 5> names{QStringLiteral("C-Avg"), QStringLiteral("C-Worst"), QStringLiteral("Align"),
                                            QStringLiteral("Adapt"), QStringLiteral("Inv-MI")};
  return names;
}

double MetricsView::metricValue(const SpecialisationMetrics& m, int index) { return modlab::metricValue(m, index); }

namespace {
QChart* makeChart() {
  auto* chart = new QChart;
  chart->legend()->hide();  // the figure's own key wraps instead of eliding
  chart->setMargins(QMargins(2, 2, 6, 2));
  chart->setBackgroundRoundness(0);
  return chart;
}

QLineSeries* referenceLine(const QString& name, const QColor& color, Qt::PenStyle style) {
  auto* line = new QLineSeries;
  line->setName(name);
  line->setPen(seriesPen(color, 2, style));
  return line;
}

// Where random routing and total collapse give (nearly) the same value, e.g. Alignment for
// many rules, one line would hide the other: both are drawn in interleaved dashes instead.
bool referencesCoincide(double random, double collapse) { return std::abs(random - collapse) < 0.02; }

void interleave(QLineSeries* line, bool second) {
  QPen pen = line->pen();
  pen.setStyle(Qt::CustomDashLine);
  pen.setDashPattern({4.0, 4.0});
  pen.setDashOffset(second ? 4.0 : 0.0);
  line->setPen(pen);
}

const QString kRandom = QObject::tr("Random"), kCollapse = QObject::tr("Collapse");
}  // namespace

MetricsView::MetricsView(QWidget* parent) : QWidget(parent), cursorStep_(std::numeric_limits<double>::quiet_NaN()) {
  bars_ = makeChart();
  barsView_ = new ChartView(bars_);
  // Qt Charts gives each of the five names a sixth of the axis, less padding: a line and
  // 12 px each, and the value axis below.
  barsView_->setMinimumLines(6 + 2, 6 * 12 + 24);
  // The abbreviations take at most 30% of the chart: never narrower than that allows.
  barsView_->setMinimumWidthFor(shortMetricNames()[1], 1.0 / 0.3);
  barsFigure_ = new ChartFigure;
  barsFigure_->body()->addWidget(barsView_);
  history_ = makeChart();
  historyView_ = new ChartView(history_);
  historyFigure_ = new ChartFigure;
  historyFigure_->body()->addWidget(historyView_);
  historyView_->setDescriber([](QXYSeries* s, const QPointF& p) {
    if (s->name() == kRandom || s->name() == kCollapse) return QString();
    return tr("%1\nstep %2: %3").arg(s->name()).arg(p.x(), 0, 'f', 0).arg(p.y(), 0, 'f', 3);
  });
  connect(historyView_, &ChartView::clickedAt, this, &MetricsView::stepClicked);
  metric_ = new QComboBox;
  for (const QString& n : metricNames()) metric_->addItem(n);
  metric_->setCurrentIndex(2);
  metric_->setAccessibleName(tr("Metric shown in the history"));
  metric_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  caption_->setTextFormat(Qt::RichText);
  // The footnote: one short line here; the full text is the tooltip (and in the guides).
  caption_->setText(tr("<small>GT-Modular: 0 by construction (Adaptation near 0: finite samples).</small>"));
  caption_->setToolTip(tr("GT-Modular is 0 by construction on every metric but Adaptation, where it is near 0: "
                          "its module frequencies are counted on finite samples."));

  auto* historyBox = historyBox_ = new QWidget;
  auto* hl = new QVBoxLayout(historyBox);
  hl->setContentsMargins(0, 0, 0, 0);
  hl->setSpacing(0);
  auto* pick = new FlowLayout;
  pick->setContentsMargins(4, 2, 4, 2);
  pick->addWidget(new QLabel(tr("History of")));
  pick->addWidget(metric_);
  hl->addLayout(pick);
  hl->addWidget(historyFigure_, 1);

  split_ = new AdaptiveSplit;
  split_->addPage(barsFigure_, tr("Now"), 520);
  split_->addPage(historyBox, tr("Over training"), 340);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(split_, 1);
  layout->addWidget(caption_);
  connect(metric_, &QComboBox::currentIndexChanged, this, [this] { drawHistory(); });
  for (ChartFigure* figure : {barsFigure_, historyFigure_})
    connect(figure->legend(), &ChartLegend::toggled, this, [this, figure](int index, bool shown) {
      const QString name = figure->legend()->entry(index).text;
      if (shown) hidden_.erase(name);
      else hidden_.insert(name);
      // Both keys name the same things: keep them in step.
      for (ChartFigure* other : {barsFigure_, historyFigure_})
        for (int i = 0; i < other->legend()->count(); ++i)
          if (other->legend()->entry(i).text == name) {
            other->legend()->blockSignals(true);
            other->legend()->setShown(i, shown);
            other->legend()->blockSignals(false);
          }
      showEvaluation(shownIndex_ < 0 ? std::size_t(-1) : std::size_t(shownIndex_));
      drawHistory();
    });
  barsView_->setAreaDescriber([this](const QPointF& at) { return describeBarAt(at); });
  barsView_->installEventFilter(this);
  caption_->installEventFilter(this);  // its wrapped height is its minimum (never cut at the bottom)
}

bool MetricsView::isTabbed() const { return split_->isTabbed(); }

namespace {
QHorizontalBarSeries* barSeries(QChart* chart) {
  for (QAbstractSeries* s : chart->series())
    if (auto* bars = qobject_cast<QHorizontalBarSeries*>(s)) return bars;
  return nullptr;
}
// Metric i is category 4 - i (drawn bottom-up); set j of n fills [c - w/2 + j w/n, c - w/2 + (j+1) w/n]
// of category c along the category axis (Qt Charts' horizontal bar layout).
}  // namespace

QString MetricsView::describeBarAt(const QPointF& chartPosition) const {
  QHorizontalBarSeries* series = barSeries(bars_);
  if (!data_ || !series || series->count() == 0 || !bars_->plotArea().contains(chartPosition)) return {};
  const QPointF value = bars_->mapToValue(chartPosition, series);
  const int category = static_cast<int>(std::lround(value.y()));
  const double width = series->barWidth(), offset = value.y() - (category - width / 2);
  if (category < 0 || category > 4 || offset < 0 || offset >= width) return {};
  const int set = std::clamp(static_cast<int>(offset / (width / series->count())), 0, static_cast<int>(series->count()) - 1);
  const QBarSet* bar = series->barSets()[set];
  const int metric = 4 - category;
  const int R = data_->config().rules;
  return tr("%1, %2: %3\nrandom routing %4, total collapse %5 (R = %6)")
      .arg(bar->label(), metricNames()[metric])
      .arg(bar->at(category), 0, 'f', 3)
      .arg(metricValue(randomRoutingMetrics(R), metric), 0, 'f', 3)
      .arg(metricValue(totalCollapseMetrics(R), metric), 0, 'f', 3)
      .arg(R);
}

QPoint MetricsView::barCentre(const std::string& variant, int metric) const {
  QHorizontalBarSeries* series = barSeries(bars_);
  if (!series || metric < 0 || metric > 4) return {-1, -1};
  const QList<QBarSet*> sets = series->barSets();
  for (int j = 0; j < sets.size(); ++j) {
    if (sets[j]->label() != QString::fromStdString(variant)) continue;
    const int category = 4 - metric;
    const double width = series->barWidth();
    const QPointF at(std::max(sets[j]->at(category), 0.1) / 2, category - width / 2 + (j + 0.5) * width / sets.size());
    return barsView_->mapFromScene(bars_->mapToScene(bars_->mapToPosition(at, series)));
  }
  return {-1, -1};
}

bool MetricsView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == caption_ && event->type() == QEvent::Resize) {
    const int needed = caption_->heightForWidth(caption_->width());
    if (caption_->minimumHeight() != needed) caption_->setMinimumHeight(needed);
  }
  if (watched == barsView_ && event->type() == QEvent::Resize && data_ && wantShortNames() != shortNames_)
    showEvaluation(shownIndex_ < 0 ? std::size_t(-1) : std::size_t(shownIndex_));
  return QWidget::eventFilter(watched, event);
}

void MetricsView::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void MetricsView::rebuild() {
  hidden_.clear();
  buildLegend();
  refresh();
}

void MetricsView::buildLegend() {
  for (ChartFigure* figure : {barsFigure_, historyFigure_}) {
    ChartLegend* legend = figure->legend();
    legend->clear();
    if (!data_) continue;
    for (const Variant& v : data_->variants())
      if (isModular(v.family))
        legend->addEntry({QString::fromStdString(v.name), data_->color(v.name),
                          figure == barsFigure_ ? ChartLegend::Marker::Square : ChartLegend::Marker::Line});
    legend->addEntry({kRandom, randomRoutingColor(), ChartLegend::Marker::Line, Qt::DashLine, true,
                      tr("Uniform-random routing for this R (analytic); click to hide or show")});
    legend->addEntry({kCollapse, totalCollapseColor(), ChartLegend::Marker::Line, Qt::DotLine, true,
                      tr("Total collapse onto one module for this R (analytic); click to hide or show")});
  }
}

void MetricsView::refresh() {
  shownIndex_ = -1;
  drawBars(data_ && !data_->evaluations().empty() ? &data_->evaluations().back() : nullptr);
  drawHistory();
}

void MetricsView::restyle() {
  drawHistory();
  showEvaluation(shownIndex_ < 0 ? std::size_t(-1) : std::size_t(shownIndex_));
}

void MetricsView::showEvaluation(std::size_t index) {
  if (!data_) return;
  if (index < data_->evaluations().size()) {
    shownIndex_ = static_cast<long>(index);
    drawBars(&data_->evaluations()[index]);
  } else {
    shownIndex_ = -1;
    drawBars(data_->evaluations().empty() ? nullptr : &data_->evaluations().back());
  }
}

bool MetricsView::wantShortNames() const {
  // Full names when the longest takes at most 30% of the chart's width; the rule's
  // abbreviations otherwise (the caption spells them out).
  const QFontMetrics fm(QApplication::font());
  int widest = 0;
  for (const QString& n : metricNames()) widest = std::max(widest, fm.horizontalAdvance(n));
  return widest > 0.3 * barsView_->width();
}

void MetricsView::drawBars(const EvaluationSnapshot* evaluation) {
  bars_->removeAllSeries();
  removeAxes(bars_);
  if (!data_) return;
  shortNames_ = wantShortNames();
  const int R = data_->config().rules;
  auto* series = new QHorizontalBarSeries;
  series->setBarWidth(0.85);
  const std::vector<Variant>& variants = data_->variants();
  // Sets and categories are drawn bottom-up: add them in reverse to read top-down.
  for (auto it = variants.rbegin(); it != variants.rend(); ++it) {
    const QString name = QString::fromStdString(it->name);
    if (!isModular(it->family) || hidden_.count(name)) continue;
    auto* set = new QBarSet(name);
    set->setColor(data_->color(it->name));
    set->setBorderColor(data_->color(it->name).darker(130));
    const FamilyEvaluation* e = nullptr;
    if (evaluation)
      for (const FamilyEvaluation& x : evaluation->families)
        if (x.variant == it->name && x.hasMetrics) e = &x;
    for (int i = 4; i >= 0; --i) *set << (e ? metricValue(e->metrics, i) : 0.0);
    series->append(set);
  }
  bars_->addSeries(series);
  auto* names = new QBarCategoryAxis;
  for (int i = 4; i >= 0; --i) names->append(shortNames_ ? shortMetricNames()[i] : metricNames()[i]);
  auto* values = new QValueAxis;
  values->setLabelFormat("%.1f");
  bars_->addAxis(values, Qt::AlignBottom);
  bars_->addAxis(names, Qt::AlignLeft);
  series->attachAxis(values);
  series->attachAxis(names);
  // Reference lines per metric: uniform-random routing and total collapse (analytic, spec 4.4) for this R.
  const SpecialisationMetrics random = randomRoutingMetrics(R), collapse = totalCollapseMetrics(R);
  for (int i = 0; i < 5; ++i) {
    const double at = 4 - i;
    for (const auto& [ref, name, color, style] :
         {std::tuple{random, kRandom, randomRoutingColor(), Qt::DashLine}, std::tuple{collapse, kCollapse, totalCollapseColor(), Qt::DotLine}}) {
      if (hidden_.count(name)) continue;
      auto* line = referenceLine(name, color, style);
      const double v = metricValue(ref, i);
      if (referencesCoincide(metricValue(random, i), metricValue(collapse, i))) interleave(line, name == kCollapse);
      line->append(v, at - 0.47);
      line->append(v, at + 0.47);
      bars_->addSeries(line);
      line->attachAxis(values);
      line->attachAxis(names);
    }
  }
  styleChart(bars_);
  fitValueAxis(bars_, values, 0.0, 1.0);
  barsFigure_->setTitle(evaluation ? tr("Metrics at step %1 (R = %2, lower is better)").arg(evaluation->step).arg(R)
                                   : tr("Metrics, R = %1 (no evaluation yet)").arg(R));
  barsFigure_->setCaption(shortNames_ ? tr("<small>C-: Collapse-; Align: Alignment; Adapt: Adaptation; Inv-MI: inverse MI</small>")
                                      : QString());
}

void MetricsView::drawHistory() {
  history_->removeAllSeries();
  removeAxes(history_);
  if (!data_) return;
  const int index = metric_->currentIndex();
  auto* x = new QValueAxis;
  x->setTitleText(tr("Step"));
  x->setLabelFormat("%.0f");
  auto* y = new QValueAxis;
  y->setLabelFormat("%.1f");
  history_->addAxis(x, Qt::AlignBottom);
  history_->addAxis(y, Qt::AlignLeft);
  const double xMax = std::max<double>(1.0, static_cast<double>(std::max(data_->config().steps, data_->step())));
  for (const Variant& v : data_->variants()) {
    const QString name = QString::fromStdString(v.name);
    if (!isModular(v.family) || hidden_.count(name)) continue;
    auto* line = new QLineSeries;
    line->setName(name);
    line->setPen(seriesPen(data_->color(v.name), 2));
    QVector<QPointF> points;
    for (const EvaluationSnapshot& e : data_->evaluations())
      for (const FamilyEvaluation& fe : e.families)
        if (fe.variant == v.name && fe.hasMetrics) points.push_back(QPointF(static_cast<double>(e.step), metricValue(fe.metrics, index)));
    line->replace(points);
    line->setPointsVisible(points.size() < 40);
    history_->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  const int R = data_->config().rules;
  for (const auto& [ref, name, color, style] :
       {std::tuple{randomRoutingMetrics(R), kRandom, randomRoutingColor(), Qt::DashLine},
        std::tuple{totalCollapseMetrics(R), kCollapse, totalCollapseColor(), Qt::DotLine}}) {
    if (hidden_.count(name)) continue;
    auto* line = referenceLine(name, color, style);
    if (referencesCoincide(metricValue(randomRoutingMetrics(R), index), metricValue(totalCollapseMetrics(R), index)))
      interleave(line, name == kCollapse);
    line->append(0.0, metricValue(ref, index));
    line->append(xMax, metricValue(ref, index));
    history_->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  styleChart(history_);
  fitValueAxis(history_, x, 0.0, xMax);
  fitValueAxis(history_, y, 0.0, 1.0);
  historyFigure_->setTitle(tr("%1 over training (R = %2)").arg(metricNames()[index]).arg(R));
  historyView_->setCursorX(cursorStep_);
}

void MetricsView::setCursorStep(double step) {
  cursorStep_ = step;
  historyView_->setCursorX(step);
}

QString MetricsView::toCsv() const {
  if (!data_) return QString::fromStdString(metricsCsv({}, 0));
  return QString::fromStdString(metricsCsv(data_->evaluations(), data_->config().rules));
}

QString MetricsView::barsCsv() const {
  if (!data_ || data_->evaluations().empty()) return QString::fromStdString(metricsCsv({}, data_ ? data_->config().rules : 0));
  const auto& all = data_->evaluations();
  const std::size_t shown = shownIndex_ >= 0 && static_cast<std::size_t>(shownIndex_) < all.size() ? shownIndex_ : all.size() - 1;
  return QString::fromStdString(metricsCsv(all, data_->config().rules, all[shown].step));
}

}  // namespace modlab::ui
