// The four model families: parameter counts against the reference, activations, routing.
#include <QtTest>

#include <sstream>

#include <torch/torch.h>

#include "models/lstm_sequence.h"
#include "models/model_parts.h"
#include "modlab/models/rule_model.h"
#include "modlab/platform/gemm_backend.h"
#include "modlab/tasks/rule_task.h"
#include "modlab/training/trainer.h"
#include "support/golden.h"

using namespace modlab;
using namespace modlab::test;

namespace {
// "mha_sv2/8/32/Modular-op" -> the model spec the count was computed for.
ModelSpec specFromKey(const std::string& key) {
  const auto parts = splitKey(key);
  ModelSpec spec;
  const std::string& setting = parts[0];
  if (setting == "mlp") spec.setting = Setting::Mlp;
  else if (setting.rfind("mha", 0) == 0) {
    spec.setting = Setting::Mha;
    spec.searchVersion = setting == "mha_sv2" ? 2 : 1;
  } else {
    spec.setting = Setting::Rnn;
    spec.kind = setting == "rnn_regression" ? TaskKind::Regression : TaskKind::Classification;
  }
  spec.rules = std::stoi(parts[1]);
  spec.size = std::stoi(parts[2]);
  spec.family = parseFamily(parts[3]);
  return spec;
}

TaskSpec taskFor(const ModelSpec& m) {
  TaskSpec t;
  t.setting = m.setting;
  t.kind = m.kind;
  t.rules = m.rules;
  t.searchVersion = m.searchVersion;
  return t;
}
}  // namespace

class TstModels : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }
  void parameterCountsMatchReference_data();
  void parameterCountsMatchReference();
  void capacityMatchingExamples();
  void floatProductsMatchDoublePrecision();
  void activationsAreDistributions_data();
  void activationsAreDistributions();
  void groupLinearFormsAgree();
  void modulesReluEqualsTorchFormulation();
  void mixtureLoopsEqualTorchFormulation();
  void routedLstmEqualsOneHotMixing();
  void fusedLstmEqualsLstmCell();
  void twoLayerEqualsTorchLayers();
  void rnnMonolithicEqualsStepByStep();
  void fusedGroupLstmEqualsOldFormulation();
  void fusedRoutedLstmEqualsRoutedSteps();
  void attentionKernelEqualsReference();
  void initialisationIsSeeded();
  void badInputIsNamed();
};

void TstModels::parameterCountsMatchReference_data() {
  QTest::addColumn<QString>("key");
  QTest::addColumn<qlonglong>("expected");
  for (const auto& [key, count] : golden("params.json")["counts"].items())
    QTest::newRow(key.c_str()) << QString::fromStdString(key) << qlonglong(count.get<std::int64_t>());
}

void TstModels::parameterCountsMatchReference() {
  QFETCH(QString, key);
  QFETCH(qlonglong, expected);
  const RuleModel model = makeModel(specFromKey(key.toStdString()), 0);
  QCOMPARE(qlonglong(model->parameterCount()), expected);
}

void TstModels::capacityMatchingExamples() {
  // spec 2.2 and 2.3
  QCOMPARE(mhaHeadDim(2, 128), 32);
  QCOMPARE(mhaModuleWidth(2, 32, 128), 48);
  QCOMPARE(mhaHeadDim(32, 128), 2);
  QCOMPARE(mhaModuleWidth(32, 32, 128), 8);
  QCOMPARE(mhaModuleWidth(32, 512, 2048), 136);
  const int small[] = {91, 62, 41, 26, 15}, large[] = {1460, 999, 659, 419, 255};
  for (int i = 0, R = 2; i < 5; ++i, R *= 2) {
    QCOMPARE(rnnModuleHidden(R, 32, 128), small[i]);
    QCOMPARE(rnnModuleHidden(R, 512, 2048), large[i]);
  }
}

void TstModels::activationsAreDistributions_data() {
  QTest::addColumn<int>("setting");
  QTest::addColumn<int>("family");
  for (int s = 0; s < 3; ++s)
    for (Family f : kAllFamilies)
      QTest::newRow((toString(Setting(s)) + "/" + toString(f)).c_str()) << s << int(f);
}

