// Loss and error curves, live, one colour per family, in two panels: training loss (the
// smoothed curve over the faint raw one) and evaluation (ID dashed, OoD dotted with dots),
// side by side when wide, stacked when narrow. The key under the panels names the families
// and the line styles; clicking an entry hides or shows its curves. Hover shows the nearest
// point's family, series, step and value; the timeline's step is a cursor; a click asks the
// timeline to jump there. Log-y, smoothing, zoom and pan that stop following, one click back.
#pragma once

#include <QWidget>
#include <map>
#include <set>

#include "ui/data/run_data.h"

class QChart;
class QChartView;
class QComboBox;
class QCheckBox;
class QLabel;
class QLineSeries;
class QAbstractAxis;
class QSlider;
class QToolButton;
class QXYSeries;
class QTabBar;

namespace modlab::ui {

class ChartFigure;
class ChartView;

class LossChart : public QWidget {
  Q_OBJECT
public:
  enum class Kind { Train, Raw, Id, Ood };
  explicit LossChart(QWidget* parent = nullptr);
  void setData(const RunData* data);  // not owned
  void refresh();                     // redraw from the data (call after it changed)
  // The theme's colours and fonts on what is shown now: series, zoom and hidden entries kept.
  void restyle();
  void rebuild();                     // the families changed (a new run)

  ChartView* chartView() const { return trainView_; }  // the training panel
  ChartView* evalView() const { return evalView_; }    // the evaluation panel
  ChartFigure* figure() const { return figure_; }      // panels and key: what exports show
  bool following() const { return follow_; }
  void setFollowing(bool follow);
  void setLogScale(bool log);
  bool logScale() const { return log_; }
  void setSmoothing(double smoothing);  // 0 = off, up to 0.99
  double smoothing() const { return smoothing_; }
  void setErrorView(bool error);        // evaluation error instead of loss (no training panel)
  bool errorView() const { return errorView_; }
  void setCursorStep(double step);      // NaN hides the step cursor
  bool isShown(const std::string& variant, Kind kind) const;
  QLineSeries* series(const std::string& variant, Kind kind) const;
  QString toCsv() const;  // the data behind the chart, tidy
  // Side by side, stacked, or one at a time (a tab bar) when neither fits.
  enum class Arrangement { SideBySide, Stacked, OneAtATime };
  Arrangement arrangement() const { return arrangement_; }
  QSize minimumSizeHint() const override;  // one panel: the window may always shrink to it

Q_SIGNALS:
  void followingChanged(bool follow);
  void logScaleChanged(bool log);
  void stepClicked(double step);


protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void resizeEvent(QResizeEvent* e) override;

private:
  struct FamilySeries {
    QLineSeries* raw = nullptr;
    QLineSeries* smooth = nullptr;
    QLineSeries* id = nullptr;
    QLineSeries* ood = nullptr;
  };
  void attachAxes();
  void fitAxes();
  void fitMarkers();
  void buildLegend();
  void applyVisibility();
  void arrangePanels();
  QString describe(QXYSeries* series, const QPointF& point) const;

  const RunData* data_ = nullptr;
  QChart *trainChart_, *evalChart_;
  ChartView *trainView_, *evalView_;
  ChartFigure* figure_;
  QComboBox* quantity_;
  QCheckBox* logBox_;
  QSlider* smoothingSlider_;
  QLabel* smoothingLabel_;
  QToolButton* followButton_;
  QTabBar* panelTabs_;
  QLayout* controls_;
  Arrangement arrangement_ = Arrangement::SideBySide;
  QAbstractAxis *trainX_ = nullptr, *trainY_ = nullptr, *evalX_ = nullptr, *evalY_ = nullptr;
  std::map<std::string, FamilySeries> series_;  // by variant name
  std::set<std::string> hiddenFamilies_;
  std::set<Kind> hiddenKinds_;
  bool follow_ = true, log_ = true, errorView_ = false;
  double smoothing_ = 0.9;
  double cursorStep_;
};

}  // namespace modlab::ui
