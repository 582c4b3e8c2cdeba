// Linear -> ReLU -> Linear as one autograd function on float CPU rows: two products and a
// loop each way, where torch's formulation makes a dozen calls (addmm, relu, their backward
// nodes, transposes, bias sums) of a few microseconds each, per layer pair and step.
#include "models/model_parts.h"
#include "models/row_ops.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class TwoLayerFunction : public torch::autograd::Function<TwoLayerFunction> {
public:
  // x (rows, in); w1 (hidden, in), w2 (out, hidden) as torch::nn::Linear stores them; the
  // biases (hidden), (out) or empty.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w1,
                               const torch::Tensor& b1, const torch::Tensor& w2, const torch::Tensor& b2) {
    const std::int64_t rows = x.size(0), in = w1.size(1), hidden = w1.size(0), out = w2.size(0);
    torch::Tensor u = torch::empty({rows, hidden}, x.options()), y = torch::empty({rows, out}, x.options());
    product(false, true, rows, hidden, in, x.data_ptr<float>(), in, w1.data_ptr<float>(), in, u.data_ptr<float>());
    addBias(u.data_ptr<float>(), biasOrNull(b1), rows, hidden, true);
    product(false, true, rows, out, hidden, u.data_ptr<float>(), hidden, w2.data_ptr<float>(), hidden,
            y.data_ptr<float>());
    if (b2.numel() > 0) addBias(y.data_ptr<float>(), b2.data_ptr<float>(), rows, out, false);
    ctx->save_for_backward({x, w1, b1, w2, b2, u});
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w1 = saved[1], &b1 = saved[2], &w2 = saved[3], &b2 = saved[4], &u = saved[5];
    const std::int64_t rows = x.size(0), in = w1.size(1), hidden = w1.size(0), out = w2.size(0);
    const torch::Tensor gy = grads[0].contiguous();
    torch::Tensor dW1 = torch::empty_like(w1), dW2 = torch::empty_like(w2), gu = torch::empty_like(u);
    torch::Tensor db1 = torch::empty_like(b1), db2 = torch::empty_like(b2);
    product(true, false, out, hidden, rows, gy.data_ptr<float>(), out, u.data_ptr<float>(), hidden,
            dW2.data_ptr<float>());
    if (b2.numel() > 0) columnSums(gy.data_ptr<float>(), rows, out, db2.data_ptr<float>());
    product(false, false, rows, hidden, out, gy.data_ptr<float>(), out, w2.data_ptr<float>(), hidden,
            gu.data_ptr<float>());
    reluBackward(gu.data_ptr<float>(), u.data_ptr<float>(), rows, hidden, biasOrNull(db1), gu.data_ptr<float>());
    product(true, false, hidden, in, rows, gu.data_ptr<float>(), hidden, x.data_ptr<float>(), in,
            dW1.data_ptr<float>());
    torch::Tensor gx;
    if (ctx->needs_input_grad(0)) {  // not for the data itself
      gx = torch::empty_like(x);
      product(false, false, rows, in, hidden, gu.data_ptr<float>(), hidden, w1.data_ptr<float>(), in,
              gx.data_ptr<float>());
    }
    return {gx, dW1, b1.numel() > 0 ? db1 : torch::Tensor(), dW2, b2.numel() > 0 ? db2 : torch::Tensor()};
  }

private:
  static float* biasOrNull(const torch::Tensor& b) { return b.numel() > 0 ? b.data_ptr<float>() : nullptr; }
};

// An autograd input must be defined, so "no bias" is an empty tensor.
// Raw float buffers with rows: the products go straight to BLAS.
bool rawLayers(const torch::Tensor& x, const torch::nn::Linear& first, const torch::nn::Linear& second) {
  return x.size(0) > 0 && x.size(1) > 0 && rawFloat(x) && rawFloat(first->weight) && rawFloat(first->bias) &&
         rawFloat(second->weight) && rawFloat(second->bias);
}

}  // namespace

TwoLayerImpl::TwoLayerImpl(std::int64_t in, std::int64_t hidden, std::int64_t out, bool bias) {
  // Named as torch::nn::Sequential(Linear, ReLU, Linear) names them: checkpoints keep "0.weight".
  first = register_module("0", torch::nn::Linear(torch::nn::LinearOptions(in, hidden).bias(bias)));
  second = register_module("2", torch::nn::Linear(torch::nn::LinearOptions(hidden, out).bias(bias)));
}

torch::Tensor TwoLayerImpl::forward(const torch::Tensor& x) {
  if (x.dim() == 0) return forwardReference(x);
  const torch::Tensor rows = x.reshape({-1, x.size(-1)}).contiguous();
  if (!rawLayers(rows, first, second)) return forwardReference(x);
  const torch::Tensor y =
      TwoLayerFunction::apply(rows, first->weight, biasArgument(first->bias, first->weight), second->weight,
                              biasArgument(second->bias, second->weight));
  if (x.dim() == 2) return y;
  std::vector<std::int64_t> sizes = x.sizes().vec();
  sizes.back() = y.size(1);
  return y.view(sizes);
}

torch::Tensor TwoLayerImpl::forwardReference(const torch::Tensor& x) {
  return second->forward(torch::relu(first->forward(x)));
}

}  // namespace modlab
