// Multi-head self-attention in which a token never attends to itself, as one autograd
// function with its own forward and backward loops. Over a handful of tokens, torch's
// batched matmul spends most of its time in per-matrix dispatch (B x H tiny products);
// these loops touch every operand once, straight from the fused QKV projection.
#include <cmath>
#include <cstring>
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

// The kernels of one (sample, head) pair, on blocks of kBlock = 16 lanes F: one 64-byte vector on
// AVX-512, a FloatPack of two (AVX2) or four (baseline) native vectors, as the LSTM and row
// kernels (a 64-byte vector on AVX2 is spilled to the stack at every step; a block of several
// native vectors also gives each loop independent chains of additions). Lanes run over the
// query tokens n: the queries (forward) or the output gradients (backward) are transposed into
// a buffer padded to kBlock columns, and the probabilities are kept transposed (At[m][n] =
// A[n][m]), so the softmax and its backward reduce over the keys m vertically, lane by lane,
// with no horizontal reductions. Every lane computes its value alone, so the width does not
// change a bit (AVX-512 alone fuses multiply-adds, as it always did): only the head dimension's
// first whole blocks of kBlock columns are vectorised, at any width.
constexpr std::int64_t kBlock = simd::kLanes;
using simd::exp;
using simd::select;

std::int64_t padded(std::int64_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

template <class F, class I>
struct Head {
  static MODLAB_INLINE F load(const float* p) { return simd::loadAs<F>(p); }
  static MODLAB_INLINE void store(float* p, const F& v) { simd::storeAs(p, v); }
  static MODLAB_INLINE F splat(float v) { return F{} + v; }

  // t (hd x P) = the first hd columns of N rows (rowStride apart), transposed, times `factor`, zero beyond N.
  static MODLAB_INLINE void transposeRows(const float* rows, std::int64_t rowStride, std::int64_t N, std::int64_t hd,
                                          std::int64_t P, float factor, float* t) {
    for (std::int64_t d = 0; d < hd; ++d) {
      float* td = t + d * P;
      for (std::int64_t n = 0; n < N; ++n) td[n] = rows[n * rowStride + d] * factor;
      for (std::int64_t n = N; n < P; ++n) td[n] = 0.f;
    }
  }

  // out[m * P + n] = sum_d t[d * P + n] * rows[m * rowStride + d], for all m < N and n < P:
  // the products of every row with the transposed columns, four rows at a time.
  static MODLAB_INLINE void rowsTimesColumns(const float* t, const float* rows, std::int64_t rowStride, std::int64_t N,
                                             std::int64_t hd, std::int64_t P, float* out) {
    for (std::int64_t nb = 0; nb < P; nb += kBlock) {
      std::int64_t m = 0;
      for (; m + 4 <= N; m += 4) {
        const float* r0 = rows + m * rowStride;
        F a0{}, a1{}, a2{}, a3{};
        for (std::int64_t d = 0; d < hd; ++d) {
          const F c = load(t + d * P + nb);
          a0 += c * r0[d];
          a1 += c * r0[rowStride + d];
          a2 += c * r0[2 * rowStride + d];
          a3 += c * r0[3 * rowStride + d];
        }
        store(out + m * P + nb, a0);
        store(out + (m + 1) * P + nb, a1);
        store(out + (m + 2) * P + nb, a2);
        store(out + (m + 3) * P + nb, a3);
      }
      for (; m < N; ++m) {
        F a{};
        for (std::int64_t d = 0; d < hd; ++d) a += load(t + d * P + nb) * rows[m * rowStride + d];
        store(out + m * P + nb, a);
      }
    }
  }

  // out[0, hd) = sum_j w[j * wStride] * rows[j * rowStride + (0, hd)]: the whole blocks of kBlock
  // columns in vectors (even and odd j in two sums), the rest one column at a time.
  static MODLAB_INLINE void weightedRows(const float* w, std::int64_t wStride, const float* rows, std::int64_t rowStride,
                                         std::int64_t count, std::int64_t hd, float* out) {
    const std::int64_t vectorised = hd / kBlock * kBlock;
    for (std::int64_t db = 0; db < vectorised; db += kBlock) {
      F a0{}, a1{};
      std::int64_t j = 0;
      for (; j + 2 <= count; j += 2) {
        a0 += w[j * wStride] * load(rows + j * rowStride + db);
        a1 += w[(j + 1) * wStride] * load(rows + (j + 1) * rowStride + db);
      }
      if (j < count) a0 += w[j * wStride] * load(rows + j * rowStride + db);
      store(out + db, a0 + a1);
    }
    for (std::int64_t db = vectorised; db < hd; ++db) {
      float acc = 0.f;
      for (std::int64_t j = 0; j < count; ++j) acc += w[j * wStride] * rows[j * rowStride + db];
      out[db] = acc;
    }
  }

  // Forward of one (sample, head): At (N x P, At[m][n] = A[n][m], self and padding 0) and every
  // token's output. Workspace: hd * P floats.
  static MODLAB_INLINE void forward(const float* base, float* At, float* outBase, float* work, const Shape& s,
                                    float scale) {
    const std::int64_t P = padded(s.N), row = s.row();
    float* qt = work;
    transposeRows(base, row, s.N, s.hd, P, scale, qt);
    rowsTimesColumns(qt, base + s.H * s.hd, row, s.N, s.hd, P, At);  // logits, At[m][n] = q_n . k_m
    const F minusInf = splat(-std::numeric_limits<float>::infinity());
    const I lane = simd::laneIndices<I>();  // n - nb
    for (std::int64_t nb = 0; nb < P; nb += kBlock) {
      F top = minusInf;
      for (std::int64_t m = 0; m < s.N; ++m) {
        const F logits = select(lane == static_cast<std::int32_t>(m - nb), minusInf, load(At + m * P + nb));
        store(At + m * P + nb, logits);
        top = select(top > logits, top, logits);
      }
      F total{};
      for (std::int64_t m = 0; m < s.N; ++m) {
        const F e = exp(load(At + m * P + nb) - top);  // exp(-inf) = 0 on the diagonal
        store(At + m * P + nb, e);
        total += e;
      }
      const F inverse = select(lane < static_cast<std::int32_t>(s.N - nb), 1.0f / total, F{});
      for (std::int64_t m = 0; m < s.N; ++m) store(At + m * P + nb, load(At + m * P + nb) * inverse);
    }
    for (std::int64_t n = 0; n < s.N; ++n)
      weightedRows(At + n, P, base + 2 * s.H * s.hd, row, s.N, s.hd, outBase + n * s.H * s.hd);
  }

  // Backward of one (sample, head): writes every gradient of its q, k and v once.
  // Workspace: hd * P + N * P floats.
  static MODLAB_INLINE void backward(const float* base, const float* At, const float* gradOutBase, float* gbase,
                                     float* work, const Shape& s, float scale) {
    const std::int64_t P = padded(s.N), row = s.row(), outRow = s.H * s.hd;
    const std::int64_t kOff = s.H * s.hd, vOff = 2 * s.H * s.hd;
    float* dot = work;               // hd x P: dO transposed
    float* dSt = work + s.hd * P;    // N x P: dSt[m][n] = dLogits[n][m]
    transposeRows(gradOutBase, outRow, s.N, s.hd, P, 1.0f, dot);
    rowsTimesColumns(dot, base + vOff, row, s.N, s.hd, P, dSt);  // dA[n][m] = dO_n . v_m
    for (std::int64_t nb = 0; nb < P; nb += kBlock) {
      F rowDot{};
      for (std::int64_t m = 0; m < s.N; ++m) rowDot += load(At + m * P + nb) * load(dSt + m * P + nb);
      for (std::int64_t m = 0; m < s.N; ++m)
        store(dSt + m * P + nb, load(At + m * P + nb) * (load(dSt + m * P + nb) - rowDot) * scale);
    }
    for (std::int64_t n = 0; n < s.N; ++n) {
      float* g = gbase + n * row;
      weightedRows(dSt + n, P, base + kOff, row, s.N, s.hd, g);                 // dQ_n = sum_m dS[n][m] k_m
      weightedRows(dSt + n * P, 1, base, row, s.N, s.hd, g + kOff);            // dK_n = sum_m dS[m][n] q_m
      weightedRows(At + n * P, 1, gradOutBase, outRow, s.N, s.hd, g + vOff);   // dV_n = sum_m A[m][n] dO_m
    }
  }
};

// One function per target, each with its width; chosen once for this CPU (as target_clones would).
#define MODLAB_HEAD_KERNELS(target, name, F, I)                                                                       \
  target void forward##name(const float* base, float* At, float* out, float* work, const Shape& s, float scale) {     \
    Head<F, I>::forward(base, At, out, work, s, scale);                                                               \
  }                                                                                                                   \
  target void backward##name(const float* base, const float* At, const float* gradOut, float* g, float* work,         \
                             const Shape& s, float scale) {                                                           \
    Head<F, I>::backward(base, At, gradOut, g, work, s, scale);                                                       \
  }
