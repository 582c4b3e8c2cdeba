// The GUI thread never waits on training: event-loop latency while the MHA demo trains.
#include <QtTest>

#include <QElapsedTimer>
#include <algorithm>

#include "support/golden.h"
#include "ui/panels/experiment_panel.h"
#include "ui/windows/main_window.h"

using namespace modlab;
using namespace modlab::ui;

class TstResponsiveness : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void eventLoopStaysResponsiveWhileTraining();
};

void TstResponsiveness::eventLoopStaysResponsiveWhileTraining() {
  QTemporaryDir runs;
  qputenv("MODLAB_RUNS_DIR", runs.path().toUtf8());
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  QVERIFY(w.experimentPanel()->selectPreset("demo-mha-search"));
  QVERIFY(w.startTraining());
  // A 10 ms timer: how late does each tick arrive while the charts redraw and training runs?
  std::vector<double> lateness;
  QElapsedTimer clock;
  clock.start();
  qint64 expected = 10;
  QTimer tick;
  tick.setTimerType(Qt::PreciseTimer);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    lateness.push_back(static_cast<double>(std::max<qint64>(0, now - expected)));
    expected = now + 10;
  });
  tick.start(10);
  QTRY_VERIFY_WITH_TIMEOUT(clock.elapsed() > 8000, 20000);
  tick.stop();
  QVERIFY(w.controller().data().step() > 0);
  QVERIFY(!w.controller().data().evaluations().empty());
  std::sort(lateness.begin(), lateness.end());
  const double p99 = lateness[static_cast<std::size_t>(0.99 * (lateness.size() - 1))];
  const double p50 = lateness[lateness.size() / 2];
  qInfo("event-loop latency while training demo-mha-search: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu ticks (%lld steps)",
        p50, p99, lateness.back(), lateness.size(), static_cast<long long>(w.controller().data().step()));
  QVERIFY2(p99 < 50.0, qPrintable(QString("p99 latency %1 ms").arg(p99)));
  w.controller().stop();
}

QTEST_MAIN(TstResponsiveness)
#include "tst_responsiveness.moc"
