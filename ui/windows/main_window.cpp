#include "ui/windows/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDialog>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QGuiApplication>
#include <QScreen>
#include <QScrollArea>
#include <QTimer>
#include <QResizeEvent>
#include <QStyle>
#include <QAbstractSpinBox>
#include <QKeyEvent>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QHeaderView>
#include <QToolBar>
#include <QtCharts/QChartView>
#include <cmath>

#include "modlab/version.h"
#include "modlab/experiment/run_store.h"
#include "modlab/platform/platform_info.h"
#include <QActionGroup>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "ui/style/adaptive_split.h"
#include "ui/export/animation_export.h"
#include "ui/style/appearance.h"
#include "ui/export/chart_export.h"
#include "ui/windows/compare_window.h"
#include "modlab/sweep/report.h"
#include "ui/charts/sweep_figures.h"
#include "ui/panels/timeline.h"
#include <QPointer>
#include <QTabWidget>
#include <memory>
#include <thread>
#include "ui/charts/chart_figure.h"
#include "ui/panels/experiment_panel.h"
#include "ui/style/family_style.h"
#include "ui/heatmaps/heatmap_widget.h"
#include "ui/charts/loss_chart.h"
#include "ui/charts/metrics_view.h"
#include "ui/panels/routing_panel.h"

namespace modlab::ui {

namespace {
QString human(long long n) { return QLocale(QLocale::English).toString(n); }

QString duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long long s = std::llround(seconds);
  return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                   : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

// What the engine runs on: LibTorch, the BLAS kernel and how it was chosen, threads.
QStringList platformLines(const PlatformInfo& p) {
  return {QObject::tr("LibTorch %1").arg(QString::fromStdString(p.libtorchVersion)),
          QObject::tr("BLAS: %1").arg(QString::fromStdString(describeBlas(p))),
          QObject::tr("GEMM: %1").arg(QString::fromStdString(describeGemm(p))),
          QObject::tr("CPU: %1, %2 hardware threads").arg(QString::fromStdString(p.cpu)).arg(p.hardwareThreads),
          QObject::tr("CUDA: %1").arg(p.cudaAvailable ? QObject::tr("available") : QObject::tr("not available"))};
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  qApp->installEventFilter(this);
  setWindowTitle(tr("Modularity Lab"));
  setObjectName("MainWindow");
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);

  loss_ = new LossChart;
  heatmaps_ = new HeatmapPanel;
  timeline_ = new Timeline;
  heatmapArea_ = new QWidget;
  auto* heatmapLayout = new QVBoxLayout(heatmapArea_);
  heatmapLayout->setContentsMargins(0, 0, 0, 0);
  heatmapLayout->setSpacing(0);
  heatmapLayout->addWidget(heatmaps_, 1);
  heatmapLayout->addWidget(timeline_);
  auto* centre = new AdaptiveSplit;
  centre->setObjectName("Centre");
  centre->setScrollsWhenTabbed(true);  // 1280x720 at scale 2.5: the loss page scrolls (issue 11)
  centre->addPage(loss_, tr("Loss and error"), 470);
  centre->addPage(heatmapArea_, tr("Heatmaps"), 360);  // short: the page has its own heading
  setCentralWidget(centre);

  panel_ = new ExperimentPanel;
  experimentDock_ = new QDockWidget(tr("Experiment"), this);
  experimentDock_->setObjectName("ExperimentDock");
  experimentDock_->setWidget(panel_);
  addDockWidget(Qt::LeftDockWidgetArea, experimentDock_);
  metrics_ = new MetricsView;
  metricsDock_ = new QDockWidget(tr("Metrics"), this);
  metricsDock_->setObjectName("MetricsDock");
  // Scrolls rather than squeezes when a small screen at a large scale has less height than
  // the charts need to keep their labels whole; never narrower than the charts need (the
  // centre's pages scroll first).
  metricsDock_->setWidget(new VerticalScrollArea(metrics_));
  addDockWidget(Qt::RightDockWidgetArea, metricsDock_);
  guide_ = new QTextBrowser;
  guide_->setOpenExternalLinks(true);
  guideDock_ = new QDockWidget(tr("Guide"), this);
  guideDock_->setObjectName("GuideDock");
  guideDock_->setWidget(guide_);
  addDockWidget(Qt::LeftDockWidgetArea, guideDock_);
  tabifyDockWidget(experimentDock_, guideDock_);
  // Routing interventions (beyond the paper): coefficients changed live, the loss's parts.
  auto* routing = new RoutingPanel;
  auto* routingDock = new QDockWidget(tr("Routing"), this);
  routingDock->setObjectName("RoutingDock");
  auto* routingScroll = new QScrollArea;  // scrolls rather than forcing the window taller (issue 11)
  routingScroll->setWidget(routing);
  routingScroll->setWidgetResizable(true);
  routingScroll->setFrameShape(QFrame::NoFrame);
  routingScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  routingDock->setWidget(routingScroll);
  addDockWidget(Qt::LeftDockWidgetArea, routingDock);
  tabifyDockWidget(experimentDock_, routingDock);
  connect(routing, &RoutingPanel::coefficientChanged, this, [this](const QString& key, double value, const QString& variant) {
    QString error;
    const QString whose = variant.isEmpty() ? QString() : variant + ": ";
    if (controller_.setRoutingCoefficient(key, value, variant, &error))
      statusBar()->showMessage(tr("%1%2 = %3 from step %4 (recorded in the run)").arg(whose, key).arg(value).arg(controller_.data().step()), 5000);
    else
      QMessageBox::warning(this, tr("Routing"), error);
  });
  experimentDock_->raise();
  guideDock_->hide();
  resizeDocks({experimentDock_, metricsDock_}, {310, 470}, Qt::Horizontal);

