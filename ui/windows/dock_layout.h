// How the main window gives its docks room on any screen: the left docks' tabs beside them
// when their titles do not fit below, a dock widened to its content when there is room to
// spare, and a window never larger than the screen's available area, never off it.
#pragma once

#include <functional>

class QDockWidget;
class QMainWindow;
class QWidget;

namespace modlab::ui {

// Experiment, Guide and Routing share the left column: tabs below it while their titles fit,
// else along its side (1280x720 at scale 2.5), where they are never cut.
void fitDockTabs(QMainWindow* window, QDockWidget* experimentDock);
// The dock as wide as its content (asked only when it may widen) (no horizontal scroll bar) when the window has room;
// `regrowing` is set while the window resizes its docks (their resize events are ignored).
void widenDock(QMainWindow* window, QDockWidget* dock, const std::function<int()>& content, bool& regrowing);
void fitToScreen(QWidget* window);

}  // namespace modlab::ui
