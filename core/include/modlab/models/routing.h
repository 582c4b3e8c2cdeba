// The routing interventions as tensor operations (see modlab/routing.h for the options).
#pragma once

#include <optional>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "modlab/routing.h"

namespace modlab {

// The regularisers' raw values over a batch of soft router probabilities p (..., R),
// every leading index (sample, token, time step) one routing decision t:
//   balance        = R sum_i f_i P_i, f_i the fraction of decisions whose top module is i
//                    (no gradient), P_i the mean probability of i (1 when balanced)
//   sampleEntropy  = mean_t H(p_t)
//   batchEntropy   = H(mean_t p_t)
// in nats, as 0-dimensional tensors with gradients to p.
struct RoutingTerms {
  torch::Tensor balance, sampleEntropy, batchEntropy;
};
RoutingTerms routingTerms(const torch::Tensor& probs);

// balance * terms.balance + sampleEntropy * terms.sampleEntropy - batchEntropy * terms.batchEntropy
torch::Tensor routingPenalty(const RoutingTerms& terms, const RoutingOptions& options);

// The mixing weights a router's scores (..., R) give under `options`, and the soft
// probabilities softmax(scores / T) the regularisers act on. Training draws Gumbel noise
// from `noise` (required in Gumbel mode); evaluation is deterministic: top-1 gives the
// one-hot argmax, Gumbel softmax(scores / (T tau)). With the paper's options both are
// softmax(scores), the same tensor.
struct Routed {
  torch::Tensor weights, soft;
};
Routed routeScores(const torch::Tensor& scores, const RoutingOptions& options, bool training, std::int64_t step,
                   at::Generator* noise);

}  // namespace modlab