// Every family runs on its task's batches with the right output shape; the modular
// activations sum to 1 over modules, and GT-Modular's equal the one-hot rule.
void TstModels::activationsAreDistributions() {
  QFETCH(int, setting);
  QFETCH(int, family);
  ModelSpec spec;
  spec.setting = Setting(setting);
  spec.family = Family(family);
  spec.rules = 4;
  spec.size = 16;
  const RuleModel model = makeModel(spec, 1);
  const auto task = RuleTask::create(taskFor(spec));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  SampleRequest req;
  req.batch = 16;
  req.length = 6;
  const Batch b = task->sample(req, gen);
  const ModelOutput out = model->forward(b.x);
  QCOMPARE(out.y.sizes(), b.y.sizes());
  if (spec.family == Family::Monolithic) {
    QVERIFY(!out.activations.defined());
    return;
  }
  QCOMPARE(out.activations.size(-1), std::int64_t(4));
  QVERIFY(torch::allclose(out.activations.sum(-1), torch::ones_like(out.activations.sum(-1)), 1e-5, 1e-6));
  QVERIFY(out.activations.ge(0).all().item<bool>());
  if (spec.family == Family::GtModular)
    QVERIFY(torch::equal(out.activations, torch::one_hot(b.rules, 4).to(out.activations.scalar_type())));
  // Gradients reach every parameter (nothing is left unregistered or unused).
  taskLoss(spec.kind, out.y, b.y).backward();
  for (const auto& p : model->named_parameters())
    QVERIFY2(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0, p.key().c_str());
}

// forwardShared / forwardMixed / forwardColumn / forwardRouted are the per-module layer.
void TstModels::groupLinearFormsAgree() {
  torch::manual_seed(0);
  GroupLinear layer(5, 6, 7);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  layer->reset(gen);
  const torch::Tensor x = torch::randn({20, 5, 6});
  const torch::Tensor full = layer->forward(x);  // (20, 5, 7)
  const torch::Tensor manual = torch::einsum("trd,rdo->tro", {x, layer->weight}) + layer->bias;
  QVERIFY(torch::allclose(full, manual, 1e-5, 1e-6));
  const torch::Tensor shared = torch::randn({20, 6});
  QVERIFY(torch::allclose(layer->forwardShared(shared), layer->forward(shared.unsqueeze(1).expand({20, 5, 6})), 1e-5, 1e-6));
  const torch::Tensor p = torch::softmax(torch::randn({20, 5}), -1);
  QVERIFY(torch::allclose(layer->forwardMixed(x, p, 4), (full.narrow(2, 0, 4) * p.unsqueeze(-1)).sum(1), 1e-5, 1e-6));
  QVERIFY(torch::allclose(layer->forwardColumn(x, 6), full.select(2, 6), 1e-5, 1e-6));
  const torch::Tensor modules = torch::randint(5, {20}, torch::kLong);
  const torch::Tensor routedIn = x.gather(1, modules.view({20, 1, 1}).expand({20, 1, 6})).squeeze(1);
  const torch::Tensor expected = full.gather(1, modules.view({20, 1, 1}).expand({20, 1, 7})).squeeze(1);
  QVERIFY(torch::allclose(layer->forwardRouted(routedIn, modules), expected, 1e-5, 1e-6));
  // Both layers of GT-Modular's modules with one sort: the same numbers as two routed layers.
  GroupLinear next(5, 7, 3);
  next->reset(gen);
  // Module 2 gets no rows: its weights' gradients are zero.
  const torch::Tensor someModules = torch::where(modules == 2, torch::zeros_like(modules), modules);
  const torch::Tensor in = routedIn.clone().requires_grad_(true);
  const torch::Tensor pair = routedTwoLayer(*layer, *next, in, someModules);
  const torch::Tensor twice = next->forwardRouted(torch::relu(layer->forwardRouted(in, someModules)), someModules);
  QVERIFY(torch::equal(pair, twice));
  const torch::Tensor upstream = torch::randn_like(pair);
  const std::vector<torch::Tensor> wrt = {in, layer->weight, layer->bias, next->weight, next->bias};
  const auto a = torch::autograd::grad({pair}, wrt, {upstream});
  const auto b = torch::autograd::grad({twice}, wrt, {upstream}, {}, false, /*allow_unused=*/true);
  for (std::size_t i = 0; i < a.size(); ++i) QVERIFY(torch::allclose(a[i], b[i], 1e-6, 1e-7));
  QCOMPARE(a[1][2].abs().sum().item<double>(), 0.0);
  QCOMPARE(a[4][0][2].abs().sum().item<double>(), 0.0);
  // Float on the CPU goes straight to BLAS; other types (and devices) take the torch formulation.
  layer->to(torch::kDouble);
  next->to(torch::kDouble);
  const torch::Tensor inD = routedIn.to(torch::kDouble).requires_grad_(true);
  const torch::Tensor pairD = routedTwoLayer(*layer, *next, inD, someModules);
  QVERIFY(torch::allclose(pairD, next->forwardRouted(torch::relu(layer->forwardRouted(inD, someModules)), someModules)));
  QVERIFY(torch::allclose(pairD.to(torch::kFloat), pair, 1e-5, 1e-6));
  const std::vector<torch::Tensor> wrtD = {inD, layer->weight, layer->bias, next->weight, next->bias};
  const auto c = torch::autograd::grad({pairD}, wrtD, {upstream.to(torch::kDouble)});
  for (std::size_t i = 0; i < c.size(); ++i) QVERIFY(torch::allclose(c[i].to(torch::kFloat), a[i], 1e-4, 1e-5));
}

