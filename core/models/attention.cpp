// Multi-head self-attention in which a token never attends to itself, as one autograd
// function with its own forward and backward loops. Over a handful of tokens, torch's
// batched matmul spends most of its time in per-matrix dispatch (B x H tiny products);
// these loops touch every operand once, straight from the fused QKV projection.
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "models/model_parts.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Shape {
  std::int64_t B, N, H, hd;
  std::int64_t row() const { return 3 * H * hd; }  // one token's q, k, v
};

// The kernels of one (sample, head) pair, compiled for AVX-512, AVX2 and the baseline
// (the loops over the head dimension vectorise; the dot products as SIMD reductions).
#define MODLAB_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Row n of the attention probabilities (self excluded) and the output of token n.
MODLAB_SIMD_CLONES void forwardHead(const float* base, float* A, float* outBase, float* logits, const Shape& s,
                                    float scale) {
  for (std::int64_t n = 0; n < s.N; ++n) {
    const float* q = base + n * s.row();
    float maxLogit = -std::numeric_limits<float>::infinity();
    for (std::int64_t m = 0; m < s.N; ++m) {
      if (m == n) continue;
      const float* k = base + m * s.row() + s.H * s.hd;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (std::int64_t d = 0; d < s.hd; ++d) dot += q[d] * k[d];
      logits[m] = dot * scale;
      maxLogit = std::max(maxLogit, logits[m]);
    }
    float sum = 0.f;
    for (std::int64_t m = 0; m < s.N; ++m) {
      const float e = m == n ? 0.f : std::exp(logits[m] - maxLogit);
      A[n * s.N + m] = e;
      sum += e;
    }
    float* o = outBase + n * s.H * s.hd;
    for (std::int64_t d = 0; d < s.hd; ++d) o[d] = 0.f;
    for (std::int64_t m = 0; m < s.N; ++m) {
      const float a = A[n * s.N + m] /= sum;
      if (m == n) continue;
      const float* v = base + m * s.row() + 2 * s.H * s.hd;
#pragma omp simd
      for (std::int64_t d = 0; d < s.hd; ++d) o[d] += a * v[d];
    }
  }
}

MODLAB_SIMD_CLONES void backwardHead(const float* base, const float* A, const float* gradOutBase, float* gbase, float* dS,
                                     const Shape& s, float scale) {
  for (std::int64_t n = 0; n < s.N; ++n) {
    const float* dO = gradOutBase + n * s.H * s.hd;
    // dA[n][m] = dO_n . v_m, dV_m += A[n][m] dO_n
    float rowDot = 0.f;
    for (std::int64_t m = 0; m < s.N; ++m) {
      const float a = A[n * s.N + m];
      float dA = 0.f;
      if (m != n) {
        const float* v = base + m * s.row() + 2 * s.H * s.hd;
        float* dV = gbase + m * s.row() + 2 * s.H * s.hd;
#pragma omp simd reduction(+ : dA)
        for (std::int64_t d = 0; d < s.hd; ++d) {
          dA += dO[d] * v[d];
          dV[d] += a * dO[d];
        }
      }
      dS[n * s.N + m] = dA;
      rowDot += a * dA;
    }
    for (std::int64_t m = 0; m < s.N; ++m) dS[n * s.N + m] = A[n * s.N + m] * (dS[n * s.N + m] - rowDot) * scale;
  }
  for (std::int64_t n = 0; n < s.N; ++n) {
    const float* q = base + n * s.row();
    float* dQ = gbase + n * s.row();
    for (std::int64_t m = 0; m < s.N; ++m) {
      if (m == n) continue;
      const float g = dS[n * s.N + m];
      const float* k = base + m * s.row() + s.H * s.hd;
      float* dK = gbase + m * s.row() + s.H * s.hd;
#pragma omp simd
      for (std::int64_t d = 0; d < s.hd; ++d) {
        dQ[d] += g * k[d];
        dK[d] += g * q[d];
      }
    }
  }
}

// qkv (B, N, 3*H*hd) -> out (B, N, H*hd); attention probabilities A (B, H, N, N) saved.
void attentionForward(const float* qkv, float* out, float* probs, const Shape& s, float scale) {
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> logits(static_cast<std::size_t>(s.N));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      forwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * s.N, out + b * s.N * s.H * s.hd + h * s.hd,
                  logits.data(), s, scale);
    }
  });
}

void attentionBackward(const float* qkv, const float* probs, const float* gradOut, float* gradQkv, const Shape& s,
                       float scale) {
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> dS(static_cast<std::size_t>(s.N * s.N));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      backwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * s.N, gradOut + b * s.N * s.H * s.hd + h * s.hd,
                   gradQkv + b * s.N * s.row() + h * s.hd, dS.data(), s, scale);
    }
  });
}

class SelfExcludedAttention : public torch::autograd::Function<SelfExcludedAttention> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& qkv, std::int64_t heads, std::int64_t headDim) {
    const torch::Tensor input = qkv.contiguous();
    const Shape s{input.size(0), input.size(1), heads, headDim};
    const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
    torch::Tensor out = torch::empty({s.B, s.N, s.H * s.hd}, input.options());
    torch::Tensor probs = torch::empty({s.B, s.H, s.N, s.N}, input.options());
    attentionForward(input.data_ptr<float>(), out.data_ptr<float>(), probs.data_ptr<float>(), s, scale);
    ctx->save_for_backward({input, probs});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["head_dim"] = headDim;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& probs = saved[1];
    const Shape s{input.size(0), input.size(1), ctx->saved_data["heads"].toInt(), ctx->saved_data["head_dim"].toInt()};
    const torch::Tensor gradOut = grads[0].contiguous();
    torch::Tensor gradQkv = torch::zeros_like(input);
    attentionBackward(input.data_ptr<float>(), probs.data_ptr<float>(), gradOut.data_ptr<float>(),
                      gradQkv.data_ptr<float>(), s, 1.0f / std::sqrt(static_cast<float>(s.hd)));
    return {gradQkv, torch::Tensor(), torch::Tensor()};
  }
};

// The same computation with torch operations: other devices and dtypes, and the test oracle.
torch::Tensor attentionReference(const torch::Tensor& qkv, std::int64_t heads, std::int64_t headDim) {
  const auto B = qkv.size(0), N = qkv.size(1);
  const torch::Tensor parts = qkv.view({B, N, 3, heads, headDim}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = parts[0] * (1.0 / std::sqrt(static_cast<double>(headDim)));
  const torch::Tensor self = torch::eye(N, qkv.options().dtype(torch::kBool));
  const torch::Tensor logits = torch::matmul(q, parts[1].transpose(-2, -1))
                                   .masked_fill(self, -std::numeric_limits<double>::infinity());
  return torch::matmul(torch::softmax(logits, -1), parts[2]).permute({0, 2, 1, 3}).reshape({B, N, heads * headDim});
}

}  // namespace

torch::Tensor selfExcludedAttention(const torch::Tensor& qkv, std::int64_t heads, std::int64_t headDim,
                                    bool reference) {
  if (reference || !qkv.device().is_cpu() || qkv.scalar_type() != torch::kFloat)
    return attentionReference(qkv, heads, headDim);
  return SelfExcludedAttention::apply(qkv, heads, headDim);
}

}  // namespace modlab
