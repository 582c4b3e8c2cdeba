// The authors' trained models (model_best.pt / model_last.pt) as Modularity Lab run folders
// (modlab-cli import-reference): config, checkpoint, one evaluation, run.json naming the source.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modlab/types.h"

namespace modlab {

struct ReferenceImportOptions {
  std::string path;  // a checkpoint file, or a folder laid out as their scripts write it
  Setting setting = Setting::Mlp;
  TaskKind task = TaskKind::Classification;
  std::optional<Family> family;  // else read off each checkpoint's folder name
  int rules = 0;                 // what the weights cannot say (an RNN Monolithic classifier)
  std::vector<std::string> overrides;  // key=value into each run's config (steps, eval sizes, seeds)
  std::string out;  // the run folder (one checkpoint), or the folder of run folders (several)
};

struct ImportedRun {
  std::string source, run, variant;
  std::vector<std::string> inferred;  // what was read off the tensors and the folder name
};

struct ReferenceImport {
  std::vector<ImportedRun> imported;
  std::vector<std::string> skipped;  // "path: reason"
};

// Imports every checkpoint found (never through a link); a checkpoint that cannot be used is
// skipped with its reason. `progress(done, total)` is called after each.
ReferenceImport importReferenceModels(const ReferenceImportOptions& options,
                                      const std::function<void(int, int)>& progress = {});
// The family their scripts' folder name says (Monolithic..., Modular_joint_..., Modular_operation-only_...,
// GT_Modular...); throws ConfigError naming the folder when it says none of ours.
Family familyOfReferenceFolder(const std::string& folderName);

}  // namespace modlab
