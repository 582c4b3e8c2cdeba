// The five collapse and specialisation metrics of the modular families: grouped bars
// for the current evaluation, with the analytic values of random routing and of total
// collapse as reference lines, and the history of one metric over training.
#pragma once

#include <QWidget>
#include <array>

#include "ui/run_data.h"

class QBarSeries;
class QChart;
class QChartView;
class QComboBox;
class QLabel;

namespace modlab::ui {

class MetricsView : public QWidget {
  Q_OBJECT
public:
  explicit MetricsView(QWidget* parent = nullptr);
  void setData(const RunData* data);
  void rebuild();
  void refresh();                          // the latest evaluation
  void showEvaluation(std::size_t index);  // a recorded evaluation
  QChartView* barsView() const { return barsView_; }
  QChartView* historyView() const { return historyView_; }
  QString toCsv() const;

  static const std::array<QString, 5>& metricNames();
  static const std::array<QString, 5>& shortMetricNames();  // axis labels
  static double metricValue(const SpecialisationMetrics& m, int index);

private:
  void drawBars(const EvaluationSnapshot* evaluation);
  void drawHistory();

  const RunData* data_ = nullptr;
  QChart* bars_;
  QChartView* barsView_;
  QChart* history_;
  QChartView* historyView_;
  QComboBox* metric_;
  QLabel* caption_;
};

}  // namespace modlab::ui
