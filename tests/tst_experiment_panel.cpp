// The experiment panel round-trips a config and flags what the engine rejects.
#include <QtTest>

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSpinBox>

#include "support/golden.h"
#include "ui/panels/experiment_panel.h"

using namespace modlab;
using namespace modlab::ui;

class TstExperimentPanel : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void roundTripsAConfig();
  void startsOnTheDefaultDemo();
  void presetsLoadAndDescribeThemselves();
  void invalidValueIsFlaggedInline();
  void variantsAreListedAndCanBeLeftOut();
};

void TstExperimentPanel::roundTripsAConfig() {
  ExperimentPanel panel;
  ExperimentConfig c;
  c.name = "my-experiment";
  c.description = "mine";
  c.setting = Setting::Mha;
  c.task = TaskKind::Regression;
  c.rules = 16;
  c.searchVersion = 2;
  c.length = 12;
  c.size = 48;
  c.families = {Family::Modular, Family::GtModular};
  c.learningRate = 0.00025;
  c.batchSize = 128;
  c.steps = 12345;
  c.evalEvery = 111;
  c.evalBatches = 3;
  c.dataSeed = 3;
  c.modelSeed = 4;
  c.device = "cpu";
  c.threads = 2;
  c.evalLengths = {4, 40};  // not shown in the panel: kept
  c.matrixSamples = 777;
  panel.setConfig(c);
  QVERIFY(panel.isValid());
  QVERIFY(panel.config() == c);
}

void TstExperimentPanel::startsOnTheDefaultDemo() {
  ExperimentPanel panel;
  QVERIFY(panel.config() == findPreset(defaultDemoPreset()).config);
}

void TstExperimentPanel::presetsLoadAndDescribeThemselves() {
  ExperimentPanel panel;
  QVERIFY(panel.selectPreset("paper-rnn-regression"));
  QVERIFY(panel.config() == findPreset("paper-rnn-regression").config);
  bool described = false;
  for (QLabel* l : panel.findChildren<QLabel*>())
    described = described || l->text() == QString::fromStdString(findPreset("paper-rnn-regression").config.description);
  QVERIFY(described);
  QVERIFY(!panel.selectPreset("no-such-preset"));
}

void TstExperimentPanel::invalidValueIsFlaggedInline() {
  ExperimentPanel panel;
  ExperimentConfig c = findPreset(defaultDemoPreset()).config;
  c.setting = Setting::Mha;
  c.rules = 32;
  c.size = 8;  // 4d / 2R < 1: no head dimension
  QSignalSpy changed(&panel, &ExperimentPanel::configChanged);
  panel.setConfig(c);
  QVERIFY(!panel.isValid());
  QVERIFY2(panel.validationMessage().contains("size") && panel.validationMessage().contains("8"),
           qPrintable(panel.validationMessage()));
  bool shown = false;
  for (QLabel* l : panel.findChildren<QLabel*>()) shown = shown || (l->text() == panel.validationMessage() && !l->isHidden());
  QVERIFY(shown);
  QVERIFY(changed.count() > 0);
  // Nothing was lost: the entered values are still there, and fixing one clears the flag.
  QCOMPARE(panel.config().rules, 32);
  for (QSpinBox* s : panel.findChildren<QSpinBox*>())
    if (s->value() == 8 && s->maximum() == 4096) s->setValue(64);
  QVERIFY2(panel.isValid(), qPrintable(panel.validationMessage()));
  // Spin boxes refuse out-of-range values outright.
  for (QSpinBox* s : panel.findChildren<QSpinBox*>())
    if (s->maximum() == 128) {
      s->setValue(1);
      QCOMPARE(s->value(), 2);
    }
}


// Issue 12: a config's variants are check boxes under the families; unchecked, a variant is
// not trained; the routing demo round-trips with its variants.
void TstExperimentPanel::variantsAreListedAndCanBeLeftOut() {
  ExperimentPanel panel;
  QVERIFY(panel.selectPreset("demo-mlp-routing"));
  const ExperimentConfig demo = findPreset("demo-mlp-routing").config;
  QCOMPARE(demo.variants.size(), std::size_t{2});
  QVERIFY(panel.config() == demo);
  QCheckBox* entropy = nullptr;
  for (QCheckBox* box : panel.findChildren<QCheckBox*>())
    if (box->text() == "Modular + entropy") entropy = box;
  QVERIFY(entropy);
  QVERIFY(entropy->toolTip().contains("sample entropy 0.01"));
  entropy->setChecked(false);
  QCOMPARE(panel.config().variants.size(), std::size_t{1});
  QCOMPARE(panel.config().variants[0].name, std::string("Modular + balance"));
  QVERIFY(panel.isValid());
}

QTEST_MAIN(TstExperimentPanel)
#include "tst_experiment_panel.moc"
