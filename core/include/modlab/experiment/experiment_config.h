// An experiment: one task, the families trained side by side on it, and how (JSON).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "modlab/errors.h"
#include "modlab/routing.h"
#include "modlab/types.h"

namespace modlab {

// A model the experiment trains: a family of the paper under a name of its own, with its
// routing. The plain families are variants named after themselves; a named variant (beyond
// the paper) is Modular or Modular-op with a routing intervention, trained side by side with
// them on the same data stream and from the same initial weights.
struct Variant {
  std::string name;
  Family family = Family::Modular;
  RoutingOptions routing;
  bool operator==(const Variant&) const = default;
};

struct ExperimentConfig {
  std::string name = "experiment";
  std::string description;  // one sentence: what the experiment shows

  // Task (spec section 1).
  Setting setting = Setting::Mlp;
  TaskKind task = TaskKind::Classification;
  int rules = 8;
  int searchVersion = 1;  // MHA
  int length = 10;        // training sequence length (MHA, RNN)
  int dataDim = 32;       // RNN d
  std::vector<int> evalLengths{3, 5, 10, 20, 30};  // MHA, RNN

  // Models (spec section 2).
  int size = 64;  // E (MLP, RNN) or d_model (MHA)
  int modelDim = 0;  // the wide dimension: D (MLP), att (MHA), hidden (RNN); 0: the paper's 4 x size
  int wideDim() const { return modelDim > 0 ? modelDim : 4 * size; }
  std::vector<Family> families{kAllFamilies.begin(), kAllFamilies.end()};
  // Beyond the paper: routing interventions for Modular and Modular-op (modlab/routing.h).
  RoutingOptions routing;
  // Beyond the paper: named variants trained beside the families, each with its own routing
  // (JSON: "variants": [{"name": "Modular + balance", "family": "Modular", "balance_loss": 0.01}]).
  std::vector<Variant> variants;

  // Optimiser (spec section 3).
  double learningRate = 1e-4;
  int batchSize = 256;
  double clipNorm = -1.0;  // < 0: the paper's choice (1.0 for RNN, off otherwise)
  std::int64_t steps = 3000;

  // Evaluation.
  std::int64_t evalEvery = 250;
  int evalBatches = 4;                       // batches per ID/OoD/validation pass
  std::int64_t matrixSamples = 0;            // 0: a quick default for the setting
  int adaptationPriors = 0;                  // 0: a quick default
  std::int64_t adaptationSamples = 0;        // 0: a quick default

  // Reproducibility and resources.
  int dataSeed = 0;
  int modelSeed = 0;
  std::string device = "auto";  // auto | cpu | cuda
  int threads = 0;              // family worker threads; 0: min(families, cores)

  double effectiveClipNorm() const { return clipNorm >= 0 ? clipNorm : (setting == Setting::Rnn ? 1.0 : 0.0); }
  bool operator==(const ExperimentConfig&) const = default;
};

void validate(const ExperimentConfig& config);  // throws ConfigError

// Every model the experiment trains, in order: its families (the routed ones with the
// experiment's routing), then its named variants.
std::vector<Variant> variantsOf(const ExperimentConfig& config);
// The variant of that name; throws ConfigError("variants", ...) naming the known ones.
const Variant& findVariant(const std::vector<Variant>& variants, const std::string& name);
// Variant names are shown everywhere and written in metrics.csv and as file names.
inline constexpr const char* kVariantNameRule =
    "1 to 40 letters, digits, spaces, '.', '_', '+', '-', '=', '(' or ')', not starting with '.', '-' or a space, "
    "not ending with a space";
bool isVariantName(const std::string& name);
// The stem of a variant's checkpoint files: its name with spaces as '_'.
std::string variantFileStem(const std::string& name);
// The name a variant gets when its JSON gives none: "Modular + balance 0.01 + top-1".
std::string defaultVariantName(Family family, const RoutingOptions& routing);
// Names become folder names (runs, sweeps): no path separators, nothing a shell expands.
bool isSafeName(const std::string& name);
inline constexpr const char* kSafeNameRule = "1 to 100 letters, digits, '.', '_', '+' or '-', not starting with '.' or '-'";
ExperimentConfig parseConfig(const std::string& json);  // validated
std::string toJson(const ExperimentConfig& config);     // pretty, round-trips
// Applies "key=value" (the JSON key; the value as JSON, or a bare string). Validated.
void applyOverride(ExperimentConfig& config, const std::string& assignment);
// Applies every "key=value" first, then validates once (the order does not matter).
void applyOverrides(ExperimentConfig& config, const std::vector<std::string>& assignments);
// The JSON keys of a config, in the order config.json lists them.
const std::vector<std::string>& configKeys();

// Built-in presets (resources/presets/*.json, compiled in).
struct Preset {
  std::string name;
  ExperimentConfig config;
};
const std::vector<Preset>& presets();
const Preset& findPreset(const std::string& name);  // throws ConfigError naming the closest
const std::string& defaultDemoPreset();

// The closest of `candidates` to `word` (edit distance), for "did you mean".
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace modlab
