// MHA setting (spec 2.2): per-token encoder, one attention core (2R heads in total,
// a token never attends to itself, no residual or norm), per-token decoder.
#include <cmath>
#include <cstring>

#include "models/model_parts.h"
#include "models/row_ops.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Each token's routed module input [heads 2c, 2c+1 | self chunk c] (T, 3hd), c = modules[t]:
// the row of moduleInputs' (T, R, 3hd) that GT-Modular reads, copied straight from the heads
// (T, 2R hd) and the self channel (T, R hd) without building the other rows. The backward
// adds each gradient to zeros, as the gather's backward did: the same bits.
class RoutedModuleInput : public torch::autograd::Function<RoutedModuleInput> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& heads, const torch::Tensor& self,
                               const torch::Tensor& modules, std::int64_t R) {
    const std::int64_t T = self.size(0), hd = self.size(1) / R;
    const torch::Tensor routes = modules.to(torch::kLong).contiguous();
    const std::int64_t* m = routes.data_ptr<std::int64_t>();
    checkModules(m, T, R);
    torch::Tensor out = torch::empty({T, 3 * hd}, self.options());
    const float *a = heads.data_ptr<float>(), *s = self.data_ptr<float>();
    float* o = out.data_ptr<float>();
    const auto bytes = [](std::int64_t n) { return sizeof(float) * static_cast<std::size_t>(n); };
    for (std::int64_t t = 0; t < T; ++t) {
      std::memcpy(o + t * 3 * hd, a + (t * R + m[t]) * 2 * hd, bytes(2 * hd));
      std::memcpy(o + t * 3 * hd + 2 * hd, s + (t * R + m[t]) * hd, bytes(hd));
    }
    ctx->save_for_backward({routes});
    ctx->saved_data["hd"] = hd;
    ctx->saved_data["R"] = R;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const torch::Tensor routes = ctx->get_saved_variables()[0];
    const std::int64_t hd = ctx->saved_data["hd"].toInt(), R = ctx->saved_data["R"].toInt(), T = routes.size(0);
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor dHeads = torch::zeros({T, 2 * R * hd}, g.options()), dSelf = torch::zeros({T, R * hd}, g.options());
    const std::int64_t* m = routes.data_ptr<std::int64_t>();
    const float* gp = g.data_ptr<float>();
    float *da = dHeads.data_ptr<float>(), *ds = dSelf.data_ptr<float>();
    for (std::int64_t t = 0; t < T; ++t) {
      const float* row = gp + t * 3 * hd;
      float* toHeads = da + (t * R + m[t]) * 2 * hd;
      float* toSelf = ds + (t * R + m[t]) * hd;
      for (std::int64_t j = 0; j < 2 * hd; ++j) toHeads[j] = 0.0f + row[j];
      for (std::int64_t j = 0; j < hd; ++j) toSelf[j] = 0.0f + row[2 * hd + j];
    }
    return {dHeads, dSelf, torch::Tensor(), torch::Tensor()};
  }
};

class MhaModel : public RuleModelImpl {
public:
  explicit MhaModel(const ModelSpec& s)
      : RuleModelImpl(s),
        R(s.rules),
        d(s.size),
        att(s.wide()),
        heads(2 * s.rules),
        hd(mhaHeadDim(s.rules, s.wide())) {
    const std::int64_t in = (s.searchVersion == 1 ? 5 : 7) * R;
    encoder = register_module("encoder", TwoLayer(in, d, d));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * heads * hd));  // Q, K, V fused
    decoder = register_module("decoder", TwoLayer(d, d, 1));
  }

  ModelOutput forward(const torch::Tensor& x) override {
    const auto B = x.size(0), N = x.size(1);
    const torch::Tensor e = encoder->forward(x);
    const torch::Tensor a = selfExcludedAttention(onRows(qkv, e), heads, hd);  // (B, N, H*hd)
    ModelOutput out;
    discardRouterProbs();
    const torch::Tensor z = core(e, a.reshape({B * N, heads, hd}), x.reshape({B * N, -1}), out.activations);
    out.y = decoder->forward(z).view({B, N});
    out.routerProbs = takeRouterProbs();
    if (out.activations.defined()) out.activations = out.activations.view({B, N, R});
    return out;
  }

protected:
  // z (T, d) per token from the encoded tokens e (B, N, d) and the attention heads
  // (T, H, hd), T = B*N; sets the activations p (T, R).
  virtual torch::Tensor core(const torch::Tensor& e, const torch::Tensor& heads, const torch::Tensor& x,
                             torch::Tensor& p) = 0;

  const std::int64_t R, d, att, heads, hd;
  TwoLayer encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear qkv{nullptr};
};

