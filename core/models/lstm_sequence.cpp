// LSTM recurrences without per-step autograd: torch's LSTMCell (and the group cell's torch
// formulation) spend as much time in a dozen element-wise operations per step, forward and
// backward, as in their GEMMs. Here a step is its GEMMs and one loop over 16-float vectors for
// the gates. Memory bandwidth (about 10 GB/s for one core, measured on the development machine)
// shapes the rest: each step's input projection and weight-gradient GEMMs run while the step's
// gates are in cache, and only what the backward must read is stored.
#include "models/lstm_sequence.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/row_ops.h"
#include "models/simd.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
using namespace simd;

// One step's plain data.
// One step's rows, all row-major with B rows: pre-activations (R * 4H per row), the mixing
// weights p (R), the mixed state (H).
struct GroupStep {
  std::int64_t B, R, H;
  const float* preX;   // x_t W_x, or the whole pre-activation when preH is null
  const float* preH;   // h_{t-1} W_h (scored mixing), or null
  float* act;          // the gates' activations (may be preX itself when preH is null)
  float* p;            // the mixing weights: read, or written when scorer is set
  const float* scorer; // the scorer's weights (R, 8H), or null
  const float* cPrev;  // c_{t-1}, null at t = 0
  float *h, *c;        // outputs: the mixed h_t and c_t
  std::int64_t gates() const { return 4 * H; }
};

// One step back for every row. dG gets the gates' gradients (R * 4H per row); with a scorer it
// becomes dP_x and dPh gets dP_h (they differ by the scorer's terms), and the scorer's gradient is
// added to dScorer (R, 8H); without, dp gets the gradient of the mixing weights (R per row).
struct GroupStepBack {
  GroupStep forward;     // the step's saved activations, mixing weights, c_{t-1} and pre-activations
  const float* dOut;     // dL/dh_t from the outputs
  const float* dhNext;   // dL/dh_t through step t+1, or null at the last step
  const float* dpOut;    // dL/dp_t from the outputs (scored mixing), or null
  const float* dcIn;     // dL/dc_t through step t+1
  float* dcOut;          // dL/dc_{t-1}
  float *dG, *dPh, *dp, *dScorer;
};

// One step's rows sorted by module (sortByModule, row_ops.h): sorted position k holds row order[k]; module
// m's rows are the positions starts[m] to starts[m + 1].
struct ModuleOrder {
  const std::int64_t *order, *starts;
  std::int64_t rows(std::int64_t m) const { return starts[m + 1] - starts[m]; }
};

// The kernels, written once for 16 lanes of Floats / Ints: the native 64-byte vectors
// (AVX-512) or FloatPack / IntPack (AVX2, baseline), chosen once for the CPU (kernels()).
template <class Floats, class Ints>
struct LstmKernels {
  // ---- Chunks: a row of n floats is covered by 16-lane chunks. A chunk's own lanes are those no
  // earlier chunk covered; loads read all 16 lanes, stores write only the own ones, own(v) zeroes
  // the others (for sums). Rows of at least 16 floats end with a chunk that overlaps the previous
  // one, so every load and store stays one vector instruction inside the row.

  struct Whole {
    MODLAB_INLINE Floats load(const float* p) const { return loadAs<Floats>(p); }
    MODLAB_INLINE void store(float* p, const Floats& v) const { storeAs(p, v); }
    MODLAB_INLINE Floats own(const Floats& v) const { return v; }
  };

  struct Overlapping {  // the last 16 floats of a row: the lanes before 16 - fresh are done
    Ints mine;
    MODLAB_INLINE Floats load(const float* p) const { return Whole{}.load(p); }
    MODLAB_INLINE void store(float* p, const Floats& v) const { Whole{}.store(p, select(mine, v, Whole{}.load(p))); }
    MODLAB_INLINE Floats own(const Floats& v) const { return select(mine, v, Floats{}); }
  };

  struct Short {  // a whole row of fewer than 16 floats
    std::int64_t n;
    Ints mine;
    MODLAB_INLINE Floats load(const float* p) const {
      Floats v{};
      std::memcpy(&v, p, sizeof(float) * static_cast<std::size_t>(n));
      return v;
    }
    MODLAB_INLINE void store(float* p, const Floats& v) const {
      std::memcpy(p, &v, sizeof(float) * static_cast<std::size_t>(n));
    }
    MODLAB_INLINE Floats own(const Floats& v) const { return select(mine, v, Floats{}); }
  };

