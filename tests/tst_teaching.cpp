// Teaching and exploration: themes, presentation mode, timeline scrubbing, run comparison
// bands, live learning-rate changes, guided demos.
#include <QtTest>

#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPalette>
#include <QTemporaryDir>

#include "support/golden.h"
#include "ui/appearance.h"
#include "ui/compare_window.h"
#include "ui/experiment_panel.h"
#include "ui/heatmap_widget.h"
#include "ui/main_window.h"
#include "ui/run_comparison.h"
#include "ui/timeline.h"

using namespace modlab;
using namespace modlab::ui;

namespace {
ExperimentConfig quickConfig(int rules = 4, int seed = 0) {
  ExperimentConfig c = findPreset(defaultDemoPreset()).config;
  c.rules = rules;
  c.modelSeed = seed;
  c.size = 8;
  c.batchSize = 64;
  c.steps = 90;
  c.evalEvery = 30;
  c.evalBatches = 1;
  c.matrixSamples = 512;
  c.adaptationPriors = 4;
  c.adaptationSamples = 256;
  return c;
}

QString trainRun(MainWindow& w, const ExperimentConfig& c) {
  w.experimentPanel()->setConfig(c);
  if (!w.startTraining()) return {};
  QElapsedTimer t;
  t.start();
  while (w.controller().state() != SessionState::Finished && t.elapsed() < 60000) QTest::qWait(20);
  return w.controller().runDirectory();
}
}  // namespace

class TstTeaching : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase();
  void themesSwitchPaletteAndCharts();
  void presentationModeScalesAndReduces();
  void scrubbingShowsTheRecordedMatrix();
  void comparisonBandsFromKnownCurves();
  void comparisonNamesWhatDiffers();
  void learningRateChangeIsRecorded();
  void guidedDemosExplainThemselves();

private:
  QTemporaryDir runs_;
};

void TstTeaching::initTestCase() {
  qputenv("MODLAB_RUNS_DIR", runs_.path().toUtf8());
  QStandardPaths::setTestModeEnabled(true);
  setAppearance(Appearance{});
}

void TstTeaching::themesSwitchPaletteAndCharts() {
  MainWindow w;
  w.setTheme(int(ThemeChoice::Dark));
  QVERIFY(appearance().dark());
  QVERIFY(QApplication::palette().color(QPalette::Window).lightnessF() < 0.3);
  w.setTheme(int(ThemeChoice::Light));
  QVERIFY(!appearance().dark());
  QVERIFY(QApplication::palette().color(QPalette::Window).lightnessF() > 0.7);
  w.setTheme(int(ThemeChoice::System));
  QCOMPARE(appearance().dark(), systemPrefersDark());
}

void TstTeaching::presentationModeScalesAndReduces() {
  MainWindow w;
  w.show();
  const double font = QApplication::font().pointSizeF();
  w.setPresentation(true);
  QVERIFY(w.isPresenting());
  QVERIFY(appearance().scale >= 1.5);
  QVERIFY(QApplication::font().pointSizeF() >= font * 1.45);
  QVERIFY(w.experimentPanel()->isHidden() || !w.experimentPanel()->isVisible());
  w.setScale(2.5);
  QCOMPARE(appearance().scale, 2.5);
  w.setScale(9.0);
  QCOMPARE(appearance().scale, 2.5);  // clamped to 250%
  w.setPresentation(false);
  QCOMPARE(appearance().scale, 1.0);
  QVERIFY(std::abs(QApplication::font().pointSizeF() - font) < 0.01);
}

void TstTeaching::scrubbingShowsTheRecordedMatrix() {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  QVERIFY(!trainRun(w, quickConfig()).isEmpty());
  const auto& evaluations = w.controller().data().evaluations();
  QCOMPARE(evaluations.size(), std::size_t(4));  // steps 0, 30, 60, 90
  w.timeline()->setPosition(1);
  QVERIFY(!w.timeline()->followsLatest());
  for (HeatmapWidget* h : w.heatmaps()->heatmaps()) {
    const FamilyEvaluation* recorded = nullptr;
    for (const FamilyEvaluation& f : evaluations[1].families)
      if (f.family == h->family()) recorded = &f;
    QVERIFY(recorded);
    for (int r = 0; r < 4; ++r)
      for (int m = 0; m < 4; ++m) QCOMPARE(h->displayedValue(r, m), recorded->moduleGivenRule[r * 4 + m]);
  }
  // Play runs to the end and stops there.
  w.timeline()->setPosition(0);
  w.timeline()->setPlaying(true);
  QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isPlaying(), 5000);
  QVERIFY(w.timeline()->followsLatest());
  QTemporaryDir frames;
  QCOMPARE(w.exportHeatmapFrames(frames.path()), 4);
  QVERIFY(QFile::exists(frames.filePath("frame-0004.png")));
  const QString webp = frames.filePath("heatmaps.webp");
  QVERIFY(w.exportHeatmapAnimation(webp, 250));
  QFile animation(webp);
  QVERIFY(animation.open(QIODevice::ReadOnly));
  const QByteArray bytes = animation.readAll();
  QVERIFY(bytes.startsWith("RIFF") && bytes.mid(8, 4) == "WEBP");
  QVERIFY(bytes.contains("ANIM") && bytes.count("ANMF") == 4);  // one frame per evaluation
}

