// The smallest experiment worth training in a test: MLP, R = 4, size 8, 60 steps.
#pragma once

#include "modlab/experiment/experiment_config.h"

namespace modlab::test {
ExperimentConfig tinyConfig();
}  // namespace modlab::test
