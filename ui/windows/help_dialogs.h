// The Help menu's dialogs: every shortcut of a window, and the About box with what the engine
// runs on (also the device label's tooltip).
#pragma once

#include <QStringList>

class QWidget;

namespace modlab::ui {

// LibTorch, the BLAS kernel and how it was chosen, the GEMM library, the CPU, CUDA.
QStringList platformLines();
// A table of every action of `window` that has a shortcut, sized to its content within the screen.
void showShortcutsDialog(QWidget* window);
void showAboutBox(QWidget* parent);

}  // namespace modlab::ui
