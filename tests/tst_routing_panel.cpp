// The Routing dock (issue 12): a coefficient changed in the GUI while training reaches the
// session, is recorded with its step, and the chart of the loss's parts marks the moment.
#include <QtTest>

#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QTemporaryDir>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>

#include <QComboBox>

#include "ui/charts/chart_figure.h"
#include "ui/charts/chart_legend.h"
#include "ui/heatmaps/heatmap_widget.h"
#include "ui/charts/metrics_view.h"
#include "ui/charts/loss_chart.h"
#include "ui/windows/main_window.h"
#include "ui/panels/routing_panel.h"

using namespace modlab;
using namespace modlab::ui;

namespace {
// The default demo made small: 4,000 steps of R = 4, evaluated every `evalEvery`.
ExperimentConfig smallDemo(std::int64_t evalEvery) {
  ExperimentConfig c = findPreset(defaultDemoPreset()).config;
  c.rules = 4;
  c.size = 8;
  c.batchSize = 32;
  c.steps = 4000;
  c.evalEvery = evalEvery;
  c.evalBatches = 1;
  c.matrixSamples = 256;
  c.adaptationPriors = 2;
  c.adaptationSamples = 128;
  return c;
}
}  // namespace

class TstRoutingPanel : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { qputenv("MODLAB_RUNS_DIR", runs_.path().toUtf8()); }
  void liveCoefficientIsAppliedRecordedAndMarked();
  void variantsHaveTheirOwnNameColourAndCoefficients();

private:
  QTemporaryDir runs_;
};

void TstRoutingPanel::liveCoefficientIsAppliedRecordedAndMarked() {
  MainWindow window;
  window.setKeepsSettings(false);
  window.resize(1400, 900);
  window.show();
  ExperimentConfig c = smallDemo(2000);
  c.routing.sampleEntropy = 0.01;  // parts are recorded from the start
  TrainingController& controller = window.controller();
  QString error;
  QVERIFY2(controller.start(c, &error), qPrintable(error));
  auto* panel = window.findChild<RoutingPanel*>();
  QVERIFY(panel);
  QVERIFY(window.findChild<QDockWidget*>("RoutingDock"));
  QTRY_VERIFY_WITH_TIMEOUT(controller.data().step() > 20, 20000);
  QDoubleSpinBox* balance = nullptr;
  for (auto* box : panel->findChildren<QDoubleSpinBox*>())
    if (box->toolTip().contains("load-balancing")) balance = box;
  QVERIFY(balance);
  QTRY_VERIFY(balance->isEnabled());
  QCOMPARE(balance->value(), 0.0);
  balance->setValue(0.05);
  Q_EMIT balance->editingFinished();
  QTRY_VERIFY_WITH_TIMEOUT(!controller.data().routingChanges().empty(), 20000);
  const RoutingChange change = controller.data().routingChanges().front();
  QCOMPARE(QString::fromStdString(change.key), QString("balance_loss"));
  QCOMPARE(change.value, 0.05);
  QTRY_COMPARE_WITH_TIMEOUT(controller.data().routing().balance, 0.05, 20000);
  // The chart: the parts of the loss and a vertical line at the change's step.
  QTRY_VERIFY_WITH_TIMEOUT(([&] {
                             for (QAbstractSeries* s : panel->chartView()->chart()->series())
                               if (auto* line = qobject_cast<QLineSeries*>(s))
                                 if (line->count() == 2 && line->at(0).x() == static_cast<double>(change.step) &&
                                     line->at(1).x() == static_cast<double>(change.step))
                                   return true;
                             return false;
                           }()),
                           20000);
  QVERIFY(!controller.data().lossPart("Modular", RunData::LossPart::Balance).isEmpty());
  // The main loss chart marks the moment too, in both panels.
  auto* loss = window.findChild<LossChart*>();
  QVERIFY(loss);
  QTRY_VERIFY_WITH_TIMEOUT(loss->chartView()->visibleMarks() == 1 && loss->evalView()->visibleMarks() == 1, 20000);
  // A refused value names the key and changes nothing.
  QVERIFY(!controller.setRoutingCoefficient("balance_loss", -1.0, {}, &error));
  QVERIFY(error.contains("balance_loss"));
  controller.stop();
}

// Issue 12 part 2: a variant is a model of its own in every view (legend entry and colour,
// heatmap, metric bars) and the Routing dock changes its coefficients alone.
void TstRoutingPanel::variantsHaveTheirOwnNameColourAndCoefficients() {
  MainWindow window;
  window.setKeepsSettings(false);
  window.resize(1400, 900);
  window.show();
  ExperimentConfig c = smallDemo(40);
  c.families = {Family::Modular, Family::GtModular};
  c.variants = {Variant{"Modular + entropy", Family::Modular, RoutingOptions{}}};
  c.variants[0].routing.sampleEntropy = 0.01;
  TrainingController& controller = window.controller();
  QString error;
  QVERIFY2(controller.start(c, &error), qPrintable(error));
  QTRY_VERIFY_WITH_TIMEOUT(controller.data().evaluations().size() >= 2, 20000);
  const RunData& data = controller.data();
  QVERIFY(data.color("Modular + entropy") != data.color("Modular"));
  QVERIFY(data.color("Modular + entropy") != data.color("GT-Modular"));
  // Its legend entry in the loss chart, its heatmap, its bars.
  auto* loss = window.findChild<LossChart*>();
  QStringList entries;
  for (int i = 0; i < loss->figure()->legend()->count(); ++i) entries << loss->figure()->legend()->entry(i).text;
  QVERIFY2(entries.mid(0, 3) == (QStringList{"Modular", "GT-Modular", "Modular + entropy"}), qPrintable(entries.join(", ")));
  QCOMPARE(loss->figure()->legend()->entry(2).color, data.color("Modular + entropy"));
  QVERIFY(!loss->series("Modular + entropy", LossChart::Kind::Train)->points().isEmpty());
  QStringList heatmaps;
  for (HeatmapWidget* h : window.findChildren<HeatmapWidget*>()) heatmaps << QString::fromStdString(h->variant());
  QVERIFY2(heatmaps.contains("Modular + entropy"), qPrintable(heatmaps.join(", ")));
  QVERIFY(window.findChild<MetricsView*>()->barCentre("Modular + entropy", 0).x() >= 0);
  // The dock starts on the variant (the model with an intervention) and changes it alone.
  auto* panel = window.findChild<RoutingPanel*>();
  auto* model = panel->findChild<QComboBox*>("RoutingModel");
  QVERIFY(model);
  QCOMPARE(model->currentText(), QString("Modular + entropy"));
  QDoubleSpinBox* balance = nullptr;
  for (auto* box : panel->findChildren<QDoubleSpinBox*>())
    if (box->toolTip().contains("load-balancing")) balance = box;
  QTRY_VERIFY(balance->isEnabled());
  balance->setValue(0.2);
  Q_EMIT balance->editingFinished();
  QTRY_VERIFY_WITH_TIMEOUT(!data.routingChanges().empty(), 20000);
  QCOMPARE(QString::fromStdString(data.routingChanges().front().variant), QString("Modular + entropy"));
  QTRY_COMPARE_WITH_TIMEOUT(data.variant("Modular + entropy")->routing.balance, 0.2, 20000);
  QCOMPARE(data.variant("Modular")->routing.balance, 0.0);
  QCOMPARE(data.routing().balance, 0.0);
  controller.stop();
}

QTEST_MAIN(TstRoutingPanel)
#include "tst_routing_panel.moc"
