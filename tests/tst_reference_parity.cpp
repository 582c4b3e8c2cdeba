// One forward and one backward pass of our models, loaded with the authors' weights, equal to
// theirs (issue 27). Data-driven: every fixture in tests/data/reference/ (made once with their
// own classes by tools/make-reference-fixtures.py) is a case, named setting-task-family.pt.
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <fstream>
#include <iterator>

#include <torch/serialize.h>

#include "modlab/errors.h"
#include "modlab/experiment/run_store.h"
#include "modlab/reference/reference_export.h"
#include "modlab/reference/reference_import.h"
#include "modlab/reference/reference_state_dict.h"
#include "modlab/training/session.h"
#include "support/tiny_config.h"

using namespace modlab;

namespace {
std::vector<char> bytesOf(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

c10::Dict<c10::IValue, c10::IValue> fixture(const QString& path) { return torch::pickle_load(bytesOf(path)).toGenericDict(); }

torch::Tensor field(const c10::Dict<c10::IValue, c10::IValue>& f, const char* key) { return f.at(c10::IValue(std::string(key))).toTensor(); }

double relativeError(const torch::Tensor& ours, const torch::Tensor& theirs) {
  const double scale = std::max(1.0, theirs.abs().max().item<double>());
  return (ours.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>() / scale;
}
}  // namespace

class TstReferenceParity : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void sameOutputsLossScoresAndGradients_data();
  void sameOutputsLossScoresAndGradients();
  void misfitTensorsAreNamed();
  void exportedRunsLoadBackUnderTheirNames();
  void theirFoldersImportAsRuns();
};

void TstReferenceParity::sameOutputsLossScoresAndGradients_data() {
  QTest::addColumn<QString>("path");
  const QDir dir(QString(MODLAB_SOURCE_DIR) + "/tests/data/reference");
  const QStringList files = dir.entryList({"*.pt"}, QDir::Files, QDir::Name);
  QVERIFY2(!files.isEmpty(), "no fixtures in tests/data/reference");
  for (const QString& f : files) QTest::newRow(qPrintable(f.chopped(3))) << dir.filePath(f);
}

void TstReferenceParity::sameOutputsLossScoresAndGradients() {
  QFETCH(QString, path);
  const QStringList parts = QFileInfo(path).completeBaseName().split('-');  // setting-task-family (family may hold '-')
  const Setting setting = parseSetting(parts[0].toStdString());
  const TaskKind task = parseTaskKind(parts[1].toStdString());
  const Family family = parseFamily(parts.mid(2).join('-').toStdString());
  const auto f = fixture(path);
  const StateDict theirs = stateDictOf(f.at(c10::IValue(std::string("state_dict"))));
  std::vector<std::string> inferred;
  const auto config = f.at(c10::IValue(std::string("config"))).toGenericDict();
  const int rules = static_cast<int>(config.at(c10::IValue(std::string("rules"))).toTensor().item<std::int64_t>());
  // R as a user gives it where the weights cannot say (an RNN Monolithic classifier).
  const bool silent = setting == Setting::Rnn && family == Family::Monolithic && task == TaskKind::Classification;
  const ModelSpec spec = inferModelSpec(setting, task, family, theirs, &inferred, silent ? rules : 0);
  QCOMPARE(spec.rules, rules);
  RuleModel model = makeModel(spec, 0);
  loadReferenceStateDict(*model, theirs);
  model->train();
  model->zero_grad();
  const ModelOutput out = model->forward(field(f, "x"));
  const torch::Tensor y = field(f, "y");
  const torch::Tensor loss = task == TaskKind::Classification ? torch::binary_cross_entropy_with_logits(out.y, y) : torch::l1_loss(out.y, y);
  loss.backward();
  const double outputError = relativeError(out.y.detach(), field(f, "out"));
  const double lossError = relativeError(loss.detach(), field(f, "loss"));
  QVERIFY2(outputError <= 1e-5, qPrintable(QString("outputs differ by %1").arg(outputError)));
  QVERIFY2(lossError <= 1e-5, qPrintable(QString("loss differs by %1").arg(lossError)));
  if (f.contains(c10::IValue(std::string("score")))) {
    const torch::Tensor score = field(f, "score");
    const double scoreError = relativeError(out.activations.detach().reshape(score.sizes()), score);
    QVERIFY2(scoreError <= 1e-5, qPrintable(QString("routing scores differ by %1").arg(scoreError)));
  }
  const auto norms = f.at(c10::IValue(std::string("grad_norms"))).toGenericDict();
  const StateDict gradients = referenceStateDict(*model, true);  // ours, under their names
  double gradientError = 0;
  for (const auto& entry : norms) {
    const auto it = gradients.find(entry.key().toStringRef());
    QVERIFY2(it != gradients.end(), entry.key().toStringRef().c_str());
    gradientError = std::max(gradientError, relativeError(it->second.norm(), entry.value().toTensor()));
  }
  QVERIFY2(gradientError <= 1e-4, qPrintable(QString("gradient norms differ by %1").arg(gradientError)));
  // Export then import is bit-identical.
  const StateDict exported = referenceStateDict(*model);
  QCOMPARE(exported.size(), theirs.size());
  for (const auto& [name, tensor] : theirs) {
    QVERIFY2(exported.count(name), name.c_str());
    if (name != "rnn.scorer.1.b")  // registered by their class, never used: exported as zeros
      QVERIFY2(torch::equal(exported.at(name), tensor.to(torch::kFloat32)), name.c_str());
  }
  qInfo("%s: outputs %.1e, loss %.1e, gradients %.1e; %s", qPrintable(QFileInfo(path).completeBaseName()), outputError, lossError,
        gradientError, inferred.front().c_str());
}

void TstReferenceParity::misfitTensorsAreNamed() {
  const QString path = QString(MODLAB_SOURCE_DIR) + "/tests/data/reference/mlp-regression-Modular-op.pt";
  StateDict theirs = stateDictOf(fixture(path).at(c10::IValue(std::string("state_dict"))));
  const ModelSpec spec = inferModelSpec(Setting::Mlp, TaskKind::Regression, Family::ModularOp, theirs);
  RuleModel model = makeModel(spec, 0);
  StateDict wrong = theirs;
  wrong["scorer.weight"] = torch::zeros({3, 3});
  try {
    loadReferenceStateDict(*model, wrong);
    QFAIL("a tensor of the wrong shape was loaded");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("scorer.weight") && QString(e.what()).contains("[3, 3]"), e.what());
  }
  StateDict missing = theirs;
  missing.erase("decoder.2.bias");
  QVERIFY_THROWS_EXCEPTION(ConfigError, loadReferenceStateDict(*model, missing));
  StateDict extra = theirs;
  extra["attention.q"] = torch::zeros({2});
  QVERIFY_THROWS_EXCEPTION(ConfigError, loadReferenceStateDict(*model, extra));
}

