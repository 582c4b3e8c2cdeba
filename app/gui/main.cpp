// modlab: the Modularity Lab desktop application.
#include <csignal>
#include <exception>

#include <sys/socket.h>
#include <unistd.h>

#include <QApplication>
#include <string_view>
#include <QFile>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QSocketNotifier>
#include <QTimer>

#include "modlab/version.h"
#include "modlab/experiment/experiment_config.h"
#include "modlab/platform/blas_kernel.h"
#include "modlab/platform/malloc_arenas.h"
#include "ui/style/appearance.h"
#include "ui/export/chart_export.h"
#include "ui/windows/compare_window.h"
#include "ui/panels/experiment_panel.h"
#include "ui/windows/main_window.h"
#include "web/server/session_share.h"

namespace {

// No exception reaches the top of the app: one that leaves an event handler is shown as a
// dialog (the window and its run stay as they were), never an abort.
class Application : public QApplication {
public:
  using QApplication::QApplication;
  bool notify(QObject* receiver, QEvent* event) override {
    try {
      return QApplication::notify(receiver, event);
    } catch (const std::exception& e) {
      report(QString::fromStdString(e.what()));
    } catch (...) {
      report(QStringLiteral("an unknown error"));
    }
    return false;
  }

private:
  void report(const QString& what) {
    fprintf(stderr, "modlab: %s\n", qPrintable(what));
    if (reporting_) return;  // no dialog over a dialog
    reporting_ = true;
    QMessageBox::critical(activeWindow(), QStringLiteral("Modularity Lab"), what);
    reporting_ = false;
  }
  bool reporting_ = false;
};

// SIGTERM, SIGINT and SIGHUP end the app as closing its window does: the run being trained
// stops after its step and its run.json says "stopped", not "running". The handler only
// writes a byte; the event loop does the rest (a self-pipe, as Qt's documentation shows).
int signalPipe[2] = {-1, -1};
void onSignal(int) {
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(signalPipe[0], &byte, 1);
}

void quitOnSignals(QApplication& app) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signalPipe) != 0) return;
  auto* notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
  QObject::connect(notifier, &QSocketNotifier::activated, &app, [] {
    char byte;
    [[maybe_unused]] const ssize_t n = ::read(signalPipe[1], &byte, 1);
    for (QWidget* w : QApplication::topLevelWidgets()) w->close();
    QApplication::quit();
  });
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  modlab::selectBlasKernelAtStartup(argv, "modlab");  // first: may restart with OPENBLAS_CORETYPE set
  modlab::limitMallocArenas();  // before any thread
  // --version and --help need no display (they aborted without one): offscreen, unless chosen.
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if ((arg == "--version" || arg == "-v" || arg == "--help" || arg == "-h" || arg == "--help-all") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
      qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  Application app(argc, argv);
  quitOnSignals(app);
  QApplication::setApplicationName("ModularityLab");
  QApplication::setOrganizationName("ModularityLab");
  QApplication::setApplicationDisplayName("Modularity Lab");
  QApplication::setApplicationVersion(QString::fromUtf8(modlab::versionString()));

  QCommandLineParser parser;
  parser.setApplicationDescription("Is a modular architecture enough? Train and watch the paper's model families live.");
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption demo("demo", "Start training the default demo experiment at once.");
  QCommandLineOption preset("preset", "Load a preset (see modlab-cli presets) and start it.", "name");
  QCommandLineOption open("open", "Replay a recorded run folder.", "run");
  QCommandLineOption experiment("experiment", "Load an experiment file (JSON).", "file");
  QCommandLineOption dashboard("export-dashboard", "Write a PNG of the window after --after seconds, then quit.", "png");
  QCommandLineOption after("after", "Seconds before --export-dashboard (default 10).", "seconds", "10");
  QCommandLineOption theme("theme", "system, light or dark.", "theme");
  QCommandLineOption presentation("presentation", "Start in presentation mode at this scale (1.0 to 2.5).", "scale");
  QCommandLineOption scale("scale", "Fonts and lines at this scale in the window (1.0 to 2.5).", "scale");
  QCommandLineOption guided("guided-demo", "Start a guided demo (a preset with its explanation panel).", "name");
  QCommandLineOption compare("compare", "Compare run folders (repeat the option for each run).", "run");
  QCommandLineOption share("share", "Share the live view with browsers at start (File > Share live view); prints the address.");
  parser.addOptions({demo, preset, open, experiment, dashboard, after, theme, presentation, scale, guided, compare, share});
  parser.process(app);

  modlab::ui::setAppearance(modlab::ui::Appearance{});  // Fusion, following the system's light or dark
  modlab::ui::MainWindow window;
  modlab::web::SessionShare liveShare(&window.controller());
  window.setLiveShare(&liveShare);
  window.show();
  if (parser.isSet(theme)) {
    const QString t = parser.value(theme).toLower();
    window.setTheme(int(t == "dark" ? modlab::ui::ThemeChoice::Dark
                        : t == "light" ? modlab::ui::ThemeChoice::Light
                                       : modlab::ui::ThemeChoice::System),
                    false);  // a one-off: the saved theme stays the user's own choice
  }
  if (parser.isSet(scale)) window.setScale(parser.value(scale).toDouble());
  if (parser.isSet(presentation)) {
    window.setPresentation(true);
    window.setScale(parser.value(presentation).toDouble());
  }
  if (parser.isSet(guided) && !window.startDemo(parser.value(guided))) {
    QStringList demos;  // the guided demos: the presets with an explanation
    for (const modlab::Preset& p : modlab::presets())
      if (QFile::exists(QString(":/guides/%1.html").arg(QString::fromStdString(p.name)))) demos << QString::fromStdString(p.name);
    fprintf(stderr, "modlab: unknown demo '%s'; the guided demos are: %s\n", qPrintable(parser.value(guided)),
            qPrintable(demos.join(", ")));
    return 2;
  }
  if (parser.isSet(experiment)) window.openExperiment(parser.value(experiment));
  if (parser.isSet(open)) {
    window.openRun(parser.value(open));
  } else if (parser.isSet(preset) || parser.isSet(demo)) {
    const QString name = parser.isSet(preset) ? parser.value(preset) : QString::fromStdString(modlab::defaultDemoPreset());
    if (!window.experimentPanel()->selectPreset(name)) {
      fprintf(stderr, "modlab: unknown preset '%s' ('modlab-cli presets' lists them)\n", qPrintable(name));
      return 2;
    }
    QTimer::singleShot(0, &window, [&window] { window.startTraining(); });
  }
  modlab::ui::CompareWindow* comparison = nullptr;
  if (parser.isSet(compare)) {
    comparison = new modlab::ui::CompareWindow(&window);
    for (const QString& run : parser.values(compare)) {
      QString error;
      if (!comparison->addRun(run, &error)) fprintf(stderr, "modlab: %s\n", qPrintable(error));
    }
    comparison->show();
  }
  if (parser.isSet(share)) {
    QString error;
    if (!window.shareLiveView(&error)) {
      fprintf(stderr, "modlab: %s\n", qPrintable(error));
      return 1;
    }
    for (const QUrl& url : liveShare.addresses()) fprintf(stderr, "modlab: sharing the live view at %s\n", qPrintable(url.toString()));
  }
  if (parser.isSet(dashboard)) {
    window.setKeepsSettings(false);  // a headless export must not change the next launch
    QTimer::singleShot(static_cast<int>(parser.value(after).toDouble() * 1000), &window, [&] {
      QString error;
      const bool ok = comparison ? modlab::ui::exportPng(comparison, parser.value(dashboard), 1.0, &error)
                                 : window.exportDashboard(parser.value(dashboard), 1.0, &error);
      if (!ok) fprintf(stderr, "modlab: %s\n", qPrintable(error));
      window.close();
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