  loss_->setData(&controller_.data());
  heatmaps_->setData(&controller_.data());
  metrics_->setData(&controller_.data());
  timeline_->setData(&controller_.data());
  connect(timeline_, &Timeline::positionChanged, this, &MainWindow::showEvaluationAt);
  heatmaps_->installEventFilter(this);  // its width changed: balance the centre again
  // Linked: a click on a chart jumps the timeline; the timeline's step is a cursor on the charts.
  connect(loss_, &LossChart::stepClicked, timeline_, &Timeline::jumpToStep);
  connect(metrics_, &MetricsView::stepClicked, timeline_, &Timeline::jumpToStep);
  // Exports take the figure (panels, title, key), never the controls around it.
  const auto lossCsv = [this] { return loss_->toCsv(); };
  installExportMenu(loss_->chartView(), loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(loss_->evalView(), loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(loss_->figure(), "loss-chart", lossCsv);
  installExportMenu(heatmaps_, heatmaps_->figure(), "heatmaps", [this] { return heatmaps_->toCsv(); });
  const auto metricsCsv = [this] { return metrics_->toCsv(); };
  installExportMenu(metrics_->barsView(), metrics_->barsFigure(), "metrics", metricsCsv);
  installExportMenu(metrics_->barsFigure(), "metrics", metricsCsv);
  installExportMenu(metrics_->historyView(), metrics_->historyFigure(), "metrics-history", metricsCsv);
  installExportMenu(metrics_->historyFigure(), "metrics-history", metricsCsv);

  buildActions();
  buildMenus();

  // Every status item is a permanent widget, so no message is ever drawn over them; hover
  // help and messages go to their own label, which takes the space that is left.
  stepLabel_ = new QLabel;
  stepLabel_->setObjectName("StepLabel");
  rateLabel_ = new QLabel;
  rateLabel_->setObjectName("RateLabel");
  etaLabel_ = new QLabel;
  etaLabel_->setObjectName("EtaLabel");
  deviceLabel_ = new QLabel;
  deviceLabel_->setObjectName("DeviceLabel");
  deviceLabel_->setToolTip(platformLines(platformInfo()).join('\n'));
  sourceLabel_ = new QLabel;
  familiesLabel_ = new QLabel;
  familiesLabel_->setObjectName("FamiliesLabel");
  familiesLabel_->setTextFormat(Qt::RichText);
  messageLabel_ = new QLabel;
  messageLabel_->setObjectName("MessageLabel");
  messageLabel_->setMinimumWidth(0);
  messageLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  for (QLabel* l : {stepLabel_, rateLabel_, etaLabel_, familiesLabel_}) statusBar()->addPermanentWidget(l);
  statusBar()->addPermanentWidget(messageLabel_, 1);
  for (QLabel* l : {deviceLabel_, sourceLabel_}) statusBar()->addPermanentWidget(l);
  connect(statusBar(), &QStatusBar::messageChanged, this, [this](const QString& message) {
    messageLabel_->setToolTip(message);
    messageLabel_->setText(messageLabel_->fontMetrics().elidedText(message, Qt::ElideRight, std::max(0, messageLabel_->width() - 4)));
  });

  connect(&controller_, &TrainingController::runReset, this, &MainWindow::onRunReset);
  connect(&controller_, &TrainingController::dataUpdated, this, &MainWindow::onDataUpdated);
  connect(&controller_, &TrainingController::evaluationAdded, this, &MainWindow::onEvaluation);
  connect(&controller_, &TrainingController::failed, this, [this](const QString& message) {
    QMessageBox::critical(this, tr("Training failed"), message);
  });
  connect(panel_, &ExperimentPanel::configChanged, this, &MainWindow::updateActions);
  // Before Start the views show the panel's experiment (its R, families and steps), and the
  // toolbar's learning rate is the panel's.
  connect(panel_, &ExperimentPanel::configChanged, this, [this] {
    if (!controller_.isRunning()) learningRate_->setValue(panel_->config().learningRate);
    if (!controller_.isPreview()) return;
    controller_.preview(panel_->config());
  });
  connect(loss_, &LossChart::followingChanged, follow_, &QAction::setChecked);
  connect(loss_, &LossChart::logScaleChanged, logY_, &QAction::setChecked);

  defaultState_ = saveState();
  restoreSettings();
  QTimer::singleShot(0, this, [this] { widenExperimentPanel(); });  // once shown
  controller_.preview(panel_->config());
  updateActions();
  updateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
  auto make = [this](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
    auto* a = new QAction(text, this);
    a->setShortcut(key);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    a->setStatusTip(tip);
    connect(a, &QAction::triggered, this, slot);
    addAction(a);
    return a;
  };
  start_ = make(tr("&Start"), QKeySequence(Qt::Key_F5), tr("Train the experiment's families side by side"), [this] { startTraining(); });
  pause_ = make(tr("&Pause"), QKeySequence(Qt::Key_Space), tr("Pause or resume training"), [this] { controller_.togglePause(); });
  step_ = make(tr("S&tep"), QKeySequence(Qt::Key_F10), tr("One training step (pauses first)"), [this] { controller_.step(); });
  stop_ = make(tr("St&op"), QKeySequence(Qt::SHIFT | Qt::Key_F5), tr("Stop training (the run stays on disk)"), [this] { controller_.stop(); });
  reset_ = make(tr("&Reset"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), tr("Start again with the same seeds: an identical rerun"), [this] {
    QString error;
    if (!controller_.reset(&error)) QMessageBox::warning(this, tr("Cannot reset"), error);
  });
  newSeed_ = make(tr("&New seed"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N), tr("Start again with the next model seed"), [this] {
    QString error;
    if (!controller_.newSeed(&error)) QMessageBox::warning(this, tr("Cannot restart"), error);
    else panel_->setConfig(controller_.data().config());
  });
  openExperiment_ = make(tr("&Open experiment..."), QKeySequence::Open, tr("Load an experiment (JSON)"), [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment"), lastFolder(), tr("Experiments (*.json)"));
    rememberFolder(path);
    if (!path.isEmpty()) openExperiment(path);
  });
  saveExperiment_ = make(tr("&Save experiment..."), QKeySequence::Save, tr("Save the experiment (JSON)"), [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment"),
                                                      QDir(lastFolder()).filePath(QString::fromStdString(panel_->config().name) + ".json"),
                                                      tr("Experiments (*.json)"));
    rememberFolder(path);
    if (!path.isEmpty()) saveExperiment(path);
  });
  openRun_ = make(tr("Open &run folder..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), tr("Replay a recorded run"), [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open run folder"), TrainingController::runsRoot());
    if (!dir.isEmpty()) openRun(dir);
  });
  exportDashboard_ = make(tr("Export &dashboard..."), QKeySequence(Qt::CTRL | Qt::Key_E), tr("One PNG of the whole window"), [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export dashboard"), QDir(lastFolder()).filePath("dashboard.png"), "PNG (*.png)");
    rememberFolder(path);
    if (!path.isEmpty() && !exportDashboard(path, 2.0)) QMessageBox::warning(this, tr("Export failed"), tr("Cannot write %1").arg(path));
  });
  quit_ = make(tr("&Quit"), QKeySequence::Quit, tr("Quit Modularity Lab"), [this] { close(); });
  logY_ = make(tr("&Log scale"), QKeySequence(Qt::Key_L), tr("Logarithmic loss axis"), [this](bool on) { loss_->setLogScale(on); });
  logY_->setCheckable(true);
  logY_->setChecked(loss_->logScale());
  follow_ = make(tr("&Follow latest step"), QKeySequence(Qt::Key_F), tr("Keep the whole run in view"), [this](bool on) { loss_->setFollowing(on); });
  follow_->setCheckable(true);
  follow_->setChecked(true);
  hungarian_ = make(tr("&Hungarian order"), QKeySequence(Qt::Key_H), tr("Order modules by their matched rule"), [this](bool on) {
    heatmaps_->setHungarianOrder(on);
  });
  hungarian_->setCheckable(true);
  presentation_ = make(tr("&Presentation mode"), QKeySequence(Qt::Key_F11), tr("Full screen, large fonts, essential controls"),
                       [this](bool on) { setPresentation(on); });
  presentation_->setCheckable(true);
  largerText_ = make(tr("&Larger"), QKeySequence::ZoomIn, tr("Larger fonts and lines (for a projector)"),
                     [this] { setScale(appearance().scale + 0.25); });
  smallerText_ = make(tr("&Smaller"), QKeySequence::ZoomOut, tr("Smaller fonts and lines"), [this] { setScale(appearance().scale - 0.25); });
  compare_ = make(tr("&Compare runs..."), QKeySequence(Qt::CTRL | Qt::Key_M), tr("Overlay the curves of several runs"),
                  [this] { showCompareRuns(); });
  exportFrames_ = make(tr("Heatmap animation &frames..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
                       tr("One PNG of the heatmaps per evaluation step"), [this] {
                         const QString dir = QFileDialog::getExistingDirectory(this, tr("Export frames into"), lastFolder());
                         if (dir.isEmpty()) return;
                         rememberFolder(dir);
                         const int n = exportHeatmapFrames(dir);
                         statusBar()->showMessage(tr("%1 frames written to %2").arg(n).arg(dir), 5000);
                       });
  playTimeline_ = make(tr("&Play the timeline"), QKeySequence(Qt::Key_P), tr("Animate the heatmaps through training"),
                       [this] { timeline_->setPlaying(!timeline_->isPlaying()); });
  make(tr("Timeline: earlier"), QKeySequence(Qt::Key_BracketLeft), tr("Show the previous evaluation"), [this] {
    const int at = timeline_->position() < 0 ? static_cast<int>(controller_.data().evaluations().size()) - 1 : timeline_->position();
    timeline_->setPosition(std::max(0, at - 1));
  });
  make(tr("Timeline: later"), QKeySequence(Qt::Key_BracketRight), tr("Show the next evaluation"), [this] {
    if (timeline_->position() >= 0) timeline_->setPosition(timeline_->position() + 1);
  });
  make(tr("Learning rate"), QKeySequence(Qt::CTRL | Qt::Key_L), tr("Edit the learning rate while training"), [this] {
    learningRate_->setFocus();
    learningRate_->selectAll();
  });
  make(tr("Experiment panel"), QKeySequence(Qt::CTRL | Qt::Key_1), tr("Show and focus the experiment panel"), [this] {
    experimentDock_->show();
    experimentDock_->raise();
    panel_->setFocus();
  });
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(openExperiment_);
  file->addAction(saveExperiment_);
  file->addSeparator();
  file->addAction(openRun_);
  recentMenu_ = file->addMenu(tr("Open &recent"));
  file->addAction(compare_);
  file->addAction(tr("Open s&weep folder..."), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open sweep folder"));
    if (!dir.isEmpty()) openSweep(dir);
  });
  file->addSeparator();
  QMenu* exportMenu = file->addMenu(tr("&Export"));
  addExportActions(exportMenu->addMenu(tr("Loss chart")), loss_->figure(), "loss-chart", [this] { return loss_->toCsv(); });
  addExportActions(exportMenu->addMenu(tr("Heatmaps")), heatmaps_->figure(), "heatmaps", [this] { return heatmaps_->toCsv(); });
  addExportActions(exportMenu->addMenu(tr("Metrics")), metrics_->barsFigure(), "metrics", [this] { return metrics_->toCsv(); });
  addExportActions(exportMenu->addMenu(tr("Metric history")), metrics_->historyFigure(), "metrics-history",
                   [this] { return metrics_->toCsv(); });
  exportMenu->addAction(exportFrames_);
  exportMenu->addAction(tr("Heatmap &animation (WebP)..."), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export animation"), QDir(lastFolder()).filePath("heatmaps.webp"), "WebP (*.webp)");
    rememberFolder(path);
    if (!path.isEmpty() && exportHeatmapAnimation(path)) statusBar()->showMessage(tr("animation written to %1").arg(path), 5000);
  });
  exportMenu->addAction(exportDashboard_);
  file->addSeparator();
  file->addAction(quit_);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  addAction(edit->addAction(tr("Copy experiment as &JSON"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this, [this] {
    QGuiApplication::clipboard()->setText(QString::fromStdString(toJson(panel_->config())));
    statusBar()->showMessage(tr("Experiment copied to the clipboard"), 3000);
  }));
  QAction* restoreDemo = edit->addAction(tr("Restore the &default demo"), QKeySequence(Qt::CTRL | Qt::Key_D), this,
                                         [this] { panel_->setConfig(findPreset(defaultDemoPreset()).config); });
  addAction(restoreDemo);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  view->addAction(logY_);
  view->addAction(follow_);
  view->addAction(hungarian_);
  view->addAction(playTimeline_);
  view->addSeparator();
  QMenu* theme = view->addMenu(tr("&Theme"));
  themeGroup_ = new QActionGroup(this);
  for (const auto& [label, choice] : {std::pair{tr("Follow the &system"), ThemeChoice::System},
                                      std::pair{tr("&Light"), ThemeChoice::Light}, std::pair{tr("&Dark"), ThemeChoice::Dark}}) {
    QAction* a = theme->addAction(label, this, [this, choice] { setTheme(int(choice)); });
    a->setCheckable(true);
    a->setData(int(choice));
    a->setChecked(choice == appearance().theme);
    themeGroup_->addAction(a);
  }
  theme->addSeparator();
  addAction(theme->addAction(tr("Switch light/&dark"), QKeySequence(Qt::CTRL | Qt::Key_T), this, [this] { nextTheme(); }));
  view->addAction(presentation_);
  QMenu* scale = view->addMenu(tr("Presentation &scale"));
  for (int percent : {100, 125, 150, 175, 200, 250})
    scale->addAction(QString("%1%").arg(percent), this, [this, percent] { setScale(percent / 100.0); });
  scale->addSeparator();
  scale->addAction(largerText_);
  scale->addAction(smallerText_);
  view->addSeparator();
  addAction(view->addAction(tr("Reset &layout"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), this,
                            [this] { restoreState(defaultState_); }));

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  for (QAction* a : {start_, pause_, step_, stop_}) run->addAction(a);
  run->addSeparator();
  run->addAction(reset_);
  run->addAction(newSeed_);

  QMenu* demos = menuBar()->addMenu(tr("&Demos"));
  const std::pair<const char*, QString> guided[] = {
      {"demo-mlp-collapse", tr("End-to-end Modular &collapses")},
      {"demo-mlp-many-rules", tr("GT-Modular pulls ahead as &rules grow")},
      {"demo-mlp-few-rules", tr("With &few rules the families are close")},
      {"demo-mlp-classification", tr("Modular-op is only &marginally better than Modular")},
      {"demo-mlp-ood", tr("&Out-of-distribution generalisation")},
      {"demo-mlp-speed", tr("Specialisation &speeds up training")},
      {"demo-mha-search", tr("&Attention: search and retrieve")},
      {"demo-rnn-dynamics", tr("Recurrent: switching &dynamics")},
      {"demo-mlp-routing", tr("Routing &interventions: every module used, none specialised")},
  };
  int number = 1;
  for (const auto& [name, label] : guided) {
    QAction* a = demos->addAction(label, this, [this, preset = QString(name)] {
      if (confirmDiscard(tr("Start the demo %1").arg(preset))) startDemo(preset);
    });
    a->setToolTip(QString::fromStdString(findPreset(name).config.description));
    if (number <= 8) a->setShortcut(QKeySequence(Qt::ALT | static_cast<Qt::Key>(Qt::Key_0 + number)));
    addAction(a);
    ++number;
  }
  demos->setToolTipsVisible(true);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard shortcuts"), QKeySequence::HelpContents, this, &MainWindow::showShortcuts);
  help->addAction(tr("&About Modularity Lab"), this, &MainWindow::showAbout);

  QToolBar* bar = addToolBar(tr("Run"));
  runBar_ = bar;
  bar->setObjectName("RunToolBar");
  bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  for (QAction* a : {start_, pause_, step_, stop_, reset_, newSeed_}) bar->addAction(a);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" lr ")));
  learningRate_ = new QDoubleSpinBox;
  learningRate_->setDecimals(6);
  learningRate_->setRange(0.000001, 1.0);
  learningRate_->setSingleStep(0.0001);
  learningRate_->setToolTip(tr("Learning rate, applied to every family from the next step (recorded in the run) (Ctrl+L)"));
  bar->addWidget(learningRate_);
  connect(learningRate_, &QDoubleSpinBox::editingFinished, this, [this] {
    if (controller_.isRunning()) {
      controller_.setLearningRate(learningRate_->value());
      statusBar()->showMessage(tr("learning rate %1 from step %2").arg(learningRate_->value()).arg(controller_.data().step()), 4000);
    }
  });
  bar->addWidget(new QLabel(tr("  speed ")));
  speed_ = new QComboBox;
  speed_->addItem(tr("full"), 0.0);
  for (double rate : {100.0, 30.0, 10.0, 3.0, 1.0}) speed_->addItem(tr("%1 steps/s").arg(rate), rate);
  speed_->setToolTip(tr("Slow training down to explain it step by step"));
  bar->addWidget(speed_);
  connect(speed_, &QComboBox::currentIndexChanged, this, [this] { controller_.setThrottle(speed_->currentData().toDouble()); });
  rebuildRecentMenu();
}

