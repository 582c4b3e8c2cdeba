// The routing interventions of a run (beyond the paper): the coefficients of a routed model
// (the experiment's Modular and Modular-op, which share its routing, or a named variant),
// changeable while training (recorded in the run with their step), and a chart of that
// model's loss parts with the moments the coefficients changed.
#pragma once

#include <QElapsedTimer>
#include <QWidget>

#include "ui/data/run_data.h"

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
  // An experiment key; `variant`: the named variant changed, "" the experiment's routing.
  void coefficientChanged(const QString& key, double value, const QString& variant);

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
  QComboBox* model_;  // the routed models; data: "" for the families, else the variant's name
  std::string shownModel() const;
  QChart* chart_;
  QChartView* view_;
  std::int64_t drawnStep_ = -1;
  std::size_t drawnChanges_ = 0;
  QString drawnModel_;
  QElapsedTimer sinceDrawn_;  // the chart redraws at most twice a second while training
};

}  // namespace modlab::ui
