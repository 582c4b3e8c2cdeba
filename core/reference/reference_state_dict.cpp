#include "modlab/reference/reference_state_dict.h"

#include <torch/serialize.h>

#include <algorithm>
#include <sstream>
#include <utility>

#include "modlab/errors.h"

namespace modlab {

namespace {

// Name prefixes, the reference's and ours, per setting and family (longest match first).
using Renames = std::vector<std::pair<std::string, std::string>>;

// Their two GroupLinearLayers (w, b) at prefix 0. and 2. are our modules_1 and modules_2.
void addModuleLayers(Renames& r, const std::string& prefix) {
  for (const auto& [theirs, ours] : {std::pair{"0.", "modules_1."}, std::pair{"2.", "modules_2."}}) {
    r.push_back({prefix + theirs + "w", std::string(ours) + "weight"});
    r.push_back({prefix + theirs + "b", std::string(ours) + "bias"});
  }
}

Renames mlpRenames(Family family) {
  Renames r{{"encoder_digit.", "phi_dig."}, {"encoder_operation.", "phi_op."}, {"decoder.", "psi."}};
  if (family == Family::Monolithic) {
    r.push_back({"MLP.", "core."});
  } else {
    addModuleLayers(r, "MLP.");
    if (family == Family::ModularOp) r.push_back({"scorer.", "scorer."});
  }
  return r;
}

Renames mhaRenames(Family family) {
  Renames r{{"encoder.", "encoder."}, {"decoder.", "decoder."}, {"model.in_.", "self."}};
  if (family == Family::Monolithic) {
    r.push_back({"model.out_proj.", "out."});
  } else {
    addModuleLayers(r, "model.out_proj.");
    if (family == Family::ModularOp) r.push_back({"model.scorer.", "scorer."});
  }
  return r;
}

Renames rnnRenames(Family family) {
  Renames r{{"encoder.", "encoder."}, {"decoder.", "decoder."}};
  if (family == Family::Monolithic) r.push_back({"rnn.", "cell."});  // LSTMCell's own names on both sides
  else r.push_back({"rnn.i2h.weight", "cell.weight_x"}), r.push_back({"rnn.h2h.weight", "cell.weight_h"});
  if (family == Family::Modular) r.push_back({"rnn.scorer.1.w", "scorer.weight"});
  if (family == Family::ModularOp) r.push_back({"rnn.scorer.", "scorer."});
  return r;
}

// Theirs as nn.Linear (out, in), ours as (in, out): transposed on the way (RNN's group cell).
bool transposed(Setting setting, const std::string& ours) {
  return setting == Setting::Rnn && (ours == "cell.weight_x" || ours == "cell.weight_h");
}

// Tensors the reference's classes create but never use (a GroupLinearLayer built with
// bias=False still registers b): left out on import, written as zeros on export.
std::vector<std::string> unusedOf(Setting setting, Family family) {
  if (setting == Setting::Rnn && family == Family::Modular) return {"rnn.scorer.1.b"};
  return {};
}

Renames renamesOf(Setting setting, Family family) {
  if (setting == Setting::Mlp) return mlpRenames(family);
  if (setting == Setting::Mha) return mhaRenames(family);
  if (setting == Setting::Rnn) return rnnRenames(family);
  throw ConfigError("--setting", "invalid --setting " + toString(setting) + ": allowed is mlp, mha or rnn");
}

// Ours holds several of theirs, stacked along the first dimension (MHA: Q, K and V in one product).
struct Fused {
  std::string ours;
  std::vector<std::string> theirs;
};
std::vector<Fused> fusedOf(Setting setting) {
  if (setting != Setting::Mha) return {};
  return {{"qkv.weight", {"model.query_net.weight", "model.key_net.weight", "model.value_net.weight"}},
          {"qkv.bias", {"model.query_net.bias", "model.key_net.bias", "model.value_net.bias"}}};
}
const Fused* fusedHolding(Setting setting, const std::string& name, bool ours) {
  static const std::map<Setting, std::vector<Fused>> all{{Setting::Mlp, fusedOf(Setting::Mlp)}, {Setting::Mha, fusedOf(Setting::Mha)},
                                                         {Setting::Rnn, fusedOf(Setting::Rnn)}};
  for (const Fused& f : all.at(setting))
    if (ours ? f.ours == name : std::find(f.theirs.begin(), f.theirs.end(), name) != f.theirs.end()) return &f;
  return nullptr;
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
  if (const Fused* f = fusedHolding(setting, theirs, false)) return f->ours;
  const std::string ours = renamed(renamesOf(setting, family), theirs, true);
  if (ours.empty())
    throw ConfigError("state_dict", "tensor '" + theirs + "' has no counterpart in Modularity Lab's " + toString(setting) + " " +
                                        toString(family));
  return ours;
}

std::string referenceParameterName(Setting setting, Family family, const std::string& ours) {
  if (const Fused* f = fusedHolding(setting, ours, true)) {
    std::string all;
    for (const std::string& t : f->theirs) all += (all.empty() ? "" : " + ") + t;
    return all;
  }
  const std::string theirs = renamed(renamesOf(setting, family), ours, false);
  if (theirs.empty()) throw ConfigError("state_dict", "parameter '" + ours + "' has no counterpart in the reference");
  return theirs;
}

ModelSpec inferModelSpec(Setting setting, TaskKind task, Family family, const StateDict& reference,
                         std::vector<std::string>* inferred, int rulesGiven) {
  (void)renamesOf(setting, family);  // refuses a setting without a mapping
  ModelSpec spec;
  spec.setting = setting;
  spec.kind = task;
  spec.family = family;
  if (setting == Setting::Rnn) {
    // E from the encoder, d = its input less the rule one-hot; the hidden size from the cell.
    const torch::Tensor& encoder = tensorNamed(reference, "encoder.0.weight");  // (E, d + R)
    spec.size = static_cast<int>(encoder.size(0));
    std::int64_t rules, wide;
    if (family == Family::Monolithic) {
      wide = tensorNamed(reference, "rnn.weight_hh").size(1);  // (4H, H)
      // A Monolithic's weights hold only d + R (its input): d from a regression's decoder, else
      // R as given (--rules), else the paper's d = 32 (said so).
      const std::int64_t out = tensorNamed(reference, "decoder.2.weight").size(0);
      const std::int64_t dataDim = task == TaskKind::Regression ? out : rulesGiven > 0 ? encoder.size(1) - rulesGiven : 32;
      rules = encoder.size(1) - dataDim;
      spec.dataDim = static_cast<int>(dataDim);
      if (rules < 2) throw ConfigError("--rules", "the RNN Monolithic's input (" + std::to_string(encoder.size(1)) + " = d + R) does not say R: give --rules");
      if (inferred && task == TaskKind::Classification && rulesGiven <= 0) inferred->push_back("d = 32 (the paper's; a classifier's weights do not say)");
    } else {
      const torch::Tensor& h2h = tensorNamed(reference, "rnn.h2h.weight");  // (4 R h, h)
      const std::int64_t h = h2h.size(1);
      rules = h2h.size(0) / (4 * h);
      spec.dataDim = static_cast<int>(encoder.size(1) - rules);
      // The wide dimension the module hidden size came from (4E when it fits).
      wide = 0;
      for (std::int64_t candidate : {static_cast<std::int64_t>(4) * spec.size, static_cast<std::int64_t>(1)})
        for (std::int64_t H = candidate; H <= 16384 && wide == 0; ++H) {
          if (rnnModuleHidden(static_cast<int>(rules), spec.size, static_cast<int>(H)) == h) wide = H;
          if (candidate != 1) break;
        }
      if (wide == 0) throw ConfigError("state_dict", "rnn.h2h.weight's hidden size " + std::to_string(h) + " fits no wide dimension");
    }
    spec.rules = static_cast<int>(rules);
    spec.modelDim = wide == 4 * spec.size ? 0 : static_cast<int>(wide);
    if (inferred) {
      inferred->push_back("R = " + std::to_string(rules) + ", d = " + std::to_string(spec.dataDim) + " (the encoder's input is d + R)");
      inferred->push_back("E = " + std::to_string(spec.size) + " (the encoder's output), hidden " + std::to_string(wide));
    }
    return spec;
  }
  if (setting == Setting::Mha) {
    // d from the encoder; the heads from Q and the self channel (2 heads per rule); the input
    // width is 5R (search v1) or 7R (search v2).
    const torch::Tensor& encoder = tensorNamed(reference, "encoder.0.weight");  // (d, in)
    const torch::Tensor& query = tensorNamed(reference, "model.query_net.weight");  // (H hd, d)
    const torch::Tensor& self = tensorNamed(reference, "model.in_.weight");  // (hd or R hd, d)
    spec.size = static_cast<int>(encoder.size(0));
    const std::int64_t att = query.size(0);
    const std::int64_t rules = family == Family::Monolithic ? att / self.size(0) / 2 : tensorNamed(reference, "model.out_proj.0.w").size(0);
    spec.rules = static_cast<int>(rules);
    spec.searchVersion = encoder.size(1) == 7 * rules ? 2 : 1;
    spec.modelDim = att == 4 * spec.size ? 0 : static_cast<int>(att);
    if (inferred) {
      inferred->push_back("R = " + std::to_string(rules) + (family == Family::Monolithic ? " (half the heads of query_net)" : " (out_proj's modules)"));
      inferred->push_back("d_model = " + std::to_string(spec.size) + " (the encoder's output)");
      inferred->push_back("att = " + std::to_string(att) + " (query_net's output)");
      inferred->push_back("search version " + std::to_string(spec.searchVersion) + " (an input of " + std::to_string(encoder.size(1)) + " = " +
                          (spec.searchVersion == 2 ? "7" : "5") + " x R)");
    }
    return spec;
  }
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
  // Fused tensors first: theirs stacked in order, then checked like any other.
  StateDict unfused = reference;
  StateDict stacked;
  for (const Fused& f : fusedOf(spec.setting)) {
    std::vector<torch::Tensor> parts;
    for (const std::string& t : f.theirs) {
      const auto it = unfused.find(t);
      if (it == unfused.end()) break;
      parts.push_back(it->second);
      unfused.erase(it);
    }
    if (parts.size() == f.theirs.size()) stacked[f.ours] = torch::cat(parts, 0);
    else if (!parts.empty()) throw ConfigError("state_dict", "the reference's state_dict lacks part of '" + f.ours + "' (" + f.theirs[parts.size()] + ")");
  }
  for (const auto& [name, tensor] : stacked) {
    const torch::Tensor* target = ours.find(name);
    if (!target || !target->sizes().equals(tensor.sizes()))
      throw ConfigError("state_dict", "tensors '" + referenceParameterName(spec.setting, spec.family, name) + "' have shape " + shapeText(tensor) +
                                          " together: expected " + (target ? shapeText(*target) : std::string("none")) + " (ours: '" + name + "')");
    target->copy_(tensor.to(target->dtype()));
    given[name] = true;
  }
  for (const std::string& unused : unusedOf(spec.setting, spec.family)) unfused.erase(unused);
  for (auto [theirs, tensor] : unfused) {
    const std::string name = ourParameterName(spec.setting, spec.family, theirs);
    if (transposed(spec.setting, name)) tensor = tensor.t();
    const torch::Tensor* target = ours.find(name);
    if (!target)
      throw ConfigError("state_dict", "tensor '" + theirs + "' (ours: '" + name + "') is not a parameter of Modularity Lab's " +
                                          toString(spec.setting) + " " + toString(spec.family));
    if (!target->sizes().equals(tensor.sizes()))
      throw ConfigError("state_dict", "tensor '" + theirs + "' has shape " + shapeText(tensor) + ": expected " +
                                          shapeText(*target) + " (ours: '" + name + "')");
    target->copy_(tensor.to(target->dtype()));
    given[name] = true;
  }
  for (const auto& [name, done] : given)
    if (!done)
      throw ConfigError("state_dict", "the reference's state_dict lacks '" + referenceParameterName(spec.setting, spec.family, name) +
                                          "' (ours: '" + name + "')");
}

StateDict referenceStateDict(const RuleModelImpl& model, bool gradients) {
  StateDict out;
  for (const auto& item : model.named_parameters(true)) {
    const torch::Tensor value = gradients ? item.value().grad() : item.value();
    if (!value.defined()) continue;
    if (const Fused* f = fusedHolding(model.spec().setting, item.key(), true)) {
      const auto parts = value.detach().chunk(static_cast<std::int64_t>(f->theirs.size()), 0);
      for (std::size_t i = 0; i < parts.size(); ++i) out[f->theirs[i]] = parts[i].clone();
      continue;
    }
    const torch::Tensor v = transposed(model.spec().setting, item.key()) ? value.detach().t() : value.detach();
    out[referenceParameterName(model.spec().setting, model.spec().family, item.key())] = v.contiguous().clone();
  }
  if (!gradients)
    for (const std::string& unused : unusedOf(model.spec().setting, model.spec().family))
      out[unused] = torch::zeros({1, model.spec().rules, 1});  // the shape their class registers
  return out;
}

}  // namespace modlab