bool MainWindow::startTraining() {
  if (!panel_->isValid()) {
    QMessageBox::warning(this, tr("Cannot start"), panel_->validationMessage());
    return false;
  }
  QString error;
  if (!controller_.start(panel_->config(), &error)) {
    QMessageBox::warning(this, tr("Cannot start"), error);
    return false;
  }
  QSettings().setValue("lastExperiment", QString::fromStdString(toJson(panel_->config())));
  return true;
}

bool MainWindow::openRun(const QString& directory) {
  QString error;
  if (!controller_.openRun(directory, &error)) {
    QMessageBox::warning(this, tr("Cannot open run"), error);
    return false;
  }
  panel_->setConfig(controller_.data().config());
  addRecent("recentRuns", directory);
  return true;
}

bool MainWindow::openExperiment(const QString& path) {
  try {
    panel_->setConfig(parseConfig(readUserFile(path.toStdString())));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot open experiment"), tr("%1:\n%2").arg(path, QString::fromStdString(e.what())));
    return false;
  }
  addRecent("recentExperiments", path);
  return true;
}

bool MainWindow::saveExperiment(const QString& path) {
  QString error;
  if (!exportText(QString::fromStdString(toJson(panel_->config())), path, &error)) {
    QMessageBox::warning(this, tr("Cannot save"), error);
    return false;
  }
  addRecent("recentExperiments", path);
  return true;
}

