// modlab-cli serve and bench --serve-viewers, on a Qt event loop (no display needed).
#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QSocketNotifier>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <nlohmann/json.hpp>

#include "modlab/errors.h"
#include "modlab/experiment/run_store.h"
#include "serve.h"
#include "web/server/run_catalog.h"
#include "web/server/web_server.h"

namespace modlab::cli {

namespace {

int signalPipe[2] = {-1, -1};

// SIGINT and SIGTERM end the event loop (through a pipe: nothing but write() in the handler).
void quitOnSignals(QCoreApplication& app) {
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0) return;
  auto* notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
  QObject::connect(notifier, &QSocketNotifier::activated, &app, [&app] {
    char c;
    [[maybe_unused]] auto n = ::read(signalPipe[1], &c, 1);
    app.quit();
  });
  struct sigaction action {};
  action.sa_handler = [](int) {
    const char c = 1;
    [[maybe_unused]] auto n = ::write(signalPipe[0], &c, 1);
  };
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

int serve(const ServeArgs& args, int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const std::filesystem::path dir = args.dir.empty() ? defaultRunsFolder() : std::filesystem::path(args.dir);
  if (args.dir.empty()) std::filesystem::create_directories(dir);
  web::RunCatalog catalog(dir);
  web::ServeOptions options;
  if (!options.bind.setAddress(QString::fromStdString(args.bind)))
    throw ConfigError("--bind", "--bind '" + args.bind + "' is not an IP address: give one of this machine's, e.g. 127.0.0.1 or 0.0.0.0");
  if (args.port < 0 || args.port > 65535)
    throw ConfigError("--port", "--port " + std::to_string(args.port) + " is out of range: 0 (any free port) to 65535");
  options.port = static_cast<quint16>(args.port);
  web::WebServer server(&catalog, options);
  QObject::connect(&server, &web::WebServer::logLine, [](const QString& line) {
    std::fprintf(stderr, "modlab-cli serve: %s\n", qPrintable(line));
  });
  QString error;
  if (!server.listen(&error)) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", qPrintable(error));
    return 1;
  }
  quitOnSignals(app);
  std::printf("Serving %s (%s) read-only at %s\n", catalog.root().c_str(), catalog.kind().c_str(),
              qPrintable(server.address().toString()));
  if (!options.bind.isLoopback())
    std::printf("Bound to %s: every request needs the access token in that address (or its cookie).\n", args.bind.c_str());
  std::printf("Ctrl+C stops the server (never the runs).\n");
  std::fflush(stdout);
  app.exec();
  server.close();
  return 0;
}

namespace {

// A browser's traffic for one run page: the page's JSON (downsampled), then its live stream
// from the points the page has, read to the end.
class LoopbackViewer : public QObject {
public:
  LoopbackViewer(quint16 port, const std::string& id, const web::RunView& view, QObject* parent) : QObject(parent) {
    const std::string page = "GET /api/run/" + id + "?width=1200&smoothing=0.6 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    const std::string events = "GET /api/run/" + id + "/events?train=" + std::to_string(view.trainCount()) +
                               "&evaluations=" + std::to_string(view.evaluationCount()) + "&generation=" +
                               std::to_string(view.generation()) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (const std::string& request : {page, events}) {
      auto* socket = new QTcpSocket(this);
      connect(socket, &QTcpSocket::readyRead, this, [this, socket] { received_ += socket->readAll().size(); });
      connect(socket, &QTcpSocket::connected, this, [socket, request] { socket->write(request.c_str()); });
      socket->connectToHost(QHostAddress::LocalHost, port);
    }
  }
  qint64 received() const { return received_; }

private:
  qint64 received_ = 0;
};

}  // namespace

int benchServe(int viewers, double seconds, bool json, int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QTemporaryDir root;
  const QString runDir = QDir(root.path()).filePath("live-run");
  // The training: a separate modlab-cli train, as on a cluster node; long enough for every phase.
  QProcess trainer;
  trainer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  trainer.start(QCoreApplication::applicationFilePath(),
                {"train", "--preset", "demo-mlp-classification", "--set", "steps=10000000", "--set", "eval_every=2000",
                 "--out", runDir, "--quiet"});
  if (!trainer.waitForStarted()) {
    std::fprintf(stderr, "modlab-cli: error: cannot start the training process\n");
    return 1;
  }
  QElapsedTimer waited;
  waited.start();
  while (!RunStore::holdsRun(runDir.toStdString()) && waited.elapsed() < 60000) QThread::msleep(100);
  web::RunCatalog catalog(root.path().toStdString());
  web::ServeOptions options;
  options.port = 0;
  web::WebServer server(&catalog, options);
  QString error;
  if (!server.listen(&error)) throw ConfigError("--serve-viewers", error.toStdString());
  const std::string id = "live-run";
  const auto step = [&] {
    web::RunView* view = catalog.run(id);
    return view ? view->lastStep() : 0;  // the training log, appended every half second
  };
  const auto wait = [&](double s) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < s * 1000) app.processEvents(QEventLoop::AllEvents, 20);
  };
  wait(5.0);  // warm-up: the training's first steps and evaluation
  std::vector<double> alone, watched;
  qint64 bytes = 0;
  for (int round = 0; round < 3; ++round) {
    for (bool withViewers : {false, true}) {
      std::vector<LoopbackViewer*> clients;
      if (withViewers)
        for (int i = 0; i < viewers; ++i) clients.push_back(new LoopbackViewer(server.port(), id, *catalog.run(id), &app));
      wait(1.0);
      const std::int64_t first = step();
      QElapsedTimer t;
      t.start();
      wait(seconds);
      const double rate = static_cast<double>(step() - first) / (t.elapsed() / 1000.0);
      (withViewers ? watched : alone).push_back(rate);
      for (LoopbackViewer* c : clients) {
        bytes += c->received();
        delete c;
      }
      std::fprintf(stderr, "round %d, %d viewers: %.1f steps/s (%d streams open)\n", round + 1, withViewers ? viewers : 0,
                   rate, server.viewerCount());
    }
  }
  trainer.terminate();
  trainer.waitForFinished(30000);
  const auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  const double a = mean(alone), w = mean(watched), slowdown = a > 0 ? 100.0 * (1.0 - w / a) : 0.0;
  if (json) {
    std::printf("%s\n", nlohmann::json{{"viewers", viewers}, {"steps_per_second_alone", alone},
                                       {"steps_per_second_watched", watched}, {"slowdown_percent", slowdown},
                                       {"bytes_streamed", bytes}}.dump(2).c_str());
  } else {
    std::printf("training alone: %.1f steps/s; with %d live viewers: %.1f steps/s; slowdown %.1f%% (3 rounds each, %.0f s, "
                "alternated; %lld bytes streamed)\n",
                a, viewers, w, slowdown, seconds, static_cast<long long>(bytes));
  }
  return 0;
}

}  // namespace modlab::cli
