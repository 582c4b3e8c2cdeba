// The main window: experiment panel and metrics as docks, the loss chart and activation
// heatmaps in the centre, run controls in a toolbar and the Run menu, status bar.
#pragma once

#include <QMainWindow>
#include <map>

#include "ui/training_controller.h"

class QAction;
class QLabel;
class QMenu;

namespace modlab::ui {

class ExperimentPanel;
class HeatmapPanel;
class LossChart;
class MetricsView;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  TrainingController& controller() { return controller_; }
  ExperimentPanel* experimentPanel() const { return panel_; }
  LossChart* lossChart() const { return loss_; }
  HeatmapPanel* heatmaps() const { return heatmaps_; }
  MetricsView* metrics() const { return metrics_; }

  bool startTraining();  // the panel's experiment
  bool openRun(const QString& directory);
  bool openExperiment(const QString& path);
  bool saveExperiment(const QString& path);
  bool exportDashboard(const QString& path, double scale = 1.0);

protected:
  void closeEvent(QCloseEvent* e) override;

private:
  void buildActions();
  void buildMenus();
  void onRunReset();
  void onDataUpdated();
  void onEvaluation();
  void updateActions();
  void updateStatus();
  void addRecent(const QString& key, const QString& path);
  void rebuildRecentMenu();
  void showShortcuts();
  void showAbout();
  void restoreSettings();

  TrainingController controller_;
  ExperimentPanel* panel_;
  LossChart* loss_;
  HeatmapPanel* heatmaps_;
  MetricsView* metrics_;
  QByteArray defaultState_;
  QAction *start_, *pause_, *step_, *stop_, *reset_, *newSeed_;
  QAction *openExperiment_, *saveExperiment_, *openRun_, *exportDashboard_, *quit_, *logY_, *follow_, *hungarian_;
  QMenu* recentMenu_ = nullptr;
  QLabel *stepLabel_, *rateLabel_, *etaLabel_, *deviceLabel_, *sourceLabel_;
  std::map<Family, QLabel*> familyLabels_;
};

}  // namespace modlab::ui