// GT-Modular computes only the routed LSTM cell: identical to weighting all cells by the one-hot.
void TstModels::routedLstmEqualsOneHotMixing() {
  GroupLstmCell cell(4, 6, 5);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  cell->reset(gen);
  const torch::Tensor x = torch::randn({12, 6}), h = torch::randn({12, 5}), c = torch::randn({12, 5});
  const torch::Tensor modules = torch::randint(4, {12}, torch::kLong);
  auto [px, ph] = cell->preActivations(x, h);
  auto [hMixed, cMixed] = cell->mixedStep(px + ph, c, torch::one_hot(modules, 4).to(torch::kFloat));
  auto [hRouted, cRouted] = cell->routedStep(x, h, c, modules);
  QVERIFY(torch::allclose(hRouted, hMixed, 1e-5, 1e-6));
  QVERIFY(torch::allclose(cRouted, cMixed, 1e-5, 1e-6));
  // The same weight gradients, with each module's weights taken once (moduleWeights) for two steps.
  const GroupLstmCellImpl::ModuleWeights weights = cell->moduleWeights();
  auto [h1, c1] = cell->routedStep(x, h, c, modules, weights);
  auto [h2, c2] = cell->routedStep(x, h1, c1, modules, weights);
  auto [pxA, phA] = cell->preActivations(x, h);
  auto [h1m, c1m] = cell->mixedStep(pxA + phA, c, torch::one_hot(modules, 4).to(torch::kFloat));
  auto [pxB, phB] = cell->preActivations(x, h1m);
  auto [h2m, c2m] = cell->mixedStep(pxB + phB, c1m, torch::one_hot(modules, 4).to(torch::kFloat));
  const auto routed = torch::autograd::grad({(h2 + c2).sum()}, {cell->weightX, cell->weightH});
  const auto mixed = torch::autograd::grad({(h2m + c2m).sum()}, {cell->weightX, cell->weightH});
  for (std::size_t i = 0; i < routed.size(); ++i) QVERIFY(torch::allclose(routed[i], mixed[i], 1e-4, 1e-5));
}

// forwardRelu and forwardSharedRelu (one product per module into its own columns) against
// relu(forward) and relu(forwardShared): values and the gradients of x, W and b, with and
// without bias, widths below and above one vector, leading dimensions as MHA's (B, N, R, din).
void TstModels::modulesReluEqualsTorchFormulation() {
  torch::manual_seed(9);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  for (const auto& [R, in, out, bias] : {std::tuple{5, 6, 7, true}, std::tuple{3, 17, 33, false},
                                         std::tuple{8, 24, 20, true}, std::tuple{1, 4, 3, true}}) {
    GroupLinear layer(R, in, out, bias);
    layer->reset(gen);
    std::vector<torch::Tensor> params = layer->parameters();
    for (const bool shared : {false, true}) {
      const torch::Tensor x = (shared ? torch::randn({4, 9, in}) : torch::randn({4, 9, R, in})).requires_grad_(true);
      const torch::Tensor got = shared ? layer->forwardSharedRelu(x) : layer->forwardRelu(x);
      const torch::Tensor want = torch::relu(shared ? layer->forwardShared(x) : layer->forward(x));
      QCOMPARE(got.sizes(), want.sizes());
      const auto node = got.grad_fn()->next_edges()[0].function->name();  // under the view: the own path
      QVERIFY2(node.find("ModulesRelu") != std::string::npos, node.c_str());
      QVERIFY(torch::allclose(got, want, 1e-5, 1e-6));
      QVERIFY((want > 0).any().item<bool>() && (want == 0).any().item<bool>());  // both sides of the ReLU
      std::vector<torch::Tensor> wrt{x};
      wrt.insert(wrt.end(), params.begin(), params.end());
      const torch::Tensor upstream = torch::randn_like(got);
      const auto a = torch::autograd::grad({got}, wrt, {upstream});
      const auto b = torch::autograd::grad({want}, wrt, {upstream});
      for (std::size_t i = 0; i < a.size(); ++i)
        QVERIFY2(torch::allclose(a[i], b[i], 1e-5, 1e-5), qPrintable(QString("shared %1, input %2").arg(shared).arg(i)));
      // Without the input's own gradient (the data): the parameters' gradients alone.
      const torch::Tensor data = x.detach();
      const auto c = torch::autograd::grad({(shared ? layer->forwardSharedRelu(data) : layer->forwardRelu(data)).sum()}, params);
      const auto d = torch::autograd::grad({torch::relu(shared ? layer->forwardShared(data) : layer->forward(data)).sum()}, params);
      for (std::size_t i = 0; i < c.size(); ++i) QVERIFY(torch::allclose(c[i], d[i], 1e-5, 1e-5));
    }
  }
}

