#include "modlab/models/group_linear.h"

#include <cmath>

#include <torch/torch.h>

#include "models/row_ops.h"
#include "models/simd.h"

namespace modlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
using namespace simd;

// The routed mixture's two steps as autograd functions with their own loops (CPU, float):
// torch's broadcast products and reductions over (T, R, din) cost several passes each.
bool ownLoops(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat;
}

// Raw float buffers with rows: ModulesRelu's products go straight to BLAS.
bool rawLayer(const torch::Tensor& rows, const torch::Tensor& weight, const torch::Tensor& bias) {
  return rows.size(0) > 0 && rawFloat(rows) && rawFloat(weight) && rawFloat(bias);
}

bool hasBias(const torch::Tensor& bias) { return bias.numel() > 0; }

// The rows' loops over 16 lanes of F: Floats (AVX-512) or FloatPack (AVX2, baseline), as the
// LSTM kernels; the same bits at every width without fused multiply-adds.
template <class F>
struct RowKernels {
  static MODLAB_INLINE float dot(const float* a, const float* b, std::int64_t n) {
    F acc{};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) acc += loadAs<F>(a + i) * loadAs<F>(b + i);
    float s = sum(acc);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }

  // out[0, n) = a[0, n) * f
  static MODLAB_INLINE void scaled(const float* a, float f, std::int64_t n, float* out) {
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) storeAs(out + i, loadAs<F>(a + i) * f);
    for (; i < n; ++i) out[i] = a[i] * f;
  }

  // acc[0, n) += a[0, n) * f
  static MODLAB_INLINE void addScaled(const float* a, float f, std::int64_t n, float* acc) {
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) storeAs(acc + i, loadAs<F>(acc + i) + loadAs<F>(a + i) * f);
    for (; i < n; ++i) acc[i] += a[i] * f;
  }

  // s[k] = x[k] . w[k % R] (+ b[k % R]) over the rows k of din floats.
  static MODLAB_INLINE void scoreRows(const float* x, const float* w, const float* b, std::int64_t rows, std::int64_t R,
                                    std::int64_t in, float* s) {
    for (std::int64_t k = 0; k < rows; ++k) s[k] = dot(x + k * in, w + (k % R) * in, in) + (b ? b[k % R] : 0.f);
  }

  // dx[k] = ds[k] w[k % R]; dw[r] = sum over rows of module r of ds[k] x[k]; db[r] = sum of their ds[k].
  static MODLAB_INLINE void scoreRowsBack(const float* x, const float* w, const float* ds, std::int64_t rows,
                                        std::int64_t R, std::int64_t in, float* dx, float* dw, float* db) {
    std::fill(dw, dw + R * in, 0.f);
    std::fill(db, db + R, 0.f);
    for (std::int64_t k = 0; k < rows; ++k) {
      const std::int64_t r = k % R;
      scaled(w + r * in, ds[k], in, dx + k * in);
      addScaled(x + k * in, ds[k], in, dw + r * in);
      db[r] += ds[k];
    }
  }

  // out[k] = x[k] p[k] over the rows k of din floats.
  static MODLAB_INLINE void weightRows(const float* x, const float* p, std::int64_t rows, std::int64_t in, float* out) {
    for (std::int64_t k = 0; k < rows; ++k) scaled(x + k * in, p[k], in, out + k * in);
  }

  // dx[k] = G[k] p[k]; dp[k] += G[k] . x[k].
  static MODLAB_INLINE void weightRowsBack(const float* x, const float* p, const float* G, std::int64_t rows,
                                         std::int64_t in, float* dx, float* dp) {
    for (std::int64_t k = 0; k < rows; ++k) {
      scaled(G + k * in, p[k], in, dx + k * in);
      dp[k] += dot(G + k * in, x + k * in, in);
    }
  }
};

