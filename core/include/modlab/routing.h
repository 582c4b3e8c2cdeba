// Routing interventions (beyond the paper): the remedies its conclusion names for collapse,
// applied to the routers of the Modular and Modular-op families. No torch here: ui/ and
// app/ include this. With the defaults, a family trains exactly as in the paper.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modlab {

// How the router's probabilities become the modules' mixing weights.
enum class RoutingMode {
  Soft,    // the paper: p = softmax(scores / T)
  TopOne,  // top-1: the argmax module alone, gradients straight through p
  Gumbel,  // Gumbel-softmax: softmax((scores / T + g) / tau), g ~ Gumbel(0, 1), tau annealed
};

std::string toString(RoutingMode m);         // "soft", "top1", "gumbel"
RoutingMode parseRoutingMode(std::string_view text);  // throws InvalidArgument("routing", ...)

struct RoutingOptions {
  RoutingMode mode = RoutingMode::Soft;
  double temperature = 1.0;         // T: scores / T before the softmax
  double gumbelTemperature = 1.0;   // tau at step 0
  double gumbelMinTemperature = 0.5;
  double gumbelAnnealRate = 0.0;    // tau(step) = max(min, tau_0 exp(-rate step)) (Jang et al. 2017)
  // The loss: task + balance * R sum_i f_i P_i + sampleEntropy * mean_t H(p_t) - batchEntropy * H(mean_t p_t)
  double balance = 0.0;             // Switch Transformers' load-balancing loss (Fedus et al. 2021)
  double sampleEntropy = 0.0;       // penalty on each sample's routing entropy: sharp decisions
  double batchEntropy = 0.0;        // reward for the batch-mean routing's entropy: every module used

  bool changesRouting() const { return mode != RoutingMode::Soft || temperature != 1.0; }
  bool hasRegulariser() const { return balance != 0.0 || sampleEntropy != 0.0 || batchEntropy != 0.0; }
  bool isPaper() const { return !changesRouting() && !hasRegulariser(); }
  double gumbelTemperatureAt(std::int64_t step) const;
  bool operator==(const RoutingOptions&) const = default;
};

// Throws InvalidArgument naming the experiment key, the value and what is allowed.
void validate(const RoutingOptions& options);

// Every routing experiment key, and the coefficients a running session may change.
inline constexpr std::string_view kRoutingKeys[] = {"routing",           "routing_temperature",    "gumbel_temperature",
                                                    "gumbel_min_temperature", "gumbel_anneal_rate", "balance_loss",
                                                    "sample_entropy_loss",    "batch_entropy_loss"};
inline constexpr std::string_view kRoutingCoefficientKeys[] = {"balance_loss", "sample_entropy_loss",
                                                               "batch_entropy_loss", "routing_temperature"};
// Sets one of kRoutingCoefficientKeys; throws InvalidArgument for another key or a bad value.
void setRoutingCoefficient(RoutingOptions& options, std::string_view key, double value);
double routingCoefficient(const RoutingOptions& options, std::string_view key);

// A short label for legends and reports: "" for the paper's routing, else e.g. "balance 0.01, top-1".
std::string describe(const RoutingOptions& options);

}  // namespace modlab
