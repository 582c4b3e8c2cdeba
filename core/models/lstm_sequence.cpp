// The LSTM recurrence without per-step autograd: torch's LSTMCell spends as much time in its
// dozen element-wise operations per step (forward and backward) and in per-step weight-gradient
// GEMMs as in the recurrence itself. Here the gates of a step are one loop over 16-float vectors,
// and only the recurrence h_{t-1} W_hh^T (forward) and dG_t W_hh (backward) remain per step.
#include "models/lstm_sequence.h"

#include <cstring>
#include <type_traits>

// The vector helpers return vectors, but are always inlined into the target clones: no vector
// crosses a call, whatever GCC's ABI warning says (for this file only).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;


// 16 floats; GCC lowers the arithmetic to AVX-512, AVX2 or SSE in each target clone.
typedef float Floats __attribute__((vector_size(64)));
typedef std::int32_t Ints __attribute__((vector_size(64)));
typedef std::uint32_t Bits __attribute__((vector_size(64)));
constexpr std::int64_t kLanes = 16;

#define MODLAB_INLINE inline __attribute__((always_inline))
#define MODLAB_INLINE_LAMBDA __attribute__((always_inline))

MODLAB_INLINE Floats splat(float v) { return Floats{} + v; }

// n <= 16 floats at p, the rest 0, and their store back; n is either Lanes (a constant: one
// vector load or store) or the count of a row's last, shorter chunk.
using Lanes = std::integral_constant<std::int64_t, kLanes>;
template <typename Count>
MODLAB_INLINE Floats load(const float* p, Count n) {
  Floats v{};
  std::memcpy(&v, p, sizeof(float) * static_cast<std::size_t>(n));
  return v;
}
template <typename Count>
MODLAB_INLINE void store(float* p, const Floats& v, Count n) {
  std::memcpy(p, &v, sizeof(float) * static_cast<std::size_t>(n));
}

// Calls chunk(j, n) over a row of H floats: whole vectors, then the shorter tail.
template <typename Chunk>
MODLAB_INLINE void forChunks(std::int64_t H, Chunk&& chunk) {
  std::int64_t j = 0;
  for (; j + kLanes <= H; j += kLanes) chunk(j, Lanes{});
  if (j < H) chunk(j, H - j);
}

// e^x within about 2 ulp (Cephes expf): x = k ln2 + r, |r| <= ln2 / 2, e^x = 2^k p(r).
// x is clamped to [-88, 88], where 2^k stays a normal float; NaN stays NaN.
MODLAB_INLINE Floats exp(const Floats& value) {
  Floats x = value > 88.0f ? splat(88.0f) : value;
  x = x < -88.0f ? splat(-88.0f) : x;
  const Floats scaled = x * 1.44269504088896341f + 0.5f;
  Floats k = __builtin_convertvector(__builtin_convertvector(scaled, Ints), Floats);
  k = k > scaled ? k - 1.0f : k;  // floor
  const Floats r = x - k * 0.693359375f + k * 2.12194440e-4f;
  Floats p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const Bits twoToK = (Bits)(__builtin_convertvector(k, Ints) + 127) << 23;
  return p * (Floats)twoToK;
}

MODLAB_INLINE Floats sigmoid(const Floats& x) { return 1.0f / (1.0f + exp(-x)); }
MODLAB_INLINE Floats tanh(const Floats& x) { return 1.0f - 2.0f / (1.0f + exp(x + x)); }

struct Sizes {
  std::int64_t N, B, in, H;
  std::int64_t gates() const { return 4 * H; }
};

// One step's gates for every row: the pre-activations (i, f, g, o) in `gates` (B, 4H) become
// their activations; writes c_t, tanh(c_t) and h_t (B, H). cPrev is null at t = 0 (c_0 = 0).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void gatesForward(float* gates, const float* cPrev, float* c, float* tanhC, float* h, std::int64_t B,
                  std::int64_t H) {
  for (std::int64_t b = 0; b < B; ++b) {
    float* a = gates + b * 4 * H;
    const std::int64_t row = b * H;
    forChunks(H, [&](std::int64_t j, auto n) MODLAB_INLINE_LAMBDA {
      const Floats i = sigmoid(load(a + j, n)), f = sigmoid(load(a + H + j, n));
      const Floats g = tanh(load(a + 2 * H + j, n)), o = sigmoid(load(a + 3 * H + j, n));
      const Floats cell = cPrev ? f * load(cPrev + row + j, n) + i * g : i * g;
      const Floats tc = tanh(cell);
      store(a + j, i, n);
      store(a + H + j, f, n);
      store(a + 2 * H + j, g, n);
      store(a + 3 * H + j, o, n);
      store(c + row + j, cell, n);
      store(tanhC + row + j, tc, n);
      store(h + row + j, o * tc, n);
    });
  }
}

