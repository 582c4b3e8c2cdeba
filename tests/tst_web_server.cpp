// The browser view's server over HTTP (issue 24): paths out of the served folder, the access
// token, hostile requests, the security headers, live updates that carry only what is new,
// a long run's page downsampled, downloads that are the app's own CSV, and File > Share live
// view. The page itself is tested in a real browser (tests/web/browser_view_test.py).
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QProcess>
#include <QStatusBar>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "modlab/experiment/run_csv.h"
#include "modlab/experiment/run_store.h"
#include "support/tiny_config.h"
#include "ui/charts/loss_chart.h"
#include "ui/charts/metrics_view.h"
#include "ui/data/run_data.h"
#include "ui/windows/main_window.h"
#include "ui/windows/share_dialog.h"
#include "web/http/http_request.h"
#include "web/server/run_catalog.h"
#include "web/server/session_share.h"
#include "web/server/web_server.h"

using namespace modlab;
using nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  QByteArray head, body;
  bool closed = false;
  QByteArray header(const QByteArray& name) const {
    for (const QByteArray& line : head.split('\n'))
      if (line.toLower().startsWith(name.toLower() + ":")) return line.mid(name.size() + 1).trimmed();
    return {};
  }
};

// One raw request on a new connection, answered by the server on this thread's event loop.
Reply ask(quint16 port, const QByteArray& raw, int timeoutMs = 10000) {
  QTcpSocket s;
  s.connectToHost(QHostAddress::LocalHost, port);
  QElapsedTimer t;
  t.start();
  while (s.state() != QAbstractSocket::ConnectedState && t.elapsed() < timeoutMs) QTest::qWait(2);
  s.write(raw);
  QByteArray data;
  Reply r;
  while (t.elapsed() < timeoutMs) {
    QTest::qWait(2);
    data += s.readAll();
    const int end = data.indexOf("\r\n\r\n");
    if (end >= 0) {
      r.head = data.left(end);
      r.status = data.mid(9, 3).toInt();
      const QByteArray length = r.header("Content-Length");
      r.body = data.mid(end + 4);
      if (!length.isEmpty() && r.body.size() >= length.toInt()) break;
    }
    if (s.state() == QAbstractSocket::UnconnectedState) {
      r.closed = true;
      break;
    }
  }
  return r;
}

Reply get(quint16 port, const QByteArray& target, const QByteArray& extra = {}) {
  return ask(port, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n");
}

QString trainTiny(const QString& out, const QStringList& more = {}) {
  QProcess cli;
  QStringList args{"train", "--preset", "demo-mlp-few-rules", "--set", "size=8", "--set", "batch_size=32", "--set", "steps=60",
                   "--set", "eval_every=20", "--set", "eval_batches=1", "--set", "matrix_samples=256", "--set", "threads=1",
                   "--quiet", "--out", out};
  cli.start(MODLAB_CLI, args + more);
  cli.waitForFinished(120000);
  return cli.exitCode() == 0 ? out : QString::fromUtf8(cli.readAllStandardError());
}

}  // namespace

class TstWebServer : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase();
  void requestsAreReadWithinLimits();
  void pathsOutOfTheFolderAreNotFound();
  void aNonLocalBindNeedsTheToken();
  void hostileRequestsGet4xxAndTheServerKeepsServing();
  void securityHeadersOnEveryAnswer();
  void liveUpdatesCarryOnlyWhatIsNew();
  void aLongRunsPageIsDownsampled();
  void downloadsAreTheAppsCsv();
  void shareLiveViewServesTheWindowsRun();

private:
  QTemporaryDir tmp_;
  QString root_, outside_;
};

void TstWebServer::initTestCase() {
  root_ = tmp_.filePath("runs");
  outside_ = tmp_.filePath("outside");
  QDir().mkpath(root_);
  QDir().mkpath(outside_);
  QCOMPARE(trainTiny(root_ + "/tiny"), root_ + "/tiny");
  QCOMPARE(trainTiny(outside_ + "/secret"), outside_ + "/secret");
}

