// Routing interventions (issue 12): the regularisers against hand computations and finite
// differences, the routing modes, the paper's routing untouched by default, training in every
// setting, the experiment keys and live changes recorded in the run.
#include <cmath>
#include <filesystem>

#include <QtTest>

#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "modlab/models/routing.h"
#include "modlab/training/session.h"
#include "modlab/training/trainer.h"
#include "support/tiny_config.h"

using namespace modlab;
namespace fs = std::filesystem;

class TstRouting : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }
  void termsMatchHandComputation();
  void penaltyGradientMatchesFiniteDifferences();
  void topOneIsHardWithStraightThroughGradient();
  void gumbelIsSeededAndAnnealed();
  void temperatureDividesTheScores();
  void paperRoutingIsUntouched();
  void interventionsTrainInEverySetting_data();
  void interventionsTrainInEverySetting();
  void keysAreValidatedAndNamed();
  void liveChangesAreRecorded();
  void variantsAreParsedAndValidated();
  void variantsTrainBesideTheFamilies();
  void variantLiveChangeIsItsOwn();
};

namespace {
double entropyOf(const std::vector<double>& p) {
  double h = 0.0;
  for (double x : p) h -= x * std::log(x);
  return h;
}

// Drains the session until it says paused (20 s at most); `latest` is its last snapshot.
bool waitUntilPaused(Session& session, Snapshot& latest) {
  return QTest::qWaitFor([&] {
    for (Snapshot& s : session.drain()) latest = std::move(s);
    return latest.state == SessionState::Paused;
  }, 20000);
}

double penaltyOf(const torch::Tensor& scores, const RoutingOptions& o) {
  return routingPenalty(routingTerms(torch::softmax(scores, -1)), o).item<double>();
}
}  // namespace

// Two decisions over R = 3 modules, every value worked out by hand.
void TstRouting::termsMatchHandComputation() {
  const torch::Tensor p = torch::tensor({0.7, 0.2, 0.1, 0.1, 0.6, 0.3}, torch::kDouble).view({2, 3});
  const RoutingTerms t = routingTerms(p);
  // top modules 0 and 1: f = (1/2, 1/2, 0); P = (0.4, 0.4, 0.2); 3 * (0.2 + 0.2) = 1.2
  QCOMPARE(t.balance.item<double>(), 1.2);
  const double sample = (entropyOf({0.7, 0.2, 0.1}) + entropyOf({0.1, 0.6, 0.3})) / 2.0;
  QVERIFY(std::abs(t.sampleEntropy.item<double>() - sample) < 1e-12);
  QVERIFY(std::abs(t.batchEntropy.item<double>() - entropyOf({0.4, 0.4, 0.2})) < 1e-12);
  // Leading axes are decisions too: (B, N, R) is the same as (B*N, R).
  QCOMPARE(routingTerms(p.view({1, 2, 3})).balance.item<double>(), 1.2);
  RoutingOptions o;
  o.balance = 0.5;
  o.sampleEntropy = 0.25;
  o.batchEntropy = 2.0;
  const double expected = 0.5 * 1.2 + 0.25 * sample - 2.0 * entropyOf({0.4, 0.4, 0.2});
  QVERIFY(std::abs(routingPenalty(t, o).item<double>() - expected) < 1e-12);
}

// d penalty / d scores through the softmax, against central differences in double.
void TstRouting::penaltyGradientMatchesFiniteDifferences() {
  torch::manual_seed(3);
  RoutingOptions o;
  o.balance = 0.3;
  o.sampleEntropy = 0.2;
  o.batchEntropy = 0.5;
  const torch::Tensor scores = torch::randn({6, 4}, torch::kDouble).requires_grad_(true);
  routingPenalty(routingTerms(torch::softmax(scores, -1)), o).backward();
  const torch::Tensor analytic = scores.grad().clone();
  const double h = 1e-6;
  torch::NoGradGuard noGrad;
  for (int i = 0; i < scores.numel(); ++i) {
    torch::Tensor plus = scores.detach().clone(), minus = scores.detach().clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    const double numeric = (penaltyOf(plus, o) - penaltyOf(minus, o)) / (2 * h);
    QVERIFY2(std::abs(numeric - analytic.view(-1)[i].item<double>()) < 1e-6,
             qPrintable(QString("element %1: numeric %2, autograd %3").arg(i).arg(numeric).arg(analytic.view(-1)[i].item<double>())));
  }
}