#define MODLAB_ROW_KERNELS(target, name, F)                                                                        \
  target void scoreRows##name(const float* x, const float* w, const float* b, std::int64_t rows, std::int64_t R,   \
                              std::int64_t in, float* s) {                                                         \
    RowKernels<F>::scoreRows(x, w, b, rows, R, in, s);                                                             \
  }                                                                                                                \
  target void scoreRowsBack##name(const float* x, const float* w, const float* ds, std::int64_t rows,              \
                                  std::int64_t R, std::int64_t in, float* dx, float* dw, float* db) {              \
    RowKernels<F>::scoreRowsBack(x, w, ds, rows, R, in, dx, dw, db);                                               \
  }                                                                                                                \
  target void weightRows##name(const float* x, const float* p, std::int64_t rows, std::int64_t in, float* out) {   \
    RowKernels<F>::weightRows(x, p, rows, in, out);                                                                \
  }                                                                                                                \
  target void weightRowsBack##name(const float* x, const float* p, const float* G, std::int64_t rows,              \
                                   std::int64_t in, float* dx, float* dp) {                                        \
    RowKernels<F>::weightRowsBack(x, p, G, rows, in, dx, dp);                                                      \
  }
MODLAB_ROW_KERNELS(MODLAB_TARGET_AVX512, Avx512, Floats)
MODLAB_ROW_KERNELS(MODLAB_TARGET_AVX2, Avx2, FloatPack<8>)
MODLAB_ROW_KERNELS(, Baseline, FloatPack<4>)
#undef MODLAB_ROW_KERNELS

struct Kernels {
  decltype(&scoreRowsBaseline) scoreRows;
  decltype(&scoreRowsBackBaseline) scoreRowsBack;
  decltype(&weightRowsBaseline) weightRows;
  decltype(&weightRowsBackBaseline) weightRowsBack;
};

const Kernels& kernels() {
  static const Kernels avx512{scoreRowsAvx512, scoreRowsBackAvx512, weightRowsAvx512, weightRowsBackAvx512},
      avx2{scoreRowsAvx2, scoreRowsBackAvx2, weightRowsAvx2, weightRowsBackAvx2},
      baseline{scoreRowsBaseline, scoreRowsBackBaseline, weightRowsBaseline, weightRowsBackBaseline};
  return forThisCpu(avx512, avx2, baseline);
}

// Column `column` of every module's output: x (..., R, din) -> (..., R).
class ModuleColumn : public torch::autograd::Function<ModuleColumn> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, std::int64_t column) {
    const torch::Tensor xc = x.contiguous();
    const auto R = weight.size(0), in = weight.size(1), rows = xc.numel() / in;
    const torch::Tensor w = weight.select(2, column).contiguous();
    const torch::Tensor b = hasBias(bias) ? bias[0].select(1, column).contiguous() : torch::Tensor();
    torch::Tensor s = torch::empty(x.sizes().slice(0, x.dim() - 1), xc.options());
    kernels().scoreRows(xc.data_ptr<float>(), w.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr, rows, R, in,
              s.data_ptr<float>());
    ctx->save_for_backward({xc, weight});
    ctx->saved_data["column"] = column;
    ctx->saved_data["bias"] = hasBias(bias);
    return s;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1];
    const std::int64_t column = ctx->saved_data["column"].toInt();
    const auto R = weight.size(0), in = weight.size(1), rows = x.numel() / in;
    const torch::Tensor ds = grads[0].contiguous();
    const torch::Tensor w = weight.select(2, column).contiguous();
    torch::Tensor dx = torch::empty_like(x), dw = torch::empty({R, in}, x.options()), db = torch::empty({R}, x.options());
    kernels().scoreRowsBack(x.data_ptr<float>(), w.data_ptr<float>(), ds.data_ptr<float>(), rows, R, in, dx.data_ptr<float>(),
                  dw.data_ptr<float>(), db.data_ptr<float>());
    torch::Tensor dWeight = torch::zeros_like(weight);
    dWeight.select(2, column).copy_(dw);
    torch::Tensor dBias;
    if (ctx->saved_data["bias"].toBool()) {
      dBias = torch::zeros({1, R, weight.size(2)}, x.options());
      dBias[0].select(1, column).copy_(db);
    }
    return {dx, dWeight, dBias, torch::Tensor()};
  }
};