void TstWebServer::requestsAreReadWithinLimits() {
  using web::RequestParser;
  RequestParser p;
  // Byte by byte, as a slow client sends it.
  const std::string raw = "GET /api/run/a%20b/events?train=12&x=a+b HTTP/1.1\r\nHost: h\r\nCookie: modlab_token=t\r\n\r\nGET /";
  RequestParser::Status s = RequestParser::Status::NeedMore;
  for (char c : raw)
    if (s == RequestParser::Status::NeedMore) s = p.feed(std::string(1, c));
  QCOMPARE(s, RequestParser::Status::Complete);
  QCOMPARE(p.request().segments, (std::vector<std::string>{"api", "run", "a b", "events"}));
  QCOMPARE(p.request().queryValue("train"), std::string("12"));
  QCOMPARE(p.request().queryValue("x"), std::string("a b"));
  QCOMPARE(p.request().header("cookie"), std::string("modlab_token=t"));
  QVERIFY(p.request().keepAlive());
  RequestParser pipelined;
  QCOMPARE(pipelined.feed(raw), RequestParser::Status::Complete);
  QCOMPARE(pipelined.takeRemainder(), std::string("GET /"));
  QVERIFY(!web::percentDecode("%4"));
  QVERIFY(!web::percentDecode("%zz"));
  QVERIFY(!web::percentDecode("a%00b"));
  QVERIFY(web::parseTarget("/a/%2e%2e/b")->leavesRoot);
  QVERIFY(web::parseTarget("/a/..%2Fb")->leavesRoot);
  QVERIFY(!web::parseTarget("/a/b")->leavesRoot);
  QVERIFY(!web::parseTarget("http://x/a"));
  QVERIFY(web::constantTimeEquals("abc", "abc"));
  QVERIFY(!web::constantTimeEquals("abc", "abd"));
  QVERIFY(!web::constantTimeEquals("abc", "abcd"));
  QVERIFY(!web::constantTimeEquals("", "a"));
  QCOMPARE(web::randomToken().size(), 32);
  QVERIFY(web::randomToken() != web::randomToken());
}

void TstWebServer::pathsOutOfTheFolderAreNotFound() {
  // A link in the served folder to a run outside it, and a run whose log is a link out.
  QVERIFY(QFile::link(outside_ + "/secret", root_ + "/linked"));
  QVERIFY(QDir().mkpath(root_ + "/leaky"));
  for (const QString f : {"config.json", "run.json", "activations.jsonl"}) QVERIFY(QFile::copy(outside_ + "/secret/" + f, root_ + "/leaky/" + f));
  QVERIFY(QFile::link(outside_ + "/secret/metrics.csv", root_ + "/leaky/metrics.csv"));
  web::RunCatalog catalog(root_.toStdString());
  web::ServeOptions o;
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  const json runs = json::parse(get(server.port(), "/api/runs").body.toStdString());
  std::vector<std::string> ids;
  for (const json& r : runs["runs"]) ids.push_back(r["id"]);
  QCOMPARE(ids, (std::vector<std::string>{"leaky", "tiny"}));  // never the link
  for (const json& r : runs["runs"])
    if (r["id"] == "leaky") QCOMPARE(r["status"]["state"].get<std::string>(), std::string("damaged"));
  const QByteArray leaky = get(server.port(), "/api/run/leaky").body;
  QVERIFY2(json::parse(leaky.toStdString())["trainCount"] == 0, leaky.left(300).constData());  // nothing read through the link
  for (const QByteArray target : {"/api/run/linked", "/api/run/linked/loss.csv", "/api/run/../outside/secret", "/api/run/%2e%2e/outside/secret",
                                  "/api/run/tiny/..%2F..%2Foutside%2Fsecret", "//etc/passwd", "/api/run//etc/passwd", "/static/..%2F..%2Fetc%2Fpasswd",
                                  "/static/../../CMakeLists.txt", "/api/run/tiny/../../outside/secret/config.json", "/api/sweep/tiny"}) {
    const Reply r = get(server.port(), target);
    QVERIFY2(r.status == 404, target + " -> " + QByteArray::number(r.status));
    QVERIFY(!r.body.contains("\"rules\""));
  }
  QCOMPARE(get(server.port(), "/api/run/tiny").status, 200);
  QFile::remove(root_ + "/linked");
  QDir(root_ + "/leaky").removeRecursively();
}