namespace {
double maxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Gradients of sum(out * upstream) with respect to `inputs`, not accumulated anywhere.
std::vector<torch::Tensor> gradients(const torch::Tensor& out, const torch::Tensor& upstream,
                                     const std::vector<torch::Tensor>& inputs) {
  return torch::autograd::grad({out}, inputs, {upstream}, /*retain_graph=*/true);
}

// torch::nn::LSTMCell step by step from h_0 = c_0 = 0: x (N, B, in) -> (N, B, hidden).
torch::Tensor lstmCellSteps(torch::nn::LSTMCellImpl& cell, const torch::Tensor& x) {
  std::vector<torch::Tensor> hs;
  torch::Tensor h = torch::zeros({x.size(1), cell.options.hidden_size()}), c = torch::zeros_like(h);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    std::tie(h, c) = cell.forward(x.select(0, t), std::make_tuple(h, c));
    hs.push_back(h);
  }
  return torch::stack(hs);
}
}  // namespace

// The fused LSTM (forward and hand-written backward) against LSTMCell step by step, with hidden
// sizes of whole 16-float vectors, with a shorter tail, and shorter than one vector, and inputs
// large enough to saturate the gates.
void TstModels::fusedLstmEqualsLstmCell() {
  torch::manual_seed(2);
  for (const auto& [N, B, in, hidden, scale] : {std::tuple{7, 5, 6, 32, 1.0}, std::tuple{4, 3, 9, 21, 1.0},
                                                std::tuple{1, 2, 3, 5, 1.0}, std::tuple{3, 4, 5, 16, 60.0}}) {
    torch::nn::LSTMCell cell(in, hidden);
    const torch::Tensor x = (scale * torch::randn({N, B, in})).requires_grad_(true);
    const torch::Tensor fused = lstmSequence(x, *cell);
    const torch::Tensor expected = lstmCellSteps(*cell, x);
    QCOMPARE(fused.sizes(), expected.sizes());
    QVERIFY2(maxAbsDifference(fused, expected) < 1e-5, qPrintable(QString::number(maxAbsDifference(fused, expected))));
    std::vector<torch::Tensor> inputs{x};
    for (const auto& p : cell->parameters()) inputs.push_back(p);
    const torch::Tensor upstream = torch::randn_like(fused);
    const auto got = gradients(fused, upstream, inputs), want = gradients(expected, upstream, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (N > 1) QVERIFY(want[i].abs().max().item<double>() > 0);  // with one step, h_0 = 0 leaves W_hh without gradient
      QVERIFY2(maxAbsDifference(got[i], want[i]) < 1e-5 * scale,  // dW_ih grows with x
               qPrintable(QString("input %1: %2").arg(i).arg(maxAbsDifference(got[i], want[i]))));
    }
  }
}