bool MainWindow::exportDashboard(const QString& path, double scale) { return exportPng(this, path, scale); }

void MainWindow::onRunReset() {
  if (auto* routing = findChild<RoutingPanel*>()) {
    routing->showData(controller_.data(), controller_.isRunning());
    const ExperimentConfig& config = controller_.data().config();
    if (!config.routing.isPaper() || !config.variants.empty()) findChild<QDockWidget*>("RoutingDock")->raise();
  }
  loss_->rebuild();
  heatmaps_->rebuild();
  metrics_->rebuild();
  timeline_->setData(&controller_.data());
  learningRate_->setValue(controller_.data().config().learningRate);
  const RunData& d = controller_.data();
  sourceLabel_->setText(d.source().isEmpty() ? tr("not started")
                        : d.isReplay()       ? tr("replay: %1").arg(QFileInfo(d.source()).fileName())
                                             : tr("recording to %1").arg(QFileInfo(d.source()).fileName()));
  sourceLabel_->setToolTip(d.source());
  setWindowTitle(tr("%1 - Modularity Lab").arg(QString::fromStdString(d.config().name)));
  loss_->setCursorStep(NAN);
  metrics_->setCursorStep(NAN);
  QTimer::singleShot(0, this, [this] { balanceCentre(); });
  if (!d.source().isEmpty()) addRecent("recentRuns", d.source());  // Open recent knows the run at once
  updateActions();
  updateStatus();
}

