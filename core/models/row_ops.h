// Products and per-row loops on row-major float CPU buffers, for the layers that run without
// torch's per-call views and checks, and which tensors may use them (private to core/models).
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace modlab {

// A float CPU tensor in row-major order, or none: its buffer can go to the products and loops below.
inline bool rawFloat(const torch::Tensor& t) {
  return !t.defined() || (t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous());
}

// An autograd function's bias argument: an input must be defined, so "no bias" is an empty tensor.
inline torch::Tensor biasArgument(const torch::Tensor& bias, const torch::Tensor& weight) {
  return bias.defined() ? bias : torch::empty({0}, weight.options());
}

// Row-major C (M x N, leading dimension ldc, N when 0) = op(A) op(B), or += when accumulate;
// A and B row-major with leading dimensions lda and ldb: one BLAS call (our sgemm_, gemm_backend.h).
void product(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
             std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc = 0,
             bool accumulate = false);

// rows (n x width) += b (none when null), then ReLU when asked.
void addBias(float* rows, const float* b, std::int64_t n, std::int64_t width, bool relu);

// out (n x width) = g, or 0 where the ReLU's output u is not positive (out may be g itself);
// sums[j] = the column sums of out (when sums is not null).
void reluBackward(const float* g, const float* u, std::int64_t n, std::int64_t width, float* sums, float* out);

// Throws std::out_of_range, naming it, for a module outside 0..R-1 among modules[0, rows).
void checkModules(const std::int64_t* modules, std::int64_t rows, std::int64_t R);

// Rows sorted by module, a stable counting sort: sorted position k holds row order[k] (rows
// entries), module m's rows are the positions starts[m] to starts[m + 1] (R + 1 entries).
// Checks the modules as checkModules does.
void sortByModule(const std::int64_t* modules, std::int64_t rows, std::int64_t R, std::int64_t* order,
                  std::int64_t* starts);

// dst[k] = src[order[k]] (gather) or dst[order[k]] = src[k] (scatter), for k < rows, rows of
// `width` floats.
void gatherRows(const float* src, const std::int64_t* order, std::int64_t rows, std::int64_t width, float* dst);
void scatterRows(const float* src, const std::int64_t* order, std::int64_t rows, std::int64_t width, float* dst);

// sums[j] = the column sums of g (n x width).
void columnSums(const float* g, std::int64_t n, std::int64_t width, float* sums);

}  // namespace modlab
