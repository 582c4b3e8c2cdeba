#include "ui/windows/main_window.h"

#include <QAbstractSpinBox>
#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QKeyEvent>
#include <QLabel>
#include <QFont>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSettings>
#include <QStatusBar>
#include <QTextBrowser>
#include <QTimer>
#include <cmath>

#include "modlab/experiment/run_store.h"
#include "ui/charts/chart_figure.h"
#include "ui/charts/loss_chart.h"
#include "ui/charts/metrics_view.h"
#include "ui/export/chart_export.h"
#include "ui/heatmaps/heatmap_widget.h"
#include "ui/panels/experiment_panel.h"
#include "ui/panels/routing_panel.h"
#include "ui/panels/timeline.h"
#include "ui/style/appearance.h"
#include "ui/style/focus_ring.h"
#include "ui/windows/accessible_names.h"
#include "ui/windows/centre_area.h"
#include "ui/windows/compare_window.h"
#include "ui/windows/dock_layout.h"
#include "ui/windows/docks.h"
#include "ui/windows/main_actions.h"
#include "ui/windows/presentation_mode.h"
#include "ui/windows/run_status_bar.h"
#include "ui/windows/share_dialog.h"
#include "ui/windows/sweep_report_window.h"
#include "ui/data/live_share.h"

namespace modlab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), presentationMode_(std::make_unique<PresentationMode>(this)) {
  qApp->installEventFilter(this);
  // An export on white draws what is shown, on the light theme: zoom, hidden curves and the
  // evaluation shown are kept (restyle() rebuilds the charts).
  addRestyleHook(this, [this] {
    loss_->restyle();
    metrics_->restyle();
    for (QWidget* w : heatmaps_->findChildren<QWidget*>()) w->update();
  });
  focusRing_ = new FocusRing(this);
  setWindowTitle(tr("Modularity Lab"));
  setObjectName("MainWindow");
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);

  centre_ = new CentreArea;
  loss_ = centre_->loss();
  heatmaps_ = centre_->heatmaps();
  timeline_ = centre_->timeline();
  heatmapArea_ = centre_->heatmapArea();
  setCentralWidget(centre_);

  experimentDock_ = new ExperimentDock(this);
  panel_ = experimentDock_->panel();
  addDockWidget(Qt::LeftDockWidgetArea, experimentDock_);
  metricsDock_ = new MetricsDock(this);
  metrics_ = metricsDock_->view();
  addDockWidget(Qt::RightDockWidgetArea, metricsDock_);
  guideDock_ = new GuideDock(this);
  guide_ = guideDock_->browser();
  addDockWidget(Qt::LeftDockWidgetArea, guideDock_);
  tabifyDockWidget(experimentDock_, guideDock_);
  auto* routingDock = new RoutingDock(this);
  RoutingPanel* routing = routingDock->panel();
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
  // A dock draws its title in the font the platform gave dock titles when it was made, unless
  // its own font differs from the class's: one that differs only in a hint follows the
  // application's size (the presentation scale) in every title.
  QFont titleFont;
  titleFont.setStyleStrategy(QFont::PreferAntialias);
  for (QDockWidget* dock : findChildren<QDockWidget*>()) dock->setFont(titleFont);
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

  MainActions::buildActions(this);
  MainActions::buildMenus(this);
  status_ = new RunStatusBar(statusBar());

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

  // What a screen reader says: the views by what they show, the fields by their labels.
  loss_->chartView()->setAccessibleName(tr("Training loss chart"));
  loss_->evalView()->setAccessibleName(tr("Evaluation loss and error chart"));
  metrics_->barsView()->setAccessibleName(tr("Specialisation metrics at the evaluation shown, as bars"));
  metrics_->historyView()->setAccessibleName(tr("Metric history chart"));
  timeline_->setAccessibleName(tr("Evaluation timeline"));
  learningRate_->setAccessibleName(tr("Learning rate"));
  speed_->setAccessibleName(tr("Training speed"));
  nameControlsForScreenReaders(this);
  defaultState_ = saveState();
  restoreSettings();
  QTimer::singleShot(0, this, [this] { widenDock(this, experimentDock_, [this] { return panel_->contentWidth(); }, regrowing_); });  // once shown
  controller_.preview(panel_->config());
  updateActions();
  status_->showRun(controller_.data());
}

