#include "ui/windows/sweep_report_window.h"

#include <QApplication>
#include <QDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMainWindow>
#include <QScreen>
#include <QScrollArea>
#include <QtCharts/QChartView>
#include <algorithm>
#include <QMessageBox>
#include <QPointer>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <memory>
#include <thread>

#include "modlab/sweep/report.h"
#include "modlab/sweep/sweep.h"
#include "ui/charts/sweep_figures.h"
#include "ui/export/chart_export.h"
#include "ui/style/appearance.h"

namespace modlab::ui {

namespace {
void showSweepReport(QMainWindow* window, const SweepReport& report, const QString& directory) {
  window->statusBar()->clearMessage();
  auto* dialog = new QDialog(window);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(QObject::tr("Sweep %1: %2 results").arg(QFileInfo(directory).fileName()).arg(report.rows.size()));
  auto* tabs = new QTabWidget;
  for (const auto& [figure, stem] : sweepFigures()) {
    if (figure == SweepFigure::Routing && !hasRoutingVariants(report)) continue;  // as the report does
    QWidget* w = makeSweepFigure(report, figure);
    w->setAttribute(Qt::WA_DontShowOnScreen, false);
    installExportMenu(w, stem, {});
    auto* scroll = new QScrollArea;  // a figure of many panels scrolls rather than squeezing them
    scroll->setWidget(w);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    tabs->addTab(scroll, stem);
  }
  // The charts take the theme of the moment (an export on white from a dark screen).
  addRestyleHook(dialog, [dialog] {
    for (QChartView* view : dialog->findChildren<QChartView*>()) styleChart(view->chart());
  });
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(tabs);
  if (!report.missing.empty() || !report.failed.empty()) {
    auto* note = new QLabel(QObject::tr("%1 runs missing, %2 failed: the figures show what exists.").arg(report.missing.size()).arg(report.failed.size()));
    note->setToolTip(QString::fromStdString([&] {
      std::string t;
      for (const auto& m : report.missing) t += "missing: " + m + "\n";
      for (const auto& f : report.failed) t += "failed: " + f + "\n";
      return t;
    }()));
    layout->addWidget(note);
  }
  // 1500 x 950 where the screen has room; within it otherwise.
  const QRect screen = window->screen() ? window->screen()->availableGeometry() : QRect(0, 0, 1280, 720);
  dialog->resize(std::min(1500, screen.width() * 9 / 10), std::min(950, screen.height() * 9 / 10));
  dialog->show();
}

}  // namespace

bool openSweepReport(QMainWindow* window, const QString& directory) {
  std::shared_ptr<Sweep> sweep;
  try {
    sweep = std::make_shared<Sweep>(loadSweep(directory.toStdString()));
  } catch (const std::exception& e) {
    QMessageBox::warning(window, QObject::tr("Cannot open sweep"), QString::fromStdString(e.what()));
    return false;
  }
  // Aggregating reads every run folder and builds models to count parameters: off the GUI thread.
  window->statusBar()->showMessage(QObject::tr("reading sweep %1...").arg(directory));
  QPointer<QMainWindow> self(window);
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
      if (!error.isEmpty()) QMessageBox::warning(self, QObject::tr("Cannot open sweep"), error);
      else showSweepReport(self, *report, directory);
    }, Qt::QueuedConnection);
  }).detach();
  return true;
}

}  // namespace modlab::ui