void TstRouting::topOneIsHardWithStraightThroughGradient() {
  torch::manual_seed(1);
  RoutingOptions o;
  o.mode = RoutingMode::TopOne;
  const torch::Tensor scores = torch::randn({5, 3}, torch::kDouble).requires_grad_(true);
  const torch::Tensor c = torch::randn({5, 3}, torch::kDouble);
  const Routed r = routeScores(scores, o, /*training=*/true, 0, nullptr);
  QVERIFY(torch::equal(r.weights.detach(), torch::one_hot(scores.argmax(-1), 3).to(torch::kDouble)));
  (r.weights * c).sum().backward();
  const torch::Tensor straight = scores.grad().clone();
  scores.grad().zero_();
  (torch::softmax(scores, -1) * c).sum().backward();
  QVERIFY(torch::allclose(straight, scores.grad()));
  // Evaluation: the same one-hot, no gradient trick needed.
  const Routed e = routeScores(scores.detach(), o, false, 0, nullptr);
  QVERIFY(torch::equal(e.weights, r.weights.detach()));
}

void TstRouting::gumbelIsSeededAndAnnealed() {
  RoutingOptions o;
  o.mode = RoutingMode::Gumbel;
  o.gumbelTemperature = 2.0;
  o.gumbelMinTemperature = 0.5;
  o.gumbelAnnealRate = 1e-3;
  QCOMPARE(o.gumbelTemperatureAt(0), 2.0);
  QVERIFY(std::abs(o.gumbelTemperatureAt(500) - 2.0 * std::exp(-0.5)) < 1e-12);
  QCOMPARE(o.gumbelTemperatureAt(100000), 0.5);
  const torch::Tensor scores = torch::randn({64, 4});
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(7), g2 = at::make_generator<at::CPUGeneratorImpl>(7);
  const Routed a = routeScores(scores, o, true, 10, &g1), b = routeScores(scores, o, true, 10, &g2);
  QVERIFY(torch::equal(a.weights, b.weights));
  QVERIFY(torch::allclose(a.weights.sum(-1), torch::ones({64})));
  QVERIFY(!torch::allclose(a.weights, a.soft));  // noise changed the decisions
  // Evaluation is deterministic: softmax(scores / tau).
  const Routed e = routeScores(scores, o, false, 10, nullptr);
  QVERIFY(torch::allclose(e.weights, torch::softmax(scores / o.gumbelTemperatureAt(10), -1)));
  QVERIFY_THROWS_EXCEPTION(std::logic_error, routeScores(scores, o, true, 0, nullptr));
}

void TstRouting::temperatureDividesTheScores() {
  RoutingOptions o;
  o.temperature = 4.0;
  const torch::Tensor scores = torch::randn({8, 5});
  const Routed r = routeScores(scores, o, true, 0, nullptr);
  QVERIFY(torch::allclose(r.weights, torch::softmax(scores / 4.0, -1)));
  QVERIFY(r.weights.is_same(r.soft));
}

