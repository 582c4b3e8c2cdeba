// LSTM recurrences over a whole sequence as one autograd function each (spec 2.3).
#pragma once

#include <functional>

#include <torch/torch.h>

#include "models/model_parts.h"

namespace modlab {

// Every step's hidden state of `cell` run over x (N, B, in), time-major, from h_0 = c_0 = 0:
// (N, B, hidden). Gates (i, f, g, o) as in torch::nn::LSTMCell, whose parameters it uses.
// On CPU in float: each step is its GEMMs and one fused gate loop, forward and backward (written
// by hand). `reference` forces LSTMCell step by step (other devices and dtypes use it anyway).
torch::Tensor lstmSequence(const torch::Tensor& x, torch::nn::LSTMCellImpl& cell, bool reference = false);

// The group cell's mixed hidden states (N, B, h) over x (N, B, in), time-major, from h_0 = c_0 = 0,
// with the modules mixed by p (N, B, R) (Modular-op). The same fusion as lstmSequence; `reference`
// forces the cell's preActivations and mixedStep step by step.
torch::Tensor groupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell, const torch::Tensor& p,
                                bool reference = false);

// GT-Modular's recurrence: each row of step t runs only the cell of its module modules[t] (N, B),
// from h_0 = c_0 = 0: (N, B, h). On CPU in float, one autograd function with each step's rows
// sorted by module (one GEMM per module and product); `reference` forces routedStep step by step.
torch::Tensor routedGroupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell, const torch::Tensor& modules,
                                      bool reference = false);

// The same with p_t = softmax over modules of scorer(ReLU([P_x]_m || [P_h]_m)) at every step, the
// scorer a GroupLinear(R, 8h -> 1) without bias (Modular): returns (h (N, B, h), p (N, B, R)).
// A `router` (the routing interventions) turns each step's scores (B, R) into the mixing weights
// instead of the softmax, step by step.
using Router = std::function<torch::Tensor(const torch::Tensor&)>;
std::pair<torch::Tensor, torch::Tensor> scoredGroupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell,
                                                                GroupLinearImpl& scorer, bool reference = false,
                                                                const Router& router = {});

}  // namespace modlab
