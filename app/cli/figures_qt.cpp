// The report's figures with the GUI's chart code, offscreen (no display needed).
#include <QApplication>
#include <cstdio>
#include <memory>

#include "figures.h"
#include "modlab/sweep/report.h"
#include "ui/charts/sweep_figures.h"
#include "ui/style/appearance.h"

namespace modlab::cli {

FigureRenderer figureRenderer(int argc, char** argv) {
  return [argc, argv](const void* report, const std::string& out, double scale) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // The offscreen platform warns about window hints it ignores; nothing for a report reader.
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
      if (type != QtDebugMsg && type != QtInfoMsg && !message.contains("propagateSizeHints") && !message.contains("XDG_RUNTIME_DIR"))
        std::fprintf(stderr, "%s\n", qPrintable(message));
    });
    int count = argc;
    QApplication app(count, argv);
    // Figures for a paper: the light theme, text at 12 pt (the figures are 1100 to 1800 px wide).
    QFont font = QApplication::font();
    font.setPointSizeF(12);
    QApplication::setFont(font);
    ui::setAppearance(ui::Appearance{ui::ThemeChoice::Light, 1.0});
    RenderedFigures rendered;
    QStringList failures;
    for (const QString& f : ui::renderSweepFigures(*static_cast<const SweepReport*>(report), QString::fromStdString(out), scale, &failures))
      rendered.files.push_back(f.toStdString());
    for (const QString& f : failures) rendered.failures.push_back(f.toStdString());
    return rendered;
  };
}

}  // namespace modlab::cli