void MainWindow::onDataUpdated() {
  if (auto* routing = findChild<RoutingPanel*>()) routing->showData(controller_.data(), controller_.isRunning());
  loss_->refresh();
  updateStatus();
  updateActions();
}

void MainWindow::onEvaluation() {
  timeline_->refresh();
  if (timeline_->followsLatest()) {
    heatmaps_->refresh();
    metrics_->refresh();
  }
}

void MainWindow::showEvaluationAt(int index) {
  const double cursor = timeline_->followsLatest() ? NAN : static_cast<double>(timeline_->shownStep());
  loss_->setCursorStep(cursor);
  metrics_->setCursorStep(cursor);
  if (timeline_->followsLatest()) {
    heatmaps_->refresh();
    metrics_->refresh();
    return;
  }
  heatmaps_->showEvaluation(static_cast<std::size_t>(index));
  metrics_->showEvaluation(static_cast<std::size_t>(index));
}

int MainWindow::exportHeatmapFrames(const QString& directory) {
  const auto& evaluations = controller_.data().evaluations();
  int written = 0;
  QDir().mkpath(directory);
  for (std::size_t i = 0; i < evaluations.size(); ++i) {
    heatmaps_->showEvaluation(i);
    if (exportPng(heatmaps_->figure(), QDir(directory).filePath(QString("frame-%1.png").arg(i + 1, 4, 10, QChar('0'))), 1.0)) ++written;
  }
  showEvaluationAt(timeline_->position());
  return written;
}

bool MainWindow::exportHeatmapAnimation(const QString& webpPath, int millisecondsPerFrame, double scale) {
  std::vector<QImage> frames;
  for (std::size_t i = 0; i < controller_.data().evaluations().size(); ++i) {
    heatmaps_->showEvaluation(i);
    QImage frame = heatmaps_->renderFigure(scale);
    frame.setDevicePixelRatio(1.0);  // the WebP has the rendered pixels, scale times the screen's
    frames.push_back(frame);
  }
  showEvaluationAt(timeline_->position());
  QString error;
  if (!exportAnimatedWebp(frames, millisecondsPerFrame, webpPath, &error)) {
    statusBar()->showMessage(error, 5000);
    return false;
  }
  return true;
}

void MainWindow::restyle() {
  loss_->rebuild();
  metrics_->refresh();
  heatmaps_->update();
  for (QWidget* w : heatmaps_->findChildren<QWidget*>()) w->update();
}

void MainWindow::setTheme(int theme) {
  Appearance a = appearance();
  a.theme = ThemeChoice(theme);
  setAppearance(a);
  for (QAction* action : themeGroup_->actions()) action->setChecked(action->data().toInt() == theme);
  QSettings().setValue("theme", theme);
  restyle();
}

void MainWindow::setScale(double scale) {
  Appearance a = appearance();
  a.scale = scale;
  setAppearance(a);
  restyle();
  statusSlack_ = 0;
  statusBar()->showMessage(tr("scale %1%").arg(std::lround(appearance().scale * 100)), 2000);
  QTimer::singleShot(0, this, [this] {
    fitStatusBar();
    balanceCentre();
    fitDockTabs();
  });
}

void MainWindow::setPresentation(bool on) {
  if (on == presenting_) return;
  presenting_ = on;
  presentation_->setChecked(on);
  if (on) {
    stateBeforePresenting_ = saveState();
    geometryBeforePresenting_ = saveGeometry();
    rectBeforePresenting_ = geometry();
    scaleBeforePresenting_ = appearance().scale;
    // Essentials only: every dock but the metrics goes (restoreState brings them back).
    for (QDockWidget* dock : findChildren<QDockWidget*>())
      if (dock != metricsDock_) dock->hide();
    menuBar()->hide();
    for (QAction* a : {stop_, newSeed_}) a->setVisible(false);
    showFullScreen();
    if (const QScreen* s = screen()) setGeometry(s->geometry());  // also without a window manager
    if (appearance().scale < 1.5) setScale(1.5);
    // The metrics get room of their own: a third of the screen (once the new fonts are laid out).
    QTimer::singleShot(0, this, [this] {
      if (presenting_) resizeDocks({metricsDock_}, {width() / 3}, Qt::Horizontal);
    });
    // Keys act on training in front of a class: no editor keeps the focus (and its text selected).
    if (QWidget* focused = QApplication::focusWidget()) focused->clearFocus();
    centralWidget()->setFocus(Qt::OtherFocusReason);
  } else {
    menuBar()->show();
    for (QAction* a : {stop_, newSeed_}) a->setVisible(true);
    showNormal();
    setScale(scaleBeforePresenting_);  // first: the panel's sizes follow the font back
    restoreState(stateBeforePresenting_);
    // Once the smaller fonts have shrunk the minimum sizes: the window as it was.
    QTimer::singleShot(0, this, [this] {
      if (presenting_) return;
      if (layout()) layout()->activate();
      if (rectBeforePresenting_.isValid()) setGeometry(rectBeforePresenting_);
      fitToScreen();
    });
  }
}

