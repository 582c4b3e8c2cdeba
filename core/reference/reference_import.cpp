#include "modlab/reference/reference_import.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "modlab/errors.h"
#include "modlab/experiment/experiment_config.h"
#include "modlab/experiment/run_store.h"
#include "modlab/io/files.h"
#include "modlab/reference/reference_state_dict.h"
#include "modlab/tasks/rule_task.h"
#include "modlab/version.h"
#include "training/checkpoint.h"
#include "training/evaluation.h"
#include "training/family_pool.h"

namespace fs = std::filesystem;

namespace modlab {

Family familyOfReferenceFolder(const std::string& name) {
  const auto starts = [&name](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("Monolithic")) return Family::Monolithic;
  if (starts("GT_Modular")) return Family::GtModular;
  if (starts("Modular_joint_")) return Family::Modular;
  if (starts("Modular_operation-only_") || starts("Modular_op_")) return Family::ModularOp;
  throw ConfigError("--family", "folder '" + truncatedForMessage(name) +
                                    "' names none of the paper's families (Monolithic, Modular_joint_, Modular_operation-only_, "
                                    "GT_Modular): give --family");
}

namespace {
// The checkpoints under `path`: the file itself, or model_last.pt (else model_best.pt) of every
// folder below it, never through a link.
std::vector<fs::path> checkpointsUnder(const fs::path& path) {
  if (fs::is_symlink(path)) throw ConfigError("path", path.string() + " is a symbolic link: give the folder it points to");
  if (fs::is_regular_file(path)) return {path};
  if (!fs::is_directory(path)) throw ConfigError("path", "no checkpoint or folder at " + path.string());
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink()) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory()) continue;
    for (const char* name : {"model_last.pt", "model_best.pt"})
      if (fs::is_regular_file(it->path() / name) && !fs::is_symlink(it->path() / name)) {
        found.push_back(it->path() / name);
        break;
      }
  }
  for (const char* name : {"model_last.pt", "model_best.pt"})
    if (fs::is_regular_file(path / name)) {
      found.insert(found.begin(), path / name);
      break;
    }
  std::sort(found.begin(), found.end());
  return found;
}

std::string runName(const fs::path& checkpoint) {
  std::string name = checkpoint.parent_path().filename().string() + "-" + checkpoint.stem().string();
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return name.substr(0, 100);
}

ImportedRun importOne(const fs::path& file, const ReferenceImportOptions& o, const fs::path& runDir) {
  ImportedRun r;
  r.source = fs::absolute(file).string();
  const Family family = o.family ? *o.family : familyOfReferenceFolder(file.parent_path().filename().string());
  if (!o.family) r.inferred.push_back(toString(family) + " (the folder's name)");
  const std::string bytes = readFile(file, std::size_t{1} << 31);
  const StateDict theirs = readStateDict(std::vector<char>(bytes.begin(), bytes.end()));
  const ModelSpec spec = inferModelSpec(o.setting, o.task, family, theirs, &r.inferred, o.rules);
  ExperimentConfig c;
  c.name = runName(file);
  c.description = "The authors' trained model " + r.source + ", imported (modlab-cli import-reference).";
  c.setting = o.setting;
  c.task = o.task;
  c.rules = spec.rules;
  c.size = spec.size;
  c.modelDim = spec.modelDim;
  c.searchVersion = spec.searchVersion;
  c.dataDim = spec.dataDim;
  c.families = {family};
  applyOverrides(c, o.overrides);
  RuleModel model = makeModel(modelSpecOf(c, family), static_cast<std::uint64_t>(c.modelSeed));
  loadReferenceStateDict(*model, theirs);
  RunStore store = RunStore::create(runDir, c, false);
  const std::int64_t step = c.steps;  // their scripts keep no step: the end of training
  Trainer trainer(model, OptimiserConfig{c.learningRate, c.effectiveClipNorm()});
  at::Generator data = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(c.dataSeed));
  writeCheckpoint(store.checkpointDirectory(), step, data,
                  {CheckpointFamily{toString(family), &trainer, false, "", std::numeric_limits<double>::infinity()}});
  // One evaluation at that step, as training would have written it: the run reads as any other.
  const auto task = RuleTask::create(taskSpecOf(c));
  FamilyPool pool(1);
  EvaluationSnapshot e = evaluateFamilies(c, *task, {model.get()}, trainingPlan(c, step), pool, torch::kCPU);
  e.step = step;
  for (FamilyEvaluation& f : e.families) f.variant = toString(family), f.family = family;  // named as a session names them
  store.appendEvaluation(e);
  store.syncLogs();
  RunInfo info;
  info.status = "finished";
  info.version = versionString();
  info.device = "cpu";
  info.started = info.updated = utcNow();
  info.stepsDone = step;
  info.checkpointStep = step;
  info.familyStates[toString(family)] = "finished: imported from " + r.source;
  store.writeInfo(info);
  r.run = fs::absolute(runDir).string();
  r.variant = toString(family);
  return r;
}
}  // namespace

ReferenceImport importReferenceModels(const ReferenceImportOptions& o, const std::function<void(int, int)>& progress) {
  if (o.out.empty()) throw ConfigError("--out", "invalid --out '': allowed is a folder for the run (or runs)");
  const std::vector<fs::path> files = checkpointsUnder(o.path);
  if (files.empty()) throw ConfigError("path", "no model_last.pt or model_best.pt under " + o.path);
  ReferenceImport result;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path runDir = files.size() == 1 ? fs::path(o.out) : fs::path(o.out) / runName(files[i]);
    try {
      result.imported.push_back(importOne(files[i], o, runDir));
    } catch (const std::exception& e) {
      result.skipped.push_back(files[i].string() + ": " + e.what());
    }
    if (progress) progress(static_cast<int>(i + 1), static_cast<int>(files.size()));
  }
  return result;
}

}  // namespace modlab