// With the defaults the mixing weights are the paper's softmax itself, nothing is added to
// the loss, and training is bit for bit what it is with the interventions switched off.
void TstRouting::paperRoutingIsUntouched() {
  const torch::Tensor scores = torch::randn({8, 5});
  const Routed r = routeScores(scores, RoutingOptions{}, true, 0, nullptr);
  QVERIFY(torch::equal(r.weights, torch::softmax(scores, -1)));
  QVERIFY(r.weights.is_same(r.soft));
  for (Setting setting : {Setting::Mlp, Setting::Mha, Setting::Rnn}) {
    for (Family family : {Family::Modular, Family::ModularOp}) {
      ModelSpec m;
      m.setting = setting;
      m.family = family;
      m.rules = 3;
      m.size = 8;
      m.dataDim = 4;
      TaskSpec t;
      t.setting = setting;
      t.rules = 3;
      t.length = 4;
      t.dataDim = 4;
      const auto task = RuleTask::create(t);
      Trainer plain(makeModel(m, 2), OptimiserConfig{1e-3, 0.0});
      Trainer off(makeModel(m, 2), OptimiserConfig{1e-3, 0.0});
      RoutingOptions zero;  // every coefficient 0, soft, T = 1; Gumbel settings unused
      zero.gumbelTemperature = 3.0;
      zero.gumbelAnnealRate = 0.1;
      off.model().setRouting(zero, 99);
      auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
      SampleRequest req;
      req.batch = 16;
      for (int i = 0; i < 3; ++i) {
        const Batch b = task->sample(req, gen);
        QCOMPARE(plain.step(b), off.step(b));
        QVERIFY(!plain.lastLosses().hasRoutingTerms);
        QCOMPARE(plain.lastLosses().task, plain.lastLosses().total);
      }
      const auto a = plain.model().parameters(), b = off.model().parameters();
      for (std::size_t i = 0; i < a.size(); ++i) QVERIFY(torch::equal(a[i], b[i]));
      // The soft probabilities the regularisers would see are the activations themselves.
      torch::NoGradGuard noGrad;
      const ModelOutput out = plain.model().forward(task->sample(req, gen).x);
      const torch::Tensor decisions = setting == Setting::Rnn ? out.activations.transpose(0, 1) : out.activations;
      QVERIFY(torch::equal(out.routerProbs, decisions.reshape({-1, 3})));  // RNN: time-major
    }
  }
}

void TstRouting::interventionsTrainInEverySetting_data() {
  QTest::addColumn<int>("setting");
  QTest::addColumn<int>("family");
  QTest::addColumn<int>("mode");
  for (Setting s : {Setting::Mlp, Setting::Mha, Setting::Rnn})
    for (Family f : {Family::Modular, Family::ModularOp})
      for (RoutingMode m : {RoutingMode::Soft, RoutingMode::TopOne, RoutingMode::Gumbel})
        QTest::newRow((toString(s) + "/" + toString(f) + "/" + toString(m)).c_str()) << int(s) << int(f) << int(m);
}

// Every intervention trains (finite, falling loss) and the loss optimised is task + penalty.
void TstRouting::interventionsTrainInEverySetting() {
  QFETCH(int, setting);
  QFETCH(int, family);
  QFETCH(int, mode);
  ModelSpec m;
  m.setting = Setting(setting);
  m.family = Family(family);
  m.rules = 3;
  m.size = 8;
  m.dataDim = 4;
  TaskSpec t;
  t.setting = m.setting;
  t.rules = 3;
  t.length = 4;
  t.dataDim = 4;
  const auto task = RuleTask::create(t);
  Trainer trainer(makeModel(m, 1), OptimiserConfig{3e-3, 0.0});
  RoutingOptions o;
  o.mode = RoutingMode(mode);
  o.temperature = 1.5;
  o.balance = 0.01;
  o.sampleEntropy = 0.02;
  o.batchEntropy = 0.03;
  o.gumbelAnnealRate = 1e-2;
  trainer.model().setRouting(o, 5);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  SampleRequest req;
  req.batch = 64;
  double first = 0.0, last = 0.0;
  const int steps = 120;
  for (int i = 0; i < steps; ++i) {
    const double loss = trainer.step(task->sample(req, gen));
    QVERIFY(std::isfinite(loss));
    const StepLosses& l = trainer.lastLosses();
    QVERIFY(l.hasRoutingTerms);
    const double expected = l.task + 0.01 * l.balance + 0.02 * l.sampleEntropy - 0.03 * l.batchEntropy;
    QVERIFY2(std::abs(l.total - expected) < 1e-5, qPrintable(QString("%1 vs %2").arg(l.total).arg(expected)));
    QVERIFY(l.balance > 0.0 && l.balance <= 3.0 + 1e-6);  // 1 when balanced, R when collapsed
    QVERIFY(l.sampleEntropy >= 0.0 && l.batchEntropy <= std::log(3.0) + 1e-6);
    if (i < 10) first += l.task;
    if (i >= steps - 10) last += l.task;
  }
  QVERIFY2(last < first, qPrintable(QString("task loss %1 -> %2 (sum of 10 steps)").arg(first).arg(last)));
}