  // Calls chunk(j, span) for the chunks of a row of n floats, j the chunk's first float.
  template <typename Chunk>
  static MODLAB_INLINE void forChunks(std::int64_t n, Chunk&& chunk) {
    if (n < kLanes) {
      chunk(0, Short{n, laneIndices<Ints>() < static_cast<std::int32_t>(n)});
      return;
    }
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) chunk(j, Whole{});
    if (j < n) chunk(n - kLanes, Overlapping{laneIndices<Ints>() >= static_cast<std::int32_t>(kLanes - (n - j))});
  }

  // ---- One LSTM (torch::nn::LSTMCell: gates i, f, g, o).

  // One step's gates for every row: the pre-activations (i, f, g, o) in `gates` (B, 4H), plus the
  // bias (4H), become their activations; writes c_t and h_t (B, H). cPrev is null at t = 0 (c_0 = 0).
  static MODLAB_INLINE void lstmForward(float* gates, const float* bias, const float* cPrev, float* c, float* h, std::int64_t B,
                   std::int64_t H) {
    for (std::int64_t b = 0; b < B; ++b) {
      float* a = gates + b * 4 * H;
      const std::int64_t row = b * H;
      forChunks(H, [&](std::int64_t j, const auto& s) MODLAB_INLINE_LAMBDA {
        auto pre = [&](std::int64_t gate) MODLAB_INLINE_LAMBDA {
          return s.load(a + gate * H + j) + s.load(bias + gate * H + j);
        };
        const Floats i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = tanh(pre(2)), o = sigmoid(pre(3));
        const Floats cell = cPrev ? f * s.load(cPrev + row + j) + i * g : i * g;
        const Floats tc = tanh(cell);
        s.store(a + j, i);
        s.store(a + H + j, f);
        s.store(a + 2 * H + j, g);
        s.store(a + 3 * H + j, o);
        s.store(c + row + j, cell);
        s.store(h + row + j, o * tc);
      });
    }
  }

  // One step back: dG_t (B, 4H) from the step's activations and c_t, dh_t = dOut_t + dhNext (dhNext
  // from step t+1, null at the last step) and dc carried in `dc` (from step t+1 in, to step t-1
  // out); dG_t's rows are added to dBias (4H).
  static MODLAB_INLINE void lstmBackward(const float* act, const float* cPrev, const float* c, const float* dOut, const float* dhNext,
                    float* dc, float* dG, float* dBias, std::int64_t B, std::int64_t H) {
    for (std::int64_t b = 0; b < B; ++b) {
      const float* a = act + b * 4 * H;
      float* d = dG + b * 4 * H;
      const std::int64_t row = b * H;
      forChunks(H, [&](std::int64_t j, const auto& s) MODLAB_INLINE_LAMBDA {
        const Floats i = s.load(a + j), f = s.load(a + H + j), g = s.load(a + 2 * H + j), o = s.load(a + 3 * H + j);
        const Floats tc = tanh(s.load(c + row + j));
        const Floats dh = dhNext ? s.load(dOut + row + j) + s.load(dhNext + row + j) : s.load(dOut + row + j);
        const Floats dcell = s.load(dc + row + j) + dh * o * (1.0f - tc * tc);
        const Floats cp = cPrev ? s.load(cPrev + row + j) : Floats{};
        const Floats grads[4] = {dcell * g * i * (1.0f - i), dcell * cp * f * (1.0f - f), dcell * i * (1.0f - g * g),
                                 dh * tc * o * (1.0f - o)};
        for (std::int64_t gate = 0; gate < 4; ++gate) {
          s.store(d + gate * H + j, grads[gate]);
          s.store(dBias + gate * H + j, s.load(dBias + gate * H + j) + s.own(grads[gate]));
        }
        s.store(dc + row + j, dcell * f);
      });
    }
  }

  // ---- R LSTM cells sharing one state, mixed by p (GroupLstmCell: gates i, f, o, g per module).


  // score_m = sum_k relu([P_x]_m || [P_h]_m)_k w_mk, then p = softmax over modules.
  static MODLAB_INLINE void scoreRow(const GroupStep& s, std::int64_t b, float* scores) {
    const std::int64_t G = s.gates();
    float top = -INFINITY;
    for (std::int64_t m = 0; m < s.R; ++m) {
      const float *px = s.preX + (b * s.R + m) * G, *ph = s.preH + (b * s.R + m) * G, *w = s.scorer + m * 2 * G;
      Floats acc{};
      forChunks(G, [&](std::int64_t j, const auto& span) MODLAB_INLINE_LAMBDA {
        acc += span.own(relu(span.load(px + j)) * span.load(w + j) + relu(span.load(ph + j)) * span.load(w + G + j));
      });
      scores[m] = sum(acc);
      top = std::max(top, scores[m]);
    }
    float total = 0.0f;
    for (std::int64_t m = 0; m < s.R; ++m) total += scores[m] = std::exp(scores[m] - top);
    for (std::int64_t m = 0; m < s.R; ++m) s.p[b * s.R + m] = scores[m] / total;
  }

  static MODLAB_INLINE void groupForward(const GroupStep& s) {
    const std::int64_t G = s.gates(), H = s.H;
    std::vector<float> scores(static_cast<std::size_t>(s.R));
    for (std::int64_t b = 0; b < s.B; ++b) {
      if (s.scorer) scoreRow(s, b, scores.data());
      float *h = s.h + b * H, *c = s.c + b * H;
      const float* cPrev = s.cPrev ? s.cPrev + b * H : nullptr;
      std::fill(h, h + H, 0.0f);
      std::fill(c, c + H, 0.0f);
      for (std::int64_t m = 0; m < s.R; ++m) {
        const std::int64_t at = (b * s.R + m) * G;
        const float pm = s.p[b * s.R + m];
        forChunks(H, [&](std::int64_t j, const auto& span) MODLAB_INLINE_LAMBDA {
          auto pre = [&](std::int64_t gate) MODLAB_INLINE_LAMBDA {
            const std::int64_t k = at + gate * H + j;
            return s.preH ? span.load(s.preX + k) + span.load(s.preH + k) : span.load(s.preX + k);
          };
          const Floats i = sigmoid(pre(0)), f = sigmoid(pre(1)), o = sigmoid(pre(2)), g = tanh(pre(3));
          span.store(s.act + at + j, i);
          span.store(s.act + at + H + j, f);
          span.store(s.act + at + 2 * H + j, o);
          span.store(s.act + at + 3 * H + j, g);
          const Floats cm = cPrev ? f * span.load(cPrev + j) + i * g : i * g;
          span.store(h + j, span.load(h + j) + span.own(pm * (o * tanh(cm))));
          span.store(c + j, span.load(c + j) + span.own(pm * cm));
        });
      }
    }
  }


  // The rows' scorer terms: ds = p (dp - <p, dp>), dP_x += ds_m w_m [P_x > 0] and the same for P_h.
  static MODLAB_INLINE void scorerBackRow(const GroupStepBack& s, std::int64_t b, const float* dpRow) {
    const GroupStep& f = s.forward;
    const std::int64_t G = f.gates();
    const float* p = f.p + b * f.R;
    float mean = 0.0f;
    for (std::int64_t m = 0; m < f.R; ++m) mean += p[m] * dpRow[m];
    for (std::int64_t m = 0; m < f.R; ++m) {
      const float ds = p[m] * (dpRow[m] - mean);
      const std::int64_t at = (b * f.R + m) * G;
      const float* w = f.scorer + m * 2 * G;
      float* dw = s.dScorer + m * 2 * G;
      forChunks(G, [&](std::int64_t j, const auto& span) MODLAB_INLINE_LAMBDA {
        const Floats px = span.load(f.preX + at + j), ph = span.load(f.preH + at + j), dg = span.load(s.dG + at + j);
        span.store(s.dG + at + j, dg + select(px > 0.0f, ds * span.load(w + j), Floats{}));
        span.store(s.dPh + at + j, dg + select(ph > 0.0f, ds * span.load(w + G + j), Floats{}));
        span.store(dw + j, span.load(dw + j) + span.own(ds * relu(px)));
        span.store(dw + G + j, span.load(dw + G + j) + span.own(ds * relu(ph)));
      });
    }
  }

  static MODLAB_INLINE void groupBackward(const GroupStepBack& s) {
    const GroupStep& f = s.forward;
    const std::int64_t G = f.gates(), H = f.H;
    std::vector<float> dpRow(static_cast<std::size_t>(f.R));
    for (std::int64_t b = 0; b < f.B; ++b) {
      const float *dOut = s.dOut + b * H, *dhNext = s.dhNext ? s.dhNext + b * H : nullptr, *dcIn = s.dcIn + b * H;
      const float* cPrev = f.cPrev ? f.cPrev + b * H : nullptr;
      float* dcOut = s.dcOut + b * H;
      std::fill(dcOut, dcOut + H, 0.0f);
      for (std::int64_t m = 0; m < f.R; ++m) {
        const std::int64_t at = (b * f.R + m) * G;
        const float pm = f.p[b * f.R + m];
        Floats dp{};
        forChunks(H, [&](std::int64_t j, const auto& span) MODLAB_INLINE_LAMBDA {
          const float* a = f.act + at + j;
          const Floats i = span.load(a), fg = span.load(a + H), o = span.load(a + 2 * H), g = span.load(a + 3 * H);
          const Floats cp = cPrev ? span.load(cPrev + j) : Floats{};
          const Floats cm = fg * cp + i * g, tc = tanh(cm), hm = o * tc;
          const Floats dh = dhNext ? span.load(dOut + j) + span.load(dhNext + j) : span.load(dOut + j);
          const Floats dc = span.load(dcIn + j);
          dp += span.own(dh * hm + dc * cm);
          const Floats dhm = pm * dh, dcm = pm * dc + dhm * o * (1.0f - tc * tc);
          float* d = s.dG + at + j;
          span.store(d, dcm * g * i * (1.0f - i));
          span.store(d + H, dcm * cp * fg * (1.0f - fg));
          span.store(d + 2 * H, dhm * tc * o * (1.0f - o));
          span.store(d + 3 * H, dcm * i * (1.0f - g * g));
          span.store(dcOut + j, span.load(dcOut + j) + span.own(dcm * fg));
        });
        dpRow[m] = sum(dp) + (s.dpOut ? s.dpOut[b * f.R + m] : 0.0f);
      }
      if (f.scorer)
        scorerBackRow(s, b, dpRow.data());
      else
        std::copy(dpRow.begin(), dpRow.end(), s.dp + b * f.R);
    }
  }

  // ---- GT-Modular: each row runs only its module's cell (gates i, f, o, g), the rows of one
  // step sorted by module so that each module's products are one GEMM over its rows.


  // The sorted rows' pre-activations (B, 4H) become their gates' activations, in place; c_t and h_t
  // are written to each row's own place (order[k]). cPrev is null at t = 0 (c_0 = 0).
  static MODLAB_INLINE void routedForward(float* gates, const std::int64_t* order, const float* cPrev, float* c, float* h, std::int64_t B,
                     std::int64_t H) {
    for (std::int64_t k = 0; k < B; ++k) {
      float* a = gates + k * 4 * H;
      const std::int64_t row = order[k] * H;
      forChunks(H, [&](std::int64_t j, const auto& s) MODLAB_INLINE_LAMBDA {
        const Floats i = sigmoid(s.load(a + j)), f = sigmoid(s.load(a + H + j)), o = sigmoid(s.load(a + 2 * H + j)),
                     g = tanh(s.load(a + 3 * H + j));
        const Floats cell = cPrev ? f * s.load(cPrev + row + j) + i * g : i * g;
        s.store(a + j, i);
        s.store(a + H + j, f);
        s.store(a + 2 * H + j, o);
        s.store(a + 3 * H + j, g);
        s.store(c + row + j, cell);
        s.store(h + row + j, o * tanh(cell));
      });
    }
  }

  // One step back for the sorted rows: dG (B, 4H, sorted) from the activations, c_t and c_{t-1}
  // (rows in place, cPrev null at t = 0), dh_t = dOut_t + dhNext (null at the last step) and dc_t;
  // dcOut gets dc_{t-1}.
  static MODLAB_INLINE void routedBackward(const float* act, const std::int64_t* order, const float* cPrev, const float* c,
                      const float* dOut, const float* dhNext, const float* dcIn, float* dcOut, float* dG,
                      std::int64_t B, std::int64_t H) {
    for (std::int64_t k = 0; k < B; ++k) {
      const float* a = act + k * 4 * H;
      float* d = dG + k * 4 * H;
      const std::int64_t row = order[k] * H;
      forChunks(H, [&](std::int64_t j, const auto& s) MODLAB_INLINE_LAMBDA {
        const Floats i = s.load(a + j), f = s.load(a + H + j), o = s.load(a + 2 * H + j), g = s.load(a + 3 * H + j);
        const Floats tc = tanh(s.load(c + row + j)), cp = cPrev ? s.load(cPrev + row + j) : Floats{};
        const Floats dh = dhNext ? s.load(dOut + row + j) + s.load(dhNext + row + j) : s.load(dOut + row + j);
        const Floats dcell = s.load(dcIn + row + j) + dh * o * (1.0f - tc * tc);
        s.store(d + j, dcell * g * i * (1.0f - i));
        s.store(d + H + j, dcell * cp * f * (1.0f - f));
        s.store(d + 2 * H + j, dh * tc * o * (1.0f - o));
        s.store(d + 3 * H + j, dcell * i * (1.0f - g * g));
        s.store(dcOut + row + j, dcell * f);
      });
    }
  }

};

