// The authors' trained models (github.com/sarthmit/Mod_Arch: torch.save of a model's
// state_dict, model_best.pt / model_last.pt) mapped onto ours, and ours back onto theirs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modlab/models/rule_model.h"

namespace modlab {

using StateDict = std::map<std::string, torch::Tensor>;

// The tensors of a torch.save'd dict (a state_dict, or a dict holding one under "state_dict").
// Throws ReadError naming what is not a state_dict.
StateDict readStateDict(const std::vector<char>& bytes);
StateDict stateDictOf(const c10::IValue& value);  // the same from an unpickled value

// Our parameter name for one of the reference's (setting, family), and back; throws
// ConfigError naming the tensor when there is none.
std::string ourParameterName(Setting setting, Family family, const std::string& theirs);
std::string referenceParameterName(Setting setting, Family family, const std::string& ours);

// The model a reference state_dict holds: R, size and the wide dimension read off the tensors'
// shapes; `inferred` says what was read, one sentence each. `rulesGiven` (when above 0) settles
// what the weights cannot say (an RNN Monolithic classifier's R).
ModelSpec inferModelSpec(Setting setting, TaskKind task, Family family, const StateDict& reference,
                         std::vector<std::string>* inferred = nullptr, int rulesGiven = 0);

// Copies the reference's weights into `model`: every one of its tensors must map onto one of
// ours of the same shape and every one of ours must be given. Throws ConfigError naming the
// first tensor that does not fit, its shape and the expected one.
void loadReferenceStateDict(RuleModelImpl& model, const StateDict& reference);
// Our model's weights (or their gradients) under the reference's names (load_state_dict(strict=True)
// takes the weights).
StateDict referenceStateDict(const RuleModelImpl& model, bool gradients = false);

}  // namespace modlab