void TstRouting::keysAreValidatedAndNamed() {
  ExperimentConfig c = test::tinyConfig();
  applyOverrides(c, {"balance_loss=0.01", "routing=top1", "routing_temperature=2", "batch_entropy_loss=0.1"});
  QCOMPARE(c.routing.balance, 0.01);
  QVERIFY(c.routing.mode == RoutingMode::TopOne);
  QCOMPARE(c.routing.temperature, 2.0);
  QVERIFY(parseConfig(toJson(c)).routing == c.routing);  // written and read back
  auto named = [](const std::vector<std::string>& sets, const std::string& key, const std::string& value) {
    ExperimentConfig bad = test::tinyConfig();
    try {
      applyOverrides(bad, sets);
    } catch (const ConfigError& e) {
      const QString text = e.what();
      return e.field() == key && text.contains(QString::fromStdString(value)) && text.contains("allowed");
    }
    return false;
  };
  QVERIFY(named({"balance_loss=-1"}, "balance_loss", "-1"));
  QVERIFY(named({"routing=hard"}, "routing", "hard"));
  QVERIFY(named({"routing_temperature=0"}, "routing_temperature", "0"));
  QVERIFY(named({"gumbel_temperature=1", "gumbel_min_temperature=2"}, "gumbel_min_temperature", "2"));
  QVERIFY(named({"families=Monolithic,GT-Modular", "sample_entropy_loss=0.1"}, "families", "without"));
}

