// A visible keyboard focus for every widget of a window: a ring in the highlight colour, at the
// appearance's scale, around the widget that Tab (or a shortcut) gave the focus to. Charts,
// heatmaps and the guide draw none of their own; in a lecture hall Fusion's dotted line is
// too faint to find.
#pragma once

#include <QPointer>
#include <QWidget>

namespace modlab::ui {

class FocusRing : public QWidget {
  Q_OBJECT
public:
  explicit FocusRing(QWidget* window);
  QWidget* target() const { return target_; }

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;

private:
  void follow(QWidget* widget);
  void place();
  QPointer<QWidget> target_;
};

}  // namespace modlab::ui
