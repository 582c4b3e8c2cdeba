// Implementation of routeByModule (included by group_linear.h).
#pragma once

#include <vector>

#include <ATen/ATen.h>

namespace modlab {

template <typename Fn>
torch::Tensor routeByModule(const torch::Tensor& x, const torch::Tensor& modules,
                            std::int64_t R, Fn&& fn) {
  const at::Tensor order = modules.argsort();
  const at::Tensor counts = modules.bincount({}, R).cpu();
  const at::Tensor sorted = x.index_select(0, order);
  const auto* n = counts.data_ptr<std::int64_t>();
  std::vector<at::Tensor> parts;
  parts.reserve(static_cast<std::size_t>(R));
  std::int64_t offset = 0;
  for (std::int64_t m = 0; m < R; ++m) {
    if (n[m] == 0) continue;
    parts.push_back(fn(m, sorted.narrow(0, offset, n[m])));
    offset += n[m];
  }
  const at::Tensor inverse = order.argsort();
  return at::cat(parts, 0).index_select(0, inverse);
}

}  // namespace modlab
