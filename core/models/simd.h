// 16-float vectors for the hand-written kernels (LSTM gates, attention): GCC lowers their
// arithmetic to AVX-512, AVX2 or SSE in each target clone. Private to core/models.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

// The vector helpers return vectors, but are always inlined into the target clones: no vector
// crosses a call, whatever GCC's ABI warning says.
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__)
#define MODLAB_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MODLAB_SIMD_CLONES
#endif
#define MODLAB_INLINE inline __attribute__((always_inline))
#define MODLAB_INLINE_LAMBDA __attribute__((always_inline))

namespace modlab::simd {

typedef float Floats __attribute__((vector_size(64)));
typedef std::int32_t Ints __attribute__((vector_size(64)));
typedef std::uint32_t Bits __attribute__((vector_size(64)));
constexpr std::int64_t kLanes = 16;
constexpr Ints kLaneIndex = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// Vectors of W floats, int32s and uint32s for kernels written once for every width.
template <int W>
struct Vectors;
#define MODLAB_VECTORS(W)                                                 \
  template <>                                                             \
  struct Vectors<W> {                                                     \
    typedef float Floats __attribute__((vector_size(4 * W)));             \
    typedef std::int32_t Ints __attribute__((vector_size(4 * W)));        \
    typedef std::uint32_t Bits __attribute__((vector_size(4 * W)));       \
  };
MODLAB_VECTORS(4)
MODLAB_VECTORS(8)
MODLAB_VECTORS(16)
#undef MODLAB_VECTORS

MODLAB_INLINE Floats splat(float v) { return Floats{} + v; }
MODLAB_INLINE Floats relu(const Floats& v) { return v > 0.0f ? v : Floats{}; }
MODLAB_INLINE float sum(const Floats& v) {
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += v[l];
  return s;
}
MODLAB_INLINE float max(const Floats& v) {
  float m = v[0];
  for (int l = 1; l < kLanes; ++l) m = std::max(m, v[l]);
  return m;
}
// 16 floats from / to unaligned memory.
MODLAB_INLINE Floats load(const float* p) {
  Floats v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
MODLAB_INLINE void store(float* p, const Floats& v) { std::memcpy(p, &v, sizeof v); }

// e^x within about 2 ulp (Cephes expf): x = k ln2 + r, |r| <= ln2 / 2, e^x = 2^k p(r).
// x is clamped to [-88, 88]; e^-88 and below (also -inf) give 0; NaN stays NaN.
// For vectors of any width F, with their int32 (I) and uint32 (U) vectors.
template <class F, class I, class U>
MODLAB_INLINE F expOf(const F& value) {
  F x = value > 88.0f ? F{} + 88.0f : value;
  x = x < -88.0f ? F{} - 88.0f : x;
  const F scaled = x * 1.44269504088896341f + 0.5f;
  F k = __builtin_convertvector(__builtin_convertvector(scaled, I), F);
  k = k > scaled ? k - 1.0f : k;  // floor
  const F r = x - k * 0.693359375f + k * 2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const U twoToK = (U)(__builtin_convertvector(k, I) + 127) << 23;
  return p * (F)twoToK;
}
MODLAB_INLINE Floats exp(const Floats& value) { return expOf<Floats, Ints, Bits>(value); }

MODLAB_INLINE Floats sigmoid(const Floats& x) { return 1.0f / (1.0f + exp(-x)); }
MODLAB_INLINE Floats tanh(const Floats& x) { return 1.0f - 2.0f / (1.0f + exp(x + x)); }

}  // namespace modlab::simd