// A coefficient changed while training: applied from the next update, in run.json with its
// step, the loss's parts in metrics.csv from then on, and the same after a reload.
void TstRouting::liveChangesAreRecorded() {
  const fs::path dir = fs::temp_directory_path() / ("modlab-routing-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ExperimentConfig c = test::tinyConfig();
  c.steps = 400;
  c.evalEvery = 400;
  SessionOptions options;
  options.runDirectory = dir.string();
  Session session(c, options);
  QVERIFY_THROWS_EXCEPTION(ConfigError, session.setRoutingCoefficient("balance_loss", -2.0));
  QVERIFY_THROWS_EXCEPTION(ConfigError, session.setRoutingCoefficient("learning_rate", 0.1));
  session.start();
  session.pause();
  Snapshot latest;
  QVERIFY(waitUntilPaused(session, latest));
  const std::int64_t pausedAt = latest.step;
  QVERIFY(pausedAt < c.steps);
  session.setRoutingCoefficient("balance_loss", 0.05);
  session.resume();
  session.wait();
  QCOMPARE(session.routing().balance, 0.05);
  const RunRecord record = RunStore::load(dir);
  QCOMPARE(record.info.routingChanges.size(), std::size_t{1});
  const RoutingChange change = record.info.routingChanges[0];
  QCOMPARE(change.key, std::string("balance_loss"));
  QCOMPARE(change.value, 0.05);
  QCOMPARE(change.step, pausedAt);
  int withParts = 0, routed = 0;
  for (const TrainPoint& p : record.train) {
    const bool router = p.variant == "Modular" || p.variant == "Modular-op";
    QCOMPARE(p.hasParts, router && p.step > change.step);
    if (!p.hasParts) continue;
    ++withParts;
    QVERIFY(std::abs(p.objective - (p.loss + 0.05 * p.balance)) < 1e-5);  // loss: the task loss
  }
  for (Family f : c.families) routed += f == Family::Modular || f == Family::ModularOp;
  QCOMPARE(withParts, routed * static_cast<int>(c.steps - change.step));
  fs::remove_all(dir);
}

// Named variants (issue 12 part 2): JSON in and out, default names, and every rule named.
void TstRouting::variantsAreParsedAndValidated() {
  ExperimentConfig c = test::tinyConfig();
  applyOverrides(c, {R"(variants=[{"name": "Modular + balance", "family": "Modular", "balance_loss": 0.01},
                                 {"family": "Modular-op", "routing": "top1", "batch_entropy_loss": 0.1}])"});
  QCOMPARE(c.variants.size(), std::size_t{2});
  QCOMPARE(c.variants[0].name, std::string("Modular + balance"));
  QCOMPARE(c.variants[0].routing.balance, 0.01);
  QCOMPARE(c.variants[1].name, std::string("Modular-op + Hb 0.1 + top-1"));  // made from its settings, in short words
  QVERIFY(c.variants[1].routing.mode == RoutingMode::TopOne);
  QVERIFY(parseConfig(toJson(c)) == c);  // written and read back
  const std::vector<Variant> all = variantsOf(c);
  QCOMPARE(all.size(), c.families.size() + 2);
  QCOMPARE(all.back().name, c.variants[1].name);
  QCOMPARE(variantFileStem("Modular + balance"), std::string("Modular_+_balance"));
  auto named = [](const std::string& variants, const std::string& field, const std::string& value) {
    ExperimentConfig bad = test::tinyConfig();
    try {
      applyOverrides(bad, {"variants=" + variants});
    } catch (const ConfigError& e) {
      const QString text = e.what();
      if (e.field() == field && text.contains(QString::fromStdString(value)) && text.contains("allowed")) return true;
      qWarning("%s: %s", e.field().c_str(), e.what());
    }
    return false;
  };
  QVERIFY(named(R"([{"name": "a/b", "family": "Modular"}])", "variants[0].name", "a/b"));
  QVERIFY(named(R"([{"name": "Modular", "family": "Modular"}])", "variants[0].name", "Modular"));
  QVERIFY(named(R"([{"name": "x", "family": "Modular"}, {"name": "X", "family": "Modular-op"}])", "variants[1].name", "X"));
  QVERIFY(named(R"([{"name": "a b", "family": "Modular"}, {"name": "a_b", "family": "Modular"}])", "variants[1].name", "a_b"));
  QVERIFY(named(R"([{"name": "m", "family": "Monolithic"}])", "variants[0].family", "Monolithic"));
  QVERIFY(named(R"([{"name": "m"}])", "variants[0].family", "missing"));
  QVERIFY(named(R"([{"name": "m", "family": "Modular", "balance_loss": -1}])", "variants[0].balance_loss", "-1"));
  QVERIFY(named(R"([{"name": "m", "family": "Modular", "learning_rate": 0.1}])", "variants[0].learning_rate", "learning_rate"));
  QVERIFY(named(R"({"name": "m"})", "variants", "name"));
}

// A variant trains beside the families on their data stream from their initial weights: with
// the paper's routing it is bit-identical to its family, the families are untouched by it, and
// its name is its key in every record of the run folder (metrics, activations, checkpoints).
void TstRouting::variantsTrainBesideTheFamilies() {
  const fs::path dir = fs::temp_directory_path() / ("modlab-variants-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ExperimentConfig plain = test::tinyConfig();
  plain.families = {Family::Monolithic, Family::Modular};
  plain.steps = 40;
  plain.evalEvery = 20;
  ExperimentConfig c = plain;
  c.variants = {Variant{"Modular again", Family::Modular, RoutingOptions{}},
                Variant{"Modular + balance", Family::Modular, RoutingOptions{}}};
  c.variants[1].routing.balance = 0.1;
  SessionOptions options;
  options.runDirectory = dir.string();
  {
    Session b(c, options);
    b.start();
    b.wait();
    QVERIFY(b.state() == SessionState::Finished);
  }
  const RunRecord record = RunStore::load(dir);
  std::map<std::string, std::vector<double>> losses;
  for (const TrainPoint& p : record.train) losses[p.variant].push_back(p.loss);
  QCOMPARE(losses.size(), std::size_t{4});
  for (const auto& [name, values] : losses) QCOMPARE(values.size(), std::size_t(c.steps));
  QCOMPARE(losses["Modular again"], losses["Modular"]);        // the same model, data and seed: bit-identical (up to 9 digits)
  QVERIFY(losses["Modular + balance"] != losses["Modular"]);   // the intervention changed its training
  for (const TrainPoint& p : record.train) QCOMPARE(p.hasParts, p.variant == "Modular + balance");
  // The families train as they do without variants.
  Session alone(plain);
  std::vector<TrainPoint> aloneTrain;
  alone.start();
  alone.wait();
  for (Snapshot& s : alone.drain()) aloneTrain.insert(aloneTrain.end(), s.train.begin(), s.train.end());
  std::map<std::string, std::vector<double>> aloneLosses;
  for (const TrainPoint& p : aloneTrain) aloneLosses[p.variant].push_back(p.loss);
  for (const std::string name : {"Monolithic", "Modular"}) {
    QCOMPARE(aloneLosses[name].size(), losses[name].size());
    for (std::size_t i = 0; i < losses[name].size(); ++i)
      QVERIFY(std::abs(aloneLosses[name][i] - losses[name][i]) <= 1e-8 * std::abs(losses[name][i]));
  }
  const EvaluationSnapshot& last = record.evaluations.back();
  QCOMPARE(last.families.size(), std::size_t{4});
  for (const FamilyEvaluation& f : last.families) {
    QCOMPARE(f.family == Family::Modular, f.variant != "Monolithic");
    QCOMPARE(f.hasMetrics && f.rules > 0, f.family != Family::Monolithic);  // its heatmap came back from activations.jsonl
  }
  QVERIFY(fs::exists(dir / "checkpoints" / "Modular_+_balance-best.pt"));
  QVERIFY(RunStore::loadFinished(dir).evaluations.size() == 3);  // steps 0, 20, 40, complete
  fs::remove_all(dir);
}

// A live change names its variant: that variant alone changes, recorded with its name; an
// unknown variant is refused with the known ones named.
void TstRouting::variantLiveChangeIsItsOwn() {
  const fs::path dir = fs::temp_directory_path() / ("modlab-variant-live-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ExperimentConfig c = test::tinyConfig();
  c.families = {Family::Modular};
  c.variants = {Variant{"V", Family::Modular, RoutingOptions{}}};
  c.steps = 300;
  c.evalEvery = 300;
  SessionOptions options;
  options.runDirectory = dir.string();
  Session session(c, options);
  try {
    session.setRoutingCoefficient("balance_loss", 0.1, "W");
    QFAIL("an unknown variant was accepted");
  } catch (const ConfigError& e) {
    QVERIFY(QString(e.what()).contains("'V'"));
  }
  session.start();
  session.pause();
  Snapshot latest;
  QVERIFY(waitUntilPaused(session, latest));
  session.setRoutingCoefficient("balance_loss", 0.05, "V");
  session.resume();
  session.wait();
  QCOMPARE(session.routing("V").balance, 0.05);
  QCOMPARE(session.routing().balance, 0.0);
  QCOMPARE(session.routing("Modular").balance, 0.0);
  const RunRecord record = RunStore::load(dir);
  QCOMPARE(record.info.routingChanges.size(), std::size_t{1});
  QCOMPARE(record.info.routingChanges[0].variant, std::string("V"));
  const std::int64_t at = record.info.routingChanges[0].step;
  for (const TrainPoint& p : record.train) QCOMPARE(p.hasParts, p.variant == "V" && p.step > at);
  const std::vector<Variant> after = variantsAt(record.config, record.info.routingChanges, c.steps);
  QCOMPARE(after[0].routing.balance, 0.0);
  QCOMPARE(after[1].routing.balance, 0.05);
  QCOMPARE(variantsAt(record.config, record.info.routingChanges, at - 1)[1].routing.balance, 0.0);
  fs::remove_all(dir);
}

QTEST_GUILESS_MAIN(TstRouting)
#include "tst_routing.moc"
