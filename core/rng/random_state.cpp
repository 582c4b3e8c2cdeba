#include "modlab/rng/random_state.h"

#include <cmath>

namespace modlab {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfU;
constexpr std::uint32_t kUpper = 0x80000000U;
constexpr std::uint32_t kLower = 0x7fffffffU;
}  // namespace

RandomState::RandomState(std::uint32_t seed) {
  for (int i = 0; i < kN; ++i) {
    key_[i] = seed;
    seed = 1812433253U * (seed ^ (seed >> 30)) + static_cast<std::uint32_t>(i) + 1U;
  }
  pos_ = kN;
}

void RandomState::twist() {
  for (int i = 0; i < kN; ++i) {
    const std::uint32_t y = (key_[i] & kUpper) | (key_[(i + 1) % kN] & kLower);
    key_[i] = key_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
  }
  pos_ = 0;
}

std::uint32_t RandomState::nextUInt32() {
  if (pos_ >= kN) twist();
  std::uint32_t y = key_[pos_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

double RandomState::randomSample() {
  const std::uint32_t a = nextUInt32() >> 5;
  const std::uint32_t b = nextUInt32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double RandomState::standardNormal() {
  if (hasGauss_) {
    hasGauss_ = false;
    return gauss_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * randomSample() - 1.0;
    x2 = 2.0 * randomSample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  gauss_ = f * x1;
  hasGauss_ = true;
  return f * x2;
}

double RandomState::standardExponential() { return -std::log(1.0 - randomSample()); }

std::vector<double> RandomState::randn(std::size_t n) {
  std::vector<double> out(n);
  for (double& v : out) v = standardNormal();
  return out;
}

std::vector<double> RandomState::dirichletOnes(std::size_t k) {
  std::vector<double> out(k);
  double sum = 0.0;
  for (double& v : out) {
    v = standardExponential();
    sum += v;
  }
  for (double& v : out) v /= sum;
  return out;
}

}  // namespace modlab
