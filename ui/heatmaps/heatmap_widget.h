// Activation heatmaps: p(module | rule) for one modular family, rules as rows and
// modules as columns, viridis on [0, 1] with a colour bar; hover shows the value; the
// modules can be reordered by the Hungarian matching so that perfect specialisation
// is a diagonal, with the Alignment score shown.
#pragma once

#include <QWidget>
#include <vector>

#include "ui/data/run_data.h"

class QCheckBox;
class QHBoxLayout;
class QLabel;

namespace modlab::ui {

class HeatmapWidget : public QWidget {
  Q_OBJECT
public:
  // One model of `data` (Variant::name): its name is the title, in its colour.
  HeatmapWidget(const RunData* data, std::string variant, QWidget* parent = nullptr);
  const std::string& variant() const { return variant_; }
  // rows p(module | rule), R x R row-major; step of the evaluation it comes from.
  void setMatrix(int rules, std::vector<double> moduleGivenRule, std::int64_t step);
  void clear();
  void setHungarianOrder(bool on);
  bool hungarianOrder() const { return hungarian_; }
  double alignmentScore() const { return alignment_; }
  int rules() const { return rules_; }
  std::int64_t step() const { return step_; }
  // The value drawn at (row, column) of the current order.
  double displayedValue(int row, int column) const;
  QString toCsv() const;
  QSize minimumSizeHint() const override;
  QSize sizeHint() const override;
  // Paints the heatmap (title, subtitle, cells as vector rectangles, axes, colour bar) into
  // `area` of any painter: the screen, a PNG at any scale, or an SVG.
  // `standalone`: an export, where no checkbox says the order, so the subtitle does.
  void paintInto(QPainter& p, const QRect& area, bool standalone = false) const;
  QRect gridRectIn(const QRect& area, bool standalone = false) const;  // where the cells go
  QStringList subtitleLines(int width, bool standalone = false) const;  // wrapped, never elided
  int gridSide() const { return gridRectIn(rect()).width(); }
  // Small multiples share their axes: rule labels on the first, the colour bar on the last.
  void setSharedAxes(bool ruleAxis, bool colourBar);

protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;

private:
  QRect gridRect() const { return gridRectIn(rect()); }
  const RunData* data_;
  std::string variant_;
  QString title_;
  int rules_ = 0;
  std::vector<double> values_;  // p(module | rule)
  std::vector<int> order_;      // column c shows module order_[c]
  std::int64_t step_ = -1;
  bool hungarian_ = false;
  bool ruleAxis_ = true, colourBar_ = true;
  double alignment_ = 0.0;
};

// One heatmap per modular family of the run, side by side.
class HeatmapPanel : public QWidget {
  Q_OBJECT
public:
  explicit HeatmapPanel(QWidget* parent = nullptr);
  void setData(const RunData* data);
  void rebuild();
  void refresh();                         // the latest evaluation
  void showEvaluation(std::size_t index);  // a recorded evaluation
  const std::vector<HeatmapWidget*>& heatmaps() const { return heatmaps_; }
  void setHungarianOrder(bool on);
  QString toCsv() const;
  // The heatmaps alone, side by side at their on-screen size without controls or empty
  // space: what PNG, SVG and WebP exports show.
  QWidget* figure();
  // The height that shows the heatmaps as large as `width` allows (no empty space below).
  int idealHeight(int width) const;
  QImage renderFigure(double scale);

protected:
  void resizeEvent(QResizeEvent* e) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  void sizeFigure();
  const RunData* data_ = nullptr;
  QWidget* figure_ = nullptr;
  QHBoxLayout* row_;
  QCheckBox* hungarian_;
  QLabel* empty_;
  QLabel* title_;
  void updateTitle();
  std::vector<HeatmapWidget*> heatmaps_;
};

}  // namespace modlab::ui