class MhaMonolithic final : public MhaModel {
public:
  explicit MhaMonolithic(const ModelSpec& s) : MhaModel(s) {
    selfChannel = register_module("self", torch::nn::Linear(d, hd));
    out = register_module("out", TwoLayer((heads + 1) * hd, 2 * d, d));
  }

protected:
  torch::Tensor core(const torch::Tensor& e, const torch::Tensor& a, const torch::Tensor&, torch::Tensor&) override {
    const auto T = a.size(0);
    return out->forward(torch::cat({a.reshape({T, heads * hd}), onRows(selfChannel, e).reshape({T, hd})}, 1));
  }
  torch::nn::Linear selfChannel{nullptr};
  TwoLayer out{nullptr};
};

// Module m owns heads 2m, 2m+1 and its own self chunk: input [2 heads, self] (3hd),
// MLP GroupLinear(3hd -> I) -> ReLU -> GroupLinear(I -> d [+1 score]).
class MhaModularBase : public MhaModel {
public:
  MhaModularBase(const ModelSpec& s, std::int64_t extraOutputs) : MhaModel(s) {
    const std::int64_t I = mhaModuleWidth(s.rules, d, att);
    selfChannel = register_module("self", torch::nn::Linear(d, R * hd));
    first = register_module("modules_1", GroupLinear(R, 3 * hd, I));
    second = register_module("modules_2", GroupLinear(R, I, d + extraOutputs));
  }

protected:
  torch::Tensor moduleInputs(const torch::Tensor& e, const torch::Tensor& a) {
    const auto T = a.size(0);
    return torch::cat({a.reshape({T, R, 2 * hd}), onRows(selfChannel, e).reshape({T, R, hd})}, 2);
  }
  torch::nn::Linear selfChannel{nullptr};
  GroupLinear first{nullptr}, second{nullptr};
};

class MhaModular final : public MhaModularBase {
public:
  explicit MhaModular(const ModelSpec& s) : MhaModularBase(s, 1) {}

protected:
  torch::Tensor core(const torch::Tensor& e, const torch::Tensor& a, const torch::Tensor&, torch::Tensor& p) override {
    const torch::Tensor u = first->forwardRelu(moduleInputs(e, a));
    p = route(second->forwardColumn(u, d));
    return second->forwardMixed(u, p, d);
  }
};

// Modular-op: p = softmax(Linear(hd, R)(ReLU(Linear(R, hd)(onehot c)))), on the raw one-hot.
class MhaModularOp final : public MhaModularBase {
public:
  explicit MhaModularOp(const ModelSpec& s) : MhaModularBase(s, 0) {
    scorer = register_module("scorer", TwoLayer(R, hd, R));
  }

protected:
  torch::Tensor core(const torch::Tensor& e, const torch::Tensor& a, const torch::Tensor& x, torch::Tensor& p) override {
    p = route(scorer->forward(ruleOneHot(x)));
    return second->forwardMixed(first->forwardRelu(moduleInputs(e, a)), p, d);
  }
  TwoLayer scorer{nullptr};
};

class MhaGtModular final : public MhaModularBase {
public:
  explicit MhaGtModular(const ModelSpec& s) : MhaModularBase(s, 0) {}

protected:
  torch::Tensor core(const torch::Tensor& e, const torch::Tensor& a, const torch::Tensor& x, torch::Tensor& p) override {
    p = ruleOneHot(x);
    const torch::Tensor c = ruleIndices(x);
    const auto T = a.size(0);
    const torch::Tensor attended = a.reshape({T, 2 * R * hd}), self = onRows(selfChannel, e).reshape({T, R * hd});
    if (rawFloat(attended) && rawFloat(self))
      return routedTwoLayer(*first, *second, RoutedModuleInput::apply(attended, self, c, R), c);
    const torch::Tensor in = moduleInputs(e, a);
    const torch::Tensor routedIn = in.gather(1, c.view({-1, 1, 1}).expand({in.size(0), 1, in.size(2)})).squeeze(1);
    return routedTwoLayer(*first, *second, routedIn, c);
  }
};

}  // namespace

RuleModel makeMhaModel(const ModelSpec& spec) {
  switch (spec.family) {
    case Family::Monolithic: return std::make_shared<MhaMonolithic>(spec);
    case Family::Modular: return std::make_shared<MhaModular>(spec);
    case Family::ModularOp: return std::make_shared<MhaModularOp>(spec);
    case Family::GtModular: return std::make_shared<MhaGtModular>(spec);
  }
  return nullptr;
}

}  // namespace modlab
