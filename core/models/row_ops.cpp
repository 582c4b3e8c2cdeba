#include "models/row_ops.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/simd.h"

// The Fortran BLAS product LibTorch calls (on the CPU: Modularity Lab's own, gemm_backend.h).
extern "C" void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                       const int*, const float*, const int*, const float*, float*, const int*);

namespace modlab {

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T.
void product(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
             std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc, bool accumulate) {
  const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K);
  const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc > 0 ? ldc : N);
  const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  const char ta = transB ? 'T' : 'N', tb = transA ? 'T' : 'N';
  sgemm_(&ta, &tb, &m, &n, &k, &one, B, &lb, A, &la, &beta, C, &lc);
}

MODLAB_SIMD_CLONES void addBias(float* rows, const float* b, std::int64_t n, std::int64_t width, bool relu) {
  for (std::int64_t r = 0; r < n; ++r) {
    float* row = rows + r * width;
    for (std::int64_t j = 0; j < width; ++j) {
      const float v = b ? row[j] + b[j] : row[j];
      row[j] = relu ? std::max(v, 0.0f) : v;
    }
  }
}

MODLAB_SIMD_CLONES void reluBackward(const float* g, const float* u, std::int64_t n, std::int64_t width, float* sums,
                                     float* out) {
  if (sums) std::fill(sums, sums + width, 0.0f);
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t j = 0; j < width; ++j) {
      const float v = u[r * width + j] > 0.0f ? g[r * width + j] : 0.0f;
      out[r * width + j] = v;
      if (sums) sums[j] += v;
    }
}

MODLAB_SIMD_CLONES void columnSums(const float* g, std::int64_t n, std::int64_t width, float* sums) {
  std::fill(sums, sums + width, 0.0f);
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t j = 0; j < width; ++j) sums[j] += g[r * width + j];
}

void checkModules(const std::int64_t* modules, std::int64_t rows, std::int64_t R) {
  for (std::int64_t k = 0; k < rows; ++k)
    if (modules[k] < 0 || modules[k] >= R)
      throw std::out_of_range("routing: module " + std::to_string(modules[k]) + " is outside 0.." +
                              std::to_string(R - 1));
}

void sortByModule(const std::int64_t* modules, std::int64_t rows, std::int64_t R, std::int64_t* order,
                  std::int64_t* starts) {
  checkModules(modules, rows, R);
  std::fill(starts, starts + R + 1, 0);
  for (std::int64_t k = 0; k < rows; ++k) ++starts[modules[k] + 1];
  for (std::int64_t m = 0; m < R; ++m) starts[m + 1] += starts[m];
  std::vector<std::int64_t> next(starts, starts + R);
  for (std::int64_t k = 0; k < rows; ++k) order[next[static_cast<std::size_t>(modules[k])]++] = k;
}

void gatherRows(const float* src, const std::int64_t* order, std::int64_t rows, std::int64_t width, float* dst) {
  const auto bytes = sizeof(float) * static_cast<std::size_t>(width);
  for (std::int64_t k = 0; k < rows; ++k) std::memcpy(dst + k * width, src + order[k] * width, bytes);
}

void scatterRows(const float* src, const std::int64_t* order, std::int64_t rows, std::int64_t width, float* dst) {
  const auto bytes = sizeof(float) * static_cast<std::size_t>(width);
  for (std::int64_t k = 0; k < rows; ++k) std::memcpy(dst + order[k] * width, src + k * width, bytes);
}

}  // namespace modlab
