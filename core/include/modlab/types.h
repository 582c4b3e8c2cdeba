// Vocabulary of the paper shared by the method and the engine. No torch here:
// ui/ and app/ include this.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace modlab {

// The three settings of the paper (section 1).
enum class Setting { Mlp, Mha, Rnn };
// Classification (BCE-with-logits, error %) or regression (L1).
enum class TaskKind { Classification, Regression };
// The four model families (section 2).
enum class Family { Monolithic, Modular, ModularOp, GtModular };

inline constexpr std::array<Family, 4> kAllFamilies{Family::Monolithic, Family::Modular,
                                                    Family::ModularOp, Family::GtModular};

std::string toString(Setting s);
std::string toString(TaskKind k);
std::string toString(Family f);  // "Monolithic", "Modular", "Modular-op", "GT-Modular"

Setting parseSetting(std::string_view text);    // "mlp" | "mha" | "rnn"
TaskKind parseTaskKind(std::string_view text);  // "classification" | "regression"
Family parseFamily(std::string_view text);      // the names toString gives (case-insensitive)

bool isModular(Family f);  // everything but Monolithic has module activations
bool isRouted(Family f);   // Modular and Modular-op: a router the routing interventions act on

// A value the user (or a config file) gave that the method cannot accept.
// The message names the parameter, the value and what is allowed.
class InvalidArgument : public std::invalid_argument {
public:
  InvalidArgument(std::string parameter, std::string value, std::string allowed);
  const std::string& parameter() const { return parameter_; }
  const std::string& value() const { return value_; }
  const std::string& allowed() const { return allowed_; }

private:
  std::string parameter_, value_, allowed_;
};

}  // namespace modlab
