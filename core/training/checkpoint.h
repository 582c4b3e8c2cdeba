// Checkpoints of a session (private to core). checkpoints/step-<s>/ holds, per family,
// the model and its Adam state, plus the session's step and data-generator state;
// checkpoints/latest names the complete one (written last, atomically), so a kill at
// any moment leaves a usable checkpoint. checkpoints/<Family>-best.pt is the best model.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>

#include "modlab/training/trainer.h"

namespace modlab {

struct CheckpointFamily {
  Family family;
  Trainer* trainer;
  bool diverged;
  std::string message;
  double bestValidation;
};

void writeCheckpoint(const std::filesystem::path& dir, std::int64_t step, const at::Generator& data,
                     const std::vector<CheckpointFamily>& families);
// Restores models, optimisers, flags and the generator; returns the checkpoint's step.
std::int64_t readCheckpoint(const std::filesystem::path& dir, at::Generator& data, std::vector<CheckpointFamily>& families);
void writeBestModel(const std::filesystem::path& dir, Family family, Trainer& trainer);
// Loads the "last" or "best" weights of a family into `model`.
void loadModel(const std::filesystem::path& dir, Family family, const std::string& which, RuleModelImpl& model);

}  // namespace modlab