bool MainWindow::confirmDiscard(const QString& what) {
  if (!controller_.isRunning()) return true;
  QMessageBox box(QMessageBox::Question, tr("Training is running"),
                  tr("%1? The running session stops (what it recorded so far stays in its run folder).").arg(what),
                  QMessageBox::Yes | QMessageBox::Cancel, this);
  box.setObjectName("ConfirmDiscard");
  box.setDefaultButton(QMessageBox::Cancel);
  return box.exec() == QMessageBox::Yes;
}

void MainWindow::nextTheme() { setTheme(int(appearance().dark() ? ThemeChoice::Light : ThemeChoice::Dark)); }

bool MainWindow::startDemo(const QString& preset) {
  if (!panel_->selectPreset(preset)) return false;
  QFile file(QString(":/guides/%1.html").arg(preset));
  if (file.open(QIODevice::ReadOnly)) {
    guide_->setHtml(QString::fromUtf8(file.readAll()));
    guideDock_->show();
    guideDock_->raise();
  }
  return startTraining();
}

bool MainWindow::openSweep(const QString& directory) {
  std::shared_ptr<Sweep> sweep;
  try {
    sweep = std::make_shared<Sweep>(loadSweep(directory.toStdString()));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot open sweep"), QString::fromStdString(e.what()));
    return false;
  }
  // Aggregating reads every run folder and builds models to count parameters: off the GUI thread.
  statusBar()->showMessage(tr("reading sweep %1...").arg(directory));
  QPointer<MainWindow> self(this);
  std::thread([self, sweep, directory] {
    auto report = std::make_shared<SweepReport>();
    QString error;
    try {
      *report = collectReport(*sweep);
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(qApp, [self, report, directory, error] {
      if (!self) return;
      if (!error.isEmpty()) QMessageBox::warning(self, tr("Cannot open sweep"), error);
      else self->showSweepReport(*report, directory);
    }, Qt::QueuedConnection);
  }).detach();
  return true;
}

void MainWindow::showSweepReport(const SweepReport& report, const QString& directory) {
  statusBar()->clearMessage();
  auto* dialog = new QDialog(this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(tr("Sweep %1: %2 results").arg(QFileInfo(directory).fileName()).arg(report.rows.size()));
  auto* tabs = new QTabWidget;
  for (const auto& [figure, stem] : sweepFigures()) {
    if (figure == SweepFigure::Routing && !hasRoutingVariants(report)) continue;  // as the report does
    QWidget* w = makeSweepFigure(report, figure);
    w->setAttribute(Qt::WA_DontShowOnScreen, false);
    installExportMenu(w, stem, {});
    tabs->addTab(w, stem);
  }
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(tabs);
  if (!report.missing.empty() || !report.failed.empty()) {
    auto* note = new QLabel(tr("%1 runs missing, %2 failed: the figures show what exists.").arg(report.missing.size()).arg(report.failed.size()));
    note->setToolTip(QString::fromStdString([&] {
      std::string t;
      for (const auto& m : report.missing) t += "missing: " + m + "\n";
      for (const auto& f : report.failed) t += "failed: " + f + "\n";
      return t;
    }()));
    layout->addWidget(note);
  }
  dialog->resize(1500, 950);
  dialog->show();
}

QString MainWindow::guideText() const { return guide_->toPlainText(); }

void MainWindow::showCompareRuns() {
  auto* window = new CompareWindow(this);
  window->setAttribute(Qt::WA_DeleteOnClose);
  window->scanRunsRoot();
  if (!controller_.runDirectory().isEmpty()) window->addRun(controller_.runDirectory());
  window->show();
}

void MainWindow::updateActions() {
  const bool running = controller_.isRunning();
  const bool paused = controller_.state() == SessionState::Paused;
  start_->setEnabled(panel_->isValid());
  start_->setText(running ? tr("&Restart") : tr("&Start"));
  pause_->setEnabled(running);
  pause_->setText(paused ? tr("Res&ume") : tr("&Pause"));
  step_->setEnabled(running);
  stop_->setEnabled(running);
  reset_->setEnabled(controller_.isLive() || controller_.data().isReplay());
  newSeed_->setEnabled(reset_->isEnabled());
}

void MainWindow::updateStatus() {
  const RunData& d = controller_.data();
  const Snapshot& s = d.status();
  stepFull_ = tr("step %1 / %2").arg(human(s.step), human(d.config().steps));
  stepShort_ = tr("%1/%2").arg(human(s.step), human(d.config().steps));
  stepLabel_->setText(stepFull_);
  const bool running = s.state == SessionState::Running;
  rateFull_ = running ? tr("%1 steps/s").arg(s.stepsPerSecond, 0, 'f', 1) : QString();
  rateShort_ = running ? tr("%1/s").arg(std::lround(s.stepsPerSecond)) : QString();
  rateLabel_->setText(rateFull_);
  const double eta = s.stepsPerSecond > 0 ? static_cast<double>(d.config().steps - s.step) / s.stepsPerSecond : NAN;
  etaLabel_->setText(running ? tr("ETA %1").arg(duration(eta)) : QString::fromStdString(toString(s.state)));
  deviceLabel_->setText(QString::fromStdString(s.device.empty() ? describeDevice(d.config().device) : s.device));
  // Families that share a state share one entry: "Monolithic, Modular: training".
  std::vector<std::pair<QString, std::vector<std::string>>> groups;
  QStringList tips;
  for (const FamilyStatus& f : s.families) {
    QString state = QString::fromStdString(toString(f.state));
    if (s.state == SessionState::Idle) state = tr("ready");  // nothing started yet
    else if (f.state == FamilyState::Training && s.state == SessionState::Paused) state = tr("paused");
    else if (f.state == FamilyState::Training && s.state != SessionState::Running) state = QString::fromStdString(toString(s.state));
    if (f.state == FamilyState::Diverged) state = tr("diverged (%1)").arg(QString::fromStdString(f.message));
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == state; });
    if (it == groups.end()) groups.push_back({state, {f.variant}});
    else it->second.push_back(f.variant);
    tips << tr("%1: %2, learning rate %3").arg(QString::fromStdString(f.variant), state).arg(f.learningRate);
  }
  QStringList full, compact;
  for (const auto& [state, families] : groups) {
    QStringList names, squares;
    for (const std::string& f : families) {
      const QString square = QString("<span style='color:%1'>&#9632;</span>").arg(d.textColor(f).name());
      names << square + "&nbsp;" + QString::fromStdString(f).toHtmlEscaped();
      squares << square;
    }
    full << names.join(", ") + ": " + state.toHtmlEscaped();
    compact << squares.join("") + "&nbsp;" + state.toHtmlEscaped();
  }
  familiesFull_ = full.join(" &nbsp;|&nbsp; ");
  familiesCompact_ = compact.join(" &nbsp; ");
  familiesLabel_->setToolTip(tips.join('\n'));
  fitStatusBar();
}