void TstWebServer::aNonLocalBindNeedsTheToken() {
  web::RunCatalog catalog(root_.toStdString());
  web::ServeOptions o;
  o.bind = QHostAddress::AnyIPv4;  // any address other than loopback needs the token
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  const QByteArray token = server.token().toUtf8();
  QCOMPARE(token.size(), 32);
  QVERIFY(server.address().query().contains("token=" + server.token()));
  QCOMPARE(get(server.port(), "/").status, 401);
  QCOMPARE(get(server.port(), "/api/runs").status, 401);
  QCOMPARE(get(server.port(), "/api/run/tiny/events").status, 401);
  QCOMPARE(get(server.port(), "/api/runs?token=" + token.left(31) + "x").status, 401);
  QCOMPARE(get(server.port(), "/api/runs?token=" + token + "x").status, 401);
  QCOMPARE(get(server.port(), "/api/runs", "Cookie: modlab_token=nope\r\n").status, 401);
  const Reply page = get(server.port(), "/?token=" + token);
  QCOMPARE(page.status, 200);
  QVERIFY(page.header("Set-Cookie").contains("HttpOnly"));
  QVERIFY(page.header("Set-Cookie").contains("SameSite=Strict"));
  QCOMPARE(get(server.port(), "/api/runs", "Cookie: a=b; modlab_token=" + token + "\r\n").status, 200);
  // Loopback with no --bind: no token needed.
  web::ServeOptions local;
  local.port = 0;
  web::WebServer open(&catalog, local);
  QVERIFY(open.listen());
  QVERIFY(!open.address().hasQuery());
  QCOMPARE(get(open.port(), "/api/runs").status, 200);
}

