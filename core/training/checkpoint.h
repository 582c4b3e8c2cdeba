// Checkpoints of a session (private to core). checkpoints/step-<s>/ holds, per family, the
// model and its Adam state, plus the session's step and data-generator state, and a
// manifest.json with every file's size and CRC-32, written last: a generation without a
// matching manifest is incomplete or damaged and is never loaded. The two newest
// generations are kept; loading falls back to the older one (with a warning) when the newer
// fails its checksums. checkpoints/latest names the newest (for scripts).
// checkpoints/<variant>-best.pt is the best model, <variant>-best.json its step, validation
// value and checksum. Files are named by variantFileStem (a family's own name for a family).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>

#include "modlab/training/trainer.h"

namespace modlab {

struct CheckpointFamily {
  std::string variant;  // Variant::name
  Trainer* trainer;
  bool diverged;
  std::string message;
  double bestValidation;
};

void writeCheckpoint(const std::filesystem::path& dir, std::int64_t step, const at::Generator& data,
                     const std::vector<CheckpointFamily>& families);
// Restores models, optimisers, flags and the generator from the newest generation that
// verifies; returns its step. Each generation passed over adds a line to *warnings. Throws
// ReadError (every generation's reason) when none is usable.
std::int64_t readCheckpoint(const std::filesystem::path& dir, at::Generator& data, std::vector<CheckpointFamily>& families,
                            std::vector<std::string>* warnings = nullptr);
// Whether `dir` holds any checkpoint generation with a manifest (a resume has something to try).
bool hasCheckpoint(const std::filesystem::path& dir);

// The best model so far, chosen at `step` by its validation value (error % or L1 loss).
void writeBestModel(const std::filesystem::path& dir, const std::string& variant, Trainer& trainer, std::int64_t step, double validation);

struct LoadedModel {
  std::int64_t step = -1;
  double validation = 0.0;   // "best" only
  bool hasValidation = false;
  bool diverged = false;     // "last" only: the family had diverged by then
  std::string message;       // its divergence
  std::vector<std::string> warnings;
};
// Loads the "last" or "best" weights of each variant into its model, verified: "last" takes
// every model from the same generation (the newest that verifies whole), "best" needs each
// best model's record (-best.json) to check it. `writerRunning` (the run is training now)
// names a generation without its manifest as one being written. Throws ReadError.
std::vector<LoadedModel> loadModels(const std::filesystem::path& dir, const std::vector<std::string>& variants,
                                    const std::string& which, const std::vector<RuleModelImpl*>& models, bool writerRunning);

}  // namespace modlab
