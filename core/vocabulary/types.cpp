#include "modlab/types.h"

#include <algorithm>
#include <cctype>

namespace modlab {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

std::string toString(Setting s) {
  switch (s) {
    case Setting::Mlp: return "mlp";
    case Setting::Mha: return "mha";
    case Setting::Rnn: return "rnn";
  }
  return "?";
}

std::string toString(TaskKind k) {
  return k == TaskKind::Classification ? "classification" : "regression";
}

std::string toString(Family f) {
  switch (f) {
    case Family::Monolithic: return "Monolithic";
    case Family::Modular: return "Modular";
    case Family::ModularOp: return "Modular-op";
    case Family::GtModular: return "GT-Modular";
  }
  return "?";
}

Setting parseSetting(std::string_view text) {
  const std::string t = lower(text);
  if (t == "mlp") return Setting::Mlp;
  if (t == "mha") return Setting::Mha;
  if (t == "rnn") return Setting::Rnn;
  throw InvalidArgument("setting", std::string(text), "one of mlp, mha, rnn");
}

TaskKind parseTaskKind(std::string_view text) {
  const std::string t = lower(text);
  if (t == "classification" || t == "clf") return TaskKind::Classification;
  if (t == "regression" || t == "reg") return TaskKind::Regression;
  throw InvalidArgument("task", std::string(text), "classification or regression");
}

Family parseFamily(std::string_view text) {
  const std::string t = lower(text);
  for (Family f : kAllFamilies)
    if (lower(toString(f)) == t) return f;
  if (t == "modular_op" || t == "modularop") return Family::ModularOp;
  if (t == "gt_modular" || t == "gtmodular" || t == "gt") return Family::GtModular;
  throw InvalidArgument("family", std::string(text),
                        "one of Monolithic, Modular, Modular-op, GT-Modular");
}

bool isModular(Family f) { return f != Family::Monolithic; }
bool isRouted(Family f) { return f == Family::Modular || f == Family::ModularOp; }

namespace {
std::string shortened(const std::string& value) {
  return value.size() <= 80 ? value : value.substr(0, 80) + "... (" + std::to_string(value.size()) + " characters)";
}
}  // namespace

InvalidArgument::InvalidArgument(std::string parameter, std::string value, std::string allowed)
    : std::invalid_argument("invalid " + parameter + " '" + shortened(value) + "': allowed is " + allowed),
      parameter_(std::move(parameter)),
      value_(std::move(value)),
      allowed_(std::move(allowed)) {}

}  // namespace modlab
