// A run's trained models written as the authors' state_dicts (modlab-cli export-reference).
#pragma once

#include <string>
#include <vector>

namespace modlab {

struct ExportedModel {
  std::string variant;
  std::string file;         // <out>/<variant>/model_<checkpoint>.pt
  std::string constructor;  // the call of their model.py that builds the class it loads into
  std::int64_t step = -1;
};
// Writes each model of the run (its "last" or "best" checkpoint, verified) as a torch.save'd
// state_dict under the reference's names, and <out>/<variant>/reference.json with the class,
// its constructor and the step. Their classes load it with load_state_dict(strict=True).
std::vector<ExportedModel> exportReferenceModels(const std::string& run, const std::string& checkpoint, const std::string& out);

}  // namespace modlab