MODLAB_HEAD_KERNELS(MODLAB_TARGET_AVX512, Avx512, simd::Floats, simd::Ints)
MODLAB_HEAD_KERNELS(MODLAB_TARGET_AVX2, Avx2, simd::FloatPack<8>, simd::IntPack<8>)
MODLAB_HEAD_KERNELS(, Baseline, simd::FloatPack<4>, simd::IntPack<4>)
#undef MODLAB_HEAD_KERNELS

using ForwardHead = void (*)(const float*, float*, float*, float*, const Shape&, float);
using BackwardHead = void (*)(const float*, const float*, const float*, float*, float*, const Shape&, float);

struct HeadKernels {
  ForwardHead forwardHead;
  BackwardHead backwardHead;
};

const HeadKernels& headKernels() {
  static const HeadKernels avx512{forwardAvx512, backwardAvx512}, avx2{forwardAvx2, backwardAvx2},
      baseline{forwardBaseline, backwardBaseline};
  return simd::forThisCpu(avx512, avx2, baseline);
}

// Asks the cache for `count` rows of `width` floats, `stride` apart: the next pair's slices of
// q, k, v and of the output (or of their gradients, and its probabilities). Each (sample, head) reads its own cache lines, 3N of them a
// row's length apart, which the hardware prefetchers do not foresee: without this, the loops
// wait on memory at every row (changes no value).
void prefetchRows(const float* first, std::int64_t count, std::int64_t stride, std::int64_t width) {
  constexpr std::int64_t kLine = 64 / sizeof(float);
  for (std::int64_t r = 0; r < count; ++r) {
    const float* row = first + r * stride;
    for (std::int64_t j = 0; j < width; j += kLine) __builtin_prefetch(row + j);
    __builtin_prefetch(row + width - 1);  // a slice that starts inside a line ends in the next
  }
}