// One step back: dG_t (B, 4H) from the step's activations, dh_t = dOut_t + dhNext (dhNext from
// step t+1, null at the last step) and dc carried in `dc` (from step t+1 in, to step t-1 out).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void gatesBackward(const float* act, const float* cPrev, const float* tanhC, const float* dOut, const float* dhNext,
                   float* dc, float* dG, std::int64_t B, std::int64_t H) {
  for (std::int64_t b = 0; b < B; ++b) {
    const float* a = act + b * 4 * H;
    float* d = dG + b * 4 * H;
    const std::int64_t row = b * H;
    forChunks(H, [&](std::int64_t j, auto n) MODLAB_INLINE_LAMBDA {
      const Floats i = load(a + j, n), f = load(a + H + j, n), g = load(a + 2 * H + j, n), o = load(a + 3 * H + j, n);
      const Floats tc = load(tanhC + row + j, n);
      const Floats dh = dhNext ? load(dOut + row + j, n) + load(dhNext + row + j, n) : load(dOut + row + j, n);
      const Floats dcell = load(dc + row + j, n) + dh * o * (1.0f - tc * tc);
      store(d + j, dcell * g * i * (1.0f - i), n);
      store(d + H + j, cPrev ? dcell * load(cPrev + row + j, n) * f * (1.0f - f) : Floats{}, n);
      store(d + 2 * H + j, dcell * i * (1.0f - g * g), n);
      store(d + 3 * H + j, dh * tc * o * (1.0f - o), n);
      store(dc + row + j, dcell * f, n);
    });
  }
}

float* stepOf(const torch::Tensor& t, std::int64_t n) { return t.select(0, n).data_ptr<float>(); }

class LstmSequence : public torch::autograd::Function<LstmSequence> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weightIh,
                               const torch::Tensor& weightHh, const torch::Tensor& biasIh, const torch::Tensor& biasHh) {
    const torch::Tensor x = input.contiguous();
    const Sizes s{x.size(0), x.size(1), x.size(2), weightHh.size(1)};
    // The input projection of every step, with both biases: (N, B, 4H), then activated in place.
    const torch::Tensor gates =
        torch::addmm(biasIh + biasHh, x.view({s.N * s.B, s.in}), weightIh.t()).view({s.N, s.B, s.gates()});
    const torch::Tensor c = torch::empty({s.N, s.B, s.H}, x.options());
    const torch::Tensor tanhC = torch::empty_like(c), h = torch::empty_like(c);
    for (std::int64_t t = 0; t < s.N; ++t) {
      torch::Tensor step = gates.select(0, t);
      if (t > 0) torch::addmm_out(step, step, h.select(0, t - 1), weightHh.t());
      gatesForward(step.data_ptr<float>(), t > 0 ? stepOf(c, t - 1) : nullptr, stepOf(c, t), stepOf(tanhC, t),
                   stepOf(h, t), s.B, s.H);
    }
    ctx->save_for_backward({x, weightIh, weightHh, gates, c, tanhC, h});
    return h;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weightIh = saved[1], &weightHh = saved[2], &gates = saved[3], &c = saved[4],
                        &tanhC = saved[5], &h = saved[6];
    const Sizes s{x.size(0), x.size(1), x.size(2), weightHh.size(1)};
    const torch::Tensor dOut = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(h);
    const torch::Tensor dG = torch::empty_like(gates);
    const torch::Tensor dc = torch::zeros({s.B, s.H}, x.options());
    torch::Tensor dhNext = torch::empty_like(dc);
    for (std::int64_t t = s.N - 1; t >= 0; --t) {
      gatesBackward(stepOf(gates, t), t > 0 ? stepOf(c, t - 1) : nullptr, stepOf(tanhC, t), stepOf(dOut, t),
                    t < s.N - 1 ? dhNext.data_ptr<float>() : nullptr, dc.data_ptr<float>(), stepOf(dG, t), s.B, s.H);
      if (t > 0) torch::mm_out(dhNext, dG.select(0, t), weightHh);
    }
    // Over all (step, row) pairs at once; h_0 = 0 leaves step 0 out of dW_hh.
    const torch::Tensor dGates = dG.view({s.N * s.B, s.gates()});
    const std::int64_t later = (s.N - 1) * s.B;
    torch::Tensor dx, dWeightIh, dWeightHh, dBias;
    if (ctx->needs_input_grad(0)) dx = torch::mm(dGates, weightIh).view({s.N, s.B, s.in});
    if (ctx->needs_input_grad(1)) dWeightIh = torch::mm(dGates.t(), x.view({s.N * s.B, s.in}));
    if (ctx->needs_input_grad(2))
      dWeightHh = torch::mm(dGates.narrow(0, s.B, later).t(), h.view({s.N * s.B, s.H}).narrow(0, 0, later));
    if (ctx->needs_input_grad(3) || ctx->needs_input_grad(4)) dBias = dGates.sum(0);
    return {dx, dWeightIh, dWeightHh, dBias, dBias};
  }
};

torch::Tensor lstmCellSteps(const torch::Tensor& x, torch::nn::LSTMCellImpl& cell) {
  std::vector<torch::Tensor> hs;
  hs.reserve(static_cast<std::size_t>(x.size(0)));
  torch::Tensor h = torch::zeros({x.size(1), cell.options.hidden_size()}, x.options()), c = torch::zeros_like(h);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    std::tie(h, c) = cell.forward(x.select(0, t), std::make_tuple(h, c));
    hs.push_back(h);
  }
  return torch::stack(hs);
}

}  // namespace

torch::Tensor lstmSequence(const torch::Tensor& x, torch::nn::LSTMCellImpl& cell, bool reference) {
  if (reference || !x.device().is_cpu() || x.scalar_type() != torch::kFloat || !cell.options.bias())
    return lstmCellSteps(x, cell);
  return LstmSequence::apply(x, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh);
}

}  // namespace modlab
