// The main window: experiment panel and metrics as docks, the loss chart and activation
// heatmaps in the centre, run controls in a toolbar and the Run menu, status bar.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <memory>

class QToolBar;

#include "ui/data/training_controller.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QMessageBox;
class QTextBrowser;

namespace modlab {
struct SweepReport;
}

namespace modlab::ui {

class CentreArea;
class PresentationMode;
class ExperimentDock;
class ExperimentPanel;
class GuideDock;
class FocusRing;
class MetricsDock;
class RunStatusBar;
class LiveShare;
class ShareDialog;
class HeatmapPanel;
class LossChart;
class MetricsView;
class Timeline;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  TrainingController& controller() { return controller_; }
  ExperimentPanel* experimentPanel() const { return panel_; }
  // A window that writes nothing to the settings when closed (headless exports, tests).
  void setKeepsSettings(bool keep) { keepsSettings_ = keep; }
  LossChart* lossChart() const { return loss_; }
  HeatmapPanel* heatmaps() const { return heatmaps_; }
  MetricsView* metrics() const { return metrics_; }

  bool startTraining();  // the panel's experiment
  bool openRun(const QString& directory);
  bool openExperiment(const QString& path);
  bool saveExperiment(const QString& path);
  bool exportDashboard(const QString& path, double scale = 1.0, QString* error = nullptr);
  // One PNG per evaluation of the heatmaps (frame-0001.png ...); returns the frames written.
  int exportHeatmapFrames(const QString& directory);
  bool exportHeatmapAnimation(const QString& webpPath, int millisecondsPerFrame = 400, double scale = 2.0);  // animated WebP
  Timeline* timeline() const { return timeline_; }
  QWidget* heatmapArea() const { return heatmapArea_; }
  RunStatusBar* runStatusBar() const { return status_; }
  QLabel* stepLabel() const;
  QLabel* messageLabel() const;
  QLabel* rateLabel() const;
  QLabel* etaLabel() const;
  QLabel* familiesLabel() const;
  QDockWidget* metricsDock() const;
  QDockWidget* experimentDock() const;
  // Asks before a running session is discarded (demos, presets); true: go ahead.
  bool confirmDiscard(const QString& what);
  void nextTheme();  // switches between light and dark, whatever the system's choice

  // Teaching: presentation mode (full screen, scaled, essentials only), themes, guided demos.
  void setPresentation(bool on);
  bool isPresenting() const;
  void setScale(double scale);  // 1.0 to 2.5
  // ThemeChoice; `remember`: saved as the next launch's (a choice made in the app, never a
  // one-off --theme on the command line).
  void setTheme(int theme, bool remember = true);
  bool startDemo(const QString& preset);
  QString guideText() const;
  void showCompareRuns();
  // The paper's figures of a sweep folder (aggregated on a worker thread, then shown).
  bool openSweep(const QString& directory);
  // File > Share live view: browsers watch this window's run (app/gui wires the server in).
  void setLiveShare(LiveShare* share);
  bool shareLiveView(QString* error = nullptr);  // starts sharing and shows the address and QR code
  ShareDialog* shareDialog() const { return shareDialog_; }
  QLabel* shareLabel() const { return shareLabel_; }
  FocusRing* focusRing() const { return focusRing_; }

protected:
  void closeEvent(QCloseEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;
  // Space pauses whatever has focus: number fields, which never take a space, do not keep it.
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  friend class MainActions;
  friend class PresentationMode;  // hides and brings back the window's parts  // builds the actions, menus, toolbar and recent menu into the window
  void onRunReset();
  void onDataUpdated();
  void onEvaluation();
  void updateActions();
  void restoreSettings();
  bool keepsSettings_ = true;
  void restyle();
  void showEvaluationAt(int index);

  TrainingController controller_;
  ExperimentPanel* panel_;
  LossChart* loss_;
  HeatmapPanel* heatmaps_;
  MetricsView* metrics_;
  Timeline* timeline_;
  QWidget* heatmapArea_;
  ExperimentDock* experimentDock_;
  MetricsDock* metricsDock_;
  GuideDock* guideDock_;
  QTextBrowser* guide_;
  QDoubleSpinBox* learningRate_;
  QComboBox* speed_;
  QAction *presentation_, *largerText_, *smallerText_, *compare_, *exportFrames_, *playTimeline_;
  QActionGroup* themeGroup_ = nullptr;
  QToolBar* runBar_ = nullptr;
  std::unique_ptr<PresentationMode> presentationMode_;
  QByteArray defaultState_;
  QAction *start_, *pause_, *step_, *stop_, *reset_, *newSeed_;
  QAction *openExperiment_, *saveExperiment_, *openRun_, *exportDashboard_, *quit_, *logY_, *follow_, *hungarian_;
  QMenu* recentMenu_ = nullptr;
  RunStatusBar* status_ = nullptr;
  CentreArea* centre_ = nullptr;
  FocusRing* focusRing_ = nullptr;
  QPointer<QMessageBox> readWarnings_;  // what the last opened run could not read
  void showReadWarnings();
  LiveShare* share_ = nullptr;
  QAction* shareAction_ = nullptr;
  ShareDialog* shareDialog_ = nullptr;
  QLabel* shareLabel_ = nullptr;  // "Sharing: N viewers" in the status bar
  double metricsShare_ = 0.3;  // the metrics dock's share of the window width, kept when the window regrows
  bool regrowing_ = false;
};

}  // namespace modlab::ui
