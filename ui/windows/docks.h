// The main window's docks, one class each, each building itself around its panel: the
// experiment (left), the guide of a guided demo and the routing interventions (tabbed with
// it), the metrics (right).
#pragma once

#include <QDockWidget>

class QTextBrowser;

namespace modlab::ui {

class ExperimentPanel;
class MetricsView;
class RoutingPanel;

class ExperimentDock : public QDockWidget {
  Q_OBJECT
public:
  explicit ExperimentDock(QWidget* parent = nullptr);
  ExperimentPanel* panel() const { return panel_; }

private:
  ExperimentPanel* panel_;
};

// Scrolls rather than squeezes when a small screen at a large scale has less height than the
// charts need to keep their labels whole; never narrower than the charts need.
class MetricsDock : public QDockWidget {
  Q_OBJECT
public:
  explicit MetricsDock(QWidget* parent = nullptr);
  MetricsView* view() const { return view_; }

private:
  MetricsView* view_;
};

class GuideDock : public QDockWidget {
  Q_OBJECT
public:
  explicit GuideDock(QWidget* parent = nullptr);
  QTextBrowser* browser() const { return browser_; }

private:
  QTextBrowser* browser_;
};

// Routing interventions (beyond the paper): coefficients changed live, the loss's parts.
// Scrolls rather than forcing the window taller.
class RoutingDock : public QDockWidget {
  Q_OBJECT
public:
  explicit RoutingDock(QWidget* parent = nullptr);
  RoutingPanel* panel() const { return panel_; }

private:
  RoutingPanel* panel_;
};

}  // namespace modlab::ui
