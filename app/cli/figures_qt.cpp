// The report's figures with the GUI's chart code, offscreen (no display needed).
#include <QApplication>
#include <cstdio>
#include <memory>

#include "figures.h"
#include "modlab/sweep/report.h"
#include "ui/charts/sweep_figures.h"

namespace modlab::cli {

std::function<std::vector<std::string>(const void*, const std::string&)> figureRenderer(int argc, char** argv) {
  return [argc, argv](const void* report, const std::string& out) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // The offscreen platform warns about window hints it ignores; nothing for a report reader.
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
      if (type != QtDebugMsg && type != QtInfoMsg && !message.contains("propagateSizeHints") && !message.contains("XDG_RUNTIME_DIR"))
        std::fprintf(stderr, "%s\n", qPrintable(message));
    });
    int count = argc;
    QApplication app(count, argv);
    std::vector<std::string> files;
    for (const QString& f : ui::renderSweepFigures(*static_cast<const SweepReport*>(report), QString::fromStdString(out)))
      files.push_back(f.toStdString());
    return files;
  };
}

}  // namespace modlab::cli