// sum_m p_m (x_m W_m + b_m)[:columns]: x (T, R, din), p (T, R) -> (T, columns).
class ModuleMixture : public torch::autograd::Function<ModuleMixture> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& p,
                               const torch::Tensor& weight, const torch::Tensor& bias, std::int64_t columns) {
    const torch::Tensor xc = x.contiguous(), pc = p.contiguous();
    const auto R = weight.size(0), in = weight.size(1), T = pc.size(0);
    torch::Tensor weighted = torch::empty({T, R * in}, xc.options());
    kernels().weightRows(xc.data_ptr<float>(), pc.data_ptr<float>(), T * R, in, weighted.data_ptr<float>());
    torch::Tensor y = torch::mm(weighted, weight.narrow(2, 0, columns).reshape({R * in, columns}));
    if (hasBias(bias)) y.addmm_(pc, bias[0].narrow(1, 0, columns));
    ctx->save_for_backward({xc, pc, weight, bias, weighted});
    ctx->saved_data["columns"] = columns;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &p = saved[1], &weight = saved[2], &bias = saved[3], &weighted = saved[4];
    const std::int64_t columns = ctx->saved_data["columns"].toInt();
    const auto R = weight.size(0), in = weight.size(1), T = p.size(0);
    const torch::Tensor gy = grads[0].contiguous();
    const torch::Tensor G = torch::mm(gy, weight.narrow(2, 0, columns).reshape({R * in, columns}).t());  // (T, R din)
    torch::Tensor dx = torch::empty_like(x);
    torch::Tensor dp = hasBias(bias) ? torch::mm(gy, bias[0].narrow(1, 0, columns).t()) : torch::zeros_like(p);
    kernels().weightRowsBack(x.data_ptr<float>(), p.data_ptr<float>(), G.data_ptr<float>(), T * R, in, dx.data_ptr<float>(),
                   dp.data_ptr<float>());
    // The gradients of the columns used; the others (Modular's score column) are zero.
    const bool allColumns = columns == weight.size(2);
    torch::Tensor dWeight = allColumns ? torch::mm(weighted.t(), gy).view(weight.sizes()) : torch::zeros_like(weight);
    if (!allColumns) dWeight.narrow(2, 0, columns).copy_(torch::mm(weighted.t(), gy).view({R, in, columns}));
    torch::Tensor dBias;
    if (hasBias(bias)) {
      dBias = allColumns ? torch::mm(p.t(), gy).view(bias.sizes()) : torch::zeros_like(bias);
      if (!allColumns) dBias[0].narrow(1, 0, columns).copy_(torch::mm(p.t(), gy));
    }
    return {dx, dp, dWeight, dBias, torch::Tensor()};
  }
};