// export-reference: every model of a trained run under the reference's names, with the
// constructor of the class it loads into; read back, it is the run's model bit for bit.
void TstReferenceParity::exportedRunsLoadBackUnderTheirNames() {
  QTemporaryDir tmp;
  const std::string run = tmp.path().toStdString() + "/run";
  ExperimentConfig c = test::tinyConfig();
  c.steps = 20;
  c.evalEvery = 10;
  Session session(c, SessionOptions{run});
  session.start();
  session.wait();
  const std::vector<ExportedModel> exported = exportReferenceModels(run, "last", tmp.path().toStdString() + "/ref");
  QCOMPARE(exported.size(), variantsOf(c).size());
  for (const ExportedModel& e : exported) {
    QCOMPARE(e.step, std::int64_t{20});
    const StateDict theirs = readStateDict(bytesOf(QString::fromStdString(e.file)));
    QVERIFY2(theirs.count("encoder_digit.0.weight") && theirs.count("decoder.2.bias"), e.file.c_str());
    const Family family = parseFamily(e.variant);
    QVERIFY(QString::fromStdString(e.constructor).startsWith(family == Family::Monolithic ? "Monolithic(" : family == Family::GtModular ? "GT_Modular(" : "Modular("));
    RuleModel model = makeModel(inferModelSpec(c.setting, c.task, family, theirs), 0);
    loadReferenceStateDict(*model, theirs);
    for (const auto& [name, tensor] : referenceStateDict(*model)) QVERIFY2(torch::equal(tensor, theirs.at(name)), name.c_str());
    QVERIFY(QFile::exists(QFileInfo(QString::fromStdString(e.file)).dir().filePath("reference.json")));
  }
}

