// Collapse and specialisation metrics of the paper (spec section 4), on the
// activation matrix P (rules x modules). Plain C++: the GUI uses these too.
// Lower is better for every metric.
#pragma once

#include <vector>

namespace modlab {

// P[r, m] = p(rule = r, module = m) under a uniform rule prior; sums to 1.
class ActivationMatrix {
public:
  ActivationMatrix() = default;
  ActivationMatrix(int rules, int modules, std::vector<double> joint);  // renormalised to sum 1
  // From rows p(module | rule), i.e. A = R * P.
  static ActivationMatrix fromModuleGivenRule(const std::vector<std::vector<double>>& rows);
  // The same from R x R rows stored row-major (FamilyEvaluation::moduleGivenRule).
  static ActivationMatrix fromModuleGivenRule(int rules, const std::vector<double>& rowMajor);

  int rules() const { return rules_; }
  int modules() const { return modules_; }
  double joint(int r, int m) const { return P_[static_cast<std::size_t>(r) * modules_ + m]; }
  double moduleGivenRule(int r, int m) const;  // row-normalised p(m | r)
  std::vector<double> moduleUsage() const;     // p(m) = sum_r P[r, m]
  std::vector<double> ruleMarginal() const;    // p(r) = sum_m P[r, m]
  const std::vector<double>& data() const { return P_; }

private:
  int rules_ = 0, modules_ = 0;
  std::vector<double> P_;
};

double collapseAvg(const ActivationMatrix& P);    // R/(R-1) sum_m max(0, 1/R - p(m))
double collapseWorst(const ActivationMatrix& P);  // 1 - R min_m p(m)
double alignment(const ActivationMatrix& P);      // 1 - (1/R) max_pi sum_r A[r, pi(r)]
// The module matched to each rule by the Hungarian algorithm (maximising sum_r A[r, pi(r)]).
std::vector<int> alignmentPermutation(const ActivationMatrix& P);
double mutualInformation(const ActivationMatrix& P);         // nats, with the 1e-8 epsilons
double inverseMutualInformation(const ActivationMatrix& P);  // 1 - MI / log R
// One prior's Adaptation term: 1/2 sum_i |sort(p)_i - sort(q)_i|.
double adaptationTerm(std::vector<double> p, std::vector<double> q);

// Minimum-cost assignment of an n x n cost matrix (row-major): column of each row. O(n^3).
std::vector<int> hungarian(const std::vector<double>& cost, int n);

struct SpecialisationMetrics {
  double collapseAvg = 0, collapseWorst = 0, alignment = 0, adaptation = 0, inverseMutualInformation = 0;
};
// The analytic values of the two reference routings (spec 4.4).
SpecialisationMetrics randomRoutingMetrics(int rules);  // P = 1/R^2: E[Adaptation] = (1-1/R)^R
SpecialisationMetrics totalCollapseMetrics(int rules);  // one module takes all: E[Adaptation] = 1 - H_R/R

}  // namespace modlab
