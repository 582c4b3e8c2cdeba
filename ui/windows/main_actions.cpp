#include "ui/windows/main_actions.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <algorithm>

#include "modlab/experiment/experiment_config.h"
#include "ui/charts/chart_figure.h"
#include "ui/charts/loss_chart.h"
#include "ui/charts/metrics_view.h"
#include "ui/export/chart_export.h"
#include "ui/heatmaps/heatmap_widget.h"
#include "ui/panels/experiment_panel.h"
#include "ui/panels/timeline.h"
#include "ui/style/appearance.h"
#include "ui/windows/centre_area.h"
#include "ui/windows/docks.h"
#include "ui/windows/help_dialogs.h"
#include "ui/windows/import_reference_dialog.h"
#include "ui/windows/main_window.h"

namespace modlab::ui {

void MainActions::buildActions(MainWindow* w) {
  auto make = [w](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
    auto* a = new QAction(text, w);
    a->setShortcut(key);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    a->setStatusTip(tip);
    QObject::connect(a, &QAction::triggered, w, slot);
    w->addAction(a);
    return a;
  };
  // Starting anew while a session runs replaces it: asked first (a presenter's clicker sends F5).
  w->start_ = make(MainWindow::tr("&Start"), QKeySequence(Qt::Key_F5), MainWindow::tr("Train the experiment's families side by side"), [w] {
    if (w->confirmDiscard(MainWindow::tr("Start the experiment anew"))) w->startTraining();
  });
  w->pause_ = make(MainWindow::tr("&Pause"), QKeySequence(Qt::Key_Space), MainWindow::tr("Pause or resume training"), [w] { w->controller_.togglePause(); });
  w->step_ = make(MainWindow::tr("S&tep"), QKeySequence(Qt::Key_F10), MainWindow::tr("One training step (pauses first)"), [w] { w->controller_.step(); });
  w->stop_ = make(MainWindow::tr("St&op"), QKeySequence(Qt::SHIFT | Qt::Key_F5), MainWindow::tr("Stop training (the run stays on disk)"), [w] { w->controller_.stop(); });
  w->reset_ = make(MainWindow::tr("&Reset"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), MainWindow::tr("Start again with the same seeds: an identical rerun"), [w] {
    QString error;
    if (!w->confirmDiscard(MainWindow::tr("Reset (an identical rerun)"))) return;
    if (!w->controller_.reset(&error)) QMessageBox::warning(w, MainWindow::tr("Cannot reset"), error);
  });
  w->newSeed_ = make(MainWindow::tr("&New seed"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N), MainWindow::tr("Start again with the next model seed"), [w] {
    QString error;
    if (!w->confirmDiscard(MainWindow::tr("Start again with a new seed"))) return;
    if (!w->controller_.newSeed(&error)) QMessageBox::warning(w, MainWindow::tr("Cannot restart"), error);
    else w->panel_->setConfig(w->controller_.data().config());
  });
  w->openExperiment_ = make(MainWindow::tr("&Open experiment..."), QKeySequence::Open, MainWindow::tr("Load an experiment (JSON)"), [w] {
    const QString path = QFileDialog::getOpenFileName(w, MainWindow::tr("Open experiment"), lastFolder(), MainWindow::tr("Experiments (*.json)"));
    rememberFolder(path);
    if (!path.isEmpty()) w->openExperiment(path);
  });
  w->saveExperiment_ = make(MainWindow::tr("&Save experiment..."), QKeySequence::Save, MainWindow::tr("Save the experiment (JSON)"), [w] {
    const QString path = QFileDialog::getSaveFileName(w, MainWindow::tr("Save experiment"),
                                                      QDir(lastFolder()).filePath(QString::fromStdString(w->panel_->config().name) + ".json"),
                                                      MainWindow::tr("Experiments (*.json)"));
    rememberFolder(path);
    if (!path.isEmpty()) w->saveExperiment(path);
  });
  w->openRun_ = make(MainWindow::tr("Open &run folder..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), MainWindow::tr("Replay a recorded run"), [w] {
    const QString dir = QFileDialog::getExistingDirectory(w, MainWindow::tr("Open run folder"), TrainingController::runsRoot());
    if (!dir.isEmpty()) w->openRun(dir);
  });
  w->exportDashboard_ = make(MainWindow::tr("Export &dashboard..."), QKeySequence(Qt::CTRL | Qt::Key_E), MainWindow::tr("One PNG of the whole window"), [w] {
    const QString path = QFileDialog::getSaveFileName(w, MainWindow::tr("Export dashboard"), QDir(lastFolder()).filePath("dashboard.png"), "PNG (*.png)");
    rememberFolder(path);
    if (!path.isEmpty() && !w->exportDashboard(path, 2.0)) QMessageBox::warning(w, MainWindow::tr("Export failed"), MainWindow::tr("Cannot write %1").arg(path));
  });
  w->quit_ = make(MainWindow::tr("&Quit"), QKeySequence::Quit, MainWindow::tr("Quit Modularity Lab"), [w] { w->close(); });
  w->logY_ = make(MainWindow::tr("&Log scale"), QKeySequence(Qt::Key_L), MainWindow::tr("Logarithmic loss axis"), [w](bool on) { w->loss_->setLogScale(on); });
  w->logY_->setCheckable(true);
  w->logY_->setChecked(w->loss_->logScale());
  w->follow_ = make(MainWindow::tr("&Follow latest step"), QKeySequence(Qt::Key_F), MainWindow::tr("Keep the whole run in view"), [w](bool on) { w->loss_->setFollowing(on); });
  w->follow_->setCheckable(true);
  w->follow_->setChecked(true);
  w->hungarian_ = make(MainWindow::tr("&Hungarian order"), QKeySequence(Qt::Key_H), MainWindow::tr("Order modules by their matched rule"), [w](bool on) {
    w->heatmaps_->setHungarianOrder(on);
  });
  w->hungarian_->setCheckable(true);
  w->presentation_ = make(MainWindow::tr("&Presentation mode"), QKeySequence(Qt::Key_F11), MainWindow::tr("Full screen, large fonts, essential controls"),
                       [w](bool on) { w->setPresentation(on); });
  w->presentation_->setCheckable(true);
  w->largerText_ = make(MainWindow::tr("&Larger"), QKeySequence::ZoomIn, MainWindow::tr("Larger fonts and lines (for a projector)"),
                     [w] { w->setScale(appearance().scale + 0.25); });
  w->smallerText_ = make(MainWindow::tr("&Smaller"), QKeySequence::ZoomOut, MainWindow::tr("Smaller fonts and lines"), [w] { w->setScale(appearance().scale - 0.25); });
  w->compare_ = make(MainWindow::tr("&Compare runs..."), QKeySequence(Qt::CTRL | Qt::Key_M), MainWindow::tr("Overlay the curves of several runs"),
                  [w] { w->showCompareRuns(); });
  w->exportFrames_ = make(MainWindow::tr("Heatmap animation &frames..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
                       MainWindow::tr("One PNG of the heatmaps per evaluation step"), [w] {
                         const QString dir = QFileDialog::getExistingDirectory(w, MainWindow::tr("Export frames into"), lastFolder());
                         if (dir.isEmpty()) return;
                         rememberFolder(dir);
                         const int n = w->exportHeatmapFrames(dir);
                         w->statusBar()->showMessage(MainWindow::tr("%1 frames written to %2").arg(n).arg(dir), 5000);
                       });
  w->playTimeline_ = make(MainWindow::tr("&Play the timeline"), QKeySequence(Qt::Key_P), MainWindow::tr("Animate the heatmaps through training"),
                       [w] { w->timeline_->setPlaying(!w->timeline_->isPlaying()); });
  make(MainWindow::tr("Timeline: earlier"), QKeySequence(Qt::Key_BracketLeft), MainWindow::tr("Show the previous evaluation"), [w] {
    const int at = w->timeline_->position() < 0 ? static_cast<int>(w->controller_.data().evaluations().size()) - 1 : w->timeline_->position();
    w->timeline_->setPosition(std::max(0, at - 1));
  });
  make(MainWindow::tr("Timeline: later"), QKeySequence(Qt::Key_BracketRight), MainWindow::tr("Show the next evaluation"), [w] {
    if (w->timeline_->position() >= 0) w->timeline_->setPosition(w->timeline_->position() + 1);
  });
  make(MainWindow::tr("Learning rate"), QKeySequence(Qt::CTRL | Qt::Key_L), MainWindow::tr("Edit the learning rate while training"), [w] {
    w->learningRate_->setFocus();
    w->learningRate_->selectAll();
  });
  make(MainWindow::tr("Experiment panel"), QKeySequence(Qt::CTRL | Qt::Key_1), MainWindow::tr("Show and focus the experiment panel"), [w] {
    w->experimentDock_->show();
    w->experimentDock_->raise();
    w->panel_->setFocus();
  });
  // Where the centre is tabbed (small screens, presentation): each view one key away.
  make(MainWindow::tr("Loss and error"), QKeySequence(Qt::CTRL | Qt::Key_2), MainWindow::tr("Bring the loss and error charts in front"),
       [w] { w->centre_->showPage(0); });
  make(MainWindow::tr("Heatmaps"), QKeySequence(Qt::CTRL | Qt::Key_3), MainWindow::tr("Bring the heatmaps in front"),
       [w] { w->centre_->showPage(1); });
  make(MainWindow::tr("Next view"), QKeySequence(Qt::CTRL | Qt::Key_Tab), MainWindow::tr("Switch between the loss charts and the heatmaps"),
       [w] { w->centre_->showNextPage(); });
}

void MainActions::buildMenus(MainWindow* w) {
  QMenu* file = w->menuBar()->addMenu(MainWindow::tr("&File"));
  file->addAction(w->openExperiment_);
  file->addAction(w->saveExperiment_);
  file->addSeparator();
  file->addAction(w->openRun_);
  w->recentMenu_ = file->addMenu(MainWindow::tr("Open &recent"));
  file->addAction(w->compare_);
  file->addAction(MainWindow::tr("Open s&weep folder..."), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O), w, [w] {
    const QString dir = QFileDialog::getExistingDirectory(w, MainWindow::tr("Open sweep folder"));
    if (!dir.isEmpty()) w->openSweep(dir);
  });
  file->addSeparator();
  QAction* importReference = file->addAction(MainWindow::tr("&Import the authors' models..."), w, [w] {
    auto* dialog = new ImportReferenceDialog(w);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(dialog, &ImportReferenceDialog::openRunRequested, w, [w](const QString& run) { w->openRun(run); });
    dialog->show();
  });
  importReference->setObjectName("ImportReference");
  importReference->setToolTip(MainWindow::tr("Their model_last.pt / model_best.pt (github.com/sarthmit/Mod_Arch) as run folders"));
  w->shareAction_ = file->addAction(MainWindow::tr("S&hare live view..."), w, [w] {
    QString error;
    if (!w->shareLiveView(&error)) QMessageBox::warning(w, MainWindow::tr("Share live view"), error);
  });
  w->shareAction_->setToolTip(MainWindow::tr("Let browsers on this network watch this run, read-only (address and QR code)"));
  w->shareAction_->setEnabled(false);
  QMenu* exportMenu = file->addMenu(MainWindow::tr("&Export"));
  addExportActions(exportMenu->addMenu(MainWindow::tr("Loss chart")), w->loss_->figure(), "loss-chart", [w] { return w->loss_->toCsv(); });
  addExportActions(exportMenu->addMenu(MainWindow::tr("Heatmaps")), w->heatmaps_->figure(), "heatmaps", [w] { return w->heatmaps_->toCsv(); });
  addExportActions(exportMenu->addMenu(MainWindow::tr("Metrics")), w->metrics_->barsFigure(), "metrics", [w] { return w->metrics_->barsCsv(); });
  addExportActions(exportMenu->addMenu(MainWindow::tr("Metric history")), w->metrics_->historyFigure(), "metrics-history",
                   [w] { return w->metrics_->toCsv(); });
  exportMenu->addAction(w->exportFrames_);
  exportMenu->addAction(MainWindow::tr("Heatmap &animation (WebP)..."), w, [w] {
    const QString path = QFileDialog::getSaveFileName(w, MainWindow::tr("Export animation"), QDir(lastFolder()).filePath("heatmaps.webp"), "WebP (*.webp)");
    rememberFolder(path);
    if (!path.isEmpty() && w->exportHeatmapAnimation(path)) w->statusBar()->showMessage(MainWindow::tr("animation written to %1").arg(path), 5000);
  });
  exportMenu->addAction(w->exportDashboard_);
  file->addSeparator();
  file->addAction(w->quit_);

  QMenu* edit = w->menuBar()->addMenu(MainWindow::tr("&Edit"));
  w->addAction(edit->addAction(MainWindow::tr("Copy experiment as &JSON"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), w, [w] {
    QGuiApplication::clipboard()->setText(QString::fromStdString(toJson(w->panel_->config())));
    w->statusBar()->showMessage(MainWindow::tr("Experiment copied to the clipboard"), 3000);
  }));
  QAction* restoreDemo = edit->addAction(MainWindow::tr("Restore the &default demo"), QKeySequence(Qt::CTRL | Qt::Key_D), w,
                                         [w] { w->panel_->setConfig(findPreset(defaultDemoPreset()).config); });
  w->addAction(restoreDemo);

  QMenu* view = w->menuBar()->addMenu(MainWindow::tr("&View"));
  for (QDockWidget* dock : w->findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  view->addAction(w->logY_);
  view->addAction(w->follow_);
  view->addAction(w->hungarian_);
  view->addAction(w->playTimeline_);
  view->addSeparator();
  QMenu* theme = view->addMenu(MainWindow::tr("&Theme"));
  w->themeGroup_ = new QActionGroup(w);
  for (const auto& [label, choice] : {std::pair{MainWindow::tr("Follow the &system"), ThemeChoice::System},
                                      std::pair{MainWindow::tr("&Light"), ThemeChoice::Light}, std::pair{MainWindow::tr("&Dark"), ThemeChoice::Dark}}) {
    QAction* a = theme->addAction(label, w, [w, choice] { w->setTheme(int(choice)); });
    a->setCheckable(true);
    a->setData(int(choice));
    a->setChecked(choice == appearance().theme);
    w->themeGroup_->addAction(a);
  }
  theme->addSeparator();
  w->addAction(theme->addAction(MainWindow::tr("Switch light/&dark"), QKeySequence(Qt::CTRL | Qt::Key_T), w, [w] { w->nextTheme(); }));
  theme->addSeparator();
  // Figures go into papers and slides on white; a dark deck may want the screen's theme.
  QAction* onWhite = theme->addAction(MainWindow::tr("Export on &white"));
  onWhite->setCheckable(true);
  onWhite->setChecked(exportsOnWhite());
  onWhite->setToolTip(MainWindow::tr("Exported images on a white page, whatever the screen's theme (off: as on screen)"));
  onWhite->setObjectName("ExportOnWhite");
  QObject::connect(onWhite, &QAction::toggled, w, [](bool on) { setExportsOnWhite(on); });
  view->addAction(w->presentation_);
  QMenu* scale = view->addMenu(MainWindow::tr("Presentation &scale"));
  for (int percent : {100, 125, 150, 175, 200, 250})
    scale->addAction(QString("%1%").arg(percent), w, [w, percent] { w->setScale(percent / 100.0); });
  scale->addSeparator();
  scale->addAction(w->largerText_);
  scale->addAction(w->smallerText_);
  view->addSeparator();
  w->addAction(view->addAction(MainWindow::tr("Reset &layout"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), w,
                            [w] { w->restoreState(w->defaultState_); }));

  QMenu* run = w->menuBar()->addMenu(MainWindow::tr("&Run"));
  for (QAction* a : {w->start_, w->pause_, w->step_, w->stop_}) run->addAction(a);
  run->addSeparator();
  run->addAction(w->reset_);
  run->addAction(w->newSeed_);

  QMenu* demos = w->menuBar()->addMenu(MainWindow::tr("&Demos"));
  const std::pair<const char*, QString> guided[] = {
      {"demo-mlp-collapse", MainWindow::tr("End-to-end Modular &collapses")},
      {"demo-mlp-many-rules", MainWindow::tr("GT-Modular pulls ahead as &rules grow")},
      {"demo-mlp-few-rules", MainWindow::tr("With &few rules the families are close")},
      {"demo-mlp-classification", MainWindow::tr("Modular-op is only &marginally better than Modular")},
      {"demo-mlp-ood", MainWindow::tr("&Out-of-distribution generalisation")},
      {"demo-mlp-speed", MainWindow::tr("Specialisation &speeds up training")},
      {"demo-mha-search", MainWindow::tr("&Attention: search and retrieve")},
      {"demo-rnn-dynamics", MainWindow::tr("Recurrent: switching &dynamics")},
      {"demo-mlp-routing", MainWindow::tr("Routing &interventions: every module used, none specialised")},
  };
  int number = 1;
  for (const auto& [name, label] : guided) {
    QAction* a = demos->addAction(label, w, [w, preset = QString(name)] {
      if (w->confirmDiscard(MainWindow::tr("Start the demo %1").arg(preset))) w->startDemo(preset);
    });
    a->setToolTip(QString::fromStdString(findPreset(name).config.description));
    if (number <= 9) a->setShortcut(QKeySequence(Qt::ALT | static_cast<Qt::Key>(Qt::Key_0 + number)));
    w->addAction(a);
    ++number;
  }
  demos->setToolTipsVisible(true);

  QMenu* help = w->menuBar()->addMenu(MainWindow::tr("&Help"));
  help->addAction(MainWindow::tr("&Keyboard shortcuts"), QKeySequence::HelpContents, w, [w] { showShortcutsDialog(w); });
  help->addAction(MainWindow::tr("&About Modularity Lab"), w, [w] { showAboutBox(w); });

  QToolBar* bar = w->addToolBar(MainWindow::tr("Run"));
  w->runBar_ = bar;
  bar->setObjectName("RunToolBar");
  bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  for (QAction* a : {w->start_, w->pause_, w->step_, w->stop_, w->reset_, w->newSeed_}) bar->addAction(a);
  bar->addSeparator();
  bar->addWidget(new QLabel(MainWindow::tr(" lr ")));
  w->learningRate_ = new QDoubleSpinBox;
  w->learningRate_->setDecimals(6);
  w->learningRate_->setRange(0.000001, 1.0);
  w->learningRate_->setSingleStep(0.0001);
  w->learningRate_->setToolTip(MainWindow::tr("Learning rate, applied to every family from the next step (recorded in the run) (Ctrl+L)"));
  bar->addWidget(w->learningRate_);
  QObject::connect(w->learningRate_, &QDoubleSpinBox::editingFinished, w, [w] {
    if (w->controller_.isRunning()) {
      w->controller_.setLearningRate(w->learningRate_->value());
      w->statusBar()->showMessage(MainWindow::tr("learning rate %1 from step %2").arg(w->learningRate_->value()).arg(w->controller_.data().step()), 4000);
    }
  });
  bar->addWidget(new QLabel(MainWindow::tr("  speed ")));
  w->speed_ = new QComboBox;
  w->speed_->addItem(MainWindow::tr("full"), 0.0);
  for (double rate : {100.0, 30.0, 10.0, 3.0, 1.0}) w->speed_->addItem(MainWindow::tr("%1 steps/s").arg(rate), rate);
  w->speed_->setToolTip(MainWindow::tr("Slow training down to explain it step by step"));
  bar->addWidget(w->speed_);
  QObject::connect(w->speed_, &QComboBox::currentIndexChanged, w, [w] { w->controller_.setThrottle(w->speed_->currentData().toDouble()); });
  rebuildRecentMenu(w);
}

void MainActions::addRecent(MainWindow* w, const QString& key, const QString& path) {
  QSettings settings;
  QStringList list = settings.value(key).toStringList();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > 8) list.removeLast();
  settings.setValue(key, list);
  rebuildRecentMenu(w);
}

void MainActions::rebuildRecentMenu(MainWindow* w) {
  w->recentMenu_->clear();
  QSettings settings;
  for (const QString& path : settings.value("recentExperiments").toStringList())
    w->recentMenu_->addAction(MainWindow::tr("Experiment: %1").arg(QFileInfo(path).fileName()), w, [w, path] { w->openExperiment(path); })->setToolTip(path);
  for (const QString& path : settings.value("recentRuns").toStringList())
    w->recentMenu_->addAction(MainWindow::tr("Run: %1").arg(QFileInfo(path).fileName()), w, [w, path] { w->openRun(path); })->setToolTip(path);
  w->recentMenu_->setEnabled(!w->recentMenu_->isEmpty());
}

}  // namespace modlab::ui
