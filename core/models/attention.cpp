// Multi-head self-attention in which a token never attends to itself, as one autograd
// function with its own forward and backward loops. Over a handful of tokens, torch's
// batched matmul spends most of its time in per-matrix dispatch (B x H tiny products);
// these loops touch every operand once, straight from the fused QKV projection.
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "models/model_parts.h"
#include "models/simd.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Shape {
  std::int64_t B, N, H, hd;
  std::int64_t row() const { return 3 * H * hd; }  // one token's q, k, v
};

// The kernels of one (sample, head) pair, compiled for AVX-512, AVX2 and the baseline.
// Keys and values are transposed into a small buffer padded to kLanes columns, so that
// the loops over the other tokens run as whole vectors (no horizontal reductions).
using namespace simd;

std::int64_t padded(std::int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// t (hd x P) = the rows' columns [offset, offset + hd) transposed, zero beyond N.
void transposeHead(const float* base, std::int64_t offset, const Shape& s, std::int64_t P, float* t) {
  for (std::int64_t d = 0; d < s.hd; ++d)
    for (std::int64_t m = 0; m < P; ++m) t[d * P + m] = m < s.N ? base[m * s.row() + offset + d] : 0.f;
}

// row[0, P) = q . columns of t (hd x P), one block of kLanes keys at a time (in registers).
MODLAB_INLINE void dotColumns(const float* q, const float* t, std::int64_t hd, std::int64_t P, float* row) {
  for (std::int64_t mb = 0; mb < P; mb += kLanes) {
    Floats acc{};
    for (std::int64_t d = 0; d < hd; ++d) acc += q[d] * load(t + d * P + mb);
    store(row + mb, acc);
  }
}

// out[0, hd) = sum over j != skip of w[j * wStride] * rows[j * rowStride + (0, hd)],
// kLanes columns at a time with the sum in registers (written once, never read back).
MODLAB_INLINE void weightedRowSum(const float* w, std::int64_t wStride, const float* rows, std::int64_t rowStride,
                                  std::int64_t count, std::int64_t skip, std::int64_t hd, float* out) {
  std::int64_t db = 0;
  for (; db + kLanes <= hd; db += kLanes) {
    Floats acc{};
    for (std::int64_t j = 0; j < count; ++j)
      if (j != skip) acc += w[j * wStride] * load(rows + j * rowStride + db);
    store(out + db, acc);
  }
  for (; db < hd; ++db) {
    float acc = 0.f;
    for (std::int64_t j = 0; j < count; ++j)
      if (j != skip) acc += w[j * wStride] * rows[j * rowStride + db];
    out[db] = acc;
  }
}

// The attention probabilities A (N x N, self excluded) and the output of every token.
// Workspace: hd * P + P floats.
MODLAB_SIMD_CLONES void forwardHead(const float* base, float* A, float* outBase, float* work, const Shape& s,
                                    float scale) {
  const std::int64_t P = padded(s.N);
  float* kt = work;
  float* row = work + s.hd * P;
  transposeHead(base, s.H * s.hd, s, P, kt);
  const Floats minusInf = splat(-std::numeric_limits<float>::infinity());
  for (std::int64_t n = 0; n < s.N; ++n) {
    dotColumns(base + n * s.row(), kt, s.hd, P, row);
    Floats maxLogit = minusInf;
    for (std::int64_t mb = 0; mb < P; mb += kLanes) {
      const Ints m = kLaneIndex + static_cast<std::int32_t>(mb);
      const Floats logits = (m == static_cast<std::int32_t>(n)) | (m >= static_cast<std::int32_t>(s.N))
                               ? minusInf
                               : load(row + mb) * scale;
      store(row + mb, logits);
      maxLogit = maxLogit > logits ? maxLogit : logits;
    }
    const Floats shift = splat(max(maxLogit));
    Floats total{};
    for (std::int64_t mb = 0; mb < P; mb += kLanes) {
      const Floats e = exp(load(row + mb) - shift);  // masked logits: exp(-inf) = 0
      store(row + mb, e);
      total += e;
    }
    const float rowSum = sum(total);
    float* a = A + n * s.N;
    for (std::int64_t m = 0; m < s.N; ++m) a[m] = row[m] / rowSum;
    weightedRowSum(a, 1, base + 2 * s.H * s.hd, s.row(), s.N, n, s.hd, outBase + n * s.H * s.hd);
  }
}

// Writes every gradient of this head's q, k and v once (no zeroed buffer needed).
// Workspace: hd * P + N * P floats.
MODLAB_SIMD_CLONES void backwardHead(const float* base, const float* A, const float* gradOutBase, float* gbase,
                                     float* work, const Shape& s, float scale) {
  const std::int64_t P = padded(s.N);
  const std::int64_t kOff = s.H * s.hd, vOff = 2 * s.H * s.hd, outRow = s.H * s.hd;
  float* vt = work;
  float* dS = work + s.hd * P;  // N x P: the logits' gradients
  transposeHead(base, vOff, s, P, vt);
  for (std::int64_t n = 0; n < s.N; ++n) {
    // dA[n][m] = dO_n . v_m for every m at once, then the softmax's backward
    float* dSn = dS + n * P;
    const float* An = A + n * s.N;
    dotColumns(gradOutBase + n * outRow, vt, s.hd, P, dSn);
    float rowDot = 0.f;
    for (std::int64_t m = 0; m < s.N; ++m) rowDot += An[m] * dSn[m];
    for (std::int64_t m = 0; m < s.N; ++m) dSn[m] = An[m] * (dSn[m] - rowDot) * scale;
  }
  for (std::int64_t n = 0; n < s.N; ++n) {
    float* g = gbase + n * s.row();
    weightedRowSum(dS + n * P, 1, base + kOff, s.row(), s.N, n, s.hd, g);             // dQ_n = sum_m dS[n][m] k_m
    weightedRowSum(dS + n, P, base, s.row(), s.N, n, s.hd, g + kOff);                  // dK_n = sum_m dS[m][n] q_m
    weightedRowSum(A + n, s.N, gradOutBase, outRow, s.N, n, s.hd, g + vOff);           // dV_n = sum_m A[m][n] dO_m
  }
}

std::size_t workspaceFloats(const Shape& s) {
  return static_cast<std::size_t>((s.hd + std::max<std::int64_t>(s.N, 1)) * padded(s.N));
}

// qkv (B, N, 3*H*hd) -> out (B, N, H*hd); attention probabilities A (B, H, N, N) saved.
void attentionForward(const float* qkv, float* out, float* probs, const Shape& s, float scale) {
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> work(workspaceFloats(s));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      forwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * s.N, out + b * s.N * s.H * s.hd + h * s.hd,
                  work.data(), s, scale);
    }
  });
}

void attentionBackward(const float* qkv, const float* probs, const float* gradOut, float* gradQkv, const Shape& s,
                       float scale) {
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> work(workspaceFloats(s));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      backwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * s.N, gradOut + b * s.N * s.H * s.hd + h * s.hd,
                   gradQkv + b * s.N * s.row() + h * s.hd, work.data(), s, scale);
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
    torch::Tensor gradQkv = torch::empty_like(input);  // every element written by backwardHead
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
