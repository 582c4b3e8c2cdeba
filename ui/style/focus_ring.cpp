#include "ui/style/focus_ring.h"

#include <QApplication>
#include <QFocusEvent>
#include <QKeyEvent>
#include <QPainter>
#include <QTimer>
#include <cmath>

#include "ui/style/appearance.h"

namespace modlab::ui {

FocusRing::FocusRing(QWidget* window) : QWidget(window) {
  setObjectName("FocusRing");
  setAttribute(Qt::WA_TransparentForMouseEvents);
  setAttribute(Qt::WA_NoSystemBackground);
  setFocusPolicy(Qt::NoFocus);
  hide();
  qApp->installEventFilter(this);
}

bool FocusRing::eventFilter(QObject* watched, QEvent* event) {
  auto* widget = qobject_cast<QWidget*>(watched);
  if (!widget) return false;
  switch (event->type()) {
    case QEvent::FocusIn: {
      const Qt::FocusReason reason = static_cast<QFocusEvent*>(event)->reason();
      const bool keyboard = reason == Qt::TabFocusReason || reason == Qt::BacktabFocusReason || reason == Qt::ShortcutFocusReason;
      if (keyboard && widget->window() == parentWidget()->window() && widget != this) {
        // A widget Qt counts as shown but lays out off the window (the tab bar of docks that are
        // hidden) would take the focus where nobody sees it: Tab goes on to the next.
        const QRect inWindow(widget->mapTo(widget->window(), QPoint(0, 0)), widget->size());
        if (!inWindow.intersects(widget->window()->rect())) {
          const bool forward = reason != Qt::BacktabFocusReason;
          QTimer::singleShot(0, widget, [widget, forward] {
            if (!widget->hasFocus()) return;
            QKeyEvent tab(QEvent::KeyPress, forward ? Qt::Key_Tab : Qt::Key_Backtab, forward ? Qt::NoModifier : Qt::ShiftModifier);
            QCoreApplication::sendEvent(widget, &tab);
          });
          follow(nullptr);
          break;
        }
        follow(widget);
      } else if (widget != target_) {
        follow(nullptr);
      }
      break;
    }
    case QEvent::FocusOut:
      if (widget == target_) follow(nullptr);
      break;
    case QEvent::Move:
    case QEvent::Resize:
    case QEvent::Show:
    case QEvent::Hide:
      if (target_ && (widget == target_ || widget->isAncestorOf(target_))) place();
      break;
    default:
      break;
  }
  return false;
}

void FocusRing::follow(QWidget* widget) {
  target_ = widget;
  place();
}

void FocusRing::place() {
  const QRect inParent = target_ ? QRect(target_->mapTo(parentWidget(), QPoint(0, 0)), target_->size()) : QRect();
  if (!target_ || !target_->isVisible() || !inParent.intersects(parentWidget()->rect())) {
    hide();
    return;
  }
  const int pad = static_cast<int>(std::lround(scaled(3)));
  setGeometry(inParent.adjusted(-pad, -pad, pad, pad).intersected(parentWidget()->rect()));
  show();
  raise();
  update();
}

void FocusRing::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const qreal width = scaled(2.5);
  QPen pen(palette().color(QPalette::Highlight), width);
  p.setPen(pen);
  p.setBrush(Qt::NoBrush);
  p.drawRoundedRect(QRectF(rect()).adjusted(width / 2, width / 2, -width / 2, -width / 2), width, width);
}

}  // namespace modlab::ui
