#include "modlab/models/routing.h"

#include <torch/torch.h>

namespace modlab {

namespace {
// Forward: the hard weights exactly; backward: the gradient goes to the soft probabilities
// unchanged (the straight-through estimator, without hard + soft - soft's rounding).
class StraightThrough : public torch::autograd::Function<StraightThrough> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& soft, const torch::Tensor& hard) {
    return hard.clone();
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*, torch::autograd::tensor_list grads) {
    return {grads[0], torch::Tensor()};
  }
};

// -sum_i p_i log p_i over the last axis; p log p -> 0 as p -> 0 (clamped inside the log so
// that the gradient stays finite where a softmax underflowed to 0).
torch::Tensor entropy(const torch::Tensor& p) {
  return -(p * p.clamp_min(1e-30).log()).sum(-1);
}
}  // namespace

RoutingTerms routingTerms(const torch::Tensor& probs) {
  const std::int64_t R = probs.size(-1);
  const torch::Tensor p = probs.reshape({-1, R});
  RoutingTerms t;
  const torch::Tensor top = p.detach().argmax(1);
  const torch::Tensor f = torch::one_hot(top, R).to(p.scalar_type()).mean(0);
  const torch::Tensor meanP = p.mean(0);
  t.balance = static_cast<double>(R) * (f * meanP).sum();
  t.sampleEntropy = entropy(p).mean();
  t.batchEntropy = entropy(meanP);
  return t;
}

torch::Tensor routingPenalty(const RoutingTerms& terms, const RoutingOptions& o) {
  torch::Tensor penalty = torch::zeros({}, terms.balance.options());
  if (o.balance != 0.0) penalty = penalty + o.balance * terms.balance;
  if (o.sampleEntropy != 0.0) penalty = penalty + o.sampleEntropy * terms.sampleEntropy;
  if (o.batchEntropy != 0.0) penalty = penalty - o.batchEntropy * terms.batchEntropy;
  return penalty;
}

Routed routeScores(const torch::Tensor& scores, const RoutingOptions& o, bool training, std::int64_t step,
                   at::Generator* noise) {
  const torch::Tensor logits = o.temperature == 1.0 ? scores : scores / o.temperature;
  Routed r;
  r.soft = torch::softmax(logits, -1);
  switch (o.mode) {
    case RoutingMode::Soft:
      r.weights = r.soft;
      break;
    case RoutingMode::TopOne: {
      const torch::Tensor hard =
          torch::one_hot(r.soft.detach().argmax(-1), scores.size(-1)).to(r.soft.scalar_type());
      // Straight-through: the forward value is the one-hot, the gradient that of p.
      r.weights = training ? StraightThrough::apply(r.soft, hard) : hard;
      break;
    }
    case RoutingMode::Gumbel: {
      const double tau = o.gumbelTemperatureAt(step);
      if (!training) {
        r.weights = torch::softmax(logits / tau, -1);
        break;
      }
      if (!noise) throw std::logic_error("Gumbel routing needs a noise generator");
      // g = -log(-log U), U ~ U(0, 1) kept away from 0 and 1
      const torch::Tensor u = at::empty(scores.sizes(), scores.options().requires_grad(false))
                                  .uniform_(1e-10, 1.0 - 1e-7, *noise);
      const torch::Tensor g = -(-u.log()).log();
      r.weights = torch::softmax((logits + g) / tau, -1);
      break;
    }
  }
  return r;
}

}  // namespace modlab