MainWindow::~MainWindow() = default;

bool MainWindow::isPresenting() const { return presentationMode_->isOn(); }
QDockWidget* MainWindow::metricsDock() const { return metricsDock_; }
QDockWidget* MainWindow::experimentDock() const { return experimentDock_; }

QLabel* MainWindow::stepLabel() const { return status_->stepLabel(); }
QLabel* MainWindow::messageLabel() const { return status_->messageLabel(); }
QLabel* MainWindow::rateLabel() const { return status_->rateLabel(); }
QLabel* MainWindow::etaLabel() const { return status_->etaLabel(); }
QLabel* MainWindow::familiesLabel() const { return status_->familiesLabel(); }

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
  MainActions::addRecent(this, "recentRuns", directory);
  showReadWarnings();
  return true;
}

bool MainWindow::openExperiment(const QString& path) {
  try {
    panel_->setConfig(parseConfig(readUserFile(path.toStdString())));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot open experiment"), tr("%1:\n%2").arg(path, QString::fromStdString(e.what())));
    return false;
  }
  MainActions::addRecent(this, "recentExperiments", path);
  return true;
}

bool MainWindow::saveExperiment(const QString& path) {
  QString error;
  if (!exportText(QString::fromStdString(toJson(panel_->config())), path, &error)) {
    QMessageBox::warning(this, tr("Cannot save"), error);
    return false;
  }
  MainActions::addRecent(this, "recentExperiments", path);
  return true;
}

