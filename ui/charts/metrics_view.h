// The five collapse and specialisation metrics of the modular families: horizontal bars
// for the current evaluation (metric names in full where they fit, abbreviated by a fixed
// rule where they do not, never elided), with the analytic values of random routing and of
// total collapse for the run's R as reference lines, and the history of one metric over
// training with the timeline's step as a cursor.
#pragma once

#include <QWidget>
#include <array>
#include <set>

#include "ui/data/run_data.h"

class QChart;
class QComboBox;
class QLabel;
class QSplitter;
class QTabWidget;

namespace modlab::ui {

class ChartFigure;
class ChartView;

class MetricsView : public QWidget {
  Q_OBJECT
public:
  explicit MetricsView(QWidget* parent = nullptr);
  void setData(const RunData* data);
  void rebuild();
  void refresh();                          // the latest evaluation
  void showEvaluation(std::size_t index);  // a recorded evaluation
  void restyle();                          // the theme's colours, on the evaluation shown now
  ChartView* barsView() const { return barsView_; }
  ChartView* historyView() const { return historyView_; }
  ChartFigure* barsFigure() const { return barsFigure_; }
  ChartFigure* historyFigure() const { return historyFigure_; }
  QComboBox* historyMetric() const { return metric_; }
  QString toCsv() const;      // the history: every evaluation, and the references drawn
  QString barsCsv() const;    // the bars: the evaluation shown, and the references drawn
  void setCursorStep(double step);  // NaN hides the cursor on the history chart
  bool usesShortNames() const { return shortNames_; }
  // Too little height for both charts (small screens, large scales): one tab each.
  bool isTabbed() const;
  // Hover on the bars: family, metric and value of the bar under a position in the bars
  // chart's coordinates, with the run's random-routing and collapse values (empty: no bar).
  QString describeBarAt(const QPointF& chartPosition) const;
  // The centre of a family's bar for a metric (0..4, metricNames' order) in the bars view's
  // coordinates; (-1, -1) when that bar is not drawn.
  QPoint barCentre(const std::string& variant, int metric) const;

  static const std::array<QString, 5>& metricNames();
  static const std::array<QString, 5>& shortMetricNames();  // the rule: initials of a two-part name, else the first syllables
  static double metricValue(const SpecialisationMetrics& m, int index);

Q_SIGNALS:
  void stepClicked(double step);

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  void drawBars(const EvaluationSnapshot* evaluation);
  void drawHistory();
  void buildLegend();
  bool wantShortNames() const;

  const RunData* data_ = nullptr;
  long shownIndex_ = -1;  // -1: the latest evaluation
  QChart* bars_;
  ChartView* barsView_;
  ChartFigure* barsFigure_;
  QChart* history_;
  ChartView* historyView_;
  ChartFigure* historyFigure_;
  QComboBox* metric_;
  QLabel* caption_;
  class AdaptiveSplit* split_;
  QWidget* historyBox_;
  bool shortNames_ = false;
  std::set<QString> hidden_;  // legend entries switched off
  double cursorStep_;
};

}  // namespace modlab::ui
