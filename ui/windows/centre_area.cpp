#include "ui/windows/centre_area.h"

#include <QDir>
#include <QImage>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>

#include <QtCharts/QChartView>

#include "ui/charts/chart_figure.h"
#include "ui/charts/loss_chart.h"
#include "ui/export/animation_export.h"
#include "ui/export/chart_export.h"
#include "ui/heatmaps/heatmap_widget.h"
#include "ui/panels/timeline.h"
#include "ui/style/appearance.h"

namespace modlab::ui {

CentreArea::CentreArea(QWidget* parent)
    : AdaptiveSplit(parent), loss_(new LossChart), heatmaps_(new HeatmapPanel), timeline_(new Timeline), heatmapArea_(new QWidget) {
  auto* heatmapLayout = new QVBoxLayout(heatmapArea_);
  heatmapLayout->setContentsMargins(0, 0, 0, 0);
  heatmapLayout->setSpacing(0);
  heatmapLayout->addWidget(heatmaps_, 1);
  heatmapLayout->addWidget(timeline_);
  setObjectName("Centre");
  setScrollsWhenTabbed(true);  // 1280x720 at scale 2.5: the loss page scrolls (issue 11)
  addPage(loss_, tr("Loss and error"), 470);
  addPage(heatmapArea_, tr("Heatmaps"), 360);  // short: the page has its own heading
  // Exports take the figure (panels, title, key), never the controls around it.
  const auto lossCsv = [this] { return loss_->toCsv(); };
  installExportMenu(loss_->chartView(), loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(loss_->evalView(), loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(heatmaps_, heatmaps_->figure(), "heatmaps", [this] { return heatmaps_->toCsv(); });
}

void CentreArea::balance() {
  CentreArea* centre = this;
  if (centre->isTabbed() || heatmaps_->heatmaps().empty()) return;
  const int total = centre->height();
  const int want = heatmaps_->idealHeight(heatmaps_->width()) +
                   std::max(heatmapArea_->height() - heatmaps_->height(), timeline_->minimumSizeHint().height());
  // Up to what the loss chart can spare beyond its own minimum (small screens), at least half.
  const int spare = std::max(static_cast<int>(total * 0.5), total - loss_->minimumSizeHint().height() - 8);
  const int heat = std::clamp(want, std::min(heatmapArea_->minimumSizeHint().height(), spare), spare);
  const QList<int> now = centre->splitter()->sizes();
  if (now.size() == 2 && std::abs(now[1] - heat) <= 4) return;
  centre->setSizes({total - heat, heat});
}

int CentreArea::exportHeatmapFrames(std::size_t count, const QString& directory) {
  const ExportAppearance onWhite;  // once for every frame (each exportPng's own is then a no-op)
  int written = 0;
  QDir().mkpath(directory);
  for (std::size_t i = 0; i < count; ++i) {
    heatmaps_->showEvaluation(i);
    if (exportPng(heatmaps_->figure(), QDir(directory).filePath(QString("frame-%1.png").arg(i + 1, 4, 10, QChar('0'))), 1.0)) ++written;
  }
  return written;
}

bool CentreArea::exportHeatmapAnimation(std::size_t count, const QString& webpPath, int millisecondsPerFrame, double scale,
                                        QString* error) {
  const ExportAppearance onWhite;  // the animation is an export like the others
  std::vector<QImage> frames;
  for (std::size_t i = 0; i < count; ++i) {
    heatmaps_->showEvaluation(i);
    QImage frame = heatmaps_->renderFigure(scale);
    frame.setDevicePixelRatio(1.0);  // the WebP has the rendered pixels, scale times the screen's
    frames.push_back(frame);
  }
  return exportAnimatedWebp(frames, millisecondsPerFrame, webpPath, error);
}

}  // namespace modlab::ui
