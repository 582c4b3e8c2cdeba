// The rule data processes: labels against the reference for fixed inputs, sampling, bad input.
#include <QtTest>

#include <torch/torch.h>

#include "modlab/tasks/rule_task.h"
#include "tasks/task_impls.h"
#include "support/golden.h"

using namespace modlab;
using namespace modlab::test;

namespace {
// "mlp/0/4", "mha_sv2/2/4", "rnn/1/4" -> the task spec the entry was computed for.
TaskSpec specFromKey(const std::string& key, TaskKind kind) {
  const auto parts = splitKey(key);
  TaskSpec spec;
  spec.kind = kind;
  spec.dataSeed = std::stoi(parts[1]);
  spec.rules = std::stoi(parts[2]);
  if (parts[0] == "mlp") spec.setting = Setting::Mlp;
  else if (parts[0] == "rnn") spec.setting = Setting::Rnn;
  else {
    spec.setting = Setting::Mha;
    spec.searchVersion = parts[0] == "mha_sv2" ? 2 : 1;
  }
  return spec;
}

std::vector<std::int64_t> shapeOf(const nlohmann::json& entry, const char* field, const nlohmann::json& x) {
  if (entry.contains(field)) return entry[field].get<std::vector<std::int64_t>>();
  std::vector<std::int64_t> shape;
  for (const nlohmann::json* j = &x; j->is_array(); j = &(*j)[0]) shape.push_back(static_cast<std::int64_t>(j->size()));
  return shape;
}

template <typename F>
void expectThrowsNaming(F&& f, const std::string& parameter) {
  try {
    f();
    QFAIL(("no error for bad " + parameter).c_str());
  } catch (const InvalidArgument& e) {
    QCOMPARE(QString::fromStdString(e.parameter()), QString::fromStdString(parameter));
    QVERIFY(std::string(e.what()).find(e.value()) != std::string::npos);
    QVERIFY(!e.allowed().empty());
  }
}
}  // namespace

class TstTasks : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }
  void labelsMatchReference_data();
  void labelsMatchReference();
  void sampledBatchesAreConsistent_data();
  void sampledBatchesAreConsistent();
  void oodScalesInputsNotContext();
  void rulePriorIsFollowed();
  void samplingIsSeeded();
  void badInputIsNamed();
  void mhaTargetByTokensEqualsTensorOperations_data();
  void mhaTargetByTokensEqualsTensorOperations();
};

void TstTasks::labelsMatchReference_data() {
  QTest::addColumn<QString>("key");
  QTest::addColumn<int>("kind");
  for (const auto& [key, entry] : golden("labels.json")["cases"].items()) {
    QTest::newRow((key + "/regression").c_str()) << QString::fromStdString(key) << int(TaskKind::Regression);
    QTest::newRow((key + "/classification").c_str()) << QString::fromStdString(key) << int(TaskKind::Classification);
  }
}

void TstTasks::labelsMatchReference() {
  QFETCH(QString, key);
  QFETCH(int, kind);
  const auto& entry = golden("labels.json")["cases"][key.toStdString()];
  const auto task = RuleTask::create(specFromKey(key.toStdString(), TaskKind(kind)));
  const auto xShape = shapeOf(entry, entry.contains("shape") ? "shape" : "shape_x", entry["x"]);
  const torch::Tensor x = torch::tensor(flatten(entry["x"]), torch::kDouble).view(xShape);
  const Batch batch = task->fromInputs(x);
  const bool regression = TaskKind(kind) == TaskKind::Regression;
  const auto expected = flatten(entry[regression ? "y_regression" : "y_classification"]);
  const torch::Tensor y = batch.y.contiguous().view({-1});
  QCOMPARE(y.numel(), static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double actual = y[static_cast<std::int64_t>(i)].item<double>();
    QVERIFY2(close(actual, expected[i], 1e-8, 1e-9),
             qPrintable(QString("%1[%2]: %3 vs reference %4").arg(key).arg(i).arg(actual, 0, 'g', 12).arg(expected[i], 0, 'g', 12)));
  }
}

void TstTasks::sampledBatchesAreConsistent_data() {
  QTest::addColumn<int>("setting");
  QTest::addColumn<int>("kind");
  QTest::addColumn<int>("searchVersion");
  for (int s = 0; s < 3; ++s)
    for (int k = 0; k < 2; ++k)
      for (int v = 1; v <= (s == int(Setting::Mha) ? 2 : 1); ++v)
        QTest::newRow((toString(Setting(s)) + "/" + toString(TaskKind(k)) + "/v" + std::to_string(v)).c_str())
            << s << k << v;
}

// A sampled batch's labels are what fromInputs computes from its inputs, with the right shapes.
void TstTasks::sampledBatchesAreConsistent() {
  QFETCH(int, setting);
  QFETCH(int, kind);
  QFETCH(int, searchVersion);
  TaskSpec spec;
  spec.setting = Setting(setting);
  spec.kind = TaskKind(kind);
  spec.rules = 4;
  spec.searchVersion = searchVersion;
  const auto task = RuleTask::create(spec);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  SampleRequest req;
  req.batch = 32;
  req.length = 5;
  const Batch b = task->sample(req, gen);
  QCOMPARE(b.x.size(-1), std::int64_t(task->inputDim()));
  QCOMPARE(b.x.size(0), std::int64_t(32));
  if (task->sequential()) QCOMPARE(b.x.size(1), std::int64_t(5));
  QVERIFY(torch::allclose(task->fromInputs(b.x).y, b.y, 1e-5, 1e-6));
  QVERIFY(torch::equal(task->fromInputs(b.x).rules, b.rules));
  if (spec.kind == TaskKind::Classification) {
    QVERIFY(torch::logical_or(b.y.eq(0), b.y.eq(1)).all().item<bool>());
    const double positives = b.y.mean().item<double>();
    QVERIFY2(positives > 0.2 && positives < 0.8, "classification labels are balanced around sign(y)");
  }
  if (spec.setting == Setting::Rnn)
    QCOMPARE(b.y.size(-1), std::int64_t(task->outputDim()));
}

