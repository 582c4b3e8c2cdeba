#include "modlab/reference/reference_export.h"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include "modlab/errors.h"
#include "modlab/experiment/run_store.h"
#include "modlab/io/files.h"
#include "modlab/reference/reference_state_dict.h"
#include "training/checkpoint.h"
#include "training/evaluation.h"

namespace fs = std::filesystem;

namespace modlab {

namespace {
std::string pythonBool(bool b) { return b ? "True" : "False"; }

// How their scripts build the class this model loads into (model.py of the setting and task).
std::string constructorOf(const ExperimentConfig& c, Family f) {
  const ModelSpec s = modelSpecOf(c, f);
  const std::string R = std::to_string(s.rules), E = std::to_string(s.size), D = std::to_string(s.wide());
  switch (c.setting) {
    case Setting::Mlp:
      if (f == Family::Monolithic) return "Monolithic(" + R + ", " + E + ", " + D + ")";
      if (f == Family::GtModular) return "GT_Modular(" + R + ", " + E + ", " + D + ", " + R + ")";
      return "Modular(" + R + ", " + E + ", " + D + ", " + R + ", op=" + pythonBool(f == Family::ModularOp) +
             ", joint=" + pythonBool(f == Family::Modular) + ")";
    case Setting::Mha: {
      const std::string in = std::to_string((s.searchVersion == 1 ? 5 : 7) * s.rules);
      const std::string heads = f == Family::Monolithic ? std::to_string(2 * s.rules) : "2";
      const std::string model = f == Family::Monolithic ? "Monolithic" : f == Family::GtModular ? "GT_Modular" : "Modular";
      return "Model(dim=" + E + ", att_dim=" + D + ", num_heads=" + heads + ", in_dim=" + in + ", model='" + model +
             "', num_rules=" + R + ", op=" + pythonBool(f == Family::ModularOp) + ")";
    }
    case Setting::Rnn: {
      const std::string out = c.task == TaskKind::Regression ? std::to_string(s.dataDim) : "1";
      const std::string model = f == Family::Monolithic ? "Monolithic" : f == Family::GtModular ? "GT_Modular" : "Modular";
      return "Model(in_dim=" + std::to_string(s.dataDim + s.rules) + ", enc_dim=" + E + ", hid_dim=" + D + ", out_dim=" + out +
             ", num_rules=" + R + ", model='" + model + "', op=" + pythonBool(f == Family::ModularOp) + ")";
    }
  }
  return {};
}
}  // namespace

std::vector<ExportedModel> exportReferenceModels(const std::string& run, const std::string& checkpoint, const std::string& out) {
  if (checkpoint != "last" && checkpoint != "best")
    throw ConfigError("--checkpoint", "invalid --checkpoint '" + checkpoint + "': allowed is last or best");
  const RunStore store = RunStore::open(run);
  const ExperimentConfig config = store.readConfig();
  const std::vector<Variant> variants = variantsOf(config);
  std::vector<RuleModel> models;
  std::vector<RuleModelImpl*> raw;
  std::vector<std::string> names;
  for (const Variant& v : variants) {
    names.push_back(v.name);
    models.push_back(makeModel(modelSpecOf(config, v.family), 0));
    raw.push_back(models.back().get());
  }
  const std::vector<LoadedModel> loaded = loadModels(store.checkpointDirectory(), names, checkpoint, raw, FolderLock::isHeld(run));
  std::vector<ExportedModel> written;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    const fs::path folder = fs::path(out) / variantFileStem(v.name);
    fs::create_directories(folder);
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& [name, tensor] : referenceStateDict(*models[i])) dict.insert(name, tensor.cpu());
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    ExportedModel e{v.name, (folder / ("model_" + checkpoint + ".pt")).string(), constructorOf(config, v.family), loaded[i].step};
    writeFileAtomic(e.file, std::string(bytes.begin(), bytes.end()));
    nlohmann::ordered_json info{{"variant", v.name},
                                {"setting", toString(config.setting)},
                                {"task", toString(config.task)},
                                {"model_py", std::string(config.setting == Setting::Mlp ? "MLP/" : config.setting == Setting::Mha ? "MHA/" : "RNN/") +
                                                 (config.task == TaskKind::Classification ? "Classification" : "Regression") + "/model.py"},
                                {"constructor", e.constructor},
                                {"checkpoint", checkpoint},
                                {"step", e.step},
                                {"from_run", fs::absolute(run).string()}};
    if (!v.routing.isPaper()) info["note"] = "trained with routing interventions the reference's classes do not have: " + describe(v.routing);
    writeFileAtomic(folder / "reference.json", info.dump(2) + "\n");
    written.push_back(e);
  }
  return written;
}

}  // namespace modlab
