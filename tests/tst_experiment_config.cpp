// ExperimentConfig: JSON round trip, every validation message, presets.
#include <QtTest>

#include "modlab/experiment/experiment_config.h"

#include "support/golden.h"

using namespace modlab;
using modlab::test::str;

namespace {
// The ConfigError of parsing `json`: its field and message.
std::pair<std::string, std::string> errorOf(const std::string& json) {
  try {
    parseConfig(json);
  } catch (const ConfigError& e) {
    return {e.field(), e.what()};
  }
  return {"", ""};
}
}  // namespace

class TstExperimentConfig : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void roundTrips();
  void badValuesAreNamed_data();
  void badValuesAreNamed();
  void unknownKeyNamesClosest();
  void malformedJsonHasLineAndColumn();
  void overrides();
  void presetsAreValidAndDescribed();
};

void TstExperimentConfig::roundTrips() {
  ExperimentConfig c;
  c.name = "round trip";
  c.setting = Setting::Rnn;
  c.task = TaskKind::Regression;
  c.rules = 16;
  c.families = {Family::GtModular, Family::Modular};
  c.learningRate = 3e-4;
  c.evalLengths = {5, 50};
  const ExperimentConfig back = parseConfig(toJson(c));
  QVERIFY(back == c);
  QCOMPARE(back.effectiveClipNorm(), 1.0);  // the paper clips the RNN at 1.0
}

void TstExperimentConfig::badValuesAreNamed_data() {
  QTest::addColumn<QString>("json");
  QTest::addColumn<QString>("field");
  QTest::addColumn<QString>("mention");  // the value or what is allowed, in the message
  QTest::newRow("rules<2") << R"({"rules": 1})" << "rules" << "1";
  QTest::newRow("rules type") << R"({"rules": "many"})" << "rules" << "an integer";
  QTest::newRow("size<=0") << R"({"size": 0})" << "size" << "0";
  QTest::newRow("mha size") << R"({"setting": "mha", "rules": 32, "size": 8})" << "size" << "rules/2";
  QTest::newRow("setting") << R"({"setting": "cnn"})" << "setting" << "mlp, mha, rnn";
  QTest::newRow("task") << R"({"task": "ranking"})" << "task" << "ranking";
  QTest::newRow("family") << R"({"families": ["Modular", "Mixture"]})" << "families" << "Mixture";
  QTest::newRow("no family") << R"({"families": []})" << "families" << "at least one";
  QTest::newRow("repeated family") << R"({"families": ["Modular", "Modular"]})" << "families" << "at most once";
  QTest::newRow("lr") << R"({"learning_rate": -0.1})" << "learning_rate" << "(0, 1]";
  QTest::newRow("batch") << R"({"batch_size": 0})" << "batch_size" << "0";
  QTest::newRow("mha length") << R"({"setting": "mha", "length": 1})" << "length" << "1";
  QTest::newRow("eval lengths") << R"({"setting": "rnn", "eval_lengths": [0]})" << "eval_lengths" << "0";
  QTest::newRow("device") << R"({"device": "tpu"})" << "device" << "tpu";
  QTest::newRow("search") << R"({"search_version": 3})" << "search_version" << "1 or 2";
  QTest::newRow("steps") << R"({"steps": 0})" << "steps" << "0";
  QTest::newRow("clip") << R"({"clip_norm": -3})" << "clip_norm" << "-3";
  QTest::newRow("seed") << R"({"model_seed": -1})" << "model_seed" << "-1";
}

void TstExperimentConfig::badValuesAreNamed() {
  QFETCH(QString, json);
  QFETCH(QString, field);
  QFETCH(QString, mention);
  const auto [actualField, message] = errorOf(json.toStdString());
  QCOMPARE(QString::fromStdString(actualField), field);
  QVERIFY2(QString::fromStdString(message).contains(field), qPrintable(QString::fromStdString(message)));
  QVERIFY2(QString::fromStdString(message).contains(mention), qPrintable(QString::fromStdString(message)));
}

void TstExperimentConfig::unknownKeyNamesClosest() {
  const auto [field, message] = errorOf(R"({"learnign_rate": 0.01})");
  QCOMPARE(QString::fromStdString(field), QString("learnign_rate"));
  QVERIFY2(QString::fromStdString(message).contains("did you mean 'learning_rate'"), message.c_str());
  QCOMPARE(QString::fromStdString(errorOf(R"({"rule": 4})").second).contains("'rules'"), true);
}

void TstExperimentConfig::malformedJsonHasLineAndColumn() {
  const auto [field, message] = errorOf("{\n  \"rules\": 4,\n  \"size\": ,\n}");
  QCOMPARE(QString::fromStdString(field), QString("json"));
  QVERIFY2(QString::fromStdString(message).contains("line 3"), message.c_str());
  QVERIFY2(QString::fromStdString(message).contains("column"), message.c_str());
  QCOMPARE(QString::fromStdString(errorOf("[1, 2]").first), QString("json"));
}

void TstExperimentConfig::overrides() {
  ExperimentConfig c;
  applyOverride(c, "rules=16");
  applyOverride(c, "setting=mha");
  applyOverride(c, "families=Modular,GT-Modular");
  applyOverride(c, "learning_rate=0.001");
  QCOMPARE(c.rules, 16);
  QCOMPARE(str(c.setting), str(Setting::Mha));
  QCOMPARE(c.families.size(), std::size_t(2));
  QCOMPARE(c.learningRate, 1e-3);
  const ExperimentConfig before = c;
  QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverride(c, "rules=0"));
  QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverride(c, "rulez=3"));
  QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverride(c, "no-equals-sign"));
  QVERIFY(c == before);  // a rejected override changes nothing
}

void TstExperimentConfig::presetsAreValidAndDescribed() {
  QVERIFY(presets().size() >= 8);
  bool hasDefault = false;
  for (const Preset& p : presets()) {
    QVERIFY2(!p.config.description.empty(), p.name.c_str());
    QVERIFY2(p.config.description.back() == '.', p.name.c_str());  // one sentence
    QCOMPARE(QString::fromStdString(p.config.name), QString::fromStdString(p.name));
    hasDefault = hasDefault || p.name == defaultDemoPreset();
  }
  QVERIFY(hasDefault);
  // The paper's configurations (spec 3): lr 1e-4, batch 256, 100k (MLP) / 500k (MHA, RNN) steps.
  for (const char* name : {"paper-mlp-classification", "paper-mha-regression", "paper-rnn-classification"}) {
    const ExperimentConfig& c = findPreset(name).config;
    QCOMPARE(c.learningRate, 1e-4);
    QCOMPARE(c.batchSize, 256);
    QCOMPARE(c.steps, c.setting == Setting::Mlp ? std::int64_t(100000) : std::int64_t(500000));
    QCOMPARE(c.evalEvery, std::int64_t(5000));
  }
  try {
    findPreset("demo-mlp-colapse");
    QFAIL("unknown preset accepted");
  } catch (const ConfigError& e) {
    QVERIFY(std::string(e.what()).find("demo-mlp-collapse") != std::string::npos);
  }
}

QTEST_GUILESS_MAIN(TstExperimentConfig)
#include "tst_experiment_config.moc"
