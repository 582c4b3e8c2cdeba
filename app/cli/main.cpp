// modlab-cli: train, evaluate and benchmark without a display.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "modlab/experiment/experiment_config.h"

int main(int argc, char** argv) {
  CLI::App app{"Modularity Lab (headless): is a modular architecture enough? (Mittal, Bengio, Lajoie, NeurIPS 2022)",
               "modlab-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("modlab-cli ") + MODLAB_VERSION);

  modlab::cli::TrainArgs trainArgs;
  auto* train = app.add_subcommand("train", "train the families of an experiment side by side into a run folder");
  train->add_option("--preset", trainArgs.preset, "a built-in preset (see 'presets')");
  train->add_option("--config", trainArgs.configFile, "an experiment config (JSON)");
  train->add_option("--set", trainArgs.overrides, "override a config key: key=value (repeatable)");
  train->add_option("--out", trainArgs.out, "the run folder (default runs/<name>-<time>)");
  train->add_flag("--resume", trainArgs.resume, "continue the run in --out from its last checkpoint");
  train->add_flag("--force", trainArgs.force, "replace an existing run folder");
  train->add_flag("--quiet", trainArgs.quiet, "no progress line");

  std::string run, checkpoint = "last";
  bool paperSamples = false, json = false;
  auto* eval = app.add_subcommand("eval", "final metrics of a run from its checkpoint");
  eval->add_option("run", run, "the run folder")->required();
  eval->add_flag("--paper-samples", paperSamples, "the reference's sample counts (slow)");
  eval->add_option("--checkpoint", checkpoint, "last or best");
  eval->add_flag("--json", json, "JSON instead of a table");

  double seconds = 2.0;
  std::vector<std::string> settings;
  auto* bench = app.add_subcommand("bench", "steps/s of every setting x family against the Python reference");
  bench->add_flag("--json", json, "JSON instead of a table");
  bench->add_option("--seconds", seconds, "seconds per measurement")->check(CLI::PositiveNumber);
  bench->add_option("--setting", settings, "only these settings (mlp, mha, rnn)");

  auto* presets = app.add_subcommand("presets", "list the presets with what each shows");

  std::string demoPreset;
  std::vector<std::string> demoOverrides;
  auto* demo = app.add_subcommand("demo", "train the default demo headless and print what it shows");
  demo->add_option("--preset", demoPreset, "another preset");
  demo->add_option("--set", demoOverrides, "override a config key: key=value");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*train) return modlab::cli::train(trainArgs);
    if (*eval) return modlab::cli::eval(run, paperSamples, json, checkpoint);
    if (*bench) return modlab::cli::bench(json, seconds, settings);
    if (*presets) return modlab::cli::listPresets();
    if (*demo) return modlab::cli::demo(demoPreset, demoOverrides);
  } catch (const modlab::ConfigError& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", e.what());
    return 2;
  } catch (const modlab::InvalidArgument& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