// One function per target, each with its lanes' type; chosen once for this CPU.
#define MODLAB_LSTM_KERNELS(target, name, F, I)                                                                        \
  target void lstmForward##name(float* gates, const float* bias, const float* cPrev, float* c, float* h,               \
                                std::int64_t B, std::int64_t H) {                                                      \
    LstmKernels<F, I>::lstmForward(gates, bias, cPrev, c, h, B, H);                                                    \
  }                                                                                                                    \
  target void lstmBackward##name(const float* act, const float* cPrev, const float* c, const float* dOut,             \
                                 const float* dhNext, float* dc, float* dG, float* dBias, std::int64_t B,              \
                                 std::int64_t H) {                                                                     \
    LstmKernels<F, I>::lstmBackward(act, cPrev, c, dOut, dhNext, dc, dG, dBias, B, H);                                 \
  }                                                                                                                    \
  target void groupForward##name(const GroupStep& s) { LstmKernels<F, I>::groupForward(s); }                          \
  target void groupBackward##name(const GroupStepBack& s) { LstmKernels<F, I>::groupBackward(s); }                    \
  target void routedForward##name(float* gates, const std::int64_t* order, const float* cPrev, float* c, float* h,     \
                                  std::int64_t B, std::int64_t H) {                                                    \
    LstmKernels<F, I>::routedForward(gates, order, cPrev, c, h, B, H);                                                 \
  }                                                                                                                    \
  target void routedBackward##name(const float* act, const std::int64_t* order, const float* cPrev, const float* c,   \
                                   const float* dOut, const float* dhNext, const float* dcIn, float* dcOut, float* dG, \
                                   std::int64_t B, std::int64_t H) {                                                   \
    LstmKernels<F, I>::routedBackward(act, order, cPrev, c, dOut, dhNext, dcIn, dcOut, dG, B, H);                      \
  }