// TwoLayer's own products and loops (float CPU) against torch's Linear -> ReLU -> Linear: values
// and every gradient, with and without bias, one input or one output column (phi_dig, psi),
// widths below and above one vector, 3-D input as the RNN scorer gets, and data without grad.
void TstModels::twoLayerEqualsTorchLayers() {
  torch::manual_seed(4);
  for (const auto& [rows, in, hidden, out, bias] :
       {std::tuple{37, 5, 20, 7, true}, std::tuple{12, 1, 16, 16, true}, std::tuple{9, 33, 17, 1, true},
        std::tuple{6, 8, 40, 8, false}, std::tuple{1, 3, 4, 2, true}}) {
    TwoLayer layers(in, hidden, out, bias);
    const torch::Tensor x = torch::randn({rows, 2, in}).requires_grad_(true);
    const torch::Tensor y = layers->forward(x), expected = layers->forwardReference(x);
    QCOMPARE(y.sizes(), expected.sizes());
    QVERIFY2(maxAbsDifference(y, expected) < 1e-5, qPrintable(QString::number(maxAbsDifference(y, expected))));
    const auto node = layers->forward(x.reshape({-1, in})).grad_fn()->name();  // the own path ran
    QVERIFY2(node.find("TwoLayerFunction") != std::string::npos, node.c_str());
    std::vector<torch::Tensor> inputs{x};
    for (const auto& p : layers->parameters()) inputs.push_back(p);
    QCOMPARE(inputs.size(), bias ? 5u : 3u);
    const torch::Tensor upstream = torch::randn_like(y);
    const auto got = gradients(y, upstream, inputs), want = gradients(expected, upstream, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      QVERIFY(want[i].abs().max().item<double>() > 0);
      QVERIFY2(maxAbsDifference(got[i], want[i]) < 1e-5,
               qPrintable(QString("input %1: %2").arg(i).arg(maxAbsDifference(got[i], want[i]))));
    }
    // The data itself needs no gradient: only the parameters get one.
    const torch::Tensor data = x.detach();
    const auto onlyWeights = torch::autograd::grad({layers->forward(data).sum()}, layers->parameters());
    const auto weightsWant = torch::autograd::grad({layers->forwardReference(data).sum()}, layers->parameters());
    for (std::size_t i = 0; i < onlyWeights.size(); ++i) QVERIFY(maxAbsDifference(onlyWeights[i], weightsWant[i]) < 1e-5);
  }
  // A checkpoint written when these layers were a torch::nn::Sequential(Linear, ReLU, Linear)
  // loads unchanged: the same parameter names.
  torch::nn::Sequential sequential(torch::nn::Linear(3, 4), torch::nn::ReLU(), torch::nn::Linear(4, 2));
  torch::serialize::OutputArchive written;
  sequential->save(written);
  std::ostringstream bytes;
  written.save_to(bytes);
  std::istringstream stored(bytes.str());
  torch::serialize::InputArchive read;
  read.load_from(stored);
  TwoLayer loaded(3, 4, 2);
  loaded->load(read);
  const torch::Tensor probe = torch::randn({5, 3});
  QVERIFY(torch::equal(loaded->forwardReference(probe), sequential->forward(probe)));
  // Other types keep torch's layers.
  TwoLayer doubles(3, 4, 2);
  doubles->to(torch::kDouble);
  const torch::Tensor xd = torch::randn({5, 3}, torch::kDouble);
  QVERIFY(torch::allclose(doubles->forward(xd), doubles->forwardReference(xd)));
}

// forwardMixed and forwardColumn run their own loops on float CPU tensors: values and the
// gradients of x, p, W and b against the torch formulation in double, with and without bias,
// at widths below, at and above one vector (16 floats), and on (B, R, din) as in the RNN scorer.
void TstModels::mixtureLoopsEqualTorchFormulation() {
  torch::manual_seed(7);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  for (const auto& [T, R, in, out, bias] : {std::tuple{33, 4, 35, 9, true}, std::tuple{7, 3, 16, 5, false},
                                            std::tuple{12, 2, 5, 4, true}, std::tuple{9, 5, 40, 3, false}}) {
    GroupLinear layer(R, in, out, bias);
    layer->reset(gen);
    const torch::Tensor x = torch::randn({T, R, in}).requires_grad_(true);
    const torch::Tensor p = torch::softmax(torch::randn({T, R}), -1).requires_grad_(true);
    const torch::Tensor column = layer->forwardColumn(x, out - 1), mixed = layer->forwardMixed(x, p, out - 1);
    const torch::Tensor W = layer->weight.to(torch::kDouble), xd = x.to(torch::kDouble), pd = p.to(torch::kDouble);
    torch::Tensor full = torch::einsum("trd,rdo->tro", {xd, W});
    if (bias) full = full + layer->bias.to(torch::kDouble);
    const torch::Tensor wantColumn = full.select(2, out - 1);
    const torch::Tensor wantMixed = (full.narrow(2, 0, out - 1) * pd.unsqueeze(-1)).sum(1);
    QVERIFY(maxAbsDifference(column.to(torch::kDouble), wantColumn) < 1e-5);
    QVERIFY(maxAbsDifference(mixed.to(torch::kDouble), wantMixed) < 1e-5);
    std::vector<torch::Tensor> wrt{x, p, layer->weight};
    if (bias) wrt.push_back(layer->bias);
    const torch::Tensor upColumn = torch::randn_like(column), upMixed = torch::randn_like(mixed);
    const torch::Tensor objective = (column * upColumn).sum() + (mixed * upMixed).sum();
    const torch::Tensor wantObjective = (wantColumn * upColumn.to(torch::kDouble)).sum() + (wantMixed * upMixed.to(torch::kDouble)).sum();
    const auto got = torch::autograd::grad({objective}, wrt, {}, true);
    const auto want = torch::autograd::grad({wantObjective}, wrt, {}, true);
    for (std::size_t i = 0; i < wrt.size(); ++i)
      QVERIFY2(maxAbsDifference(got[i].to(torch::kDouble), want[i].to(torch::kDouble)) < 1e-4,
               qPrintable(QString("input %1 at T %2 din %3").arg(i).arg(T).arg(in)));
  }
  GroupLinear scorer(3, 20, 1, /*bias=*/false);  // (B, R, din) -> (B, R)
  scorer->reset(gen);
  const torch::Tensor x = torch::randn({6, 3, 20});
  QVERIFY(maxAbsDifference(scorer->forwardColumn(x, 0), torch::einsum("brd,rd->br", {x, scorer->weight.select(2, 0)})) < 1e-5);
}

