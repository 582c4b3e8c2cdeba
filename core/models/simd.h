// 16-lane vectors for the hand-written kernels (LSTM gates, attention, module rows): Floats on
// AVX-512, FloatPack (two or four native vectors) on AVX2 and SSE, where GCC would keep a
// 64-byte vector on the stack. Private to core/models.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
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

// 16 lanes as 16/W vectors of W (AVX2 8, SSE 4): the lanes of Floats and Ints, kept in the
// registers of a target that has no 64-byte ones (there a 64-byte vector lives on the stack and
// every operation goes through memory). Each lane computes exactly what the same lane of Floats
// does: without fused multiply-adds (AVX2, the baseline) every width gives the same bits.
template <int W>
struct IntPack {
  typename Vectors<W>::Ints v[16 / W];
};
template <int W>
struct FloatPack {
  typename Vectors<W>::Floats v[16 / W];
};

#define MODLAB_PACK_LOOP(W, body)        \
  for (int k = 0; k < 16 / (W); ++k) body
#define MODLAB_PACK_ARITHMETIC(op)                                                                    \
  template <int W>                                                                                    \
  MODLAB_INLINE FloatPack<W> operator op(const FloatPack<W>& a, const FloatPack<W>& b) {              \
    FloatPack<W> r;                                                                                   \
    MODLAB_PACK_LOOP(W, r.v[k] = a.v[k] op b.v[k];);                                                  \
    return r;                                                                                         \
  }                                                                                                   \
  template <int W>                                                                                    \
  MODLAB_INLINE FloatPack<W> operator op(const FloatPack<W>& a, float b) {                            \
    FloatPack<W> r;                                                                                   \
    MODLAB_PACK_LOOP(W, r.v[k] = a.v[k] op b;);                                                       \
    return r;                                                                                         \
  }                                                                                                   \
  template <int W>                                                                                    \
  MODLAB_INLINE FloatPack<W> operator op(float a, const FloatPack<W>& b) {                            \
    FloatPack<W> r;                                                                                   \
    MODLAB_PACK_LOOP(W, r.v[k] = a op b.v[k];);                                                       \
    return r;                                                                                         \
  }                                                                                                   \
  template <int W>                                                                                    \
  MODLAB_INLINE FloatPack<W>& operator op##=(FloatPack<W>& a, const FloatPack<W>& b) {                \
    MODLAB_PACK_LOOP(W, a.v[k] = a.v[k] op b.v[k];);                                                  \
    return a;                                                                                         \
  }
MODLAB_PACK_ARITHMETIC(+)
MODLAB_PACK_ARITHMETIC(-)
MODLAB_PACK_ARITHMETIC(*)
MODLAB_PACK_ARITHMETIC(/)
#undef MODLAB_PACK_ARITHMETIC

#define MODLAB_PACK_COMPARE(op)                                                           \
  template <int W>                                                                        \
  MODLAB_INLINE IntPack<W> operator op(const FloatPack<W>& a, float b) {                  \
    IntPack<W> r;                                                                         \
    MODLAB_PACK_LOOP(W, r.v[k] = a.v[k] op b;);                                           \
    return r;                                                                             \
  }                                                                                       \
  template <int W>                                                                        \
  MODLAB_INLINE IntPack<W> operator op(const FloatPack<W>& a, const FloatPack<W>& b) {    \
    IntPack<W> r;                                                                         \
    MODLAB_PACK_LOOP(W, r.v[k] = a.v[k] op b.v[k];);                                      \
    return r;                                                                             \
  }                                                                                       \
  template <int W>                                                                        \
  MODLAB_INLINE IntPack<W> operator op(const IntPack<W>& a, std::int32_t b) {             \
    IntPack<W> r;                                                                         \
    MODLAB_PACK_LOOP(W, r.v[k] = a.v[k] op b;);                                           \
    return r;                                                                             \
  }
MODLAB_PACK_COMPARE(>)
MODLAB_PACK_COMPARE(<)
MODLAB_PACK_COMPARE(>=)
MODLAB_PACK_COMPARE(==)
#undef MODLAB_PACK_COMPARE

template <int W>
MODLAB_INLINE FloatPack<W> operator-(const FloatPack<W>& a) {
  FloatPack<W> r;
  MODLAB_PACK_LOOP(W, r.v[k] = -a.v[k];);
  return r;
}

// m ? a : b, lane by lane.
MODLAB_INLINE Floats select(const Ints& m, const Floats& a, const Floats& b) { return m ? a : b; }
template <int W>
MODLAB_INLINE FloatPack<W> select(const IntPack<W>& m, const FloatPack<W>& a, const FloatPack<W>& b) {
  FloatPack<W> r;
  MODLAB_PACK_LOOP(W, r.v[k] = m.v[k] ? a.v[k] : b.v[k];);
  return r;
}

