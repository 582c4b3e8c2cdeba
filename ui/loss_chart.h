// Loss and error curves, live: one colour per family; train loss (raw, faint, behind an
// EMA), ID and OoD evaluation; log-y; hover values; zoom and pan that stop following,
// with one click back to following the latest step.
#pragma once

#include <QWidget>
#include <map>

#include "ui/run_data.h"

class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineSeries;
class QAbstractAxis;
class QSlider;
class QToolButton;

namespace modlab::ui {

class ChartView;

class LossChart : public QWidget {
  Q_OBJECT
public:
  explicit LossChart(QWidget* parent = nullptr);
  void setData(const RunData* data);  // not owned
  void refresh();                     // redraw from the data (call after it changed)
  void rebuild();                     // the families changed (a new run)

  QChartView* chartView() const;
  bool following() const { return follow_; }
  void setFollowing(bool follow);
  void setLogScale(bool log);
  bool logScale() const { return log_; }
  void setSmoothing(double smoothing);  // 0 = off, up to 0.99
  double smoothing() const { return smoothing_; }
  QString toCsv() const;  // the data behind the chart, tidy

Q_SIGNALS:
  void followingChanged(bool follow);
  void logScaleChanged(bool log);

private:
  struct FamilySeries {
    QLineSeries* raw = nullptr;
    QLineSeries* smooth = nullptr;
    QLineSeries* id = nullptr;
    QLineSeries* ood = nullptr;
  };
  void attachAxes();
  void fitAxes();
  void onHover(Family family, const QString& what, const QPointF& point, bool state);

  const RunData* data_ = nullptr;
  QChart* chart_;
  ChartView* view_;
  QComboBox* quantity_;
  QCheckBox *showTrain_, *showId_, *showOod_, *logBox_;
  QSlider* smoothingSlider_;
  QLabel* smoothingLabel_;
  QToolButton* followButton_;
  QAbstractAxis* xAxis_ = nullptr;
  QAbstractAxis* yAxis_ = nullptr;
  std::map<Family, FamilySeries> series_;
  bool follow_ = true, log_ = true;
  double smoothing_ = 0.9;
};

}  // namespace modlab::ui
