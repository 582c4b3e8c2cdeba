// Builds the main window's actions (each with its shortcut and tooltip), its menus, the Run
// toolbar (with the learning rate and the speed) and the Open recent menu, outside the window
// class: the window composes, this wires what the user can trigger to it.
#pragma once

#include <QString>

namespace modlab::ui {

class MainWindow;

class MainActions {
public:
  static void buildActions(MainWindow* w);
  static void buildMenus(MainWindow* w);  // and the Run toolbar; after buildActions
  // Remembers a run folder or an experiment file (settings key "recentRuns"/"recentExperiments").
  static void addRecent(MainWindow* w, const QString& key, const QString& path);
  static void rebuildRecentMenu(MainWindow* w);
};

}  // namespace modlab::ui