template <int W>
MODLAB_INLINE FloatPack<W> exp(const FloatPack<W>& x) {
  FloatPack<W> r;
  using V = Vectors<W>;
  MODLAB_PACK_LOOP(W, r.v[k] = (expOf<typename V::Floats, typename V::Ints, typename V::Bits>(x.v[k])););
  return r;
}

// The lanes summed in order 0 to 15, as sum(Floats).
template <int W>
MODLAB_INLINE float sum(const FloatPack<W>& v) {
  float s = 0.0f;
  MODLAB_PACK_LOOP(W, for (int l = 0; l < W; ++l) s += v.v[k][l];);
  return s;
}
#undef MODLAB_PACK_LOOP

// 16 lanes of either kind from / to unaligned memory, and the lane indices 0 to 15. A pack is
// moved one native vector at a time: copied whole, GCC moves it in 16-byte pieces through the
// stack and reads it back in wider ones, which stalls on every load (store forwarding).
template <class V>
struct Lanes {
  template <class T>
  static MODLAB_INLINE V load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  template <class T>
  static MODLAB_INLINE void store(T* p, const V& v) { std::memcpy(p, &v, sizeof v); }
};
template <template <int> class Pack, int W>
struct Lanes<Pack<W>> {
  template <class T>
  static MODLAB_INLINE Pack<W> load(const T* p) {
    Pack<W> v;
    for (int k = 0; k < 16 / W; ++k) std::memcpy(&v.v[k], p + k * W, sizeof v.v[k]);
    return v;
  }
  template <class T>
  static MODLAB_INLINE void store(T* p, const Pack<W>& v) {
    for (int k = 0; k < 16 / W; ++k) std::memcpy(p + k * W, &v.v[k], sizeof v.v[k]);
  }
};
template <class F>
MODLAB_INLINE F loadAs(const float* p) { return Lanes<F>::load(p); }
template <class F>
MODLAB_INLINE void storeAs(float* p, const F& v) { Lanes<F>::store(p, v); }
template <class I>
MODLAB_INLINE I laneIndices() {
  std::int32_t lanes[16];
  for (int l = 0; l < 16; ++l) lanes[l] = l;
  return Lanes<I>::load(lanes);
}
template <class F>
MODLAB_INLINE F relu(const F& v) { return select(v > 0.0f, v, F{}); }
template <class F>
MODLAB_INLINE F sigmoid(const F& x) { return 1.0f / (1.0f + exp(-x)); }
template <class F>
MODLAB_INLINE F tanh(const F& x) { return 1.0f - 2.0f / (1.0f + exp(x + x)); }

// The widest of AVX-512, AVX2 and the baseline that this CPU runs, as target_clones chooses;
// kernels are compiled for each (MODLAB_TARGET_*, with the lanes' type of that target) and
// forThisCpu picks one table of them.
#if defined(__x86_64__) && defined(__GNUC__)
#define MODLAB_TARGET_AVX512 __attribute__((target("avx512f")))
#define MODLAB_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define MODLAB_TARGET_AVX512
#define MODLAB_TARGET_AVX2
#endif
enum class Isa { Baseline, Avx2, Avx512 };
// MODLAB_KERNELS=baseline or avx2 asks for narrower kernels than the CPU runs (the tests run
// the baseline ones this way, and a kernel that misbehaves on a machine can be stepped around);
// kernels wider than the CPU runs are never taken. Unset, empty or another value: none asked.
inline const char* kernelsAsked() {
  const char* asked = std::getenv("MODLAB_KERNELS");
  if (asked && (std::strcmp(asked, "baseline") == 0 || std::strcmp(asked, "avx2") == 0)) return asked;
  return nullptr;
}

inline Isa bestIsa() {
  static const Isa isa = [] {
    Isa widest = Isa::Baseline;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) widest = Isa::Avx512;
    else if (__builtin_cpu_supports("avx2")) widest = Isa::Avx2;
#endif
    const char* asked = kernelsAsked();
    if (asked && std::strcmp(asked, "baseline") == 0) return Isa::Baseline;
    if (asked && widest == Isa::Avx512) return Isa::Avx2;
    return widest;
  }();
  return isa;
}

template <class Table>
const Table& forThisCpu(const Table& avx512, const Table& avx2, const Table& baseline) {
  switch (bestIsa()) {
    case Isa::Avx512: return avx512;
    case Isa::Avx2: return avx2;
    case Isa::Baseline: break;
  }
  return baseline;
}

}  // namespace modlab::simd