// relu(x_m W_m + b_m) for every module m: x (T, R, din), each module its own input, or (T, din)
// shared by all -> (T, R, dout), with one loop for the bias and ReLU each way. Own inputs: each
// module's product is written straight into its columns of the output (BLAS leading
// dimensions), without the transposed copies of a batched product. A shared input: one product
// with the modules' weights side by side, (din, R * dout).
class ModulesRelu : public torch::autograd::Function<ModulesRelu> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, bool shared) {
    const Sizes z(x, weight);
    torch::Tensor u = torch::empty({z.T, z.R, z.out}, x.options());
    const torch::Tensor w = shared ? weight.permute({1, 0, 2}).contiguous() : weight;  // (din, R, dout) when shared
    if (shared) product(false, false, z.T, z.R * z.out, z.in, at(x), z.in, at(w), z.R * z.out, at(u));
    else
      for (std::int64_t m = 0; m < z.R; ++m)
        product(false, false, z.T, z.out, z.in, at(x, m * z.in), z.R * z.in, at(weight, m * z.in * z.out), z.out,
                at(u, m * z.out), z.R * z.out);
    addBias(at(u), hasBias(bias) ? at(bias) : nullptr, z.T, z.R * z.out, true);
    ctx->save_for_backward({x, w, bias, u});
    ctx->saved_data["shared"] = shared;
    return u;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &bias = saved[2], &u = saved[3];
    const bool shared = ctx->saved_data["shared"].toBool();
    const Sizes z(x, shared ? w.permute({1, 0, 2}) : w);
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gu = torch::empty_like(u), dw = torch::empty_like(w), dBias;
    if (hasBias(bias)) dBias = torch::empty_like(bias);
    reluBackward(at(g), at(u), z.T, z.R * z.out, dBias.defined() ? at(dBias) : nullptr, at(gu));
    const bool inputGrad = ctx->needs_input_grad(0);  // not for the data itself
    torch::Tensor dx = inputGrad ? torch::empty_like(x) : torch::Tensor();
    if (shared) {
      product(true, false, z.in, z.R * z.out, z.T, at(x), z.in, at(gu), z.R * z.out, at(dw));
      if (inputGrad) product(false, true, z.T, z.in, z.R * z.out, at(gu), z.R * z.out, at(w), z.R * z.out, at(dx));
      return {dx, dw.permute({1, 0, 2}).contiguous(), dBias, torch::Tensor()};
    }
    for (std::int64_t m = 0; m < z.R; ++m) {
      const std::int64_t xm = m * z.in, wm = m * z.in * z.out, um = m * z.out;
      product(true, false, z.in, z.out, z.T, at(x, xm), z.R * z.in, at(gu, um), z.R * z.out, at(dw, wm));
      if (inputGrad)
        product(false, true, z.T, z.in, z.out, at(gu, um), z.R * z.out, at(w, wm), z.out, at(dx, xm), z.R * z.in);
    }
    return {dx, dw, dBias, torch::Tensor()};
  }

private:
  struct Sizes {  // from x (T, ...) and the weight (R, din, dout)
    Sizes(const torch::Tensor& x, const torch::Tensor& weight)
        : T(x.size(0)), R(weight.size(0)), in(weight.size(1)), out(weight.size(2)) {}
    std::int64_t T, R, in, out;
  };
  // A float pointer into a contiguous CPU tensor, `offset` floats in.
  static float* at(const torch::Tensor& t, std::int64_t offset = 0) { return t.data_ptr<float>() + offset; }
};

