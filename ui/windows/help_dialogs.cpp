#include "ui/windows/help_dialogs.h"

#include <QAction>
#include <QDialog>
#include <QHeaderView>
#include <QMenu>
#include <QMessageBox>
#include <QScreen>
#include <QStyle>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QWidget>
#include <algorithm>

#include "modlab/version.h"
#include "modlab/platform/device.h"
#include "modlab/platform/platform_info.h"

namespace modlab::ui {

QStringList platformLines() {
  const PlatformInfo p = platformInfo();
  return {QObject::tr("LibTorch %1").arg(QString::fromStdString(p.libtorchVersion)),
          QObject::tr("BLAS: %1").arg(QString::fromStdString(describeBlas(p))),
          QObject::tr("GEMM: %1").arg(QString::fromStdString(describeGemm(p))),
          QObject::tr("CPU: %1, %2 hardware threads").arg(QString::fromStdString(p.cpu)).arg(p.hardwareThreads),
          QObject::tr("CUDA: %1").arg(p.cudaAvailable ? QObject::tr("available") : QObject::tr("not available"))};
}

void showShortcutsDialog(QWidget* window) {
  auto* table = new QTableWidget;
  // The window's actions and those that live only in its menus (Help, Open sweep folder...).
  QList<QAction*> all = window->actions();
  QList<QMenu*> menus = window->findChildren<QMenu*>();
  for (QMenu* m : menus) all += m->actions();
  QList<QAction*> actions;
  for (QAction* a : all)
    if (!a->shortcut().isEmpty() && !actions.contains(a)) actions << a;
  table->setColumnCount(2);
  table->setRowCount(actions.size());
  table->setHorizontalHeaderLabels({QObject::tr("Action"), QObject::tr("Shortcut")});
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
  QDialog dialog(window);
  dialog.setWindowTitle(QObject::tr("Keyboard shortcuts"));
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(table);
  // Sized to its content (both columns whole), within the screen; where the screen is too
  // narrow (large scales) the actions' names wrap and the shortcuts stay whole.
  const QRect available = window->screen() ? window->screen()->availableGeometry() : QRect(0, 0, 1280, 720);
  const int chrome = table->frameWidth() * 2 + table->style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 40;
  if (table->columnWidth(0) + table->columnWidth(1) + chrome > available.width() - 40) {
    table->horizontalHeader()->setStretchLastSection(false);
    table->setWordWrap(true);
    table->setColumnWidth(0, std::max(window->fontMetrics().averageCharWidth() * 8, available.width() - 40 - chrome - table->columnWidth(1)));
    table->resizeRowsToContents();
  }
  const int width = table->columnWidth(0) + table->columnWidth(1) + chrome;
  int height = table->horizontalHeader()->height() + table->frameWidth() * 2 + 40;
  for (int i = 0; i < table->rowCount(); ++i) height += table->rowHeight(i);
  dialog.resize(std::min(width, available.width() - 40), std::min(height, available.height() - 80));
  dialog.exec();
}

void showAboutBox(QWidget* parent) {
  QStringList platform = platformLines();
  for (QString& line : platform) line = line.toHtmlEscaped();
  QMessageBox::about(parent, QObject::tr("About Modularity Lab"),
                     QObject::tr("<h3>Modularity Lab %1</h3>"
                        "<p>Watch, live, whether modular neural networks really specialise.</p>"
                        "<p>Implements S. Mittal, Y. Bengio, G. Lajoie, <i>Is a Modular Architecture Enough?</i>, "
                        "NeurIPS 2022 (arXiv:2206.02713): its rule tasks, its four model families and its "
                        "collapse and specialisation metrics.</p>"
                        "<p>Device: %2<br>%3</p>")
                         .arg(QString::fromUtf8(versionString()), QString::fromStdString(describeDevice("auto")), platform.join("<br>")));
}

}  // namespace modlab::ui