// Pair bh = b * H + h's slices of q, k and v (or of their gradients), and its rows of the
// output (or of its gradient).
void prefetchQkv(const float* qkv, std::int64_t bh, const Shape& s) {
  const std::int64_t b = bh / s.H, h = bh % s.H;
  for (std::int64_t part = 0; part < 3; ++part)
    prefetchRows(qkv + b * s.N * s.row() + part * s.H * s.hd + h * s.hd, s.N, s.row(), s.hd);
}
void prefetchOut(const float* out, std::int64_t bh, const Shape& s) {
  const std::int64_t b = bh / s.H, h = bh % s.H;
  prefetchRows(out + b * s.N * s.H * s.hd + h * s.hd, s.N, s.H * s.hd, s.hd);
}

std::size_t workspaceFloats(const Shape& s) {
  return static_cast<std::size_t>((s.hd + std::max<std::int64_t>(s.N, 1)) * padded(s.N));
}

// qkv (B, N, 3*H*hd) -> out (B, N, H*hd); the probabilities saved transposed, At (B, H, N, P).
void attentionForward(const float* qkv, float* out, float* probs, const Shape& s, float scale) {
  const ForwardHead forwardHead = headKernels().forwardHead;
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> work(workspaceFloats(s));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      if (bh + 1 < end) {
        prefetchQkv(qkv, bh + 1, s);
        prefetchOut(out, bh + 1, s);
      }
      forwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * padded(s.N), out + b * s.N * s.H * s.hd + h * s.hd,
                  work.data(), s, scale);
    }
  });
}

void attentionBackward(const float* qkv, const float* probs, const float* gradOut, float* gradQkv, const Shape& s,
                       float scale) {
  const BackwardHead backwardHead = headKernels().backwardHead;
  at::parallel_for(0, s.B * s.H, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> work(workspaceFloats(s));
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / s.H, h = bh % s.H;
      if (bh + 1 < end) {
        prefetchQkv(qkv, bh + 1, s);
        prefetchQkv(gradQkv, bh + 1, s);
        prefetchOut(gradOut, bh + 1, s);
        prefetchRows(probs + (bh + 1) * s.N * padded(s.N), 1, 0, s.N * padded(s.N));
      }
      backwardHead(qkv + b * s.N * s.row() + h * s.hd, probs + bh * s.N * padded(s.N), gradOut + b * s.N * s.H * s.hd + h * s.hd,
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
    torch::Tensor probs = torch::empty({s.B, s.H, s.N, padded(s.N)}, input.options());
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