// The fused group LSTM (mixing weights given, and scored at every step) against the group cell's
// torch formulation step by step (preActivations, the scorer on ReLU([P_x] || [P_h]), mixedStep):
// outputs, activations and the gradient of every input, with upstream gradients on both outputs.
void TstModels::fusedGroupLstmEqualsOldFormulation() {
  torch::manual_seed(4);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  for (const auto& [N, B, in, R, hidden] :
       {std::tuple{6, 4, 7, 3, 21}, std::tuple{3, 5, 4, 2, 32}, std::tuple{4, 3, 5, 4, 6}}) {
    GroupLstmCell cell(R, in, hidden);
    cell->reset(gen);
    GroupLinear scorer(R, 8 * hidden, 1, /*bias=*/false);
    scorer->reset(gen);
    const torch::Tensor x = torch::randn({N, B, in}).requires_grad_(true);
    const torch::Tensor given = torch::softmax(torch::randn({N, B, R}), -1).requires_grad_(true);
    std::vector<torch::Tensor> hs, hsScored, ps;
    torch::Tensor h = torch::zeros({B, hidden}), c = torch::zeros_like(h), hScored = h, cScored = c;
    for (std::int64_t t = 0; t < N; ++t) {
      auto [px, ph] = cell->preActivations(x.select(0, t), h);
      std::tie(h, c) = cell->mixedStep(px + ph, c, given.select(0, t));
      hs.push_back(h);
      auto [qx, qh] = cell->preActivations(x.select(0, t), hScored);
      ps.push_back(torch::softmax(scorer->forwardColumn(torch::relu(torch::cat({qx, qh}, 2)), 0), -1));
      std::tie(hScored, cScored) = cell->mixedStep(qx + qh, cScored, ps.back());
      hsScored.push_back(hScored);
    }
    const std::vector<torch::Tensor> inputs{x, cell->weightX, cell->weightH};
    auto compare = [&](const torch::Tensor& got, const torch::Tensor& want, const QString& what) {
      QCOMPARE(got.sizes(), want.sizes());
      QVERIFY2(maxAbsDifference(got, want) < 1e-5, qPrintable(what + ": " + QString::number(maxAbsDifference(got, want))));
    };

    const torch::Tensor mixed = groupLstmSequence(x, *cell, given), expected = torch::stack(hs);
    compare(mixed, expected, "h");
    std::vector<torch::Tensor> wrt = inputs;
    wrt.push_back(given);
    const torch::Tensor upstream = torch::randn_like(mixed);
    const auto got = gradients(mixed, upstream, wrt), want = gradients(expected, upstream, wrt);
    for (std::size_t i = 0; i < wrt.size(); ++i) compare(got[i], want[i], QString("gradient %1").arg(i));

    const auto [scoredH, scoredP] = scoredGroupLstmSequence(x, *cell, *scorer);
    const torch::Tensor expectedH = torch::stack(hsScored), expectedP = torch::stack(ps);
    compare(scoredH, expectedH, "scored h");
    compare(scoredP, expectedP, "scored p");
    wrt = inputs;
    wrt.push_back(scorer->weight);
    const torch::Tensor upH = torch::randn_like(scoredH), upP = torch::randn_like(scoredP);
    const auto gotScored = torch::autograd::grad({scoredH, scoredP}, wrt, {upH, upP});
    const auto wantScored = torch::autograd::grad({expectedH, expectedP}, wrt, {upH, upP});
    for (std::size_t i = 0; i < wrt.size(); ++i) {
      QVERIFY(wantScored[i].abs().max().item<double>() > 0);
      compare(gotScored[i], wantScored[i], QString("scored gradient %1").arg(i));
    }
  }
}

