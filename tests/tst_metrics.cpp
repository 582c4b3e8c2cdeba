// Collapse and specialisation metrics against the reference, the Hungarian algorithm
// against brute force, and the estimates from a model.
#include <QtTest>

#include <algorithm>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "modlab/metrics/activation.h"
#include "modlab/metrics/specialisation.h"
#include "support/golden.h"

using namespace modlab;
using namespace modlab::test;

class TstMetrics : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }
  void matricesMatchReference_data();
  void matricesMatchReference();
  void adaptationTermsMatchReference_data();
  void adaptationTermsMatchReference();
  void hungarianEqualsBruteForce();
  void referenceRoutings();
  void gtModularIsPerfectlySpecialised();
  void untrainedModularIsNotSpecialised();
};

void TstMetrics::matricesMatchReference_data() {
  QTest::addColumn<int>("index");
  const auto& matrices = golden("metrics.json")["matrices"];
  for (std::size_t i = 0; i < matrices.size(); ++i)
    QTest::newRow((matrices[i]["kind"].get<std::string>() + "/R" + std::to_string(matrices[i]["R"].get<int>())).c_str())
        << int(i);
}

void TstMetrics::matricesMatchReference() {
  QFETCH(int, index);
  const auto& entry = golden("metrics.json")["matrices"][index];
  const auto rows = entry["module_given_rule"].get<std::vector<std::vector<double>>>();
  const ActivationMatrix P = ActivationMatrix::fromModuleGivenRule(rows);
  QCOMPARE(P.rules(), entry["R"].get<int>());
  const struct {
    const char* field;
    double value;
  } checks[] = {
      {"collapse_avg", collapseAvg(P)},
      {"collapse_worst", collapseWorst(P)},
      {"alignment", alignment(P)},
      {"mutual_information", mutualInformation(P)},
      {"inverse_mutual_information", inverseMutualInformation(P)},
  };
  for (const auto& c : checks) {
    const double expected = entry[c.field].get<double>();
    QVERIFY2(close(c.value, expected, 1e-6, 1e-9),
             qPrintable(QString("%1: %2 vs reference %3").arg(c.field).arg(c.value, 0, 'g', 15).arg(expected, 0, 'g', 15)));
  }
}

void TstMetrics::adaptationTermsMatchReference_data() {
  QTest::addColumn<int>("index");
  const auto& terms = golden("metrics.json")["adaptation"];
  for (std::size_t i = 0; i < terms.size(); ++i)
    QTest::newRow(("R" + std::to_string(terms[i]["p"].size()) + "#" + std::to_string(i)).c_str()) << int(i);
}

void TstMetrics::adaptationTermsMatchReference() {
  QFETCH(int, index);
  const auto& entry = golden("metrics.json")["adaptation"][index];
  const double actual = adaptationTerm(flatten(entry["p"]), flatten(entry["q"]));
  QVERIFY(close(actual, entry["adaptation_term"].get<double>(), 1e-9, 1e-12));
}

void TstMetrics::hungarianEqualsBruteForce() {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int n = 1; n <= 7; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> cost(static_cast<std::size_t>(n) * n);
      for (double& c : cost) c = trial % 4 == 0 ? std::floor(u(rng) * 3) : u(rng);  // ties too
      std::vector<int> perm(n);
      std::iota(perm.begin(), perm.end(), 0);
      double best = std::numeric_limits<double>::infinity();
      do {
        double total = 0;
        for (int r = 0; r < n; ++r) total += cost[static_cast<std::size_t>(r) * n + perm[r]];
        best = std::min(best, total);
      } while (std::next_permutation(perm.begin(), perm.end()));
      const auto assignment = hungarian(cost, n);
      std::vector<int> sorted = assignment;
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < n; ++i) QCOMPARE(sorted[i], i);  // a permutation
      double total = 0;
      for (int r = 0; r < n; ++r) total += cost[static_cast<std::size_t>(r) * n + assignment[r]];
      QVERIFY2(std::abs(total - best) < 1e-12, qPrintable(QString("n=%1 trial=%2").arg(n).arg(trial)));
    }
  }
}

void TstMetrics::referenceRoutings() {
  const double adaptRandom[] = {0.25, 0.316, 0.344, 0.356, 0.362};
  const double adaptCollapse[] = {0.25, 0.479, 0.660, 0.789, 0.873};
  for (int i = 0, R = 2; R <= 32; ++i, R *= 2) {
    const auto random = randomRoutingMetrics(R), collapse = totalCollapseMetrics(R);
    QCOMPARE(random.alignment, 1.0 - 1.0 / R);
    QCOMPARE(random.collapseAvg, 0.0);
    QCOMPARE(collapse.collapseWorst, 1.0);
    QVERIFY(std::abs(random.adaptation - adaptRandom[i]) < 1e-3);
    QVERIFY(std::abs(collapse.adaptation - adaptCollapse[i]) < 1e-3);
    // The analytic values agree with the formulas applied to the matrices themselves.
    const ActivationMatrix uniform(R, R, std::vector<double>(R * R, 1.0));
    QVERIFY(std::abs(alignment(uniform) - random.alignment) < 1e-12);
    QVERIFY(std::abs(inverseMutualInformation(uniform) - 1.0) < 1e-4);  // the 1e-8 epsilons
    std::vector<double> one(R * R, 0.0);
    for (int r = 0; r < R; ++r) one[r * R] = 1.0;
    const ActivationMatrix collapsed(R, R, one);
    QVERIFY(std::abs(collapseAvg(collapsed) - 1.0) < 1e-12);
    QVERIFY(std::abs(alignment(collapsed) - collapse.alignment) < 1e-12);
  }
}

namespace {
RuleModel modelFor(Family family, int rules) {
  ModelSpec spec;
  spec.family = family;
  spec.rules = rules;
  spec.size = 16;
  return makeModel(spec, 0);
}
}  // namespace

void TstMetrics::gtModularIsPerfectlySpecialised() {
  TaskSpec t;
  t.rules = 4;
  const auto task = RuleTask::create(t);
  const RuleModel model = modelFor(Family::GtModular, 4);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  EstimateOptions opt = EstimateOptions::quick(Setting::Mlp);
  ActivationMatrix P;
  const SpecialisationMetrics m = measureSpecialisation(*model, *task, opt, gen, torch::kCPU, &P);
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 4; ++k) QCOMPARE(P.moduleGivenRule(r, k), r == k ? 1.0 : 0.0);
  QCOMPARE(m.alignment, 0.0);
  QCOMPARE(m.collapseAvg, 0.0);
  QVERIFY(m.inverseMutualInformation < 1e-6);
  QVERIFY2(m.adaptation < 0.05, "GT tracks every rule prior up to sampling noise");
}

void TstMetrics::untrainedModularIsNotSpecialised() {
  TaskSpec t;
  t.rules = 4;
  const auto task = RuleTask::create(t);
  const RuleModel model = modelFor(Family::Modular, 4);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const SpecialisationMetrics m = measureSpecialisation(*model, *task, EstimateOptions::quick(Setting::Mlp), gen, torch::kCPU);
  QVERIFY(m.alignment > 0.3);
  QVERIFY(m.inverseMutualInformation > 0.5);
  QVERIFY(m.adaptation > 0.1);
}

QTEST_GUILESS_MAIN(TstMetrics)
#include "tst_metrics.moc"