MODLAB_LSTM_KERNELS(MODLAB_TARGET_AVX512, Avx512, Floats, Ints)
MODLAB_LSTM_KERNELS(MODLAB_TARGET_AVX2, Avx2, FloatPack<8>, IntPack<8>)
MODLAB_LSTM_KERNELS(, Baseline, FloatPack<4>, IntPack<4>)
#undef MODLAB_LSTM_KERNELS

struct Kernels {
  decltype(&lstmForwardBaseline) lstmForward;
  decltype(&lstmBackwardBaseline) lstmBackward;
  decltype(&groupForwardBaseline) groupForward;
  decltype(&groupBackwardBaseline) groupBackward;
  decltype(&routedForwardBaseline) routedForward;
  decltype(&routedBackwardBaseline) routedBackward;
};

const Kernels& kernels() {
  static const Kernels avx512{lstmForwardAvx512, lstmBackwardAvx512, groupForwardAvx512,
                              groupBackwardAvx512, routedForwardAvx512, routedBackwardAvx512};
  static const Kernels avx2{lstmForwardAvx2, lstmBackwardAvx2, groupForwardAvx2,
                            groupBackwardAvx2, routedForwardAvx2, routedBackwardAvx2};
  static const Kernels baseline{lstmForwardBaseline, lstmBackwardBaseline, groupForwardBaseline,
                                groupBackwardBaseline, routedForwardBaseline, routedBackwardBaseline};
  return forThisCpu(avx512, avx2, baseline);
}

