#include "modlab/metrics/specialisation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "modlab/types.h"

namespace modlab {

ActivationMatrix::ActivationMatrix(int rules, int modules, std::vector<double> joint)
    : rules_(rules), modules_(modules), P_(std::move(joint)) {
  if (rules < 1 || modules < 1 || P_.size() != static_cast<std::size_t>(rules) * modules)
    throw InvalidArgument("activation matrix", std::to_string(P_.size()) + " values",
                          std::to_string(rules) + " x " + std::to_string(modules) + " values");
  const double sum = std::accumulate(P_.begin(), P_.end(), 0.0);
  if (!(sum > 0.0)) throw InvalidArgument("activation matrix", "sum " + std::to_string(sum), "a positive sum");
  for (double& v : P_) v /= sum;
}

ActivationMatrix ActivationMatrix::fromModuleGivenRule(int rules, const std::vector<double>& rowMajor) {
  std::vector<std::vector<double>> rows(static_cast<std::size_t>(std::max(rules, 0)));
  for (int r = 0; r < rules; ++r) {
    const auto begin = rowMajor.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(static_cast<std::size_t>(r) * rules, rowMajor.size()));
    rows[static_cast<std::size_t>(r)].assign(begin, begin + static_cast<std::ptrdiff_t>(std::min<std::size_t>(rules, rowMajor.end() - begin)));
  }
  return fromModuleGivenRule(rows);
}

ActivationMatrix ActivationMatrix::fromModuleGivenRule(const std::vector<std::vector<double>>& rows) {
  const int R = static_cast<int>(rows.size());
  const int M = R ? static_cast<int>(rows[0].size()) : 0;
  std::vector<double> joint;
  joint.reserve(static_cast<std::size_t>(R) * M);
  for (const auto& row : rows) {
    if (static_cast<int>(row.size()) != M)
      throw InvalidArgument("activation matrix row", std::to_string(row.size()) + " values",
                            std::to_string(M) + " values in every row");
    for (double v : row) joint.push_back(v / R);
  }
  return ActivationMatrix(R, M, std::move(joint));
}

double ActivationMatrix::moduleGivenRule(int r, int m) const {
  double row = 0.0;
  for (int k = 0; k < modules_; ++k) row += joint(r, k);
  return row > 0.0 ? joint(r, m) / row : 0.0;
}

std::vector<double> ActivationMatrix::moduleUsage() const {
  std::vector<double> usage(modules_, 0.0);
  for (int r = 0; r < rules_; ++r)
    for (int m = 0; m < modules_; ++m) usage[m] += joint(r, m);
  return usage;
}

std::vector<double> ActivationMatrix::ruleMarginal() const {
  std::vector<double> marginal(rules_, 0.0);
  for (int r = 0; r < rules_; ++r)
    for (int m = 0; m < modules_; ++m) marginal[r] += joint(r, m);
  return marginal;
}

double collapseAvg(const ActivationMatrix& P) {
  const double R = P.modules();
  double missing = 0.0;
  for (double pm : P.moduleUsage()) missing += std::max(0.0, 1.0 / R - pm);
  return R / (R - 1.0) * missing;
}

double collapseWorst(const ActivationMatrix& P) {
  const auto usage = P.moduleUsage();
  return 1.0 - P.modules() * *std::min_element(usage.begin(), usage.end());
}

std::vector<int> hungarian(const std::vector<double>& cost, int n) {
  // Potentials u (rows), v (columns); way[] rebuilds the augmenting path. 1-based.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
  std::vector<int> match(n + 1, 0), way(n + 1, 0);  // match[column] = row
  for (int i = 1; i <= n; ++i) {
    match[0] = i;
    int j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const int i0 = match[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[static_cast<std::size_t>(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) u[match[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {
      const int j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> columnOfRow(n, -1);
  for (int j = 1; j <= n; ++j) columnOfRow[match[j] - 1] = j - 1;
  return columnOfRow;
}

std::vector<int> alignmentPermutation(const ActivationMatrix& P) {
  if (P.rules() != P.modules())
    throw InvalidArgument("activation matrix", std::to_string(P.rules()) + " x " + std::to_string(P.modules()),
                          "a square matrix (as many modules as rules) for Alignment");
  const int R = P.rules();
  std::vector<double> cost(static_cast<std::size_t>(R) * R);
  for (int r = 0; r < R; ++r)
    for (int m = 0; m < R; ++m) cost[static_cast<std::size_t>(r) * R + m] = 1.0 - R * P.joint(r, m);
  return hungarian(cost, R);
}

double alignment(const ActivationMatrix& P) {
  const auto pi = alignmentPermutation(P);
  const int R = P.rules();
  double matched = 0.0;
  for (int r = 0; r < R; ++r) matched += R * P.joint(r, pi[r]);
  return 1.0 - matched / R;
}

double mutualInformation(const ActivationMatrix& P) {
  const auto pr = P.ruleMarginal();
  const auto pm = P.moduleUsage();
  double mi = 0.0;
  for (int r = 0; r < P.rules(); ++r)
    for (int m = 0; m < P.modules(); ++m) {
      const double prm = P.joint(r, m);
      mi += prm * std::log(prm / (pr[r] * pm[m] + 1e-8) + 1e-8);
    }
  return mi;
}

double inverseMutualInformation(const ActivationMatrix& P) {
  const double logR = std::log(static_cast<double>(P.rules()));
  return (logR - mutualInformation(P)) / logR;
}

double adaptationTerm(std::vector<double> p, std::vector<double> q) {
  if (p.size() != q.size())
    throw InvalidArgument("module marginal", std::to_string(q.size()) + " values",
                          std::to_string(p.size()) + " values, one per rule");
  std::sort(p.begin(), p.end());
  std::sort(q.begin(), q.end());
  double tv = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) tv += std::abs(p[i] - q[i]);
  return 0.5 * tv;
}

SpecialisationMetrics randomRoutingMetrics(int rules) {
  const double R = rules;
  return {0.0, 0.0, 1.0 - 1.0 / R, std::pow(1.0 - 1.0 / R, R), 1.0};
}

SpecialisationMetrics totalCollapseMetrics(int rules) {
  double harmonic = 0.0;
  for (int k = 1; k <= rules; ++k) harmonic += 1.0 / k;
  return {1.0, 1.0, 1.0 - 1.0 / rules, 1.0 - harmonic / rules, 1.0};
}

}  // namespace modlab
