// Activation heatmaps: p(module | rule) for one modular family, rules as rows and
// modules as columns, viridis on [0, 1] with a colour bar; hover shows the value; the
// modules can be reordered by the Hungarian matching so that perfect specialisation
// is a diagonal, with the Alignment score shown.
#pragma once

#include <QWidget>
#include <vector>

#include "ui/run_data.h"

class QCheckBox;
class QHBoxLayout;
class QLabel;

namespace modlab::ui {

class HeatmapWidget : public QWidget {
  Q_OBJECT
public:
  explicit HeatmapWidget(Family family, QWidget* parent = nullptr);
  Family family() const { return family_; }
  // rows p(module | rule), R x R row-major; step of the evaluation it comes from.
  void setMatrix(int rules, std::vector<double> moduleGivenRule, std::int64_t step);
  void clear();
  void setHungarianOrder(bool on);
  bool hungarianOrder() const { return hungarian_; }
  double alignmentScore() const { return alignment_; }
  int rules() const { return rules_; }
  // The value drawn at (row, column) of the current order.
  double displayedValue(int row, int column) const;
  QString toCsv() const;
  QSize minimumSizeHint() const override { return {220, 220}; }
  QSize sizeHint() const override { return {300, 300}; }

protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;

private:
  QRect gridRect() const;
  Family family_;
  int rules_ = 0;
  std::vector<double> values_;  // p(module | rule)
  std::vector<int> order_;      // column c shows module order_[c]
  std::int64_t step_ = -1;
  bool hungarian_ = false;
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

private:
  const RunData* data_ = nullptr;
  QHBoxLayout* row_;
  QCheckBox* hungarian_;
  QLabel* empty_;
  std::vector<HeatmapWidget*> heatmaps_;
};

}  // namespace modlab::ui