// ---- The autograd functions.

float* stepOf(const torch::Tensor& t, std::int64_t n) { return t.select(0, n).data_ptr<float>(); }
const float* maybeStepOf(const torch::Tensor& t, std::int64_t n, bool present) {
  return present ? stepOf(t, n) : nullptr;
}

class LstmSequence : public torch::autograd::Function<LstmSequence> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weightIh,
                               const torch::Tensor& weightHh, const torch::Tensor& biasIh, const torch::Tensor& biasHh) {
    const torch::Tensor x = input.contiguous();
    const std::int64_t N = x.size(0), B = x.size(1), H = weightHh.size(1);
    // Each step's pre-activations x_t W_ih^T + h_{t-1} W_hh^T (N, B, 4H), activated in place.
    const torch::Tensor gates = torch::empty({N, B, 4 * H}, x.options()), bias = biasIh + biasHh;
    const torch::Tensor c = torch::empty({N, B, H}, x.options()), h = torch::empty_like(c);
    for (std::int64_t t = 0; t < N; ++t) {
      torch::Tensor step = gates.select(0, t);
      torch::mm_out(step, x.select(0, t), weightIh.t());
      if (t > 0) torch::addmm_out(step, step, h.select(0, t - 1), weightHh.t());
      kernels().lstmForward(step.data_ptr<float>(), bias.data_ptr<float>(), maybeStepOf(c, t - 1, t > 0), stepOf(c, t),
                  stepOf(h, t), B, H);
    }
    ctx->save_for_backward({x, weightIh, weightHh, gates, c, h});
    return h;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weightIh = saved[1], &weightHh = saved[2], &gates = saved[3], &c = saved[4],
                        &h = saved[5];
    const std::int64_t N = x.size(0), B = x.size(1), H = weightHh.size(1);
    const torch::Tensor dOut = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(h);
    const torch::Tensor dG = torch::empty({B, 4 * H}, x.options());  // one step's, reused
    const torch::Tensor dc = torch::zeros({B, H}, x.options());
    torch::Tensor dhNext = torch::empty_like(dc), dx = torch::empty_like(x);
    torch::Tensor dWeightIh = torch::zeros_like(weightIh), dWeightHh = torch::zeros_like(weightHh);
    const torch::Tensor dBias = torch::zeros({4 * H}, x.options());
    for (std::int64_t t = N - 1; t >= 0; --t) {
      kernels().lstmBackward(stepOf(gates, t), maybeStepOf(c, t - 1, t > 0), stepOf(c, t), stepOf(dOut, t),
                   t < N - 1 ? dhNext.data_ptr<float>() : nullptr, dc.data_ptr<float>(), dG.data_ptr<float>(),
                   dBias.data_ptr<float>(), B, H);
      torch::Tensor dxStep = dx.select(0, t);
      torch::mm_out(dxStep, dG, weightIh);
      torch::addmm_out(dWeightIh, dWeightIh, dG.t(), x.select(0, t));
      if (t > 0) {  // h_0 = 0: no W_hh term at step 0
        torch::addmm_out(dWeightHh, dWeightHh, dG.t(), h.select(0, t - 1));
        torch::mm_out(dhNext, dG, weightHh);
      }
    }
    return {dx, dWeightIh, dWeightHh, dBias, dBias};
  }
};

