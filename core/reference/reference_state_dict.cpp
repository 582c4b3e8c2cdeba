#include "modlab/reference/reference_state_dict.h"

#include <torch/serialize.h>

#include <sstream>
#include <utility>

#include "modlab/errors.h"

namespace modlab {

namespace {

// Name prefixes, the reference's and ours, per setting and family (longest match first).
using Renames = std::vector<std::pair<std::string, std::string>>;

Renames mlpRenames(Family family) {
  Renames r{{"encoder_digit.", "phi_dig."}, {"encoder_operation.", "phi_op."}, {"decoder.", "psi."}};
  if (family == Family::Monolithic) {
    r.push_back({"MLP.", "core."});
  } else {
    r.push_back({"MLP.0.w", "modules_1.weight"});
    r.push_back({"MLP.0.b", "modules_1.bias"});
    r.push_back({"MLP.2.w", "modules_2.weight"});
    r.push_back({"MLP.2.b", "modules_2.bias"});
    if (family == Family::ModularOp) r.push_back({"scorer.", "scorer."});
  }
  return r;
}

Renames renamesOf(Setting setting, Family family) {
  if (setting == Setting::Mlp) return mlpRenames(family);
  throw ConfigError("--setting", "importing the reference's " + toString(setting) +
                                     " models is not available yet: allowed is mlp");
}

std::string shapeText(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// A name through the renames (from theirs to ours, or back); "" when none applies.
std::string renamed(const Renames& renames, const std::string& name, bool toOurs) {
  for (const auto& [theirs, ours] : renames) {
    const std::string& from = toOurs ? theirs : ours;
    const std::string& to = toOurs ? ours : theirs;
    if (name.compare(0, from.size(), from) == 0) return to + name.substr(from.size());
  }
  return {};
}

const torch::Tensor& tensorNamed(const StateDict& dict, const std::string& name) {
  const auto it = dict.find(name);
  if (it == dict.end()) throw ConfigError("state_dict", "the reference's state_dict has no tensor '" + name + "'");
  return it->second;
}

}  // namespace

StateDict stateDictOf(const c10::IValue& value) {
  if (!value.isGenericDict()) throw ReadError("not a state_dict: a torch.save of a dict of tensors was expected");
  const c10::Dict<c10::IValue, c10::IValue> dict = value.toGenericDict();
  StateDict out;
  for (const auto& entry : dict) {
    if (!entry.key().isString()) throw ReadError("not a state_dict: a key is not a name");
    const std::string key = entry.key().toStringRef();
    if (key == "state_dict") return stateDictOf(entry.value());
    if (!entry.value().isTensor()) throw ReadError("not a state_dict: '" + key + "' is not a tensor");
    out[key] = entry.value().toTensor();
  }
  return out;
}

StateDict readStateDict(const std::vector<char>& bytes) {
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw ReadError(std::string("not a torch.save file: ") + e.what());
  }
  return stateDictOf(value);
}

std::string ourParameterName(Setting setting, Family family, const std::string& theirs) {
  const std::string ours = renamed(renamesOf(setting, family), theirs, true);
  if (ours.empty())
    throw ConfigError("state_dict", "tensor '" + theirs + "' has no counterpart in Modularity Lab's " + toString(setting) + " " +
                                        toString(family));
  return ours;
}

std::string referenceParameterName(Setting setting, Family family, const std::string& ours) {
  const std::string theirs = renamed(renamesOf(setting, family), ours, false);
  if (theirs.empty()) throw ConfigError("state_dict", "parameter '" + ours + "' has no counterpart in the reference");
  return theirs;
}

ModelSpec inferModelSpec(Setting setting, TaskKind task, Family family, const StateDict& reference,
                         std::vector<std::string>* inferred) {
  (void)renamesOf(setting, family);  // refuses a setting without a mapping
  ModelSpec spec;
  spec.setting = setting;
  spec.kind = task;
  spec.family = family;
  const torch::Tensor& op = tensorNamed(reference, "encoder_operation.0.weight");  // (E, R)
  spec.rules = static_cast<int>(op.size(1));
  spec.size = static_cast<int>(op.size(0));
  const std::int64_t wide = family == Family::Monolithic ? tensorNamed(reference, "MLP.0.weight").size(0)
                                                         : tensorNamed(reference, "MLP.2.w").size(2) - (family == Family::Modular ? 1 : 0);
  spec.modelDim = wide == 4 * spec.size ? 0 : static_cast<int>(wide);
  if (inferred) {
    inferred->push_back("R = " + std::to_string(spec.rules) + " (the width of encoder_operation's input, a rule's one-hot)");
    inferred->push_back("size E = " + std::to_string(spec.size) + " (encoder_operation's output)");
    inferred->push_back("wide dimension D = " + std::to_string(wide) + (family == Family::Monolithic ? " (MLP.0's output)" : " (MLP.2's output per module)"));
  }
  return spec;
}

void loadReferenceStateDict(RuleModelImpl& model, const StateDict& reference) {
  const ModelSpec& spec = model.spec();
  const auto ours = model.named_parameters(true);
  std::map<std::string, bool> given;
  for (const auto& item : ours) given[item.key()] = false;
  torch::NoGradGuard noGrad;
  for (const auto& [theirs, tensor] : reference) {
    const std::string name = ourParameterName(spec.setting, spec.family, theirs);
    const torch::Tensor* target = ours.find(name);
    if (!target)
      throw ConfigError("state_dict", "tensor '" + theirs + "' (ours: '" + name + "') is not a parameter of Modularity Lab's " +
                                          toString(spec.setting) + " " + toString(spec.family));
    if (!target->sizes().equals(tensor.sizes()))
      throw ConfigError("state_dict", "tensor '" + theirs + "' has shape " + shapeText(tensor) + ": expected " +
                                          shapeText(*target) + " (ours: '" + name + "')");
    const_cast<torch::Tensor&>(*target).copy_(tensor.to(target->dtype()));
    given[name] = true;
  }
  for (const auto& [name, done] : given)
    if (!done)
      throw ConfigError("state_dict", "the reference's state_dict lacks '" + referenceParameterName(spec.setting, spec.family, name) +
                                          "' (ours: '" + name + "')");
}

StateDict referenceStateDict(const RuleModelImpl& model) {
  StateDict out;
  for (const auto& item : model.named_parameters(true))
    out[referenceParameterName(model.spec().setting, model.spec().family, item.key())] = item.value().detach().clone();
  return out;
}

}  // namespace modlab
