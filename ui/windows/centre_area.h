// The main window's centre: the loss and error chart above the activation heatmaps with their
// timeline, split while both fit and tabbed when they do not; each figure with its export menu.
#pragma once

#include <cstddef>

#include "ui/style/adaptive_split.h"

namespace modlab::ui {

class HeatmapPanel;
class LossChart;
class Timeline;

class CentreArea : public AdaptiveSplit {
  Q_OBJECT
public:
  explicit CentreArea(QWidget* parent = nullptr);
  LossChart* loss() const { return loss_; }
  HeatmapPanel* heatmaps() const { return heatmaps_; }
  Timeline* timeline() const { return timeline_; }
  QWidget* heatmapArea() const { return heatmapArea_; }
  // The heatmaps as large as their width allows (square cells), the loss chart the rest.
  void balance();
  // The heatmaps of evaluations 0 .. count-1: one PNG each (frame-0001.png ...; returns how
  // many were written), or one animated WebP. The caller shows its evaluation again after.
  int exportHeatmapFrames(std::size_t count, const QString& directory);
  bool exportHeatmapAnimation(std::size_t count, const QString& webpPath, int millisecondsPerFrame, double scale,
                              QString* error);

private:
  LossChart* loss_;
  HeatmapPanel* heatmaps_;
  Timeline* timeline_;
  QWidget* heatmapArea_;
};

}  // namespace modlab::ui