// The group cell over a sequence. Mixing weights given (Modular-op): inputs (x, W_x, W_h, p),
// output h. Scored (Modular): inputs (x, W_x, W_h, scorer weight), outputs (h, p).
template <bool Scored>
class GroupLstmSequence : public torch::autograd::Function<GroupLstmSequence<Scored>> {
public:
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weightX,
                             const torch::Tensor& weightH, const torch::Tensor& mixing) {
    const torch::Tensor x = input.contiguous(), mix = mixing.contiguous();
    const std::int64_t N = x.size(0), B = x.size(1), H = weightH.size(0);
    const std::int64_t R = weightH.size(1) / (4 * H), RG = R * 4 * H;
    // Each step's P_x = x_t W_x (N, B, R*4H). Scored: P_h = h_{t-1} W_h kept apart for the scorer,
    // the activations apart from both. Given: P_h added to P_x, activated in place.
    const torch::Tensor preX = torch::empty({N, B, RG}, x.options());
    const torch::Tensor preH = Scored ? torch::empty_like(preX) : torch::Tensor();
    const torch::Tensor act = Scored ? torch::empty_like(preX) : preX;
    const torch::Tensor p = Scored ? torch::empty({N, B, R}, x.options()) : mix;
    const torch::Tensor c = torch::empty({N, B, H}, x.options()), h = torch::empty_like(c);
    for (std::int64_t t = 0; t < N; ++t) {
      torch::Tensor px = preX.select(0, t);
      torch::mm_out(px, x.select(0, t), weightX);
      if constexpr (Scored) {
        torch::Tensor ph = preH.select(0, t);
        if (t > 0) torch::mm_out(ph, h.select(0, t - 1), weightH);
        else ph.zero_();
      } else if (t > 0) {
        torch::Tensor step = preX.select(0, t);
        torch::addmm_out(step, step, h.select(0, t - 1), weightH);
      }
      kernels().groupForward({B, R, H, stepOf(preX, t), Scored ? stepOf(preH, t) : nullptr, stepOf(act, t), stepOf(p, t),
                    Scored ? mix.data_ptr<float>() : nullptr, maybeStepOf(c, t - 1, t > 0), stepOf(h, t),
                    stepOf(c, t)});
    }
    ctx->save_for_backward({x, weightX, weightH, mix, preX, preH, act, p, c, h});
    if constexpr (Scored) return {h, p};
    return {h};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weightX = saved[1], &weightH = saved[2], &mix = saved[3], &preX = saved[4],
                        &preH = saved[5], &act = saved[6], &p = saved[7], &c = saved[8], &h = saved[9];
    const std::int64_t N = x.size(0), B = x.size(1), H = weightH.size(0), R = p.size(2);
    const std::int64_t RG = R * 4 * H;
    const torch::Tensor dOut = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(h);
    const torch::Tensor dpOut = Scored && grads[1].defined() ? grads[1].contiguous() : torch::Tensor();
    // One step's dP_x (B, R*4H), reused; dP_h the same but for the scorer's terms, so one buffer
    // without a scorer.
    torch::Tensor dPx = torch::empty({B, RG}, x.options()), dPh = Scored ? torch::empty_like(dPx) : dPx;
    const torch::Tensor dp = Scored ? torch::Tensor() : torch::empty_like(p);
    const torch::Tensor dScorer = Scored ? torch::zeros_like(mix) : torch::Tensor();
    torch::Tensor dx = torch::empty_like(x), dWeightX = torch::zeros_like(weightX);
    torch::Tensor dWeightH = torch::zeros_like(weightH), dc = torch::zeros({B, H}, x.options());
    torch::Tensor dcPrev = torch::empty_like(dc), dhNext = torch::empty_like(dc);
    for (std::int64_t t = N - 1; t >= 0; --t) {
      const GroupStep step{B, R, H, stepOf(preX, t), Scored ? stepOf(preH, t) : nullptr, stepOf(act, t),
                           stepOf(p, t), Scored ? mix.data_ptr<float>() : nullptr, maybeStepOf(c, t - 1, t > 0),
                           nullptr, nullptr};
      kernels().groupBackward({step, stepOf(dOut, t), t < N - 1 ? dhNext.data_ptr<float>() : nullptr,
                     Scored && dpOut.defined() ? stepOf(dpOut, t) : nullptr, dc.data_ptr<float>(),
                     dcPrev.data_ptr<float>(), dPx.data_ptr<float>(), Scored ? dPh.data_ptr<float>() : nullptr,
                     Scored ? nullptr : stepOf(dp, t), Scored ? dScorer.data_ptr<float>() : nullptr});
      std::swap(dc, dcPrev);
      torch::Tensor dxStep = dx.select(0, t);
      torch::mm_out(dxStep, dPx, weightX.t());
      torch::addmm_out(dWeightX, dWeightX, x.select(0, t).t(), dPx);
      if (t > 0) {  // h_0 = 0: no W_h term at step 0
        torch::addmm_out(dWeightH, dWeightH, h.select(0, t - 1).t(), dPh);
        torch::mm_out(dhNext, dPh, weightH.t());
      }
    }
    return {dx, dWeightX, dWeightH, Scored ? dScorer : dp};
  }
};