void MainWindow::fitStatusBar() {
  // What gives way first when the bar is narrow (small screens, large scales): the source,
  // the device, the families' names (their colours and states stay), the families (their
  // states stay in the step counter's tooltip), the long forms ("step 1,200 / 3,000" becomes
  // "1,200/3,000", "412.5 steps/s" becomes "412/s"); the rate and the ETA only after that.
  QStatusBar* bar = statusBar();
  // The counters apart by a space's width of their own font on each side (at every scale).
  const int gap = stepLabel_->fontMetrics().horizontalAdvance(QLatin1Char(' '));
  for (QLabel* l : {stepLabel_, rateLabel_, etaLabel_, familiesLabel_}) l->setContentsMargins(gap, 0, gap, 0);
  // What the bar's own spacing took beyond our estimate, learnt from the layout of the last
  // fit: the widths it gave against those the fit asked for (the largest shortfall seen since
  // the last resize, never a sum over updates).
  int short_ = 0;
  for (const auto& [label, fitted] : fittedStatus_)
    if (label->isVisible() && label->width() > 0 && label->width() < fitted.second) short_ += fitted.second - label->width();
  statusSlack_ = std::max(statusSlack_, short_);
  const int available = bar->width() - 40 - statusSlack_;
  familiesLabel_->setText(familiesFull_);
  if (!stepFull_.isEmpty()) stepLabel_->setText(stepFull_);
  rateLabel_->setText(rateFull_);
  stepLabel_->setToolTip(QString());
  for (QLabel* l : {sourceLabel_, deviceLabel_, rateLabel_, etaLabel_}) l->setVisible(!l->text().isEmpty());
  familiesLabel_->setVisible(!familiesFull_.isEmpty());
  // A label's width from its text in its current font (its size hint can be stale after a
  // scale change); rich text (the families) by its size hint.
  auto widthOf = [](QLabel* l) {
    l->ensurePolished();
    if (l->textFormat() == Qt::RichText) return l->sizeHint().width();
    const QMargins m = l->contentsMargins();
    return std::max(l->fontMetrics().horizontalAdvance(l->text()) + m.left() + m.right() + 2, l->sizeHint().width());
  };
  auto used = [&] {
    int w = 0;
    for (QLabel* l : {stepLabel_, rateLabel_, etaLabel_, familiesLabel_, deviceLabel_, sourceLabel_})
      if (!l->isHidden()) w += widthOf(l) + 16;  // the bar's spacing and item frames
    return w;
  };
  for (QLabel* l : {sourceLabel_, deviceLabel_}) {
    if (used() <= available) break;
    l->hide();
  }
  if (used() > available) familiesLabel_->setText(familiesCompact_);
  if (used() > available) {
    familiesLabel_->hide();
    stepLabel_->setToolTip(familiesLabel_->toolTip());
  }
  if (used() > available && !stepShort_.isEmpty()) stepLabel_->setText(stepShort_);
  if (used() > available) rateLabel_->setText(rateShort_);
  if (used() > available) rateLabel_->hide();
  if (used() > available) etaLabel_->hide();
  // The counters are never squeezed by the bar's layout: the families' label gives way.
  for (QLabel* l : {stepLabel_, rateLabel_, etaLabel_}) l->setMinimumWidth(l->isHidden() ? 0 : widthOf(l));
  // Lay the bar out now: a label that grew is widened at once, its neighbours only moved by the
  // next layout pass, and until then it would lie under them.
  if (QLayout* layout = bar->layout()) layout->activate();
  fittedStatus_.clear();
  for (QLabel* l : {stepLabel_, rateLabel_, etaLabel_, familiesLabel_})
    if (!l->isHidden()) fittedStatus_[l] = {l->text(), widthOf(l)};
}

void MainWindow::balanceCentre() {
  auto* centre = static_cast<AdaptiveSplit*>(centralWidget());
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

void MainWindow::resizeEvent(QResizeEvent* e) {
  QMainWindow::resizeEvent(e);
  statusSlack_ = 0;
  fitStatusBar();
  widenExperimentPanel();
  QTimer::singleShot(0, this, [this] {
    balanceCentre();
    fitDockTabs();
  });
  // A window that grows again gives the metrics dock back its share (it shrank with the window).
  if (!regrowing_ && metricsDock_->isVisible() && !metricsDock_->isFloating() && e->oldSize().width() > 0) {
    const int target = static_cast<int>(width() * metricsShare_);
    if (e->size().width() > e->oldSize().width() && metricsDock_->width() < target - 8) {
      regrowing_ = true;
      resizeDocks({metricsDock_}, {target}, Qt::Horizontal);
      regrowing_ = false;
    }
  }
}

void MainWindow::fitDockTabs() {
  // Experiment, Guide and Routing share the left column: below it while their titles fit,
  // else along its side (1280x720 at scale 2.5), where they are never cut.
  int needed = 0;
  for (QDockWidget* dock : tabifiedDockWidgets(experimentDock_))
    needed += fontMetrics().horizontalAdvance(dock->windowTitle()) + style()->pixelMetric(QStyle::PM_TabBarTabHSpace, nullptr, this);
  if (needed == 0) return;
  needed += fontMetrics().horizontalAdvance(experimentDock_->windowTitle()) + style()->pixelMetric(QStyle::PM_TabBarTabHSpace, nullptr, this);
  // Along the side the dock is narrower still: they stay there until the window grows.
  const QTabWidget::TabPosition want = experimentDock_->width() < needed ? QTabWidget::West : QTabWidget::South;
  if (want != tabPosition(Qt::LeftDockWidgetArea)) setTabPosition(Qt::LeftDockWidgetArea, want);
}

void MainWindow::widenExperimentPanel() {
  // Room to spare: the experiment panel as wide as its content (no horizontal scroll bar).
  if (!regrowing_ && experimentDock_->isVisible() && !experimentDock_->isFloating()) {
    const int content = panel_->contentWidth();
    if (experimentDock_->width() < content && width() - content >= 1100) {
      regrowing_ = true;
      resizeDocks({experimentDock_}, {content}, Qt::Horizontal);
      regrowing_ = false;
    }
  }
}

void MainWindow::addRecent(const QString& key, const QString& path) {
  QSettings settings;
  QStringList list = settings.value(key).toStringList();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > 8) list.removeLast();
  settings.setValue(key, list);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  QSettings settings;
  for (const QString& path : settings.value("recentExperiments").toStringList())
    recentMenu_->addAction(tr("Experiment: %1").arg(QFileInfo(path).fileName()), this, [this, path] { openExperiment(path); })->setToolTip(path);
  for (const QString& path : settings.value("recentRuns").toStringList())
    recentMenu_->addAction(tr("Run: %1").arg(QFileInfo(path).fileName()), this, [this, path] { openRun(path); })->setToolTip(path);
  recentMenu_->setEnabled(!recentMenu_->isEmpty());
}

