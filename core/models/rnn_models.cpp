// RNN setting (spec 2.3): encoder, a recurrent cell from h_0 = c_0 = 0, per-step decoder.
#include "models/lstm_sequence.h"
#include "models/model_parts.h"

namespace modlab {

namespace {

class RnnModel : public RuleModelImpl {
public:
  RnnModel(const ModelSpec& s, std::int64_t hiddenSize)
      : RuleModelImpl(s), R(s.rules), E(s.size), hidden(hiddenSize) {
    const std::int64_t out = s.kind == TaskKind::Regression ? s.dataDim : 1;
    encoder = register_module("encoder", twoLayer(s.dataDim + R, E, E));
    decoder = register_module("decoder", twoLayer(hidden, hidden, out));
  }

protected:
  const std::int64_t R, E, hidden;
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
};

// The whole recurrence as one fused LSTM over time-major (N, B, .) tensors.
class RnnMonolithic final : public RnnModel {
public:
  explicit RnnMonolithic(const ModelSpec& s) : RnnModel(s, s.wide()) {
    cell = register_module("cell", torch::nn::LSTMCell(E, hidden));
  }

  ModelOutput forward(const torch::Tensor& x) override {
    const torch::Tensor e = encoder->forward(x.transpose(0, 1).contiguous());
    ModelOutput out;
    out.y = decoder->forward(lstmSequence(e, *cell)).transpose(0, 1).contiguous();
    return out;
  }

private:
  torch::nn::LSTMCell cell{nullptr};
};

class RnnModularBase : public RnnModel {
public:
  explicit RnnModularBase(const ModelSpec& s) : RnnModel(s, rnnModuleHidden(s.rules, s.size, s.wide())) {
    cell = register_module("cell", GroupLstmCell(R, E, hidden));
  }

  ModelOutput forward(const torch::Tensor& x) override {
    const auto B = x.size(0), N = x.size(1);
    const torch::Tensor e = encoder->forward(x);
    const torch::Tensor onehot = ruleOneHot(x);
    torch::Tensor h = torch::zeros({B, hidden}, e.options());
    torch::Tensor c = torch::zeros({B, hidden}, e.options());
    std::vector<torch::Tensor> hs, ps;
    hs.reserve(N);
    ps.reserve(N);
    for (std::int64_t n = 0; n < N; ++n) {
      torch::Tensor p;
      std::tie(h, c) = step(e.select(1, n), h, c, onehot.select(1, n), p);
      hs.push_back(h);
      ps.push_back(p);
    }
    ModelOutput out;
    out.y = decoder->forward(torch::stack(hs, 1));
    out.activations = torch::stack(ps, 1);
    return out;
  }

protected:
  // One recurrence step; sets the activations p (B, R).
  virtual std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& h,
                                                       const torch::Tensor& c, const torch::Tensor& onehot,
                                                       torch::Tensor& p) = 0;
  GroupLstmCell cell{nullptr};
};

// Modular: score_m = GroupLinear(8h -> 1, no bias)(ReLU([P_x]_m || [P_h]_m)).
class RnnModular final : public RnnModularBase {
public:
  explicit RnnModular(const ModelSpec& s) : RnnModularBase(s) {
    scorer = register_module("scorer", GroupLinear(R, 8 * hidden, 1, /*bias=*/false));
  }

protected:
  std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& h, const torch::Tensor& c,
                                               const torch::Tensor&, torch::Tensor& p) override {
    auto [px, ph] = cell->preActivations(x, h);
    p = moduleSoftmax(scorer->forwardColumn(torch::relu(torch::cat({px, ph}, 2)), 0));
    return cell->mixedStep(px + ph, c, p);
  }
  GroupLinear scorer{nullptr};
};

// Modular-op: p = softmax(Linear(h, R)(ReLU(Linear(R, h)(onehot c_t)))), no biases.
class RnnModularOp final : public RnnModularBase {
public:
  explicit RnnModularOp(const ModelSpec& s) : RnnModularBase(s) {
    scorer = register_module("scorer", twoLayer(R, hidden, R, /*bias=*/false));
  }

protected:
  std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& h, const torch::Tensor& c,
                                               const torch::Tensor& onehot, torch::Tensor& p) override {
    p = moduleSoftmax(scorer->forward(onehot));
    auto [px, ph] = cell->preActivations(x, h);
    return cell->mixedStep(px + ph, c, p);
  }
  torch::nn::Sequential scorer{nullptr};
};

// GT-Modular: p = onehot(c_t); only the routed cell runs.
class RnnGtModular final : public RnnModularBase {
public:
  explicit RnnGtModular(const ModelSpec& s) : RnnModularBase(s) {}

protected:
  std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& h, const torch::Tensor& c,
                                               const torch::Tensor& onehot, torch::Tensor& p) override {
    p = onehot;
    return cell->routedStep(x, h, c, onehot.argmax(-1));
  }
};

}  // namespace

RuleModel makeRnnModel(const ModelSpec& spec) {
  switch (spec.family) {
    case Family::Monolithic: return std::make_shared<RnnMonolithic>(spec);
    case Family::Modular: return std::make_shared<RnnModular>(spec);
    case Family::ModularOp: return std::make_shared<RnnModularOp>(spec);
    case Family::GtModular: return std::make_shared<RnnGtModular>(spec);
  }
  return nullptr;
}

}  // namespace modlab
