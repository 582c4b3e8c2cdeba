#include "support/tiny_config.h"

namespace modlab::test {

ExperimentConfig tinyConfig() {
  ExperimentConfig c;
  c.name = "tiny";
  c.rules = 4;
  c.size = 8;
  c.batchSize = 32;
  c.learningRate = 1e-3;
  c.steps = 60;
  c.evalEvery = 20;
  c.evalBatches = 1;
  c.matrixSamples = 512;
  c.adaptationPriors = 4;
  c.adaptationSamples = 256;
  return c;
}

}  // namespace modlab::test