// GT-Modular's two routed layers, relu(x W1[m] + b1[m]) W2[m] + b2[m] with m each row's
// module: the rows are sorted by module once, and each module's products and weight
// gradients are written into their own rows and slices (no per-module select backward,
// which would allocate and add a whole weight-sized gradient for every module).
class RoutedTwoLayer : public torch::autograd::Function<RoutedTwoLayer> {
public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& modules,
                               const torch::Tensor& w1, const torch::Tensor& b1, const torch::Tensor& w2,
                               const torch::Tensor& b2) {
    const auto R = w1.size(0), rows = x.size(0);
    const bool raw = rawBuffers(x, w1, b1, w2, b2) && modules.device().is_cpu();
    const std::pair<torch::Tensor, torch::Tensor> sorted =
        raw ? sortRows(modules, R) : std::pair{modules.argsort(), modules.bincount({}, R).cpu()};
    const torch::Tensor &order = sorted.first, &counts = sorted.second;
    const torch::Tensor xs = raw ? gathered(x, order) : x.index_select(0, order);
    torch::Tensor u = torch::empty({rows, w1.size(2)}, x.options());
    torch::Tensor ys = torch::empty({rows, w2.size(2)}, x.options());
    if (raw) {
      const Shapes d(w1, w2);
      forEachModule(counts, [&](std::int64_t m, std::int64_t offset, std::int64_t n) {
        float* um = u.data_ptr<float>() + offset * d.hidden;
        float* ym = ys.data_ptr<float>() + offset * d.out;
        product(false, false, n, d.hidden, d.in, xs.data_ptr<float>() + offset * d.in, d.in, d.w1(w1, m), d.hidden, um);
        addBias(um, hasBias(b1) ? d.b1(b1, m) : nullptr, n, d.hidden, true);
        product(false, false, n, d.out, d.hidden, um, d.hidden, d.w2(w2, m), d.out, ym);
        if (hasBias(b2)) addBias(ym, d.b2(b2, m), n, d.out, false);
      });
    } else {
      forEachModule(counts, [&](std::int64_t m, std::int64_t offset, std::int64_t n) {
        torch::Tensor um = u.narrow(0, offset, n), ym = ys.narrow(0, offset, n);
        affineInto(um, xs.narrow(0, offset, n), w1[m], b1, m);
        um.relu_();
        affineInto(ym, um, w2[m], b2, m);
      });
    }
    ctx->save_for_backward({xs, u, order, counts, w1, b1, w2, b2});
    ctx->saved_data["raw"] = raw;
    return raw ? scattered(ys, order) : torch::empty_like(ys).index_copy_(0, order, ys);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &xs = saved[0], &u = saved[1], &order = saved[2], &counts = saved[3];
    const torch::Tensor &w1 = saved[4], &b1 = saved[5], &w2 = saved[6], &b2 = saved[7];
    const bool raw = ctx->saved_data["raw"].toBool();
    const torch::Tensor gys = raw ? gathered(grads[0], order) : grads[0].index_select(0, order);
    torch::Tensor dW1 = torch::zeros_like(w1), dW2 = torch::zeros_like(w2);
    torch::Tensor db1 = torch::zeros_like(b1), db2 = torch::zeros_like(b2);
    torch::Tensor gxs = torch::empty_like(xs);
    if (raw) {
      const Shapes d(w1, w2);
      const float* gy = gys.data_ptr<float>();
      torch::Tensor gu = torch::empty_like(u);
      forEachModule(counts, [&](std::int64_t m, std::int64_t offset, std::int64_t n) {
        const float* um = u.data_ptr<float>() + offset * d.hidden;
        const float* gym = gy + offset * d.out;
        float* gum = gu.data_ptr<float>() + offset * d.hidden;
        product(true, false, d.hidden, d.out, n, um, d.hidden, gym, d.out, d.w2(dW2, m));
        if (hasBias(b2)) columnSums(gym, n, d.out, d.b2(db2, m));
        product(false, true, n, d.hidden, d.out, gym, d.out, d.w2(w2, m), d.out, gum);
        reluBackward(gum, um, n, d.hidden, hasBias(b1) ? d.b1(db1, m) : nullptr, gum);
        product(true, false, d.in, d.hidden, n, xs.data_ptr<float>() + offset * d.in, d.in, gum, d.hidden,
                d.w1(dW1, m));
        product(false, true, n, d.in, d.hidden, gum, d.hidden, d.w1(w1, m), d.hidden,
                gxs.data_ptr<float>() + offset * d.in);
      });
    } else {
      forEachModule(counts, [&](std::int64_t m, std::int64_t offset, std::int64_t n) {
        const torch::Tensor gym = gys.narrow(0, offset, n), um = u.narrow(0, offset, n);
        torch::Tensor dW1m = dW1[m], dW2m = dW2[m], gxm = gxs.narrow(0, offset, n);
        torch::mm_out(dW2m, um.t(), gym);
        if (hasBias(b2)) sumRowsInto(db2, m, gym);
        const torch::Tensor gu = at::threshold_backward(torch::mm(gym, w2[m].t()), um, 0);
        torch::mm_out(dW1m, xs.narrow(0, offset, n).t(), gu);
        if (hasBias(b1)) sumRowsInto(db1, m, gu);
        torch::mm_out(gxm, gu, w1[m].t());
      });
    }
    const torch::Tensor gx = raw ? scattered(gxs, order) : torch::empty_like(gxs).index_copy_(0, order, gxs);
    return {gx, torch::Tensor(), dW1, hasBias(b1) ? db1 : torch::Tensor(), dW2, hasBias(b2) ? db2 : torch::Tensor()};
  }

