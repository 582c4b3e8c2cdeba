// What each key of an experiment config means: its type, what is allowed and one sentence.
// `modlab-cli config keys` prints it and the man page carries it; a test checks that it
// names every key and that the allowed ranges are the ones validate() enforces.
#include "modlab/experiment/config_keys.h"

namespace modlab {

const std::vector<ConfigKeyDoc>& configKeyDocs() {
  static const std::vector<ConfigKeyDoc> docs{
      {"name", "string", "letters, digits, '.', '_', '-' (it names the run folder)", "The experiment's name.", {}, {}},
      {"description", "string", "at most 10000 characters", "One sentence: what the experiment shows.", {}, {}},
      {"setting", "string", "\"mlp\", \"mha\" or \"rnn\"", "The task's architecture: MLP, multi-head attention or recurrent (spec 1).", {}, {}},
      {"task", "string", "\"classification\" or \"regression\"", "Classification (BCE, error %) or regression (L1).", {}, {}},
      {"rules", "integer", "2 to 128", "R: the number of rules, and of modules.", 2, 128},
      {"search_version", "integer", "1 or 2", "MHA: the paper's search variant (v1 or v2).", 1, 2},
      {"length", "integer", "1 to 1000 (MHA: 2 to 1000)", "MHA, RNN: the training sequence length.", {}, 1000},
      {"data_dim", "integer", "1 to 1024", "RNN: the dimension d of the dynamics' state.", 1, 1024},
      {"eval_lengths", "list of integers", "each 1 to 1000, at least one for MHA and RNN", "MHA, RNN: the sequence lengths evaluated (ID and OoD).", {}, {}},
      {"size", "integer", "1 to 4096", "E (MLP, RNN) or d_model (MHA): the model's size.", 1, 4096},
      {"model_dim", "integer", "0 to 16384", "The wide dimension (D, att or hidden); 0: the paper's 4 x size.", 0, 16384},
      {"families", "list of strings", "each of Monolithic, Modular, Modular-op, GT-Modular at most once", "The model families trained side by side.", {}, {}},
      {"routing", "string", "\"soft\", \"top1\" or \"gumbel\"", "Beyond the paper: how Modular and Modular-op route.", {}, {}},
      {"routing_temperature", "number", "0.01 to 100", "Beyond the paper: the router's softmax temperature.", {}, {}},
      {"gumbel_temperature", "number", "above 0, at most 100", "Beyond the paper: Gumbel-softmax's starting temperature.", {}, {}},
      {"gumbel_min_temperature", "number", "above 0, at most gumbel_temperature", "Beyond the paper: the annealed temperature's floor.", {}, {}},
      {"gumbel_anneal_rate", "number", "0 to 1", "Beyond the paper: the temperature's decay per step.", {}, {}},
      {"balance_loss", "number", "0 to 100", "Beyond the paper: the load-balancing loss's weight.", {}, {}},
      {"sample_entropy_loss", "number", "0 to 100", "Beyond the paper: the weight of a penalty on each sample's routing entropy.", {}, {}},
      {"batch_entropy_loss", "number", "0 to 100", "Beyond the paper: the weight of a reward for the batch-mean routing's entropy.", {}, {}},
      {"variants", "list of objects", "at most 12, each {\"name\", \"family\", routing keys}", "Beyond the paper: named Modular or Modular-op models with their own routing.", {}, {}},
      {"learning_rate", "number", "above 0, at most 1", "Adam's learning rate.", {}, {}},
      {"batch_size", "integer", "1 to 65536", "Samples (sequences) per training step.", 1, 65536},
      {"clip_norm", "number", "-1, 0 or above", "Gradient clipping: -1 the paper's (1 for RNN, off otherwise), 0 off.", {}, {}},
      {"steps", "integer", "1 to 100000000", "Training steps.", 1, 100000000},
      {"eval_every", "integer", "1 to 100000000", "Steps between evaluations.", 1, 100000000},
      {"eval_batches", "integer", "1 to 1000", "Batches per ID, OoD and validation pass.", 1, 1000},
      {"matrix_samples", "integer", "0 to 100000000", "Samples for the activation matrix; 0: a quick default.", 0, 100000000},
      {"adaptation_priors", "integer", "0 to 100", "Priors averaged by the Adaptation metric; 0: a quick default.", 0, 100},
      {"adaptation_samples", "integer", "0 to 10000000", "Samples per prior for Adaptation; 0: a quick default.", 0, 10000000},
      {"data_seed", "integer", "0 to 2147483647", "The seed of the task's rules and data.", 0, 2147483647},
      {"model_seed", "integer", "0 to 2147483647", "The seed of the models' weights.", 0, 2147483647},
      {"device", "string", "\"auto\", \"cpu\" or \"cuda\"", "Where to train; auto: CUDA where LibTorch has it.", {}, {}},
      {"threads", "integer", "0 to 256", "Family worker threads; 0: min(families, cores).", 0, 256},
  };
  return docs;
}

}  // namespace modlab
