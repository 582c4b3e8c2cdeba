#include "ui/windows/dock_layout.h"

#include <QDockWidget>
#include <QGuiApplication>
#include <QMainWindow>
#include <QScreen>
#include <QStyle>
#include <QTabWidget>

namespace modlab::ui {

void fitDockTabs(QMainWindow* w, QDockWidget* experimentDock) {
  // Experiment, Guide and Routing share the left column: below it while their titles fit,
  // else along its side (1280x720 at scale 2.5), where they are never cut.
  int needed = 0;
  for (QDockWidget* dock : w->tabifiedDockWidgets(experimentDock))
    needed += w->fontMetrics().horizontalAdvance(dock->windowTitle()) + w->style()->pixelMetric(QStyle::PM_TabBarTabHSpace, nullptr, w);
  if (needed == 0) return;
  needed += w->fontMetrics().horizontalAdvance(experimentDock->windowTitle()) + w->style()->pixelMetric(QStyle::PM_TabBarTabHSpace, nullptr, w);
  // Along the side the dock is narrower still: they stay there until the window grows.
  const QTabWidget::TabPosition want = experimentDock->width() < needed ? QTabWidget::West : QTabWidget::South;
  if (want != w->tabPosition(Qt::LeftDockWidgetArea)) w->setTabPosition(Qt::LeftDockWidgetArea, want);
}

void widenDock(QMainWindow* w, QDockWidget* dock, const std::function<int()>& contentWidth, bool& regrowing) {
  // Room to spare: the experiment panel as wide as its content (no horizontal scroll bar).
  if (!regrowing && dock->isVisible() && !dock->isFloating()) {
    const int content = contentWidth();
    if (dock->width() < content && w->width() - content >= 1100) {
      regrowing = true;
      w->resizeDocks({dock}, {content}, Qt::Horizontal);
      regrowing = false;
    }
  }
}

void fitToScreen(QWidget* w) {
  const QScreen* s = w->screen() ? w->screen() : QGuiApplication::primaryScreen();
  if (!s || w->isFullScreen() || w->isMaximized()) return;
  const QRect available = s->availableGeometry();
  QRect frame = w->geometry();
  frame.setSize(frame.size().boundedTo(available.size() - QSize(16, 48)));  // room for the window frame
  if (!available.contains(frame)) frame.moveCenter(available.center());
  w->setGeometry(frame);
}

}  // namespace modlab::ui