private:
  // The layers' sizes, and module m's block of a weight or bias (or of its gradient) of the
  // first or second layer (contiguous float CPU tensors).
  struct Shapes {
    Shapes(const torch::Tensor& w1, const torch::Tensor& w2) : in(w1.size(1)), hidden(w1.size(2)), out(w2.size(2)) {}
    float* w1(const torch::Tensor& w, std::int64_t m) const { return w.data_ptr<float>() + m * in * hidden; }
    float* w2(const torch::Tensor& w, std::int64_t m) const { return w.data_ptr<float>() + m * hidden * out; }
    float* b1(const torch::Tensor& b, std::int64_t m) const { return b.data_ptr<float>() + m * hidden; }
    float* b2(const torch::Tensor& b, std::int64_t m) const { return b.data_ptr<float>() + m * out; }
    std::int64_t in, hidden, out;
  };

  // Float tensors on the CPU in row-major order: the products go straight to BLAS.
  static bool rawBuffers(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                         const torch::Tensor& w2, const torch::Tensor& b2) {
    return rawFloat(x) && rawFloat(w1) && rawFloat(b1) && rawFloat(w2) && rawFloat(b2);
  }

  // The rows' order sorted by module (torch's argsort: the order, and so every sum's rounding,
  // of the formulation before these loops) and each module's row count, counted here.
  static std::pair<torch::Tensor, torch::Tensor> sortRows(const torch::Tensor& modules, std::int64_t R) {
    const torch::Tensor routes = modules.to(torch::kLong).contiguous();
    torch::Tensor counts = torch::zeros({R}, routes.options());
    const std::int64_t* m = routes.data_ptr<std::int64_t>();
    checkModules(m, routes.numel(), R);
    std::int64_t* n = counts.data_ptr<std::int64_t>();
    for (std::int64_t k = 0; k < routes.numel(); ++k) ++n[m[k]];
    return {routes.argsort(), counts};
  }

  // rows[order] and its inverse, for float CPU rows (rows, width).
  static torch::Tensor gathered(const torch::Tensor& rows, const torch::Tensor& order) {
    const torch::Tensor src = rows.contiguous();
    torch::Tensor out = torch::empty_like(src);
    gatherRows(src.data_ptr<float>(), order.data_ptr<std::int64_t>(), src.size(0), src.size(1), out.data_ptr<float>());
    return out;
  }
  static torch::Tensor scattered(const torch::Tensor& sorted, const torch::Tensor& order) {
    torch::Tensor out = torch::empty_like(sorted);
    scatterRows(sorted.data_ptr<float>(), order.data_ptr<std::int64_t>(), sorted.size(0), sorted.size(1),
                out.data_ptr<float>());
    return out;
  }

  // fn(m, first row, rows) for every module with rows, in module order.
  template <typename Fn>
  static void forEachModule(const torch::Tensor& counts, Fn&& fn) {
    const auto* n = counts.data_ptr<std::int64_t>();
    std::int64_t offset = 0;
    for (std::int64_t m = 0; m < counts.numel(); ++m) {
      if (n[m] == 0) continue;
      fn(m, offset, n[m]);
      offset += n[m];
    }
  }

  // db[0][m] = the column sums of g.
  static void sumRowsInto(torch::Tensor& db, std::int64_t m, const torch::Tensor& g) {
    torch::Tensor slot = db[0][m];
    torch::sum_out(slot, g, 0);
  }

  // out = rows W (+ b[0][m]), written in place.
  static void affineInto(torch::Tensor& out, const torch::Tensor& rows, const torch::Tensor& w,
                         const torch::Tensor& b, std::int64_t m) {
    if (hasBias(b)) torch::addmm_out(out, b[0][m], rows, w);
    else torch::mm_out(out, rows, w);
  }
};

}  // namespace

GroupLinearImpl::GroupLinearImpl(std::int64_t modules, std::int64_t in, std::int64_t out, bool withBias)
    : modules_(modules), in_(in), out_(out) {
  weight = register_parameter("weight", torch::empty({modules, in, out}));
  if (withBias) bias = register_parameter("bias", torch::empty({1, modules, out}));
}

void GroupLinearImpl::reset(torch::Generator& gen) {
  torch::NoGradGuard noGrad;
  const double bound = std::sqrt(1.0 / static_cast<double>(in_));
  weight.uniform_(-bound, bound, gen);
  if (bias.defined()) bias.uniform_(-bound, bound, gen);
}