void TstTeaching::comparisonBandsFromKnownCurves() {
  // Three seeds: y = 1, 2, 6 at x = 0 and 10; the third also has x = 20 (not common: dropped).
  const std::vector<QVector<QPointF>> curves{{{0, 1}, {10, 1}}, {{0, 2}, {10, 2}}, {{0, 6}, {10, 6}, {20, 6}}};
  const ComparedGroup g = meanBand(curves);
  QCOMPARE(g.seeds, 3);
  QCOMPARE(g.mean.size(), 2);
  QCOMPARE(g.mean[0].y(), 3.0);
  const double sd = std::sqrt(((1 - 3.0) * (1 - 3.0) + (2 - 3.0) * (2 - 3.0) + (6 - 3.0) * (6 - 3.0)) / 2.0);
  QVERIFY(std::abs(g.upper[1].y() - (3.0 + sd)) < 1e-12);
  QVERIFY(std::abs(g.lower[1].y() - (3.0 - sd)) < 1e-12);
  const ComparedGroup one = meanBand({{{0, 5}}});
  QCOMPARE(one.upper[0].y(), 5.0);  // a single run: no band
}

void TstTeaching::comparisonNamesWhatDiffers() {
  MainWindow w;
  const QString a0 = trainRun(w, quickConfig(4, 0));
  const QString a1 = trainRun(w, quickConfig(4, 1));
  const QString b0 = trainRun(w, quickConfig(8, 0));
  CompareWindow compare;
  QVERIFY(compare.addRun(a0) && compare.addRun(a1) && compare.addRun(b0));
  compare.setFamily(Family::Modular);
  compare.setQuantity(CompareQuantity::IdLoss);
  QCOMPARE(compare.groups().size(), std::size_t(2));
  QCOMPARE(compare.groups()[0].label, QString("rules 4"));
  QCOMPARE(compare.groups()[0].seeds, 2);
  QCOMPARE(compare.groups()[1].label, QString("rules 8"));
  QCOMPARE(compare.groups()[1].seeds, 1);
  QCOMPARE(compare.groups()[0].mean.size(), 4);
  const RunRecord r0 = RunStore::load(a0.toStdString()), r1 = RunStore::load(a1.toStdString());
  const double expected = (r0.evaluations[2].families[1].id.loss + r1.evaluations[2].families[1].id.loss) / 2;
  QVERIFY(std::abs(compare.groups()[0].mean[2].y() - expected) < 1e-9);
  QString error;
  QVERIFY(!compare.addRun(runs_.filePath("nothing-here"), &error));
  QVERIFY(!error.isEmpty());
}

void TstTeaching::learningRateChangeIsRecorded() {
  MainWindow w;
  ExperimentConfig c = quickConfig();
  c.steps = 1'000'000;
  w.experimentPanel()->setConfig(c);
  QVERIFY(w.startTraining());
  QTRY_VERIFY_WITH_TIMEOUT(w.controller().data().step() > 3, 20000);
  w.controller().setLearningRate(2.5e-3);
  QTRY_VERIFY_WITH_TIMEOUT(!w.controller().data().status().families.empty() &&
                               w.controller().data().status().families[0].learningRate == 2.5e-3,
                           20000);
  const QString dir = w.controller().runDirectory();
  w.controller().stop();
  QTRY_VERIFY_WITH_TIMEOUT(w.controller().state() == SessionState::Stopped, 20000);
  QFile f(dir + "/run.json");
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QJsonArray changes = QJsonDocument::fromJson(f.readAll())["learning_rate_changes"].toArray();
  QCOMPARE(changes.size(), 1);
  QCOMPARE(changes[0].toObject()["learning_rate"].toDouble(), 2.5e-3);
}

void TstTeaching::guidedDemosExplainThemselves() {
  MainWindow w;
  for (const char* demo : {"demo-mlp-collapse", "demo-mlp-many-rules", "demo-mlp-few-rules", "demo-mlp-classification",
                           "demo-mlp-ood", "demo-mlp-speed", "demo-mha-search", "demo-rnn-dynamics"}) {
    QVERIFY2(w.startDemo(demo), demo);
    QVERIFY2(w.guideText().contains("What to look at"), demo);
    QCOMPARE(QString::fromStdString(w.controller().data().config().name), QString(demo));
    w.controller().stop();
  }
}

QTEST_MAIN(TstTeaching)
#include "tst_teaching.moc"
