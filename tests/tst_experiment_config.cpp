// ExperimentConfig: JSON round trip, every validation message, presets.
#include <QtTest>
#include <functional>

#include "modlab/experiment/experiment_config.h"
#include "modlab/experiment/config_keys.h"

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
  void hostileInputIsRefusedCleanly();
  void modelDimensionIsAKeyOfItsOwn();
  void integersNeverWrap_data();
  void integersNeverWrap();
  void overridesAreValidatedTogether();
  void namesCannotEscapeTheirFolder_data();
  void namesCannotEscapeTheirFolder();
};

void TstExperimentConfig::roundTrips() {
  ExperimentConfig c;
  c.name = "round-trip";
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
  // Issue 25 #18: the position is said once, then the reason.
  QCOMPARE(QString::fromStdString(message).count("line 3"), 1);
  QVERIFY2(QString::fromStdString(message).contains("syntax error"), message.c_str());
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

void TstExperimentConfig::hostileInputIsRefusedCleanly() {
  // Issue 10 #1: deeply nested JSON inside a known key crashed the parser's error message.
  const std::string nested = "{\"rules\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto [field, message] = errorOf(nested);
  QVERIFY2(QString::fromStdString(message).contains("nests deeper"), message.c_str());
  QVERIFY(message.size() < 400);
  // #16: a huge value is not echoed back whole.
  const std::string huge = "{\"setting\": \"" + std::string(5'000'000, 'x') + "\"}";
  std::tie(field, message) = errorOf(huge);
  QVERIFY2(message.size() < 400, message.substr(0, 400).c_str());
  std::tie(field, message) = errorOf("{\"name\": \"" + std::string(1'000'000, 'x') + "\"}");
  QCOMPARE(field, std::string("name"));
  QVERIFY(message.size() < 400);
  // #15: a number that overflows a double names the key.
  ExperimentConfig c;
  try {
    applyOverride(c, "learning_rate=1e400");
    QFAIL("1e400 accepted");
  } catch (const ConfigError& e) {
    QCOMPARE(e.field(), std::string("learning_rate"));
  }
  std::tie(field, message) = errorOf("{\"learning_rate\": 1e400}");
  QVERIFY2(!message.empty(), "1e400 in a file accepted");
  // Wrong types name the key, never a raw json exception.
  std::tie(field, message) = errorOf("{\"families\": [1, 2]}");
  QCOMPARE(field, std::string("families"));
  std::tie(field, message) = errorOf("{\"eval_lengths\": \"x\"}");
  QCOMPARE(field, std::string("eval_lengths"));
}

void TstExperimentConfig::integersNeverWrap_data() {
  QTest::addColumn<QString>("assignment");
  QTest::addColumn<QString>("key");
  QTest::newRow("rules 2^32+8") << "rules=4294967304" << "rules";
  QTest::newRow("size 2^32+32") << "size=4294967328" << "size";
  QTest::newRow("batch 2^32+256") << "batch_size=4294967552" << "batch_size";
  QTest::newRow("steps 2^64") << "steps=18446744073709551616" << "steps";
  QTest::newRow("data seed -1") << "data_seed=-1" << "data_seed";
  QTest::newRow("rules 8.5") << "rules=8.5" << "rules";
}

void TstExperimentConfig::integersNeverWrap() {
  QFETCH(QString, assignment);
  QFETCH(QString, key);
  ExperimentConfig c;
  try {
    applyOverride(c, assignment.toStdString());
    QFAIL(qPrintable("accepted " + assignment));
  } catch (const ConfigError& e) {
    QCOMPARE(QString::fromStdString(e.field()), key);
  }
  const auto [field, message] = errorOf("{\"" + key.toStdString() + "\": " + assignment.section('=', 1).toStdString() + "}");
  QVERIFY2(!message.empty(), qPrintable("accepted in a file: " + assignment));
}

void TstExperimentConfig::overridesAreValidatedTogether() {
  // Issue 10 #17: each --set was validated alone, so this order was refused.
  ExperimentConfig c;
  applyOverrides(c, {"setting=mha", "rules=128", "size=64"});
  QCOMPARE(c.rules, 128);
  QCOMPARE(c.size, 64);
  ExperimentConfig d;
  applyOverrides(d, {"size=64", "rules=128", "setting=mha"});
  QVERIFY(c == d);
  const ExperimentConfig before = d;
  QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverrides(d, {"rules=16", "size=0"}));
  QVERIFY(d == before);  // all or nothing
  // Issue 26 #12: the names the program makes pass its own rules (the README's example variant
  // was named with 49 characters and refused).
  RoutingOptions routing;
  routing.sampleEntropy = 0.01;
  routing.batchEntropy = 0.1;
  QCOMPARE(defaultVariantName(Family::Modular, routing), std::string("Modular + Hs 0.01 + Hb 0.1"));
  routing.balance = 0.015;
  routing.temperature = 2.5;
  routing.mode = RoutingMode::Gumbel;
  for (Family f : {Family::Modular, Family::ModularOp}) QVERIFY(isVariantName(defaultVariantName(f, routing)));
  QVERIFY(defaultVariantName(Family::ModularOp, routing) != defaultVariantName(Family::Modular, routing));
  ExperimentConfig readme = parseConfig(R"({"families": ["Modular", "GT-Modular"],
    "variants": [{"name": "Modular + balance", "family": "Modular", "balance_loss": 0.01},
                 {"family": "Modular", "sample_entropy_loss": 0.01, "batch_entropy_loss": 0.1}]})");
  QCOMPARE(readme.variants[1].name, std::string("Modular + Hs 0.01 + Hb 0.1"));
  // Issue 26 #11: every key is documented, and the documented integer ranges are validate()'s.
  std::vector<std::string> documented;
  for (const ConfigKeyDoc& d : configKeyDocs()) documented.push_back(d.key);
  QVERIFY(documented == configKeys());
  for (const ConfigKeyDoc& d : configKeyDocs()) {
    if (!d.lowest || !d.highest) continue;
    const auto errorsAbout = [&](std::int64_t value) {
      ExperimentConfig c;
      c.setting = Setting::Mha;  // every key applies
      c.rules = 2;
      c.size = 64;
      try {
        applyOverride(c, d.key + "=" + std::to_string(value));
        return false;
      } catch (const ConfigError& e) {
        return QString(e.what()).contains(QString::fromStdString("invalid " + d.key + " "));
      }
    };
    QVERIFY2(!errorsAbout(*d.lowest) && !errorsAbout(*d.highest), d.key.c_str());
    QVERIFY2(errorsAbout(*d.lowest - 1) && errorsAbout(*d.highest + 1), d.key.c_str());
  }
  // Issue 25 #18: a config with three errors names all three, not only the first.
  for (const auto& attempt : std::vector<std::function<void()>>{
           [] { parseConfig(R"({"rules": 0, "learning_rate": -1, "stepz": 5})"); },
           [&d] { applyOverrides(d, {"rules=0", "learning_rate=-1", "stepz=5"}); }}) {
    try {
      attempt();
      QFAIL("three errors were accepted");
    } catch (const ConfigError& e) {
      const QString message = e.what();
      QVERIFY2(message.startsWith("3 errors") && message.contains("rules 0") && message.contains("learning_rate") &&
                   message.contains("stepz"),
               qPrintable(message));
    }
  }
}

