#include "ui/windows/docks.h"

#include <QScrollArea>
#include <QTextBrowser>
#include <QtCharts/QChartView>

#include "ui/charts/chart_figure.h"
#include "ui/charts/metrics_view.h"
#include "ui/export/chart_export.h"
#include "ui/panels/experiment_panel.h"
#include "ui/panels/routing_panel.h"
#include "ui/style/adaptive_split.h"

namespace modlab::ui {

ExperimentDock::ExperimentDock(QWidget* parent) : QDockWidget(tr("Experiment"), parent), panel_(new ExperimentPanel) {
  setObjectName("ExperimentDock");
  setWidget(panel_);
}

MetricsDock::MetricsDock(QWidget* parent) : QDockWidget(tr("Metrics"), parent), view_(new MetricsView) {
  setObjectName("MetricsDock");
  setWidget(new VerticalScrollArea(view_));
  // Exports take the figure (panels, title, key), never the controls around it.
  // Each CSV holds what its chart shows: the bars one evaluation, the history every one.
  const auto bars = [this] { return view_->barsCsv(); };
  const auto history = [this] { return view_->toCsv(); };
  installExportMenu(view_->barsView(), view_->barsFigure(), "metrics", bars);
  installExportMenu(view_->barsFigure(), "metrics", bars);
  installExportMenu(view_->historyView(), view_->historyFigure(), "metrics-history", history);
  installExportMenu(view_->historyFigure(), "metrics-history", history);
}

GuideDock::GuideDock(QWidget* parent) : QDockWidget(tr("Guide"), parent), browser_(new QTextBrowser) {
  setObjectName("GuideDock");
  browser_->setOpenExternalLinks(true);
  setWidget(browser_);
}

RoutingDock::RoutingDock(QWidget* parent) : QDockWidget(tr("Routing"), parent), panel_(new RoutingPanel) {
  setObjectName("RoutingDock");
  auto* scroll = new QScrollArea;  // scrolls rather than forcing the window taller (issue 11)
  scroll->setWidget(panel_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setWidget(scroll);
}

}  // namespace modlab::ui
