// What leaves a training session: small immutable values, no tensors (engine API).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modlab/metrics/specialisation.h"
#include "modlab/routing.h"
#include "modlab/types.h"

namespace modlab {

enum class SessionState { Idle, Running, Paused, Finished, Stopped, Failed };
enum class FamilyState { Training, Finished, Diverged, Stopped };

std::string toString(SessionState s);
std::string toString(FamilyState s);

struct TrainPoint {
  std::int64_t step = 0;  // the update this loss was computed for (1-based)
  std::string variant;    // the model's name (Variant::name): a family's own, or a named variant's
  double loss = 0.0;      // the task loss (BCE or L1), comparable across families
  // With routing interventions (Modular, Modular-op): the objective optimised (task loss plus
  // the weighted regularisers) and the regularisers, unweighted.
  bool hasParts = false;
  double objective = 0.0, balance = 0.0, sampleEntropy = 0.0, batchEntropy = 0.0;
};

// A routing coefficient changed while training (Session::setRoutingCoefficient).
struct RoutingChange {
  std::int64_t step = 0;  // the updates done when it took effect
  std::string key;        // one of kRoutingCoefficientKeys
  double value = 0.0;
  std::string variant;    // the named variant changed; "": the experiment's routing (its routed families)
};

// Performance at one condition: length (MHA, RNN) and input scale (1 = ID, 2 = OoD).
struct ConditionResult {
  int length = 0;
  double scale = 1.0;
  double loss = 0.0;
  double error = 0.0;  // classification: error %; regression: L1
};

struct FamilyEvaluation {
  std::string variant;  // the model's name (Variant::name)
  Family family = Family::Monolithic;
  ConditionResult id;    // the paper's ID: training length, scale 1
  ConditionResult ood;   // the paper's OoD: MLP scale 2; MHA/RNN length 30 (or the longest) and scale 2
  ConditionResult validation;  // an independent ID draw, for the best checkpoint
  std::vector<ConditionResult> conditions;  // MHA/RNN: every evaluation length, ID and OoD
  bool hasMetrics = false;
  SpecialisationMetrics metrics;
  int rules = 0;
  std::vector<double> moduleGivenRule;  // R x R row-major: p(module | rule)
};

struct EvaluationSnapshot {
  std::int64_t step = 0;
  double wallSeconds = 0.0;
  std::vector<FamilyEvaluation> families;
};

struct FamilyStatus {
  std::string variant;  // the model's name (Variant::name)
  FamilyState state = FamilyState::Training;
  std::string message;  // e.g. "loss became NaN at step 3,100"
  double learningRate = 0.0;
  RoutingOptions routing;  // its routing now (the paper's for a family without a router)
};

struct Snapshot {
  std::int64_t step = 0;        // updates done
  std::int64_t totalSteps = 0;
  double wallSeconds = 0.0;     // training time so far (pauses excluded)
  double stepsPerSecond = 0.0;  // recent rate
  SessionState state = SessionState::Idle;
  std::string device;
  std::string error;            // set when state == Failed
  std::vector<std::string> warnings;  // e.g. a resume that fell back to an older checkpoint
  std::vector<TrainPoint> train;               // new since the previous snapshot
  std::vector<EvaluationSnapshot> evaluations;  // new since the previous snapshot
  std::vector<FamilyStatus> families;
  RoutingOptions routing;                     // the experiment's routing now (its routed families)
  std::vector<RoutingChange> routingChanges;  // new since the previous snapshot
};

}  // namespace modlab
