// Presentation mode of the main window, for a lecture hall: full screen, fonts and lines at
// 1.5x or more, essential controls only (the metrics stay, the other docks and the menu bar go,
// a third of the screen for the metrics), and on leaving, the window exactly as it was.
#pragma once

#include <QByteArray>
#include <QRect>

namespace modlab::ui {

class MainWindow;

class PresentationMode {
public:
  explicit PresentationMode(MainWindow* window) : w_(window) {}
  void set(bool on);
  bool isOn() const { return on_; }

private:
  MainWindow* w_;
  bool on_ = false;
  double scale_ = 1.0;  // before presenting
  QByteArray state_, geometry_;
  QRect rect_;
};

}  // namespace modlab::ui