// GT-Modular's fused recurrence (rows sorted by module at every step, one GEMM per module, the
// backward written by hand) against routedStep step by step: h and the gradients of x, W_x and
// W_h, with hidden sizes of whole vectors, with a tail and below one vector, a module without
// rows at some steps, one module only, and inputs large enough to saturate the gates.
void TstModels::fusedRoutedLstmEqualsRoutedSteps() {
  torch::manual_seed(11);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(12);
  for (const auto& [N, B, in, R, hidden, scale] :
       {std::tuple{6, 9, 7, 3, 21, 1.0}, std::tuple{4, 5, 4, 4, 32, 1.0}, std::tuple{3, 7, 5, 1, 6, 1.0},
        std::tuple{5, 3, 6, 6, 16, 30.0}}) {
    GroupLstmCell cell(R, in, hidden);
    cell->reset(gen);
    const torch::Tensor x = (scale * torch::randn({N, B, in})).requires_grad_(true);
    const torch::Tensor modules = torch::randint(R, {N, B}, torch::kLong);
    const torch::Tensor fused = routedGroupLstmSequence(x, *cell, modules);
    const torch::Tensor expected = routedGroupLstmSequence(x, *cell, modules, /*reference=*/true);
    const auto node = fused.grad_fn()->name();
    QVERIFY2(node.find("RoutedLstmSequence") != std::string::npos, node.c_str());
    QCOMPARE(fused.sizes(), expected.sizes());
    QVERIFY2(maxAbsDifference(fused, expected) < 1e-5, qPrintable(QString::number(maxAbsDifference(fused, expected))));
    const std::vector<torch::Tensor> inputs{x, cell->weightX, cell->weightH};
    const torch::Tensor upstream = torch::randn_like(fused);
    const auto got = gradients(fused, upstream, inputs), want = gradients(expected, upstream, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      QVERIFY(want[i].abs().max().item<double>() > 0);
      QVERIFY2(maxAbsDifference(got[i], want[i]) < 1e-5 * scale,
               qPrintable(QString("input %1 (N %2, R %3, h %4): %5").arg(i).arg(N).arg(R).arg(hidden)
                              .arg(maxAbsDifference(got[i], want[i]))));
    }
  }
  // A module outside 0..R-1 is refused, not read out of bounds.
  GroupLstmCell cell(2, 3, 4);
  cell->reset(gen);
  QVERIFY_THROWS_EXCEPTION(std::out_of_range,
                           routedGroupLstmSequence(torch::randn({2, 3, 3}), *cell, torch::full({2, 3}, 2, torch::kLong)));
}

// RNN Monolithic (time-major, fused LSTM) against the paper's formulation on the same parameters:
// encoder, LSTMCell step by step, decoder on every step's hidden state; outputs and every gradient.
void TstModels::rnnMonolithicEqualsStepByStep() {
  for (TaskKind kind : {TaskKind::Classification, TaskKind::Regression}) {
    ModelSpec spec;
    spec.setting = Setting::Rnn;
    spec.kind = kind;
    spec.rules = 3;
    spec.size = 5;  // hidden 20: one whole vector and a tail
    spec.dataDim = 4;
    const RuleModel model = makeModel(spec, 3);
    TaskSpec taskSpec = taskFor(spec);
    taskSpec.dataDim = spec.dataDim;
    const auto task = RuleTask::create(taskSpec);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
    SampleRequest req;
    req.batch = 6;
    req.length = 5;
    const torch::Tensor x = task->sample(req, gen).x;
    auto children = model->named_children();
    auto& encoder = *children["encoder"]->as<TwoLayerImpl>();
    auto& cell = *children["cell"]->as<torch::nn::LSTMCellImpl>();
    auto& decoder = *children["decoder"]->as<TwoLayerImpl>();
    const torch::Tensor hs = lstmCellSteps(cell, encoder.forwardReference(x).transpose(0, 1)).transpose(0, 1);
    const torch::Tensor expected = decoder.forwardReference(hs);
    const torch::Tensor y = model->forward(x).y;
    QCOMPARE(y.sizes(), expected.sizes());
    QVERIFY2(maxAbsDifference(y, expected) < 1e-5, qPrintable(QString::number(maxAbsDifference(y, expected))));
    const torch::Tensor upstream = torch::randn_like(y);
    const auto parameters = model->parameters();
    const auto got = gradients(y, upstream, parameters), want = gradients(expected, upstream, parameters);
    for (std::size_t i = 0; i < parameters.size(); ++i)
      QVERIFY2(maxAbsDifference(got[i], want[i]) < 1e-5,
               qPrintable(QString("parameter %1: %2").arg(i).arg(maxAbsDifference(got[i], want[i]))));
  }
}

// The hand-written attention (forward and backward) against the torch formulation.
void TstModels::attentionKernelEqualsReference() {
  for (const auto& [heads, headDim, tokens] : {std::tuple{4, 8, 10}, std::tuple{16, 2, 3}, std::tuple{2, 5, 2}, std::tuple{2, 16, 17}, std::tuple{8, 16, 30}}) {
    const torch::Tensor qkv = torch::randn({3, tokens, 3 * heads * headDim}).requires_grad_(true);
    const torch::Tensor reference = qkv.detach().clone().requires_grad_(true);
    const torch::Tensor out = selfExcludedAttention(qkv, heads, headDim);
    const torch::Tensor expected = selfExcludedAttention(reference, heads, headDim, /*reference=*/true);
    QVERIFY(torch::allclose(out, expected, 1e-5, 1e-5));
    const torch::Tensor upstream = torch::randn_like(out);
    (out * upstream).sum().backward();
    (expected * upstream).sum().backward();
    QVERIFY2(torch::allclose(qkv.grad(), reference.grad(), 1e-4, 1e-5),
             qPrintable(QString("max grad difference %1").arg((qkv.grad() - reference.grad()).abs().max().item<double>())));
  }
}

