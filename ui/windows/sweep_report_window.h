// A sweep folder's report as the paper's figures, one tab each, in a window of its own: the
// runs are read and aggregated on a worker thread, the window opens when they are.
#pragma once

#include <QString>

class QMainWindow;

namespace modlab::ui {

// False (with a message box) when the folder holds no readable sweep; the report follows.
bool openSweepReport(QMainWindow* window, const QString& directory);

}  // namespace modlab::ui
