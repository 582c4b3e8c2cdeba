#include "modlab/routing.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "modlab/types.h"

namespace modlab {

namespace {
std::string shown(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void requireRange(std::string_view key, double v, double lo, double hi, bool openLow, const std::string& allowed) {
  const bool ok = std::isfinite(v) && (openLow ? v > lo : v >= lo) && v <= hi;
  if (!ok) throw InvalidArgument(std::string(key), shown(v), allowed);
}

double* field(RoutingOptions& o, std::string_view key) {
  if (key == "balance_loss") return &o.balance;
  if (key == "sample_entropy_loss") return &o.sampleEntropy;
  if (key == "batch_entropy_loss") return &o.batchEntropy;
  if (key == "routing_temperature") return &o.temperature;
  return nullptr;
}
}  // namespace

std::string toString(RoutingMode m) {
  switch (m) {
    case RoutingMode::Soft: return "soft";
    case RoutingMode::TopOne: return "top1";
    case RoutingMode::Gumbel: return "gumbel";
  }
  return "soft";
}

RoutingMode parseRoutingMode(std::string_view text) {
  for (RoutingMode m : {RoutingMode::Soft, RoutingMode::TopOne, RoutingMode::Gumbel})
    if (text == toString(m)) return m;
  throw InvalidArgument("routing", std::string(text.substr(0, 40)), "soft, top1 or gumbel");
}

double RoutingOptions::gumbelTemperatureAt(std::int64_t step) const {
  return std::max(gumbelMinTemperature, gumbelTemperature * std::exp(-gumbelAnnealRate * static_cast<double>(step)));
}

void validate(const RoutingOptions& o) {
  // Below 0.01 the router's logits / T overflow float32 (e^88) for ordinary scores: a
  // temperature that small is no routing at all, only NaN.
  requireRange("routing_temperature", o.temperature, 0.01, 100.0, false, "a number from 0.01 to 100");
  requireRange("gumbel_temperature", o.gumbelTemperature, 0.0, 100.0, true, "a number above 0 and at most 100");
  requireRange("gumbel_min_temperature", o.gumbelMinTemperature, 0.0, o.gumbelTemperature, true,
               "a number above 0 and at most gumbel_temperature (" + shown(o.gumbelTemperature) + ")");
  requireRange("gumbel_anneal_rate", o.gumbelAnnealRate, 0.0, 1.0, false, "a number from 0 to 1 (per step)");
  requireRange("balance_loss", o.balance, 0.0, 100.0, false, "a number from 0 to 100");
  requireRange("sample_entropy_loss", o.sampleEntropy, 0.0, 100.0, false, "a number from 0 to 100");
  requireRange("batch_entropy_loss", o.batchEntropy, 0.0, 100.0, false, "a number from 0 to 100");
}

void setRoutingCoefficient(RoutingOptions& options, std::string_view key, double value) {
  double* target = field(options, key);
  if (!target)
    throw InvalidArgument("routing coefficient", std::string(key.substr(0, 40)),
                          "balance_loss, sample_entropy_loss, batch_entropy_loss or routing_temperature");
  RoutingOptions changed = options;
  *field(changed, key) = value;
  validate(changed);
  *target = value;
}

double routingCoefficient(const RoutingOptions& options, std::string_view key) {
  double* f = field(const_cast<RoutingOptions&>(options), key);
  if (!f)
    throw InvalidArgument("routing coefficient", std::string(key.substr(0, 40)),
                          "balance_loss, sample_entropy_loss, batch_entropy_loss or routing_temperature");
  return *f;
}

std::string describe(const RoutingOptions& o) {
  std::vector<std::string> parts;
  if (o.balance != 0.0) parts.push_back("balance " + shown(o.balance));
  if (o.sampleEntropy != 0.0) parts.push_back("sample entropy " + shown(o.sampleEntropy));
  if (o.batchEntropy != 0.0) parts.push_back("batch entropy " + shown(o.batchEntropy));
  if (o.temperature != 1.0) parts.push_back("T " + shown(o.temperature));
  if (o.mode == RoutingMode::TopOne) parts.push_back("top-1");
  if (o.mode == RoutingMode::Gumbel) parts.push_back("Gumbel tau " + shown(o.gumbelTemperature));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace modlab
