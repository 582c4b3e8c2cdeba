// A figure: a wrapping title, one or more chart views, a wrapping key and an optional
// caption, as one widget. Exports take the figure (never the controls around it), so
// every PNG/SVG carries its title and key. ChartView adds what every chart here needs:
// hover values (the nearest point), click-to-jump, a step cursor, zoom and pan, and
// axis ticks refitted to the space after every resize.
#pragma once

#include <vector>

#include <QPointer>
#include <QtCharts/QChartView>
#include <functional>

class QBoxLayout;
class QGraphicsEllipseItem;
class QGraphicsLineItem;
class QGraphicsSimpleTextItem;
class QLabel;
class QXYSeries;

namespace modlab::ui {

class ChartLegend;

class ChartView : public QChartView {
  Q_OBJECT
public:
  explicit ChartView(QChart* chart, QWidget* parent = nullptr);
  void setZoomable(bool on);  // wheel, rubber band and middle-drag pan
  // Zoom and pan stay inside these ranges of the axes (the whole data's view: no negative
  // steps, no empty view); x and y are the horizontal and vertical axes' values.
  void setLimits(double xLo, double xHi, double yLo, double yHi);
  void setLimitsFromAxes();  // the axes' ranges now
  void extendXLimit(double xHi);
  // The horizontal axis shows [lo, hi] (kept in the limits); no xRangeChanged.
  void setXRange(double lo, double hi);
  // Describes a hovered point; empty: the series is not reported.
  void setDescriber(std::function<QString(QXYSeries*, const QPointF&)> describe) { describe_ = std::move(describe); }
  // Describes what lies under a position in the chart's coordinates where no point is near
  // (bars); empty: nothing to report.
  void setAreaDescriber(std::function<QString(const QPointF&)> describe) { describeArea_ = std::move(describe); }
  QString hoverText() const { return hoverText_; }
  // Hover at a position in view coordinates (what a mouse move does).
  void hoverAt(const QPoint& position);
  void setCursorX(double x);  // NaN hides the step cursor
  // Vertical marks at these x values, each with a short label at its top (e.g. a coefficient
  // changed while training); they follow the axes like the cursor.
  void setMarks(const std::vector<std::pair<double, QString>>& marks);
  int visibleMarks() const;
  // The view's minimum height in lines of the current font (axes, titles and plot).
  void setMinimumLines(double lines, int extraPixels = 12);
  // At least `factor` times the width of `sample` in the current font (axis labels that must fit).
  void setMinimumWidthFor(const QString& sample, double factor);
  double cursorX() const { return cursorX_; }
  bool cursorVisible() const;
  QPointF cursorLine() const;  // the cursor's x in scene coordinates (top, as y)

Q_SIGNALS:
  void userMovedView();
  void xRangeChanged(double lo, double hi);  // the user zoomed or panned (for linked panels)
  void clickedAt(double x);  // a left click (not a drag) at this value of the x axis

protected:
  void wheelEvent(QWheelEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void leaveEvent(QEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;
  void changeEvent(QEvent* e) override;

private:
  void placeCursor();
  void keepInLimits();  // after a zoom or pan by the user; emits xRangeChanged
  void fitMinimumSize();  // room for the axes' labels and titles in the current font
  bool zoomable_ = false, panning_ = false;
  bool limited_ = false;
  double xLo_ = 0, xHi_ = 0, yLo_ = 0, yHi_ = 0;
  QPointF last_, pressAt_;
  std::function<QString(QXYSeries*, const QPointF&)> describe_;
  std::function<QString(const QPointF&)> describeArea_;
  QString hoverText_;
  double cursorX_;
  double minimumLines_ = 7.0;
  int extraPixels_ = 12;
  QString widthSample_;
  double widthFactor_ = 0.0;
  QGraphicsLineItem* cursor_ = nullptr;
  std::vector<std::pair<double, QString>> marks_;
  std::vector<std::pair<QGraphicsLineItem*, QGraphicsSimpleTextItem*>> markItems_;
  void placeMarks();
  QGraphicsEllipseItem* highlight_ = nullptr;
};

class ChartFigure : public QWidget {
  Q_OBJECT
public:
  explicit ChartFigure(QWidget* parent = nullptr);
  void setTitle(const QString& title);
  QString title() const;
  QLabel* titleLabel() const { return title_; }
  void setCaption(const QString& caption);  // small text under the key; empty hides it
  QLabel* captionLabel() const { return caption_; }
  ChartLegend* legend() const { return legend_; }
  QBoxLayout* body() const { return body_; }

private:
  QLabel* title_;
  QBoxLayout* body_;
  ChartLegend* legend_;
  QLabel* caption_;
};

}  // namespace modlab::ui
