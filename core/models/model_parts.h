// Building blocks shared by the model families (private to core).
#pragma once

#include <torch/torch.h>

#include "modlab/models/group_linear.h"
#include "modlab/models/rule_model.h"

namespace modlab {

// Linear(in, hidden) -> ReLU -> Linear(hidden, out): the encoders, decoders and scorers. On
// float CPU rows, one autograd function with its own products and loops (two_layer.cpp).
class TwoLayerImpl : public torch::nn::Module {
public:
  TwoLayerImpl(std::int64_t in, std::int64_t hidden, std::int64_t out, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);           // x (..., in) -> (..., out)
  torch::Tensor forwardReference(const torch::Tensor& x);  // the same through torch's layers
  torch::nn::Linear first{nullptr}, second{nullptr};
};
TORCH_MODULE(TwoLayer);

// `layer` applied to the last dimension of x through 2-D products: torch runs a Linear on a
// 3-D input as a matmul and a separate bias pass, on a 2-D one as a single addmm.
template <typename Layer>
torch::Tensor onRows(Layer& layer, const torch::Tensor& x) {
  std::vector<std::int64_t> sizes = x.sizes().vec();
  const torch::Tensor y = layer->forward(x.reshape({-1, sizes.back()}));
  sizes.back() = y.size(-1);
  return y.view(sizes);
}

// softmax over the module axis (last).
inline torch::Tensor moduleSoftmax(const torch::Tensor& scores) { return torch::softmax(scores, -1); }

// Multi-head attention in which a token never attends to itself (the diagonal is -inf),
// queries scaled by hd^-1/2. qkv: (B, N, 3*H*hd), the fused projection [Q | K | V] with
// head h at columns h*hd..(h+1)*hd of each part. Returns the heads (B, N, H*hd).
// `reference` forces the plain torch formulation (other devices use it anyway).
torch::Tensor selfExcludedAttention(const torch::Tensor& qkv, std::int64_t heads, std::int64_t headDim,
                                    bool reference = false);

// R LSTM cells (hidden h, no biases) that read and write one shared state (spec 2.3).
// Gates per module: i, f, o (sigmoid) from the first 3h channels, g (tanh) from the last h.
class GroupLstmCellImpl : public torch::nn::Module {
public:
  GroupLstmCellImpl(std::int64_t modules, std::int64_t in, std::int64_t hidden);

  // Pre-activations of every module: P_x = W_x x (B, R, 4h) and P_h = W_h h (B, R, 4h).
  std::pair<torch::Tensor, torch::Tensor> preActivations(const torch::Tensor& x, const torch::Tensor& h);
  // Every module's step from the pre-activations, mixed by p (B, R): returns (h_t, c_t).
  std::pair<torch::Tensor, torch::Tensor> mixedStep(const torch::Tensor& pre, const torch::Tensor& c,
                                                    const torch::Tensor& p);
  // Each module's own columns of W_x and W_h, (in, 4h) and (h, 4h). Taken once per sequence:
  // a slice taken at every step would give every step's backward a weight-sized gradient to add.
  struct ModuleWeights {
    std::vector<torch::Tensor> x, h;
  };
  ModuleWeights moduleWeights();
  // Only the module each sample is routed to (GT-Modular): returns (h_t, c_t).
  std::pair<torch::Tensor, torch::Tensor> routedStep(const torch::Tensor& x, const torch::Tensor& h,
                                                     const torch::Tensor& c, const torch::Tensor& modules,
                                                     const ModuleWeights& weights);
  std::pair<torch::Tensor, torch::Tensor> routedStep(const torch::Tensor& x, const torch::Tensor& h,
                                                     const torch::Tensor& c, const torch::Tensor& modules) {
    return routedStep(x, h, c, modules, moduleWeights());
  }
  void reset(torch::Generator& gen);
  std::int64_t hidden() const { return hidden_; }

  torch::Tensor weightX, weightH;  // (in, R*4h), (h, R*4h)

private:
  std::int64_t modules_, in_, hidden_;
};
TORCH_MODULE(GroupLstmCell);

// The settings' model classes (one per setting, the family chosen by spec.family).
RuleModel makeMlpModel(const ModelSpec& spec);
RuleModel makeMhaModel(const ModelSpec& spec);
RuleModel makeRnnModel(const ModelSpec& spec);

}  // namespace modlab