void TstWebServer::hostileRequestsGet4xxAndTheServerKeepsServing() {
  web::RunCatalog catalog(root_.toStdString());
  web::ServeOptions o;
  o.port = 0;
  o.maxConnections = 8;
  web::WebServer server(&catalog, o);
  QStringList log;
  connect(&server, &web::WebServer::logLine, [&](const QString& l) { log << l; });
  QVERIFY(server.listen());
  const QByteArray many = [] {
    QByteArray h;
    for (int i = 0; i < 100; ++i) h += "X-" + QByteArray::number(i) + ": y\r\n";
    return h;
  }();
  const std::vector<std::pair<QByteArray, int>> cases{
      {"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405},
      {"DELETE /api/run/tiny HTTP/1.1\r\nHost: x\r\n\r\n", 405},
      {"GET /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", 413},
      {"GET /api/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 413},
      {"GET /api/runs HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(20000, 'a') + "\r\n\r\n", 431},
      {"GET /api/runs HTTP/1.1\r\nHost: x\r\n" + many + "\r\n", 431},
      {"GET /" + QByteArray(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"GET /api/runs HTTP/2.0\r\n\r\n", 505},
      {"GET /api/runs\r\n\r\n", 400},
      {"GET /api/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /api/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET http://evil/api/runs HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /api/runs HTTP/1.1\r\n\r\n", 400},  // HTTP/1.1 without Host
      {"GET /api/runs HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), 400},  // a TLS hello
      {"GET /api/compare?quantity=bogus&run=tiny HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"GET /api/compare HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /api/run/tiny/evaluation/1e9 HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"GET /api/run/tiny/evaluation/0.5 HTTP/1.1\r\nHost: x\r\n\r\n", 404},
      {"GET /api/run/tiny/heatmaps.csv?evaluation=nan HTTP/1.1\r\nHost: x\r\n\r\n", 200},  // not a number: the latest
  };
  for (const auto& [raw, status] : cases) {
    const Reply r = ask(server.port(), raw);
    QVERIFY2(r.status == status, raw.left(60) + " -> " + QByteArray::number(r.status));
  }
  QVERIFY(log.size() >= static_cast<int>(cases.size()) - 1);
  QVERIFY2(log.front().contains("405"), qPrintable(log.front()));
  // Eight clients that send half a request and wait: the ninth connection gets 503; once they
  // are gone the server serves again.
  QTRY_COMPARE(server.connectionCount(), 0);
  std::vector<std::unique_ptr<QTcpSocket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<QTcpSocket>());
    idle.back()->connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(idle.back()->waitForConnected(5000));
    idle.back()->write("GET /api/ru");
  }
  QTRY_COMPARE(server.connectionCount(), 8);
  QCOMPARE(get(server.port(), "/api/runs").status, 503);
  idle.clear();
  QTRY_COMPARE(server.connectionCount(), 0);
  QCOMPARE(get(server.port(), "/api/runs").status, 200);
  QCOMPARE(get(server.port(), "/").status, 200);
}

void TstWebServer::securityHeadersOnEveryAnswer() {
  web::RunCatalog catalog(root_.toStdString());
  web::ServeOptions o;
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  for (const QByteArray target : {"/", "/run/tiny", "/static/app.js", "/static/style.css", "/static/icon.svg", "/api/runs",
                                  "/api/run/tiny/loss.csv", "/nothing"}) {
    const Reply r = get(server.port(), target);
    const QByteArray csp = r.header("Content-Security-Policy");
    QVERIFY2(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("default-src 'none'"), target);
    QCOMPARE(r.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QCOMPARE(r.header("Referrer-Policy"), QByteArray("no-referrer"));  // the token never leaves in a Referer
  }
  const Reply page = get(server.port(), "/");
  QVERIFY(page.header("Content-Type").startsWith("text/html"));
  QVERIFY(!page.body.contains("<script>"));  // no inline script: the CSP would refuse it
  QVERIFY(!page.body.contains("http://") || !page.body.contains("<script src=\"http"));
  QVERIFY(!page.body.contains("cdn"));
  QCOMPARE(get(server.port(), "/static/").status, 404);  // no listings
  QCOMPARE(get(server.port(), "/static").status, 404);
  const Reply head = ask(server.port(), "HEAD /api/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  QCOMPARE(head.status, 200);
  QVERIFY(head.body.isEmpty());
}

void TstWebServer::liveUpdatesCarryOnlyWhatIsNew() {
  QTemporaryDir tmp;
  const QString out = tmp.filePath("live");
  QProcess cli;
  cli.start(MODLAB_CLI, {"train", "--preset", "demo-mlp-few-rules", "--set", "size=8", "--set", "batch_size=32",
                         "--set", "steps=1000000", "--set", "eval_every=100", "--set", "eval_batches=1",
                         "--set", "matrix_samples=256", "--set", "threads=1", "--quiet", "--out", out});
  QVERIFY(cli.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QFile(out + "/run.json").size() > 0 && QFile(out + "/metrics.csv").size() > 2000, 60000);
  web::RunCatalog catalog(tmp.path().toStdString());
  web::ServeOptions o;
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  const json page = json::parse(get(server.port(), "/api/run/live?width=400").body.toStdString());
  const std::size_t count = page["trainCount"];
  const std::size_t evaluations = page["evaluations"].size();
  std::map<std::string, std::int64_t> lastStep;
  for (const json& m : page["models"]) lastStep[m["name"]] = m["train"].back()[0];
  QCOMPARE(page["run"]["status"]["state"].get<std::string>(), std::string("running"));

  QTcpSocket events;
  events.connectToHost(QHostAddress::LocalHost, server.port());
  QVERIFY(events.waitForConnected(5000));
  events.write(QByteArray("GET /api/run/live/events?train=") + QByteArray::number(qulonglong(count)) + "&evaluations=" +
               QByteArray::number(qulonglong(evaluations)) + "&generation=" + QByteArray::number(page["generation"].get<qulonglong>()) +
               " HTTP/1.1\r\nHost: x\r\n\r\n");
  QByteArray stream;
  QElapsedTimer t;
  t.start();
  bool gotEvaluation = false;
  std::size_t updates = 0, received = 0;
  while (t.elapsed() < 30000 && !(gotEvaluation && updates >= 3)) {
    QTest::qWait(20);
    stream += events.readAll();
    int end;
    while ((end = stream.indexOf("\n\n")) >= 0) {
      const QByteArray message = stream.left(end);
      stream.remove(0, end + 2);
      if (!message.startsWith("event: update")) continue;
      const json u = json::parse(message.mid(message.indexOf("data: ") + 6).toStdString());
      ++updates;
      QVERIFY(u["trainCount"].get<std::size_t>() >= count + received);
      for (auto& [model, points] : u["train"].items()) {
        QVERIFY2(points.front()[0].get<std::int64_t>() > lastStep[model], "an update repeated a point the page had");
        lastStep[model] = points.back()[0];
        received += points.size();
      }
      for (const json& e : u["evaluations"]) {
        gotEvaluation = true;
        for (const json& f : e["families"])
          if (f["family"] != "Monolithic") QCOMPARE(f["p"].size(), static_cast<std::size_t>(f["rules"].get<int>() * f["rules"].get<int>()));
      }
    }
  }
  QVERIFY2(updates >= 3 && gotEvaluation, qPrintable(QString("%1 updates").arg(updates)));
  QCOMPARE(server.viewerCount(), 1);
  ::kill(static_cast<pid_t>(cli.processId()), SIGTERM);
  QVERIFY(cli.waitForFinished(60000));
  events.close();
  QTRY_COMPARE(server.viewerCount(), 0);
}

void TstWebServer::aLongRunsPageIsDownsampled() {
  // 100,000 steps of four models, as the logs of a long run hold them.
  QTemporaryDir tmp;
  ExperimentConfig c = test::tinyConfig();
  c.name = "long";
  c.steps = 100000;
  c.evalEvery = 100000;
  {
    RunStore store = RunStore::create(tmp.filePath("long").toStdString(), c, false);
    std::vector<TrainPoint> batch;
    for (std::int64_t step = 1; step <= c.steps; ++step) {
      for (const Variant& v : variantsOf(c)) batch.push_back({step, v.name, 1.0 / std::sqrt(double(step)) + 0.01 * double(step % 7)});
      if (batch.size() >= 20000) {
        store.appendTrain(batch);
        batch.clear();
      }
    }
    store.appendTrain(batch);
    RunInfo info;
    info.status = "stopped";
    info.stepsDone = c.steps;
    store.writeInfo(info);
  }
  {
    // Listed beyond the catalog's budget of points: its steps counted, its 400,000 points not
    // held (a sweep of thousands of runs), and all of them read when it is opened.
    web::RunCatalog lean(tmp.path().toStdString(), 0);
    QCOMPARE(lean.run("long", false)->trainCount(), std::size_t(0));
    QCOMPARE(lean.run("long", false)->lastStep(), std::int64_t(100000));
    QCOMPARE(lean.run("long", false)->status().step, std::int64_t(100000));
    QCOMPARE(lean.run("long")->trainCount(), std::size_t(400000));
  }
  web::RunCatalog catalog(tmp.path().toStdString());
  web::ServeOptions o;
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  QCOMPARE(get(server.port(), "/api/runs").status, 200);  // the first read of the logs (within the budget: kept)
  QElapsedTimer t;
  t.start();
  const Reply r = get(server.port(), "/api/run/long?width=1000&smoothing=0.6");
  const qint64 ms = t.elapsed();
  QCOMPARE(r.status, 200);
  const json page = json::parse(r.body.toStdString());
  QCOMPARE(page["trainCount"].get<std::size_t>(), std::size_t(400000));
  for (const json& m : page["models"]) {
    QCOMPARE(m["points"].get<std::size_t>(), std::size_t(100000));
    QVERIFY(m["train"].size() <= 2002 && m["train"].size() >= 1000);
    QVERIFY(m["smoothed"].size() <= 2002);
    QCOMPARE(m["train"].front()[0].get<int>(), 1);
    QCOMPARE(m["train"].back()[0].get<int>(), 100000);
    double hi = 0;
    for (const json& p : m["train"]) hi = std::max(hi, p[1].get<double>());
    QCOMPARE(hi, 1.01);  // the spike at step 1 survives the downsampling
  }
  qInfo("a 100,000-step run of 4 models: its page JSON in %lld ms, %lld bytes (width 1000)", ms, qlonglong(r.body.size()));
  // The raw data stays one click away.
  const Reply csv = get(server.port(), "/api/run/long/loss.csv");
  QCOMPARE(csv.body.count('\n'), 400001);
}

void TstWebServer::downloadsAreTheAppsCsv() {
  web::RunCatalog catalog(root_.toStdString());
  web::ServeOptions o;
  o.port = 0;
  web::WebServer server(&catalog, o);
  QVERIFY(server.listen());
  ui::RunData data;
  data.load(RunStore::load((root_ + "/tiny").toStdString()));
  ui::LossChart loss;
  loss.setData(&data);
  ui::MetricsView metrics;
  metrics.setData(&data);
  const Reply lossCsv = get(server.port(), "/api/run/tiny/loss.csv");
  QCOMPARE(lossCsv.header("Content-Type"), QByteArray("text/csv; charset=utf-8"));
  QVERIFY(lossCsv.header("Content-Disposition").contains("attachment"));
  QCOMPARE(QString::fromUtf8(lossCsv.body), loss.toCsv());
  QCOMPARE(QString::fromUtf8(get(server.port(), "/api/run/tiny/metrics.csv").body), metrics.toCsv());
  // The bars' CSV holds the evaluation they show and the references drawn beside them.
  const QString bars = QString::fromUtf8(get(server.port(), "/api/run/tiny/metrics.csv?evaluation=" +
                                                            QByteArray::number(int(data.evaluations().size() - 1))).body);
  QCOMPARE(bars, metrics.barsCsv());
  QVERIFY(bars.contains(",random routing (analytic),Alignment,"));
  QVERIFY(bars.contains(",total collapse (analytic),Collapse-Worst,1\n"));
  QVERIFY(!bars.contains("\n0,"));  // not the first evaluation's
  QVERIFY(loss.toCsv().count('\n') > 200);
  const EvaluationSnapshot& last = data.evaluations().back();
  std::string heat = "model,step,rule,module,p_module_given_rule\n";
  for (const FamilyEvaluation& f : last.families)
    if (f.rules > 0) heat += heatmapCsv(f.variant, last.step, f.rules, f.moduleGivenRule, false);
  QCOMPARE(get(server.port(), "/api/run/tiny/heatmaps.csv").body.toStdString(), heat);
}

void TstWebServer::shareLiveViewServesTheWindowsRun() {
  qputenv("MODLAB_RUNS_DIR", tmp_.filePath("app-runs").toUtf8());
  ui::MainWindow w;
  w.setKeepsSettings(false);
  web::SessionShare share(&w.controller());
  w.setLiveShare(&share);
  w.show();
  ExperimentConfig c = test::tinyConfig();
  c.steps = 100000;
  c.evalEvery = 50;
  QVERIFY(w.controller().start(c));
  QVERIFY(w.shareLiveView());
  QVERIFY(share.isSharing());
  QVERIFY(w.shareDialog()->isVisible());
  const QUrl url = share.addresses().back();
  QCOMPARE(url.host(), QString("127.0.0.1"));
  QVERIFY(url.query().startsWith("token="));
  QCOMPARE(w.shareDialog()->shownAddress(), share.addresses().front().toString());
  bool bigCode = false;
  for (QLabel* l : w.shareDialog()->findChildren<QLabel*>())
    bigCode = bigCode || (!l->pixmap().isNull() && l->pixmap().width() >= 300);
  QVERIFY2(bigCode, "the QR code is big enough to scan from the back of a room");
  const quint16 port = static_cast<quint16>(url.port());
  const QByteArray token = url.query().mid(6).toUtf8();
  QCOMPARE(get(port, "/api/run/live").status, 401);
  QTRY_VERIFY_WITH_TIMEOUT(json::parse(get(port, "/api/run/live?token=" + token).body.toStdString())["trainCount"] > 100, 30000);
  const json page = json::parse(get(port, "/api/run/live?token=" + token).body.toStdString());
  QCOMPARE(page["run"]["status"]["state"].get<std::string>(), std::string("running"));
  QCOMPARE(page["models"].size(), std::size_t(4));
  // Straight from the window's data: what the page has is what the window shows (no disk lag).
  QVERIFY(page["models"][0]["points"].get<int>() <= w.controller().data().trainLoss("Monolithic").size());
  QTcpSocket viewer;
  viewer.connectToHost(QHostAddress::LocalHost, port);
  QVERIFY(viewer.waitForConnected(5000));
  viewer.write("GET /api/run/live/events?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
  QTRY_COMPARE(share.viewers(), 1);
  QTRY_VERIFY(w.shareLabel()->isVisible());
  QCOMPARE(w.shareLabel()->text(), QString("Sharing: 1 viewer"));
  QTRY_VERIFY_WITH_TIMEOUT(viewer.bytesAvailable() > 1000, 10000);
  w.setPresentation(true);  // presentation mode keeps working while sharing
  QVERIFY(share.isSharing());
  w.setPresentation(false);
  share.stop();
  QVERIFY(!share.isSharing());
  QTRY_VERIFY(!w.shareLabel()->isVisible());
  QCOMPARE(get(port, "/api/run/live?token=" + token).status, 0);  // nothing listens any more
  w.controller().stop();
}

QTEST_MAIN(TstWebServer)
#include "tst_web_server.moc"
