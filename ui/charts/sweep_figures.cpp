#include "ui/charts/sweep_figures.h"

#include <QDir>
#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QPieSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <map>
#include <set>
#include <QtCharts/QLegend>
#include <QtCharts/QXYSeries>
#include <QtCharts/QLegendMarker>

#include "ui/charts/chart_axes.h"
#include "ui/charts/chart_legend.h"
#include "ui/style/appearance.h"
#include "ui/export/chart_export.h"
#include "ui/style/family_style.h"
#include "ui/charts/metrics_view.h"

namespace modlab::ui {

namespace {

const std::vector<Family> kModular{Family::GtModular, Family::ModularOp, Family::Modular};

QChartView* view(QChart* chart) {
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(2, 2, 2, 2));
  auto* v = new QChartView(chart);
  v->setRenderHint(QPainter::Antialiasing);
  return v;
}

// One key for the whole figure, under its panels: every entry of the panels' own keys once
// (a key inside a narrow panel elided "GT-Modul..." and made that panel smaller than the rest).
ChartLegend* figureKey(const std::vector<QChartView*>& charts) {
  auto* key = new ChartLegend;
  QStringList seen;
  for (QChartView* view : charts) {
    QLegend* legend = view->chart()->legend();
    if (legend->isVisible())
      for (QLegendMarker* marker : legend->markers()) {
        if (seen.contains(marker->label()) || marker->label().isEmpty()) continue;
        seen << marker->label();
        ChartLegend::Entry entry;
        entry.text = marker->label();
        entry.toggles = false;
        if (auto* line = qobject_cast<QXYSeries*>(marker->series())) {
          entry.color = line->pen().color();
          entry.style = line->pen().style();
          entry.marker = line->pointsVisible() ? ChartLegend::Marker::LineWithDots : ChartLegend::Marker::Line;
        } else if (qobject_cast<QAreaSeries*>(marker->series())) {
          entry.color = marker->brush().color();
          entry.color.setAlpha(255);
          entry.marker = ChartLegend::Marker::Band;
        } else {
          entry.color = marker->brush().color();
        }
        key->addEntry(entry);
      }
    legend->setVisible(false);
  }
  return key;
}

QWidget* grid(const QString& title, const std::vector<QChartView*>& charts, int columns, QSize size, const QString& note = {}) {
  auto* w = new QWidget;
  w->setAttribute(Qt::WA_DontShowOnScreen);
  w->resize(size);
  // Each panel readable on screen (a dialog scrolls beyond): never squeezed into "...".
  const int rows = (static_cast<int>(charts.size()) + columns - 1) / columns;
  w->setMinimumSize(std::min(size.width(), 340 * columns), std::min(size.height(), 280 * rows + 80));
  w->setAutoFillBackground(true);
  auto* outer = new QVBoxLayout(w);
  auto* heading = new QLabel(QString("<b>%1</b>").arg(title));
  heading->setAlignment(Qt::AlignCenter);
  outer->addWidget(heading);
  auto* layout = new QGridLayout;
  for (std::size_t i = 0; i < charts.size(); ++i)
    layout->addWidget(charts[i], static_cast<int>(i) / columns, static_cast<int>(i) % columns);
  outer->addLayout(layout, 1);
  ChartLegend* key = figureKey(charts);
  if (key->count() > 0) outer->addWidget(key);
  else delete key;
  if (!note.isEmpty()) {
    auto* n = new QLabel(note);
    n->setWordWrap(true);
    outer->addWidget(n);
  }
  return w;
}

std::vector<int> rulesOf(const SweepReport& r) {
  std::set<int> rules;
  for (const ReportRow& row : r.rows) rules.insert(row.rules);
  return {rules.begin(), rules.end()};
}

QString unitOf(TaskKind t) { return t == TaskKind::Classification ? QObject::tr("error %") : QObject::tr("L1 loss"); }

QChartView* rankingPie(const SweepReport& r) {
  auto* series = new QPieSeries;
  series->setHoleSize(0.35);
  for (Family f : {Family::GtModular, Family::Modular, Family::ModularOp, Family::Monolithic}) {
    const auto it = r.ranking.wins.find(f);
    const int wins = it == r.ranking.wins.end() ? 0 : it->second;
    QPieSlice* slice = series->append(QString("%1 %2").arg(familyName(f)).arg(wins), wins);
    slice->setBrush(familyColor(f));
    slice->setLabelVisible(wins > 0);
  }
  QPieSlice* tie = series->append(QObject::tr("tie %1").arg(r.ranking.ties), r.ranking.ties);  // nobody's win
  tie->setBrush(randomRoutingColor());
  tie->setLabelVisible(r.ranking.ties > 0);
  auto* chart = new QChart;
  chart->addSeries(series);
  chart->setTitle(QObject::tr("Best of four (%1 comparisons)").arg(r.ranking.comparisons));
  styleChart(chart);
  return view(chart);
}

QChartView* modularVsMonolithic(const SweepReport& r) {
  auto* series = new QPieSeries;
  QPieSlice* m = series->append(QObject::tr("Modular %1").arg(r.ranking.modularWins), r.ranking.modularWins);
  m->setBrush(familyColor(Family::Modular));
  m->setLabelVisible(r.ranking.modularWins > 0);
  QPieSlice* o = series->append(QObject::tr("Monolithic %1").arg(r.ranking.monolithicWins), r.ranking.monolithicWins);
  o->setBrush(familyColor(Family::Monolithic));
  o->setLabelVisible(r.ranking.monolithicWins > 0);
  QPieSlice* tie = series->append(QObject::tr("equal %1").arg(r.ranking.modularTies), r.ranking.modularTies);
  tie->setBrush(randomRoutingColor());
  tie->setLabelVisible(r.ranking.modularTies > 0);
  auto* chart = new QChart;
  chart->addSeries(series);
  chart->setTitle(QObject::tr("Modular vs Monolithic"));
  styleChart(chart);
  return view(chart);
}

// Mean of `value` over the rows matching `keep`, per family and number of rules.
template <typename Keep, typename Value>
std::map<Family, std::map<int, double>> meanByRules(const SweepReport& r, Keep keep, Value value) {
  std::map<Family, std::map<int, std::pair<double, int>>> acc;
  for (const ReportRow& row : r.rows)
    if (row.routing.empty() && !isNamedVariant(row) && keep(row)) {  // the paper's figures: its families and routing
      auto& [sum, n] = acc[row.family][row.rules];
      sum += value(row);
      ++n;
    }
  std::map<Family, std::map<int, double>> out;
  for (const auto& [f, byR] : acc)
    for (const auto& [rules, v] : byR) out[f][rules] = v.first / v.second;
  return out;
}

QChartView* performancePanel(const SweepReport& r, Setting s, TaskKind t, bool ood) {
  const auto means = meanByRules(
      r, [&](const ReportRow& row) { return row.setting == s && row.task == t; },
      [&](const ReportRow& row) { return ood ? row.ood : row.id; });
  if (means.empty()) return nullptr;  // a setting and task the sweep did not train: left out
  auto* chart = new QChart;
  auto* x = new QLogValueAxis;
  x->setBase(2);
  x->setLabelFormat("%d");
  x->setTitleText(QObject::tr("rules"));
  auto* y = new QValueAxis;
  y->setTitleText(unitOf(t));
  y->setLabelFormat("%.3g");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  double yMax = 0.0;
  for (Family f : {Family::GtModular, Family::ModularOp, Family::Modular, Family::Monolithic}) {
    const auto it = means.find(f);
    if (it == means.end()) continue;
    auto* line = new QLineSeries;
    line->setName(familyName(f));
    line->setPen(seriesPen(familyColor(f), 2));
    line->setPointsVisible(true);
    for (const auto& [rules, v] : it->second) {
      line->append(rules, v);
      yMax = std::max(yMax, v);
    }
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  x->setRange(1.5, 48);
  y->setRange(0.0, yMax > 0 ? yMax * 1.1 : 1.0);
  y->applyNiceNumbers();
  chart->setTitle(QString("%1 %2 | %3%4").arg(QString::fromStdString(toString(s)).toUpper(),
                                             t == TaskKind::Classification ? QObject::tr("classification") : QObject::tr("regression"),
                                             ood ? QObject::tr("OoD") : QObject::tr("ID"), QString()));
  chart->legend()->setVisible(false);  // the figure's first panel shows the key
  styleChart(chart);
  return view(chart);
}

// A metric panel: the bars of `series` over `categories`, on [0, 1].
QChartView* metricPanel(QBarSeries* series, const QStringList& categories, const QString& xTitle, int metric) {
  auto* chart = new QChart;
  chart->addSeries(series);
  auto* x = new QBarCategoryAxis;
  x->append(categories);
  x->setLabelsVisible(!(categories.size() == 1 && categories.front().isEmpty()));  // one unnamed group: no label
  x->setTitleText(xTitle);
  auto* y = new QValueAxis;
  y->setRange(0, 1);
  y->setTickCount(6);
  y->setLabelFormat("%.1f");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  chart->setTitle(MetricsView::metricNames()[metric]);
  chart->legend()->setVisible(metric == 0);
  styleChart(chart);
  return view(chart);
}

QChartView* metricVsRules(const SweepReport& r, int metric) {
  const auto means = meanByRules(
      r, [](const ReportRow& row) { return row.hasMetrics; },
      [&](const ReportRow& row) { return MetricsView::metricValue(row.metrics, metric); });
  const std::vector<int> rules = rulesOf(r);
  auto* series = new QBarSeries;
  for (Family f : kModular) {
    auto* set = new QBarSet(familyName(f));
    set->setColor(familyColor(f));
    for (int R : rules) {
      const auto it = means.find(f);
      *set << (it != means.end() && it->second.count(R) ? it->second.at(R) : 0.0);
    }
    series->append(set);
  }
  auto* random = new QBarSet(QObject::tr("Random"));
  random->setColor(randomRoutingColor());
  for (int R : rules) *random << MetricsView::metricValue(randomRoutingMetrics(R), metric);
  series->append(random);
  QStringList categories;
  for (int R : rules) categories << QString::number(R);
  return metricPanel(series, categories, QObject::tr("rules"), metric);
}

QChartView* metricPerModel(const SweepReport& r, int metric) {
  std::map<Family, std::pair<double, int>> acc;
  double randomSum = 0.0;
  int randomCount = 0;
  for (const ReportRow& row : r.rows)
    if (row.hasMetrics && row.routing.empty() && !isNamedVariant(row)) {
      acc[row.family].first += MetricsView::metricValue(row.metrics, metric);
      ++acc[row.family].second;
      randomSum += MetricsView::metricValue(randomRoutingMetrics(row.rules), metric);
      ++randomCount;
    }
  auto* series = new QBarSeries;
  for (Family f : kModular) {
    auto* set = new QBarSet(familyName(f));
    set->setColor(familyColor(f));
    *set << (acc.count(f) ? acc[f].first / acc[f].second : 0.0);
    series->append(set);
  }
  auto* random = new QBarSet(QObject::tr("Random"));
  random->setColor(randomRoutingColor());
  *random << (randomCount ? randomSum / randomCount : 0.0);
  series->append(random);
  return metricPanel(series, {QString()}, QString(), metric);  // the figure's title says: averaged over rules
}

QChartView* trainingCurves(const SweepReport& r) {
  auto* chart = new QChart;
  auto* x = new QValueAxis;
  x->setTitleText(QObject::tr("fraction of training"));
  x->setTickCount(6);
  x->setLabelFormat("%.1f");
  auto* y = new QValueAxis;
  y->setTitleText(QObject::tr("performance (error % and L1, averaged)"));
  y->setLabelFormat("%.3g");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  double xMax = 1, yMax = 0;
  for (Family f : {Family::GtModular, Family::ModularOp, Family::Modular, Family::Monolithic}) {
    const auto it = r.trainingCurves.find(f);
    if (it == r.trainingCurves.end()) continue;
    auto* line = new QLineSeries;
    line->setName(familyName(f));
    line->setPen(seriesPen(familyColor(f), 2));
    for (const auto& [step, v] : it->second) {
      line->append(step, v);
      xMax = std::max(xMax, step);
      yMax = std::max(yMax, v);
    }
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  x->setRange(0, std::max(1.0, xMax));
  y->setRange(0, yMax > 0 ? yMax * 1.05 : 1);
  y->applyNiceNumbers();
  chart->setTitle(QObject::tr("Training curves"));
  styleChart(chart);
  return view(chart);
}

// A routing entry's name short enough for an axis: "bal 0.1", "Hs 0.01, Hb 0.1".
QString shortRouting(const std::string& routing) {
  if (routing.empty()) return QObject::tr("paper");
  QString s = QString::fromStdString(routing);
  s.replace("sample entropy", "Hs");
  s.replace("batch entropy", "Hb");
  s.replace("balance", "bal");
  return s;
}

// The routing interventions of one (setting, task, R): a metric (0-4) or, for -1, OoD performance,
// per routing entry (paper first), Modular and Modular-op, mean over seeds with a +-1 sd band.
QChartView* routingPanel(const SweepReport& r, Setting s, TaskKind t, int rules, int metric,
                         const std::vector<std::string>& routings) {
  auto* chart = new QChart;
  auto* x = new QCategoryAxis;
  x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  for (std::size_t i = 0; i < routings.size(); ++i)
    x->append(shortRouting(routings[i]), static_cast<double>(i));
  x->setRange(-0.4, static_cast<double>(routings.size()) - 0.6);
  x->setLabelsAngle(routings.size() > 5 ? -30 : 0);
  auto* y = new QValueAxis;
  y->setLabelFormat("%.3g");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  double lo = 1e300, hi = -1e300;
  for (Family f : {Family::Modular, Family::ModularOp}) {
    auto* mean = new QLineSeries;
    auto* upper = new QLineSeries;
    auto* lower = new QLineSeries;
    for (std::size_t i = 0; i < routings.size(); ++i) {
      std::vector<double> v;
      for (const ReportRow& row : r.rows)
        if (row.family == f && row.setting == s && row.task == t && row.rules == rules && row.routing == routings[i] &&
            (metric < 0 || row.hasMetrics))
          v.push_back(metric < 0 ? row.ood : MetricsView::metricValue(row.metrics, metric));
      if (v.empty()) continue;
      double m = 0.0, sd = 0.0;
      for (double e : v) m += e;
      m /= static_cast<double>(v.size());
      for (double e : v) sd += (e - m) * (e - m);
      sd = v.size() > 1 ? std::sqrt(sd / static_cast<double>(v.size() - 1)) : 0.0;
      mean->append(static_cast<double>(i), m);
      upper->append(static_cast<double>(i), m + sd);
      lower->append(static_cast<double>(i), m - sd);
      lo = std::min(lo, m - sd);
      hi = std::max(hi, m + sd);
    }
    if (mean->count() == 0) {
      delete mean, delete upper, delete lower;
      continue;
    }
    auto* band = new QAreaSeries(upper, lower);
    QColor fill = familyColor(f);
    fill.setAlphaF(0.2);
    band->setBrush(fill);
    band->setPen(Qt::NoPen);
    band->setName(familyName(f) + QObject::tr(" \u00b1 sd"));
    chart->addSeries(band);
    band->attachAxis(x);
    band->attachAxis(y);
    mean->setName(familyName(f));
    mean->setPen(seriesPen(familyColor(f), 2));
    mean->setPointsVisible(true);
    chart->addSeries(mean);
    mean->attachAxis(x);
    mean->attachAxis(y);
  }
  if (metric >= 0) {  // uniform-random routing, for scale
    const double random = MetricsView::metricValue(randomRoutingMetrics(rules), metric);
    auto* line = new QLineSeries;
    line->setName(QObject::tr("Random"));
    line->setPen(seriesPen(randomRoutingColor(), 1.5, Qt::DashLine));
    line->append(-0.4, random);
    line->append(static_cast<double>(routings.size()) - 0.6, random);
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
    lo = std::min(lo, random);
    hi = std::max(hi, random);
  }
  // Ticks at round steps from a round minimum (never below 0: metrics and errors are not
  // negative), at least 2% of the values apart, each label distinct (as many decimals as the step).
  const double span = std::max({hi - lo, 0.02 * std::max(std::abs(hi), std::abs(lo)), 1e-6});
  const double step = niceStep(span / 5.0);
  y->setTickType(QValueAxis::TicksDynamic);
  y->setTickAnchor(0.0);
  y->setTickInterval(step);
  const double middle = (lo + hi) / 2;
  y->setRange(std::max(0.0, std::floor((middle - span / 2) / step) * step), std::ceil((middle + span / 2) / step) * step);
  y->setLabelFormat(decimalsFormat(step));
  const QString what = metric < 0 ? QObject::tr("OoD %1").arg(unitOf(t)) : MetricsView::metricNames()[metric];
  chart->setTitle(QObject::tr("%1: %2 %3, R = %4").arg(what, QString::fromStdString(toString(s)).toUpper(),
                                                        t == TaskKind::Classification ? QObject::tr("classification")
                                                                                      : QObject::tr("regression"))
                      .arg(rules));
  chart->legend()->setVisible(metric == 2);
  styleChart(chart);
  return view(chart);
}

QWidget* routingFigure(const SweepReport& r) {
  if (!hasRoutingVariants(r))
    return new QLabel(QObject::tr("This sweep has no routing axis: add \"routing\": [{}, {\"balance_loss\": 0.01}, ...] "
                                  "to its grid to compare routing interventions."));
  std::vector<std::string> routings{""};
  std::set<std::tuple<int, int, int>> groups;  // (setting, task, R)
  for (const ReportRow& row : r.rows) {
    if (row.family != Family::Modular && row.family != Family::ModularOp) continue;
    if (std::find(routings.begin(), routings.end(), row.routing) == routings.end()) routings.push_back(row.routing);
    groups.insert({int(row.setting), int(row.task), row.rules});
  }
  std::vector<QChartView*> charts;
  for (const auto& [s, t, rules] : groups)
    for (int metric : {2, 1, 4, -1}) charts.push_back(routingPanel(r, Setting(s), TaskKind(t), rules, metric, routings));
  return grid(QObject::tr("Routing interventions: specialisation and OoD performance (mean over seeds, band +-1 sd; "
                          "lower is better)"),
              charts, 2, QSize(1500, 1000 * static_cast<int>(groups.size()) + 80),
              QObject::tr("Each point averages the model seeds (and data seeds) of one routing entry; routing.csv has "
                          "the numbers and whether a mean lies outside the paper routing's seed range. bal: load balance; "
                          "Hs: per-sample entropy penalty; Hb: batch-mean entropy reward; Random: uniform routing."));
}

}  // namespace

const std::vector<std::pair<SweepFigure, QString>>& sweepFigures() {
  static const std::vector<std::pair<SweepFigure, QString>> all{
      {SweepFigure::Ranking, "fig3-ranking"},
      {SweepFigure::Performance, "fig4-performance"},
      {SweepFigure::MetricsVsRules, "fig5-metrics-vs-rules"},
      {SweepFigure::MetricsPerModel, "fig6-metrics-per-model"},
      {SweepFigure::TrainingCurves, "fig7-training-curves"},
      {SweepFigure::Routing, "fig8-routing"},
  };
  return all;
}

QWidget* makeSweepFigure(const SweepReport& r, SweepFigure figure) {
  switch (figure) {
    case SweepFigure::Ranking:
      return grid(QObject::tr("Fig. 3: which family wins (ID, last checkpoint, averaged over model seeds)"),
                  {rankingPie(r), modularVsMonolithic(r)}, 2, QSize(1200, 560));
    case SweepFigure::Performance: {
      // The settings and tasks the sweep trained: ID and OoD side by side, two pairs a row.
      std::vector<QChartView*> charts;
      for (Setting s : {Setting::Mlp, Setting::Mha, Setting::Rnn})
        for (TaskKind t : {TaskKind::Classification, TaskKind::Regression})
          for (bool ood : {false, true})
            if (QChartView* panel = performancePanel(r, s, t, ood)) charts.push_back(panel);
      if (charts.empty()) return new QLabel(QObject::tr("No runs of the paper's families in this sweep."));
      charts.front()->chart()->legend()->setVisible(true);
      const int columns = charts.size() <= 2 ? static_cast<int>(charts.size()) : 4;
      const int rows = (static_cast<int>(charts.size()) + columns - 1) / columns;
      return grid(QObject::tr("Fig. 4: performance vs number of rules (lower is better)"), charts, columns,
                  QSize(std::max(900, 430 * columns), 140 + 400 * rows),
                  QObject::tr("Each point averages sizes, data seeds, model seeds and (MHA) search versions. "
                              "MHA/RNN OoD: the longest evaluation length with inputs x2."));
    }
    case SweepFigure::MetricsVsRules: {
      std::vector<QChartView*> charts;
      for (int m = 0; m < 5; ++m) charts.push_back(metricVsRules(r, m));
      return grid(QObject::tr("Fig. 5: collapse and specialisation vs number of rules (lower is better)"), charts, 3,
                  QSize(1700, 1000), QObject::tr("Random: the analytic values of uniform-random routing."));
    }
    case SweepFigure::MetricsPerModel: {
      std::vector<QChartView*> charts;
      for (int m = 0; m < 5; ++m) charts.push_back(metricPerModel(r, m));
      return grid(QObject::tr("Fig. 6: collapse and specialisation per model (averaged over rules)"), charts, 5,
                  QSize(1800, 520));
    }
    case SweepFigure::TrainingCurves:
      return grid(QObject::tr("Fig. 7: training curves (ID performance averaged over settings, tasks, sizes and rules)"),
                  {trainingCurves(r)}, 1, QSize(1100, 650),
                  QObject::tr("As in the paper, classification error (%) and regression L1 are averaged together. "
                              "Each run is placed on the fraction of its own training steps, so runs of different "
                              "lengths (MLP vs MHA/RNN) average at the same progress."));
    case SweepFigure::Routing:
      return routingFigure(r);
  }
  return nullptr;
}

QStringList renderSweepFigures(const SweepReport& r, const QString& directory, double scale, QStringList* failures) {
  QDir().mkpath(directory);
  QStringList files;
  for (const auto& [figure, stem] : sweepFigures()) {
    if (figure == SweepFigure::Routing && !hasRoutingVariants(r)) continue;
    std::unique_ptr<QWidget> w(makeSweepFigure(r, figure));
    w->show();
    const QString png = QDir(directory).filePath(stem + ".png"), svg = QDir(directory).filePath(stem + ".svg");
    QString error;
    if (exportPng(w.get(), png, scale, &error)) files << png;
    else if (failures) *failures << error;
    if (exportSvg(w.get(), svg, stem, &error)) files << svg;
    else if (failures) *failures << error;
  }
  return files;
}

}  // namespace modlab::ui