// GT-Modular's cell over a sequence: inputs (x, W_x, W_h, modules (N, B)), output h. Each step
// sorts its rows by module; a module's rows are gathered once and its products are two GEMMs
// forward and four back, on its own columns of W_x and W_h.
class RoutedLstmSequence : public torch::autograd::Function<RoutedLstmSequence> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weightX,
                               const torch::Tensor& weightH, const torch::Tensor& modules) {
    const torch::Tensor x = input.contiguous(), routes = modules.to(torch::kLong).contiguous();
    const Sizes z(x, weightH);
    const torch::Tensor orders = torch::empty({z.N, z.B}, routes.options());
    const torch::Tensor starts = torch::empty({z.N, z.R + 1}, routes.options());
    // Per step, sorted by module: the inputs and previous hidden states (what the weight
    // gradients read) and the gates' activations; c and h in the rows' own order.
    const torch::Tensor xs = torch::empty_like(x), hs = torch::empty({z.N, z.B, z.H}, x.options());
    const torch::Tensor act = torch::empty({z.N, z.B, z.G}, x.options());
    const torch::Tensor c = torch::empty({z.N, z.B, z.H}, x.options()), h = torch::empty_like(c);
    const float *wx = weightX.data_ptr<float>(), *wh = weightH.data_ptr<float>();
    for (std::int64_t t = 0; t < z.N; ++t) {
      const ModuleOrder s = sortStep(routes, orders, starts, t, z);
      gatherRows(stepOf(x, t), s.order, z.B, z.E, stepOf(xs, t));
      if (t > 0) gatherRows(stepOf(h, t - 1), s.order, z.B, z.H, stepOf(hs, t));
      for (std::int64_t m = 0; m < z.R; ++m) {
        const std::int64_t n = s.rows(m), k = s.starts[m];
        if (n == 0) continue;
        float* pre = stepOf(act, t) + k * z.G;
        product(false, false, n, z.G, z.E, stepOf(xs, t) + k * z.E, z.E, wx + m * z.G, z.R * z.G, pre, z.G);
        if (t > 0)
          product(false, false, n, z.G, z.H, stepOf(hs, t) + k * z.H, z.H, wh + m * z.G, z.R * z.G, pre, z.G, true);
      }
      kernels().routedForward(stepOf(act, t), s.order, maybeStepOf(c, t - 1, t > 0), stepOf(c, t), stepOf(h, t), z.B, z.H);
    }
    ctx->save_for_backward({xs, hs, weightX, weightH, act, c, h, orders, starts});
    return h;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &xs = saved[0], &hs = saved[1], &weightX = saved[2], &weightH = saved[3], &act = saved[4],
                        &c = saved[5], &h = saved[6], &orders = saved[7], &starts = saved[8];
    const Sizes z(xs, weightH);
    const torch::Tensor dOut = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(h);
    // One step's buffers, reused: dG and the input gradients sorted, dc and dh in row order.
    const torch::Tensor dG = torch::empty({z.B, z.G}, xs.options());
    const torch::Tensor dxs = torch::empty({z.B, z.E}, xs.options()), dhs = torch::empty({z.B, z.H}, xs.options());
    torch::Tensor dc = torch::zeros({z.B, z.H}, xs.options()), dcPrev = torch::empty_like(dc);
    const torch::Tensor dhNext = torch::empty_like(dc), dx = torch::empty_like(xs);
    const torch::Tensor dWeightX = torch::zeros_like(weightX), dWeightH = torch::zeros_like(weightH);
    const float *wx = weightX.data_ptr<float>(), *wh = weightH.data_ptr<float>();
    float *dwx = dWeightX.data_ptr<float>(), *dwh = dWeightH.data_ptr<float>();
    for (std::int64_t t = z.N - 1; t >= 0; --t) {
      const ModuleOrder s{orders[t].data_ptr<std::int64_t>(), starts[t].data_ptr<std::int64_t>()};
      kernels().routedBackward(stepOf(act, t), s.order, maybeStepOf(c, t - 1, t > 0), stepOf(c, t), stepOf(dOut, t),
                     t < z.N - 1 ? dhNext.data_ptr<float>() : nullptr, dc.data_ptr<float>(),
                     dcPrev.data_ptr<float>(), dG.data_ptr<float>(), z.B, z.H);
      std::swap(dc, dcPrev);
      for (std::int64_t m = 0; m < z.R; ++m) {
        const std::int64_t n = s.rows(m), k = s.starts[m];
        if (n == 0) continue;
        const float* dg = dG.data_ptr<float>() + k * z.G;
        product(true, false, z.E, z.G, n, stepOf(xs, t) + k * z.E, z.E, dg, z.G, dwx + m * z.G, z.R * z.G, true);
        product(false, true, n, z.E, z.G, dg, z.G, wx + m * z.G, z.R * z.G, dxs.data_ptr<float>() + k * z.E, z.E);
        if (t == 0) continue;  // h_0 = 0: no W_h term at step 0
        product(true, false, z.H, z.G, n, stepOf(hs, t) + k * z.H, z.H, dg, z.G, dwh + m * z.G, z.R * z.G, true);
        product(false, true, n, z.H, z.G, dg, z.G, wh + m * z.G, z.R * z.G, dhs.data_ptr<float>() + k * z.H, z.H);
      }
      scatterRows(dxs.data_ptr<float>(), s.order, z.B, z.E, stepOf(dx, t));
      if (t > 0) scatterRows(dhs.data_ptr<float>(), s.order, z.B, z.H, dhNext.data_ptr<float>());
    }
    return {dx, dWeightX, dWeightH, torch::Tensor()};
  }