void MainWindow::showReadWarnings() {
  if (readWarnings_) readWarnings_->close();
  const QStringList& warnings = controller_.readWarnings();
  if (warnings.isEmpty()) return;
  // Not modal: the run is on screen behind it, as far as it could be read.
  auto* box = new QMessageBox(QMessageBox::Warning, tr("Run read in part"),
                              controller_.readInPart()
                                  ? tr("Only part of this run could be read. It is shown up to where it is damaged, and is not scored:")
                                  : tr("This run's record ends in a line that was being written when its process stopped:"),
                              QMessageBox::Ok, this);
  box->setObjectName("ReadWarnings");
  box->setInformativeText(warnings.join("\n\n"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setModal(false);
  box->show();
  readWarnings_ = box;
  if (controller_.readInPart()) statusBar()->showMessage(tr("Read in part: %1").arg(warnings.front()), 15000);
}

bool MainWindow::exportDashboard(const QString& path, double scale, QString* error) {
  const bool ring = focusRing_->isVisible();  // the keyboard's focus is not part of the figure
  focusRing_->hide();
  const bool written = exportPng(this, path, scale, error);
  focusRing_->setVisible(ring);
  return written;
}

void MainWindow::onRunReset() {
  if (auto* routing = findChild<RoutingPanel*>()) {
    routing->showData(controller_.data(), controller_.isRunning());
    const ExperimentConfig& config = controller_.data().config();
    // The routing panel comes forward for a run with interventions, unless a guide is being read.
    if ((!config.routing.isPaper() || !config.variants.empty()) && !guideDock_->isVisible())
      findChild<QDockWidget*>("RoutingDock")->raise();
  }
  loss_->rebuild();
  heatmaps_->rebuild();
  metrics_->rebuild();
  timeline_->setData(&controller_.data());
  learningRate_->setValue(controller_.data().config().learningRate);
  const RunData& d = controller_.data();
  status_->showSource(d);
  setWindowTitle(tr("%1 - Modularity Lab").arg(QString::fromStdString(d.config().name)));
  loss_->setCursorStep(NAN);
  metrics_->setCursorStep(NAN);
  QTimer::singleShot(0, this, [this] { centre_->balance(); });
  if (!d.source().isEmpty()) MainActions::addRecent(this, "recentRuns", d.source());  // Open recent knows the run at once
  updateActions();
  status_->showRun(controller_.data());
}

void MainWindow::onDataUpdated() {
  if (auto* routing = findChild<RoutingPanel*>()) routing->showData(controller_.data(), controller_.isRunning());
  loss_->refresh();
  status_->showRun(controller_.data());
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
  const int written = centre_->exportHeatmapFrames(controller_.data().evaluations().size(), directory);
  showEvaluationAt(timeline_->position());
  return written;
}

bool MainWindow::exportHeatmapAnimation(const QString& webpPath, int millisecondsPerFrame, double scale) {
  QString error;
  const bool written = centre_->exportHeatmapAnimation(controller_.data().evaluations().size(), webpPath,
                                                       millisecondsPerFrame, scale, &error);
  showEvaluationAt(timeline_->position());
  if (!written) statusBar()->showMessage(error, 5000);
  return written;
}

void MainWindow::restyle() {
  loss_->rebuild();
  metrics_->refresh();
  heatmaps_->update();
  for (QWidget* w : heatmaps_->findChildren<QWidget*>()) w->update();
}

void MainWindow::setTheme(int theme, bool remember) {
  Appearance a = appearance();
  a.theme = ThemeChoice(theme);
  setAppearance(a);
  for (QAction* action : themeGroup_->actions()) action->setChecked(action->data().toInt() == theme);
  if (remember) QSettings().setValue("theme", theme);
  restyle();
}

void MainWindow::setScale(double scale) {
  Appearance a = appearance();
  a.scale = scale;
  setAppearance(a);
  restyle();
  status_->forgetSlack();
  statusBar()->showMessage(tr("scale %1%").arg(std::lround(appearance().scale * 100)), 2000);
  QTimer::singleShot(0, this, [this] {
    status_->fit();
    centre_->balance();
    fitDockTabs(this, experimentDock_);
  });
}

void MainWindow::setPresentation(bool on) {
  presentation_->setChecked(on);
  presentationMode_->set(on);
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
    const QString html = QString::fromUtf8(file.readAll());
    guide_->setHtml(html);
    guideDock_->show();
    guideDock_->raise();
    // Each demo opens on the view that shows its point: a guide may ask for it in its first line
    // ("<!-- view: error, linear -->"); otherwise the loss, on a log axis.
    static const QRegularExpression directive("<!--\\s*view:([^>]*)-->");
    const QString view = directive.match(html).captured(1);
    loss_->setErrorView(view.contains("error"));
    loss_->setLogScale(!view.contains("linear"));
  }
  return startTraining();
}

bool MainWindow::openSweep(const QString& directory) { return openSweepReport(this, directory); }

void MainWindow::setLiveShare(LiveShare* share) {
  share_ = share;
  shareAction_->setEnabled(share != nullptr);
  if (!share) return;
  shareLabel_ = new QLabel(this);
  shareLabel_->setToolTip(tr("Browsers watching this run (File > Share live view)"));
  statusBar()->addPermanentWidget(shareLabel_);
  shareLabel_->hide();
  const auto show = [this] {
    shareLabel_->setVisible(share_->isSharing());
    const int n = share_->viewers();
    shareLabel_->setText(n == 1 ? tr("Sharing: 1 viewer") : tr("Sharing: %1 viewers").arg(n));
  };
  connect(share, &LiveShare::viewersChanged, this, show);
  connect(share, &LiveShare::sharingChanged, this, show);
}

bool MainWindow::shareLiveView(QString* error) {
  if (!share_) {
    if (error) *error = tr("This build has no web server");
    return false;
  }
  QString why;
  if (!share_->isSharing() && !share_->start(&why)) {
    if (error) *error = tr("Cannot share the live view: %1").arg(why);
    return false;
  }
  if (!shareDialog_) shareDialog_ = new ShareDialog(share_, this);
  shareDialog_->refresh();
  shareDialog_->show();
  shareDialog_->raise();
  return true;
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

void MainWindow::resizeEvent(QResizeEvent* e) {
  QMainWindow::resizeEvent(e);
  status_->refit();
  widenDock(this, experimentDock_, [this] { return panel_->contentWidth(); }, regrowing_);
  QTimer::singleShot(0, this, [this] {
    centre_->balance();
    fitDockTabs(this, experimentDock_);
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

void MainWindow::restoreSettings() {
  QSettings settings;
  if (settings.contains("geometry")) restoreGeometry(settings.value("geometry").toByteArray());
  else resize(1500, 920);
  if (settings.contains("windowState")) restoreState(settings.value("windowState").toByteArray());
  fitToScreen(this);
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
    if (resize->size().width() != resize->oldSize().width()) QTimer::singleShot(0, this, [this] { centre_->balance(); });
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