void TstExperimentConfig::namesCannotEscapeTheirFolder_data() {
  QTest::addColumn<QString>("name");
  for (const char* n : {"../../../X", "a/b", "..", ".hidden", "-rf", "x\necho PWNED", "a b", "$(touch x)", ""})
    QTest::newRow(n) << n;
}

void TstExperimentConfig::namesCannotEscapeTheirFolder() {
  QFETCH(QString, name);
  ExperimentConfig c;
  try {
    c.name = name.toStdString();
    validate(c);
    QFAIL("accepted");
  } catch (const ConfigError& e) {
    QCOMPARE(e.field(), std::string("name"));
  }
  QVERIFY(isSafeName("mlp-classification-R16-E32-ds0-ms0"));
  QVERIFY(isSafeName("demo_1.2+x"));
}

void TstExperimentConfig::modelDimensionIsAKeyOfItsOwn() {
  ExperimentConfig c;
  QCOMPARE(c.wideDim(), 4 * c.size);  // the paper's ratio by default
  applyOverrides(c, {"size=32", "model_dim=96"});
  QCOMPARE(c.wideDim(), 96);
  QVERIFY(parseConfig(toJson(c)) == c);
  auto [field, message] = errorOf("{\"model_dim\": -4}");
  QCOMPARE(field, std::string("model_dim"));
  std::tie(field, message) = errorOf("{\"setting\": \"mha\", \"rules\": 16, \"model_dim\": 16}");
  QCOMPARE(field, std::string("model_dim"));
  QVERIFY2(QString::fromStdString(message).contains("2 x rules"), message.c_str());
}

QTEST_GUILESS_MAIN(TstExperimentConfig)
#include "tst_experiment_config.moc"
