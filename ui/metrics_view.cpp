#include "ui/metrics_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include "ui/appearance.h"
#include "ui/family_style.h"

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

double MetricsView::metricValue(const SpecialisationMetrics& m, int index) {
  switch (index) {
    case 0: return m.collapseAvg;
    case 1: return m.collapseWorst;
    case 2: return m.alignment;
    case 3: return m.adaptation;
    default: return m.inverseMutualInformation;
  }
}

namespace {
QChartView* makeView(QChart* chart) {
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  return view;
}

QLineSeries* referenceLine(const QString& name, const QColor& color, Qt::PenStyle style) {
  auto* line = new QLineSeries;
  line->setName(name);
  line->setPen(seriesPen(color, 2, style));
  return line;
}
}  // namespace

MetricsView::MetricsView(QWidget* parent) : QWidget(parent) {
  bars_ = new QChart;
  bars_->setTitle(tr("Collapse and specialisation (lower is better)"));
  barsView_ = makeView(bars_);
  history_ = new QChart;
  history_->setTitle(tr("Over training"));
  historyView_ = makeView(history_);
  metric_ = new QComboBox;
  for (const QString& n : metricNames()) metric_->addItem(n);
  metric_->setCurrentIndex(2);
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  caption_->setTextFormat(Qt::RichText);

  auto* historyBox = new QWidget;
  auto* hl = new QVBoxLayout(historyBox);
  hl->setContentsMargins(0, 0, 0, 0);
  auto* pick = new QHBoxLayout;
  pick->addWidget(new QLabel(tr("History of")));
  pick->addWidget(metric_, 1);
  hl->addLayout(pick);
  hl->addWidget(historyView_, 1);

  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(barsView_);
  split->addWidget(historyBox);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({520, 340});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(split, 1);
  layout->addWidget(caption_);
  connect(metric_, &QComboBox::currentIndexChanged, this, [this] { drawHistory(); });
}

void MetricsView::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void MetricsView::rebuild() { refresh(); }

void MetricsView::refresh() {
  drawBars(data_ && !data_->evaluations().empty() ? &data_->evaluations().back() : nullptr);
  drawHistory();
}

void MetricsView::showEvaluation(std::size_t index) {
  if (data_ && index < data_->evaluations().size()) drawBars(&data_->evaluations()[index]);
}

void MetricsView::drawBars(const EvaluationSnapshot* evaluation) {
  bars_->removeAllSeries();
  removeAxes(bars_);
  if (!data_) return;
  const int R = data_->config().rules;
  auto* series = new QBarSeries;
  for (Family f : data_->families()) {
    if (!isModular(f)) continue;
    auto* set = new QBarSet(familyName(f));
    set->setColor(familyColor(f));
    set->setBorderColor(familyColor(f).darker(130));
    const FamilyEvaluation* e = nullptr;
    if (evaluation)
      for (const FamilyEvaluation& x : evaluation->families)
        if (x.family == f && x.hasMetrics) e = &x;
    for (int i = 0; i < 5; ++i) *set << (e ? metricValue(e->metrics, i) : 0.0);
    series->append(set);
  }
  bars_->addSeries(series);
  auto* x = new QBarCategoryAxis;
  for (const QString& n : shortMetricNames()) x->append(n);
  auto* y = new QValueAxis;
  y->setRange(0.0, 1.0);
  y->setTickCount(6);
  y->setLabelFormat("%.1f");
  bars_->addAxis(x, Qt::AlignBottom);
  bars_->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  // Reference lines per metric: uniform-random routing and total collapse (analytic, spec 4.4).
  const SpecialisationMetrics random = randomRoutingMetrics(R), collapse = totalCollapseMetrics(R);
  for (int i = 0; i < 5; ++i) {
    for (const auto& [ref, name, color, style] :
         {std::tuple{random, tr("Random"), randomRoutingColor(), Qt::DashLine},
          std::tuple{collapse, tr("Collapse"), totalCollapseColor(), Qt::DotLine}}) {
      auto* line = referenceLine(name, color, style);
      const double v = metricValue(ref, i);
      line->append(i - 0.45, v);
      line->append(i + 0.45, v);
      bars_->addSeries(line);
      line->attachAxis(x);
      line->attachAxis(y);
    }
  }
  QStringList seen;
  for (QLegendMarker* m : bars_->legend()->markers()) {
    const bool duplicate = seen.contains(m->label());
    m->setVisible(!duplicate);
    seen << m->label();
  }
  styleChart(bars_);
  bars_->setTitle(evaluation ? tr("Metrics at step %1 (R = %2; lower is better)").arg(evaluation->step).arg(R)
                             : tr("Metrics (no evaluation yet)"));
  caption_->setText(tr("<small>C-Avg, C-Worst: Collapse-Avg and Collapse-Worst; Align: Alignment; Adapt: Adaptation; "
                       "Inv-MI: inverse mutual information. Dashed (Random): uniform-random routing; dotted (Collapse): "
                       "total collapse onto one module. "
                       "GT-Modular is 0 by construction on every metric but Adaptation, where it is near 0: "
                       "its module frequencies are counted on finite samples.</small>"));
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
  y->setRange(0.0, 1.0);
  y->setTickCount(6);
  y->setLabelFormat("%.1f");
  history_->addAxis(x, Qt::AlignBottom);
  history_->addAxis(y, Qt::AlignLeft);
  double xMax = std::max<double>(1.0, static_cast<double>(data_->config().steps));
  for (Family f : data_->families()) {
    if (!isModular(f)) continue;
    auto* line = new QLineSeries;
    line->setName(familyName(f));
    line->setPen(seriesPen(familyColor(f), 2));
    QVector<QPointF> points;
    for (const EvaluationSnapshot& e : data_->evaluations())
      for (const FamilyEvaluation& fe : e.families)
        if (fe.family == f && fe.hasMetrics) points.push_back(QPointF(static_cast<double>(e.step), metricValue(fe.metrics, index)));
    line->replace(points);
    history_->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  const int R = data_->config().rules;
  for (const auto& [ref, name, color, style] :
       {std::tuple{randomRoutingMetrics(R), tr("Random"), randomRoutingColor(), Qt::DashLine},
        std::tuple{totalCollapseMetrics(R), tr("Collapse"), totalCollapseColor(), Qt::DotLine}}) {
    auto* line = referenceLine(name, color, style);
    line->append(0.0, metricValue(ref, index));
    line->append(xMax, metricValue(ref, index));
    history_->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  x->setRange(0.0, xMax);
  styleChart(history_);
  history_->setTitle(tr("%1 over training").arg(metricNames()[index]));
}

QString MetricsView::toCsv() const {
  QString out = "step,family,metric,value\n";
  if (!data_) return out;
  for (const EvaluationSnapshot& e : data_->evaluations())
    for (const FamilyEvaluation& f : e.families) {
      if (!f.hasMetrics) continue;
      for (int i = 0; i < 5; ++i)
        out += QString("%1,%2,%3,%4\n").arg(e.step).arg(familyName(f.family), metricNames()[i]).arg(metricValue(f.metrics, i), 0, 'g', 9);
    }
  return out;
}

}  // namespace modlab::ui