void TstTasks::oodScalesInputsNotContext() {
  TaskSpec spec;
  spec.rules = 8;
  spec.kind = TaskKind::Regression;
  const auto task = RuleTask::create(spec);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(3);
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(3);
  SampleRequest id, ood;
  id.batch = ood.batch = 64;
  ood.scale = 2.0;
  const Batch a = task->sample(id, g1), b = task->sample(ood, g2);
  QVERIFY(torch::allclose(b.x.narrow(1, 0, 2), 2 * a.x.narrow(1, 0, 2)));
  QVERIFY(torch::equal(b.x.narrow(1, 2, 8), a.x.narrow(1, 2, 8)));
  QVERIFY(torch::allclose(b.y, 2 * a.y, 1e-5, 1e-6));  // the target is linear in a, b
}

void TstTasks::rulePriorIsFollowed() {
  TaskSpec spec;
  spec.rules = 4;
  spec.rulePrior = {0.7, 0.1, 0.2, 0.0};
  const auto task = RuleTask::create(spec);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  SampleRequest req;
  req.batch = 20000;
  const Batch b = task->sample(req, gen);
  const torch::Tensor freq = b.rules.bincount({}, 4).to(torch::kDouble) / 20000.0;
  QVERIFY(std::abs(freq[0].item<double>() - 0.7) < 0.02);
  QVERIFY(std::abs(freq[2].item<double>() - 0.2) < 0.02);
  QCOMPARE(freq[3].item<double>(), 0.0);
}

void TstTasks::samplingIsSeeded() {
  TaskSpec spec;
  spec.setting = Setting::Mha;
  const auto task = RuleTask::create(spec);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(11);
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(11);
  SampleRequest req;
  req.batch = 8;
  QVERIFY(torch::equal(task->sample(req, g1).x, task->sample(req, g2).x));
  QVERIFY(!torch::equal(task->sample(req, g1).x, task->sample(req, g1).x));
}

void TstTasks::badInputIsNamed() {
  auto with = [](auto edit) {
    TaskSpec s;
    edit(s);
    return [s] { RuleTask::create(s); };
  };
  expectThrowsNaming(with([](TaskSpec& s) { s.rules = 1; }), "rules");
  expectThrowsNaming(with([](TaskSpec& s) { s.rulePrior = {0.5, -0.1}; }), "rule prior");
  expectThrowsNaming(with([](TaskSpec& s) { s.rulePrior = {0.5, 0.4}; }), "rule prior");
  expectThrowsNaming(with([](TaskSpec& s) { s.rulePrior = {1.0}; }), "rule prior");
  expectThrowsNaming(with([](TaskSpec& s) { s.setting = Setting::Mha; s.length = 1; }), "sequence length");
  expectThrowsNaming(with([](TaskSpec& s) { s.setting = Setting::Mha; s.searchVersion = 3; }), "search version");
  expectThrowsNaming([] { parseSetting("transformer"); }, "setting");
  expectThrowsNaming([] { parseTaskKind("ranking"); }, "task");
  // A bad evaluation length is caught when sampling, too.
  TaskSpec mha;
  mha.setting = Setting::Mha;
  const auto task = RuleTask::create(mha);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  SampleRequest req;
  req.length = 1;
  expectThrowsNaming([&] { task->sample(req, gen); }, "sequence length");
}

void TstTasks::mhaTargetByTokensEqualsTensorOperations_data() {
  QTest::addColumn<int>("version");
  QTest::addColumn<int>("rules");
  QTest::addColumn<bool>("ties");
  for (int version : {1, 2})
    for (int rules : {2, 5, 16})
      for (bool ties : {false, true})
        QTest::addRow("search version %d, R = %d%s", version, rules, ties ? ", many ties" : "") << version << rules << ties;
}

// The MHA target token by token (the CPU path) gives the bits of the tensor operations, ties
// among the matches included (both take the first best token).
void TstTasks::mhaTargetByTokensEqualsTensorOperations() {
  QFETCH(int, version);
  QFETCH(int, rules);
  QFETCH(bool, ties);
  TaskSpec spec;
  spec.setting = Setting::Mha;
  spec.searchVersion = version;
  spec.rules = rules;
  spec.length = 10;
  const auto task = RuleTask::create(spec);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  SampleRequest req;
  req.batch = 64;
  const Batch batch = task->sample(req, gen);
  torch::Tensor data = batch.x.narrow(-1, 0, batch.x.size(-1) - rules);  // not contiguous, as fromInputs gives it
  if (ties) data = (data * 2).round() / 2;
  const torch::Tensor alpha = torch::randn({rules}, torch::kDouble), beta = torch::randn({rules}, torch::kDouble);
  const torch::Tensor byTokens = mhaTarget(data, batch.rules, alpha, beta, version, rules, false);
  const torch::Tensor byTensors = mhaTarget(data, batch.rules, alpha, beta, version, rules, true);
  QCOMPARE(byTokens.sizes(), byTensors.sizes());
  QVERIFY(torch::equal(byTokens, byTensors));
  torch::Tensor bad = batch.rules.clone();
  bad[0][0] = rules;
  expectThrowsNaming([&] { mhaTarget(data, bad, alpha, beta, version, rules, false); }, "rule");
}

QTEST_GUILESS_MAIN(TstTasks)
#include "tst_tasks.moc"
