// MLP setting (spec 2.1): h = [phi_dig(a), phi_dig(b), phi_op(c)], a core, decoder psi.
#include "models/model_parts.h"

namespace modlab {

namespace {

class MlpModel : public RuleModelImpl {
public:
  explicit MlpModel(const ModelSpec& s)
      : RuleModelImpl(s), E(s.size), D(s.wide()), R(s.rules) {
    phiDig = register_module("phi_dig", TwoLayer(1, E, E));
    phiOp = register_module("phi_op", TwoLayer(R, E, E));
    psi = register_module("psi", TwoLayer(D, E, 1));
  }

  ModelOutput forward(const torch::Tensor& x) override {
    const auto B = x.size(0);
    // (a_0, b_0, a_1, b_1, ...) through the shared phi_dig, then one row [phi(a_i), phi(b_i)] per sample.
    const torch::Tensor digits = phiDig->forward(x.narrow(1, 0, 2).reshape({2 * B, 1})).view({B, 2 * E});
    const torch::Tensor context = phiOp->forward(ruleOneHot(x));
    const torch::Tensor h = torch::cat({digits, context}, 1);
    ModelOutput out;
    discardRouterProbs();
    const torch::Tensor z = core(h, context, x, out.activations);
    out.y = psi->forward(z).squeeze(-1);
    out.routerProbs = takeRouterProbs();
    return out;
  }

protected:
  // The latent z (B, D) from h (B, 3E); sets the module activations p (B, R).
  virtual torch::Tensor core(const torch::Tensor& h, const torch::Tensor& context,
                             const torch::Tensor& x, torch::Tensor& p) = 0;

  const std::int64_t E, D, R;
  TwoLayer phiDig{nullptr}, phiOp{nullptr}, psi{nullptr};
};

class MlpMonolithic final : public MlpModel {
public:
  explicit MlpMonolithic(const ModelSpec& s) : MlpModel(s) {
    body = register_module("core", TwoLayer(3 * E, D, D));
  }

protected:
  torch::Tensor core(const torch::Tensor& h, const torch::Tensor&, const torch::Tensor&, torch::Tensor&) override {
    return body->forward(h);
  }
  TwoLayer body{nullptr};
};

// Modules GroupLinear(3E -> D/R) -> ReLU -> GroupLinear(D/R -> D [+1 score]).
class MlpModularBase : public MlpModel {
public:
  MlpModularBase(const ModelSpec& s, std::int64_t extraOutputs) : MlpModel(s) {
    first = register_module("modules_1", GroupLinear(R, 3 * E, D / R));
    second = register_module("modules_2", GroupLinear(R, D / R, D + extraOutputs));
  }

protected:
  torch::Tensor hidden(const torch::Tensor& h) { return first->forwardSharedRelu(h); }
  GroupLinear first{nullptr}, second{nullptr};
};

// End-to-end Modular: each module's last output channel is its score logit.
class MlpModular final : public MlpModularBase {
public:
  explicit MlpModular(const ModelSpec& s) : MlpModularBase(s, 1) {}

protected:
  torch::Tensor core(const torch::Tensor& h, const torch::Tensor&, const torch::Tensor&, torch::Tensor& p) override {
    const torch::Tensor u = hidden(h);
    p = route(second->forwardColumn(u, D));
    return second->forwardMixed(u, p, D);
  }
};

// Modular-op: p = softmax(W_s phi_op(c) + b_s), from the encoded context only.
class MlpModularOp final : public MlpModularBase {
public:
  explicit MlpModularOp(const ModelSpec& s) : MlpModularBase(s, 0) {
    scorer = register_module("scorer", torch::nn::Linear(E, R));
  }

protected:
  torch::Tensor core(const torch::Tensor& h, const torch::Tensor& context, const torch::Tensor&,
                     torch::Tensor& p) override {
    p = route(scorer->forward(context));
    return second->forwardMixed(hidden(h), p, D);
  }
  torch::nn::Linear scorer{nullptr};
};

// GT-Modular: p = onehot(c); only the module each sample is routed to is computed.
class MlpGtModular final : public MlpModularBase {
public:
  explicit MlpGtModular(const ModelSpec& s) : MlpModularBase(s, 0) {}

protected:
  torch::Tensor core(const torch::Tensor& h, const torch::Tensor&, const torch::Tensor& x, torch::Tensor& p) override {
    p = ruleOneHot(x);
    const torch::Tensor c = ruleIndices(x);
    return routedTwoLayer(*first, *second, h, c);
  }
};

}  // namespace

RuleModel makeMlpModel(const ModelSpec& spec) {
  switch (spec.family) {
    case Family::Monolithic: return std::make_shared<MlpMonolithic>(spec);
    case Family::Modular: return std::make_shared<MlpModular>(spec);
    case Family::ModularOp: return std::make_shared<MlpModularOp>(spec);
    case Family::GtModular: return std::make_shared<MlpGtModular>(spec);
  }
  return nullptr;
}

}  // namespace modlab
