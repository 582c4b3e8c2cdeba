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
    encoder = register_module("encoder", TwoLayer(s.dataDim + R, E, E));
    decoder = register_module("decoder", TwoLayer(hidden, hidden, out));
  }

protected:
  const std::int64_t R, E, hidden;
  TwoLayer encoder{nullptr}, decoder{nullptr};
};

// The whole recurrence as one fused LSTM over time-major (N, B, .) tensors.
class RnnMonolithic final : public RnnModel {
public:
  explicit RnnMonolithic(const ModelSpec& s) : RnnModel(s, s.wide()) {
    cell = register_module("cell", torch::nn::LSTMCell(E, hidden));
  }

  ModelOutput forward(const torch::Tensor& x) override {
    const torch::Tensor e = encoder->forward(x.transpose(0, 1));
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
    const torch::Tensor xt = x.transpose(0, 1).contiguous();
    discardRouterProbs();
    auto [hs, p] = recur(encoder->forward(xt), ruleOneHot(xt));
    ModelOutput out;
    out.y = decoder->forward(hs).transpose(0, 1).contiguous();
    out.activations = p.transpose(0, 1).contiguous();
    out.routerProbs = takeRouterProbs();
    return out;
  }

protected:
  // The mixed hidden states (N, B, h) and the activations p (N, B, R) over the encodings
  // e (N, B, E), time-major; onehot (N, B, R) is the rule context c_t.
  virtual std::pair<torch::Tensor, torch::Tensor> recur(const torch::Tensor& e, const torch::Tensor& onehot) = 0;
  GroupLstmCell cell{nullptr};
};

// Modular: score_m = GroupLinear(8h -> 1, no bias)(ReLU([P_x]_m || [P_h]_m)).
class RnnModular final : public RnnModularBase {
public:
  explicit RnnModular(const ModelSpec& s) : RnnModularBase(s) {
    scorer = register_module("scorer", GroupLinear(R, 8 * hidden, 1, /*bias=*/false));
  }

protected:
  std::pair<torch::Tensor, torch::Tensor> recur(const torch::Tensor& e, const torch::Tensor&) override {
    if (routing().changesRouting())  // step by step, each step's scores through the router
      return scoredGroupLstmSequence(e, *cell, *scorer, false, [this](const torch::Tensor& s) { return route(s); });
    auto out = scoredGroupLstmSequence(e, *cell, *scorer);  // fused: the softmax inside
    noteRouterProbs(out.second);
    return out;
  }
  GroupLinear scorer{nullptr};
};

// Modular-op: p = softmax(Linear(h, R)(ReLU(Linear(R, h)(onehot c_t)))), no biases.
class RnnModularOp final : public RnnModularBase {
public:
  explicit RnnModularOp(const ModelSpec& s) : RnnModularBase(s) {
    scorer = register_module("scorer", TwoLayer(R, hidden, R, /*bias=*/false));
  }

protected:
  std::pair<torch::Tensor, torch::Tensor> recur(const torch::Tensor& e, const torch::Tensor& onehot) override {
    const torch::Tensor p = route(scorer->forward(onehot));
    return {groupLstmSequence(e, *cell, p), p};
  }
  TwoLayer scorer{nullptr};
};

// GT-Modular: p = onehot(c_t); only the routed cell runs.
class RnnGtModular final : public RnnModularBase {
public:
  explicit RnnGtModular(const ModelSpec& s) : RnnModularBase(s) {}

protected:
  std::pair<torch::Tensor, torch::Tensor> recur(const torch::Tensor& e, const torch::Tensor& onehot) override {
    return {routedGroupLstmSequence(e, *cell, onehot.argmax(-1)), onehot};
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