void MainWindow::showShortcuts() {
  auto* table = new QTableWidget;
  QList<QAction*> actions;
  for (QAction* a : this->actions())
    if (!a->shortcut().isEmpty()) actions << a;
  table->setColumnCount(2);
  table->setRowCount(actions.size());
  table->setHorizontalHeaderLabels({tr("Action"), tr("Shortcut")});
  for (int i = 0; i < actions.size(); ++i) {
    table->setItem(i, 0, new QTableWidgetItem(actions[i]->text().remove('&')));
    table->setItem(i, 1, new QTableWidgetItem(actions[i]->shortcut().toString(QKeySequence::NativeText)));
  }
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->verticalHeader()->hide();
  table->setAlternatingRowColors(true);
  table->resizeColumnsToContents();
  table->resizeRowsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Keyboard shortcuts"));
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(table);
  // Sized to its content (both columns whole), within the screen; where the screen is too
  // narrow (large scales) the actions' names wrap and the shortcuts stay whole.
  const QRect available = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 720);
  const int chrome = table->frameWidth() * 2 + table->style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 40;
  if (table->columnWidth(0) + table->columnWidth(1) + chrome > available.width() - 40) {
    table->horizontalHeader()->setStretchLastSection(false);
    table->setWordWrap(true);
    table->setColumnWidth(0, std::max(fontMetrics().averageCharWidth() * 8, available.width() - 40 - chrome - table->columnWidth(1)));
    table->resizeRowsToContents();
  }
  const int width = table->columnWidth(0) + table->columnWidth(1) + chrome;
  int height = table->horizontalHeader()->height() + table->frameWidth() * 2 + 40;
  for (int i = 0; i < table->rowCount(); ++i) height += table->rowHeight(i);
  dialog.resize(std::min(width, available.width() - 40), std::min(height, available.height() - 80));
  dialog.exec();
}

void MainWindow::showAbout() {
  QStringList platform = platformLines(platformInfo());
  for (QString& line : platform) line = line.toHtmlEscaped();
  QMessageBox::about(this, tr("About Modularity Lab"),
                     tr("<h3>Modularity Lab %1</h3>"
                        "<p>Watch, live, whether modular neural networks really specialise.</p>"
                        "<p>Implements S. Mittal, Y. Bengio, G. Lajoie, <i>Is a Modular Architecture Enough?</i>, "
                        "NeurIPS 2022 (arXiv:2206.02713): its rule tasks, its four model families and its "
                        "collapse and specialisation metrics.</p>"
                        "<p>Device: %2<br>%3</p>")
                         .arg(QString::fromUtf8(versionString()), QString::fromStdString(describeDevice("auto")), platform.join("<br>")));
}

void MainWindow::restoreSettings() {
  QSettings settings;
  if (settings.contains("geometry")) restoreGeometry(settings.value("geometry").toByteArray());
  else resize(1500, 920);
  if (settings.contains("windowState")) restoreState(settings.value("windowState").toByteArray());
  fitToScreen();
  if (settings.contains("theme")) {
    Appearance a = appearance();
    a.theme = ThemeChoice(settings.value("theme").toInt());
    setAppearance(a);
    for (QAction* action : themeGroup_->actions()) action->setChecked(action->data().toInt() == int(a.theme));
    restyle();
  }
  const QString last = settings.value("lastExperiment").toString();
  if (!last.isEmpty()) {
    try {
      panel_->setConfig(parseConfig(last.toStdString()));
    } catch (const std::exception&) {
      // an experiment from another version: keep the default demo
    }
  }
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
  if (watched == heatmaps_ && event->type() == QEvent::Resize) {
    const auto* resize = static_cast<QResizeEvent*>(event);
    if (resize->size().width() != resize->oldSize().width()) QTimer::singleShot(0, this, [this] { balanceCentre(); });
  }
  if (event->type() == QEvent::ShortcutOverride) {
    const auto* key = static_cast<QKeyEvent*>(event);
    auto* widget = qobject_cast<QWidget*>(watched);
    const bool inNumberField = widget && (qobject_cast<QAbstractSpinBox*>(widget) ||
                                          qobject_cast<QAbstractSpinBox*>(widget->parentWidget()));
    // Filtered without being accepted: the field does not claim Space, so the Pause shortcut runs.
    if (key->key() == Qt::Key_Space && key->modifiers() == Qt::NoModifier && inNumberField && widget->window() == this)
      return true;
  }
  return QMainWindow::eventFilter(watched, event);
}

void MainWindow::fitToScreen() {
  const QScreen* s = screen() ? screen() : QGuiApplication::primaryScreen();
  if (!s || isFullScreen() || isMaximized()) return;
  const QRect available = s->availableGeometry();
  QRect frame = geometry();
  frame.setSize(frame.size().boundedTo(available.size() - QSize(16, 48)));  // room for the window frame
  if (!available.contains(frame)) frame.moveCenter(available.center());
  setGeometry(frame);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (keepsSettings_) {
    QSettings settings;
    settings.setValue("geometry", saveGeometry());
    settings.setValue("windowState", saveState());
    settings.setValue("lastExperiment", QString::fromStdString(toJson(panel_->config())));
  }
  controller_.stop();
  e->accept();
}

}  // namespace modlab::ui
