// The routing interventions of a run (beyond the paper): the coefficients of the Modular and
// Modular-op routers, changeable while training (recorded in the run with their step), and a
// chart of the loss's parts with the moments the coefficients changed.
#pragma once

#include <QElapsedTimer>
#include <QWidget>

#include "ui/run_data.h"

class QChart;
class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;

namespace modlab::ui {

class RoutingPanel : public QWidget {
  Q_OBJECT
public:
  explicit RoutingPanel(QWidget* parent = nullptr);
  // Shows `data` (its routing, parts and changes); `live`: the coefficients can be changed.
  void showData(const RunData& data, bool live);
  QChartView* chartView() const { return view_; }

Q_SIGNALS:
  void coefficientChanged(const QString& key, double value);  // an experiment key

private:
  struct Row {
    QString key;
    QDoubleSpinBox* box;
  };
  void redrawChart(const RunData& data, bool live);
  std::vector<Row> rows_;
  QLabel* mode_;
  QLabel* note_;
  QLabel* key_;
  QComboBox* family_;
  QChart* chart_;
  QChartView* view_;
  std::int64_t drawnStep_ = -1;
  std::size_t drawnChanges_ = 0;
  int drawnFamily_ = -1;
  QElapsedTimer sinceDrawn_;  // the chart redraws at most twice a second while training
};

}  // namespace modlab::ui
