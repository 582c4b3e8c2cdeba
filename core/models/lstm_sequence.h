// An LSTM over a whole sequence as one autograd function (RNN Monolithic, spec 2.3).
#pragma once

#include <torch/torch.h>

namespace modlab {

// Every step's hidden state of `cell` run over x (N, B, in), time-major, from h_0 = c_0 = 0:
// (N, B, hidden). Gates (i, f, g, o) as in torch::nn::LSTMCell, whose parameters it uses.
// On CPU in float: the input projection of all steps is one GEMM, each step one GEMM and one
// fused gate loop, and the backward is hand-written, with the weight gradients as one GEMM over
// all steps. `reference` forces LSTMCell step by step (other devices and dtypes use it anyway).
torch::Tensor lstmSequence(const torch::Tensor& x, torch::nn::LSTMCellImpl& cell, bool reference = false);

}  // namespace modlab
