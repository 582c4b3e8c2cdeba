// numpy's legacy RandomState, bit for bit: MT19937 seeded from a 32-bit integer,
// 53-bit doubles, the polar-method Gaussian (with its cached second value), and
// Dirichlet(1) as normalised standard exponentials. Task parameters come from it,
// so "data seed 3, 8 rules" is the paper's task.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace modlab {

class RandomState {
public:
  explicit RandomState(std::uint32_t seed);

  std::uint32_t nextUInt32();
  double randomSample();            // U[0, 1) with 53 bits
  double standardNormal();          // legacy_gauss
  double standardExponential();     // -log(1 - u)
  std::vector<double> randn(std::size_t n);
  std::vector<double> dirichletOnes(std::size_t k);  // dirichlet(ones(k))

private:
  void twist();
  std::array<std::uint32_t, 624> key_{};
  int pos_ = 624;
  bool hasGauss_ = false;
  double gauss_ = 0.0;
};

}  // namespace modlab