// import-reference: a folder laid out as their scripts write it becomes run folders that read as
// any other (config, checkpoint, one evaluation, run.json naming the source); a folder that names
// none of the paper's families is skipped with its reason; import then export is bit-identical.
void TstReferenceParity::theirFoldersImportAsRuns() {
  QTemporaryDir tmp;
  const QString fixtures = QString(MODLAB_SOURCE_DIR) + "/tests/data/reference/";
  const std::map<std::string, std::string> folders{{"Monolithic_8_16_4_0", "Monolithic"}, {"Modular_joint_8_16_4_0", "Modular"},
                                                   {"Modular_operation-only_8_16_4_0", "Modular-op"}, {"GT_Modular_8_16_4_0", "GT-Modular"},
                                                   {"Modular_8_16_4_0", "Modular"}};  // their non-joint Modular: not ours
  for (const auto& [folder, family] : folders) {
    const QString dir = tmp.filePath("Logs/Data-Seed_0/GT_Rules_4/" + QString::fromStdString(folder));
    QDir().mkpath(dir);
    const auto f = fixture(fixtures + "mlp-classification-" + QString::fromStdString(family) + ".pt");
    const std::vector<char> bytes = torch::pickle_save(f.at(c10::IValue(std::string("state_dict"))));
    QFile out(dir + "/model_last.pt");
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(bytes.data(), static_cast<qint64>(bytes.size()));
  }
  ReferenceImportOptions o;
  o.path = tmp.filePath("Logs").toStdString();
  o.setting = Setting::Mlp;
  o.task = TaskKind::Classification;
  o.overrides = {"steps=50", "eval_batches=1", "matrix_samples=256", "adaptation_priors=2", "adaptation_samples=128"};
  o.out = tmp.filePath("runs").toStdString();
  int calls = 0, totals = 0;
  const ReferenceImport r = importReferenceModels(o, [&](int done, int total) {
    calls = done;
    totals = total;
  });
  QCOMPARE(calls, 5);
  QCOMPARE(totals, 5);
  QCOMPARE(r.imported.size(), std::size_t(4));
  QCOMPARE(r.skipped.size(), std::size_t(1));
  QVERIFY2(QString::fromStdString(r.skipped.front()).contains("Modular_8_16_4_0") && QString::fromStdString(r.skipped.front()).contains("--family"),
           r.skipped.front().c_str());
  for (const ImportedRun& run : r.imported) {
    const RunRecord record = RunStore::load(run.run);
    QCOMPARE(record.info.status, std::string("finished"));
    QCOMPARE(record.evaluations.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(record.info.familyStates.at(run.variant)), "finished: imported from " + QString::fromStdString(run.source));
    const auto exported = exportReferenceModels(run.run, "last", run.run + "-export");
    const StateDict back = readStateDict(bytesOf(QString::fromStdString(exported.front().file)));
    const StateDict original = readStateDict(bytesOf(QString::fromStdString(run.source)));
    QCOMPARE(back.size(), original.size());
    for (const auto& [name, tensor] : original) QVERIFY2(torch::equal(back.at(name), tensor), name.c_str());
  }
}

QTEST_APPLESS_MAIN(TstReferenceParity)
#include "tst_reference_parity.moc"