torch::Tensor GroupLinearImpl::forward(const torch::Tensor& x) {
  // (..., R, din) -> (R, T, din) x (R, din, dout) -> (T, R, dout)
  const auto lead = x.sizes().slice(0, x.dim() - 2);
  const torch::Tensor flat = x.reshape({-1, modules_, in_}).transpose(0, 1);
  torch::Tensor y = torch::bmm(flat, weight).transpose(0, 1);
  if (bias.defined()) y = y + bias;
  std::vector<std::int64_t> shape(lead.begin(), lead.end());
  shape.push_back(modules_);
  shape.push_back(out_);
  return y.reshape(shape);
}

torch::Tensor GroupLinearImpl::forwardShared(const torch::Tensor& x) {
  const torch::Tensor w = weight.permute({1, 0, 2}).reshape({in_, modules_ * out_});
  torch::Tensor y = bias.defined() ? torch::addmm(bias.reshape({modules_ * out_}), x.reshape({-1, in_}), w)
                                   : torch::mm(x.reshape({-1, in_}), w);
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(modules_);
  shape.push_back(out_);
  return y.reshape(shape);
}

torch::Tensor GroupLinearImpl::forwardRelu(const torch::Tensor& x) {
  const torch::Tensor rows = x.reshape({-1, modules_, in_}).contiguous();
  if (!rawLayer(rows, weight, bias)) return torch::relu(forward(x));
  std::vector<std::int64_t> shape = x.sizes().vec();
  shape.back() = out_;
  return ModulesRelu::apply(rows, weight, biasArgument(bias, weight), false).view(shape);
}

torch::Tensor GroupLinearImpl::forwardSharedRelu(const torch::Tensor& x) {
  const torch::Tensor rows = x.reshape({-1, in_}).contiguous();
  if (!rawLayer(rows, weight, bias)) return torch::relu(forwardShared(x));
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(modules_);
  shape.push_back(out_);
  return ModulesRelu::apply(rows, weight, biasArgument(bias, weight), true).view(shape);
}

torch::Tensor GroupLinearImpl::forwardMixed(const torch::Tensor& x, const torch::Tensor& p,
                                            std::int64_t columns) {
  if (ownLoops(x, weight)) return ModuleMixture::apply(x, p, weight, biasArgument(bias, weight), columns);
  const torch::Tensor w = weight.narrow(2, 0, columns).reshape({modules_ * in_, columns});
  const torch::Tensor weighted = (x * p.unsqueeze(-1)).reshape({x.size(0), modules_ * in_});
  if (!bias.defined()) return torch::mm(weighted, w);
  return torch::addmm(torch::mm(p, bias[0].narrow(1, 0, columns)), weighted, w);
}

torch::Tensor GroupLinearImpl::forwardColumn(const torch::Tensor& x, std::int64_t column) {
  if (ownLoops(x, weight)) return ModuleColumn::apply(x, weight, biasArgument(bias, weight), column);
  torch::Tensor s = (x * weight.select(2, column)).sum(-1);  // (T, R)
  if (bias.defined()) s = s + bias[0].select(1, column);
  return s;
}

torch::Tensor GroupLinearImpl::forwardModule(std::int64_t m, const torch::Tensor& rows) {
  return bias.defined() ? torch::addmm(bias[0][m], rows, weight[m]) : torch::mm(rows, weight[m]);
}

torch::Tensor GroupLinearImpl::forwardRouted(const torch::Tensor& x, const torch::Tensor& modules) {
  return routeByModule(x, modules, modules_,
                       [&](std::int64_t m, const torch::Tensor& rows) { return forwardModule(m, rows); });
}

torch::Tensor routedTwoLayer(GroupLinearImpl& first, GroupLinearImpl& second, const torch::Tensor& x,
                             const torch::Tensor& modules) {
  return RoutedTwoLayer::apply(x, modules, first.weight, biasArgument(first.bias, first.weight), second.weight,
                               biasArgument(second.bias, second.weight));
}

}  // namespace modlab