private:
  struct Sizes {  // from x (N, B, E) and W_h (H, R * 4H)
    Sizes(const torch::Tensor& x, const torch::Tensor& weightH)
        : N(x.size(0)), B(x.size(1)), E(x.size(2)), H(weightH.size(0)), G(4 * H), R(weightH.size(1) / G) {}
    std::int64_t N, B, E, H, G, R;
  };

  static ModuleOrder sortStep(const torch::Tensor& routes, const torch::Tensor& orders, const torch::Tensor& starts,
                              std::int64_t t, const Sizes& z) {
    std::int64_t *order = orders[t].data_ptr<std::int64_t>(), *first = starts[t].data_ptr<std::int64_t>();
    sortByModule(routes[t].data_ptr<std::int64_t>(), z.B, z.R, order, first);
    return {order, first};
  }
};

bool fusable(const torch::Tensor& x) { return x.device().is_cpu() && x.scalar_type() == torch::kFloat; }

}  // namespace

torch::Tensor lstmSequence(const torch::Tensor& x, torch::nn::LSTMCellImpl& cell, bool reference) {
  if (!reference && fusable(x) && cell.options.bias())
    return LstmSequence::apply(x, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh);
  std::vector<torch::Tensor> hs;
  hs.reserve(static_cast<std::size_t>(x.size(0)));
  torch::Tensor h = torch::zeros({x.size(1), cell.options.hidden_size()}, x.options()), c = torch::zeros_like(h);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    std::tie(h, c) = cell.forward(x.select(0, t), std::make_tuple(h, c));
    hs.push_back(h);
  }
  return torch::stack(hs);
}

torch::Tensor groupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell, const torch::Tensor& p,
                                bool reference) {
  if (!reference && fusable(x)) return GroupLstmSequence<false>::apply(x, cell.weightX, cell.weightH, p)[0];
  std::vector<torch::Tensor> hs;
  hs.reserve(static_cast<std::size_t>(x.size(0)));
  torch::Tensor h = torch::zeros({x.size(1), cell.hidden()}, x.options()), c = torch::zeros_like(h);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    auto [px, ph] = cell.preActivations(x.select(0, t), h);
    std::tie(h, c) = cell.mixedStep(px + ph, c, p.select(0, t));
    hs.push_back(h);
  }
  return torch::stack(hs);
}

torch::Tensor routedGroupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell, const torch::Tensor& modules,
                                     bool reference) {
  if (!reference && fusable(x) && rawFloat(cell.weightX) && rawFloat(cell.weightH))
    return RoutedLstmSequence::apply(x, cell.weightX, cell.weightH, modules);
  std::vector<torch::Tensor> hs;
  hs.reserve(static_cast<std::size_t>(x.size(0)));
  torch::Tensor h = torch::zeros({x.size(1), cell.hidden()}, x.options()), c = torch::zeros_like(h);
  const GroupLstmCellImpl::ModuleWeights weights = cell.moduleWeights();
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    std::tie(h, c) = cell.routedStep(x.select(0, t), h, c, modules.select(0, t), weights);
    hs.push_back(h);
  }
  return torch::stack(hs);
}

std::pair<torch::Tensor, torch::Tensor> scoredGroupLstmSequence(const torch::Tensor& x, GroupLstmCellImpl& cell,
                                                                GroupLinearImpl& scorer, bool reference,
                                                                const Router& router) {
  if (!reference && !router && fusable(x)) {
    const tensor_list out = GroupLstmSequence<true>::apply(x, cell.weightX, cell.weightH, scorer.weight);
    return {out[0], out[1]};
  }
  std::vector<torch::Tensor> hs, ps;
  torch::Tensor h = torch::zeros({x.size(1), cell.hidden()}, x.options()), c = torch::zeros_like(h);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    auto [px, ph] = cell.preActivations(x.select(0, t), h);
    const torch::Tensor scores = scorer.forwardColumn(torch::relu(torch::cat({px, ph}, 2)), 0);
    ps.push_back(router ? router(scores) : moduleSoftmax(scores));
    std::tie(h, c) = cell.mixedStep(px + ph, c, ps.back());
    hs.push_back(h);
  }
  return {torch::stack(hs), torch::stack(ps)};
}

}  // namespace modlab
