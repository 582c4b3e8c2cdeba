#include "ui/windows/presentation_mode.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QLayout>
#include <QMenuBar>
#include <QScreen>
#include <QTimer>

#include "ui/style/appearance.h"
#include "ui/windows/centre_area.h"
#include "ui/windows/dock_layout.h"
#include "ui/windows/docks.h"
#include "ui/windows/main_window.h"

namespace modlab::ui {

void PresentationMode::set(bool on) {
  if (on == on_) return;
  on_ = on;
  MainWindow* w = w_;
  if (on) {
    state_ = w->saveState();
    geometry_ = w->saveGeometry();
    rect_ = w->geometry();
    scale_ = appearance().scale;
    // Essentials only: every dock but the metrics and a guide being shown goes (restoreState
    // brings them back). A guided demo's explanation is what the class reads.
    const bool guide = w->guideDock_->isVisible();
    for (QDockWidget* dock : w->findChildren<QDockWidget*>())
      if (dock != w->metricsDock_ && !(guide && dock == w->guideDock_)) dock->hide();
    if (guide) w->guideDock_->raise();
    w->menuBar()->hide();
    for (QAction* a : {w->stop_, w->newSeed_}) a->setVisible(false);
    w->showFullScreen();
    if (const QScreen* s = w->screen()) w->setGeometry(s->geometry());  // also without a window manager
    if (appearance().scale < 1.5) w->setScale(1.5);
    // The metrics get room of their own: a third of the screen (once the new fonts are laid out).
    QTimer::singleShot(0, w, [this, w] {
      if (on_) w->resizeDocks({w->metricsDock_}, {w->width() / 3}, Qt::Horizontal);
    });
    // Keys act on training in front of a class: no editor keeps the focus (and its text selected).
    if (QWidget* focused = QApplication::focusWidget()) focused->clearFocus();
    w->centralWidget()->setFocus(Qt::OtherFocusReason);
  } else {
    // A guide shown now stays (a demo started in presentation mode: the state saved before had none).
    const bool guide = w->guideDock_->isVisible();
    w->menuBar()->show();
    for (QAction* a : {w->stop_, w->newSeed_}) a->setVisible(true);
    w->showNormal();
    w->setScale(scale_);  // first: the panel's sizes follow the font back
    w->restoreState(state_);
    if (guide) {
      w->guideDock_->show();
      w->guideDock_->raise();
    }
    // Once the smaller fonts have shrunk the minimum sizes: the window as it was.
    QTimer::singleShot(0, w, [this, w] {
      if (on_) return;
      if (w->layout()) w->layout()->activate();
      if (rect_.isValid()) w->setGeometry(rect_);
      fitToScreen(w);
      // The pages' minimum sizes shrank with the fonts, the centre's size may not have changed.
      QTimer::singleShot(0, w, [this, w] {
        if (on_) return;
        w->centre_->refit();
        w->centre_->balance();
      });
    });
  }
}

}  // namespace modlab::ui