void TstModels::initialisationIsSeeded() {
  ModelSpec spec;
  spec.family = Family::Modular;
  const RuleModel a = makeModel(spec, 4), b = makeModel(spec, 4), c = makeModel(spec, 5);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool differs = false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    QVERIFY(torch::equal(pa[i], pb[i]));
    differs = differs || !torch::equal(pa[i], pc[i]);
    // U(-1/sqrt(fan_in), +1/sqrt(fan_in)): nothing outside the bound of the widest fan-in 1.
    QVERIFY(pa[i].abs().max().item<double>() <= 1.0);
  }
  QVERIFY(differs);
}

void TstModels::badInputIsNamed() {
  auto expectNamed = [](ModelSpec s, const std::string& parameter) {
    try {
      makeModel(s, 0);
      QFAIL(("no error for " + parameter).c_str());
    } catch (const InvalidArgument& e) {
      QCOMPARE(QString::fromStdString(e.parameter()), QString::fromStdString(parameter));
      QVERIFY(std::string(e.what()).find(e.value()) != std::string::npos);
    }
  };
  ModelSpec s;
  s.rules = 1;
  expectNamed(s, "rules");
  s = ModelSpec{};
  s.size = 0;
  expectNamed(s, "size");
  s.size = -3;
  expectNamed(s, "size");
  s = ModelSpec{};
  s.setting = Setting::Mha;
  s.rules = 32;
  s.size = 8;  // 4d / 2R = 0 head dims
  expectNamed(s, "size");
  try {
    parseFamily("Mixture");
    QFAIL("unknown family accepted");
  } catch (const InvalidArgument& e) {
    QVERIFY(std::string(e.what()).find("Modular-op") != std::string::npos);
  }
}

QTEST_GUILESS_MAIN(TstModels)
// Every float product LibTorch computes goes through our sgemm_ (oneDNN or OpenBLAS, gemm_backend.h):
// the forms torch hands it (transposed operands, a strided result, beta = 1, batches) equal the
// same products in double precision.
void TstModels::floatProductsMatchDoublePrecision() {
  QVERIFY(std::string(modlab_gemm_library()).size() > 0);
  torch::manual_seed(4);
  auto close = [](const torch::Tensor& f, const torch::Tensor& d) {
    return ((f.to(torch::kDouble) - d).norm() / d.norm()).item<double>() < 1e-5;
  };
  for (const auto& [m, k, n] : std::vector<std::tuple<int, int, int>>{{17, 33, 65}, {2560, 48, 65}, {7, 300, 513}}) {
    const torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, n});
    const torch::Tensor ad = a.to(torch::kDouble), bd = b.to(torch::kDouble);
    QVERIFY(close(torch::mm(a, b), torch::mm(ad, bd)));
    QVERIFY(close(torch::mm(a.t().contiguous().t(), b), torch::mm(ad, bd)));  // A stored transposed
    QVERIFY(close(torch::mm(a, b.t().contiguous().t()), torch::mm(ad, bd)));  // B stored transposed
    torch::Tensor wide = torch::full({m, n + 5}, std::nan(""));
    torch::Tensor slice = wide.narrow(1, 2, n);  // a result with a leading dimension wider than n
    torch::mm_out(slice, a, b);
    QVERIFY(close(slice, torch::mm(ad, bd)));
    const torch::Tensor c = torch::randn({m, n});
    QVERIFY(close(torch::addmm(c, a, b, 0.5, 2.0), 0.5 * c.to(torch::kDouble) + 2.0 * torch::mm(ad, bd)));
  }
  const torch::Tensor x = torch::randn({5, 40, 24}), w = torch::randn({5, 24, 33});
  QVERIFY(close(torch::bmm(x, w), torch::bmm(x.to(torch::kDouble), w.to(torch::kDouble))));
  QVERIFY(close(torch::bmm(x.transpose(0, 1).contiguous().transpose(0, 1), w),
                torch::bmm(x.to(torch::kDouble), w.to(torch::kDouble))));
  QCOMPARE(torch::mm(torch::zeros({3, 0}), torch::zeros({0, 4})).abs().sum().item<double>(), 0.0);  // k = 0
}

#include "tst_models.moc"
