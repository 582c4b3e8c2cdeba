// modlab-cli: train, evaluate and benchmark without a display.
#include <cstdio>
#include <string_view>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "figures.h"
#include "serve.h"
#include "modlab/version.h"
#include "modlab/experiment/experiment_config.h"
#include "modlab/training/session.h"
#include "modlab/platform/blas_kernel.h"
#include "modlab/platform/malloc_arenas.h"

int main(int argc, char** argv) {
  modlab::selectBlasKernelAtStartup(argv, "modlab-cli");  // first: may restart with OPENBLAS_CORETYPE set
  modlab::limitMallocArenas();  // before any thread
  // A signal that comes while a run folder is being set up stops the run as one that comes later.
  if (argc > 1 && (std::string_view(argv[1]) == "train" || std::string_view(argv[1]) == "sweep" ||
                   std::string_view(argv[1]) == "demo"))
    modlab::cli::catchInterrupts();
  CLI::App app{"Modularity Lab (headless): is a modular architecture enough? (Mittal, Bengio, Lajoie, NeurIPS 2022)",
               "modlab-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("modlab-cli ") + modlab::versionString());

  modlab::cli::TrainArgs trainArgs;
  auto* train = app.add_subcommand("train", "train the families of an experiment side by side into a run folder");
  auto* presetOption = train->add_option("--preset", trainArgs.preset, "a built-in preset (see 'presets')");
  auto* configOption = train->add_option("--config", trainArgs.configFile, "an experiment config (JSON)");
  train->add_option("--set", trainArgs.overrides, "override a config key: key=value (repeatable)");
  train->add_option("--out", trainArgs.out, "the run folder (default <runs folder>/<name>-<time>; the runs folder is $MODLAB_RUNS_DIR, else ~/.local/share/ModularityLab/runs, shared with the app)");
  train->add_flag("--resume", trainArgs.resume, "continue the run in --out from its last checkpoint");
  train->add_flag("--force", trainArgs.force, "replace an existing run folder");
  train->add_flag("--quiet", trainArgs.quiet, "no progress line");

  bool json = false;
  modlab::cli::EvalArgs evalArgs;
  auto* eval = app.add_subcommand("eval", "final metrics of a run from its checkpoint");
  eval->add_option("run", evalArgs.run, "the run folder")->required();
  eval->add_flag("--paper-samples", evalArgs.paperSamples,
                 "the paper's counts: 100 batches (of 1000, or 256 for MHA regression and RNN), 10^6 samples for the "
                 "activation matrix (10^5 for RNN)");
  eval->add_option("--batches", evalArgs.batches, "performance: this many batches per condition");
  eval->add_option("--batch-size", evalArgs.batchSize, "performance: samples (sequences) per batch");
  eval->add_option("--matrix-samples", evalArgs.matrixSamples, "samples (sequences) for the activation matrix");
  eval->add_option("--checkpoint", evalArgs.checkpoint, "last or best");
  eval->add_flag("--json", evalArgs.json, "JSON, with each modular family's activation matrix and the data it came from");

  double seconds = 2.0;
  std::vector<std::string> settings;
  std::string referenceDir;
  int rounds = 1;
  auto* bench = app.add_subcommand("bench", "steps/s, GFLOP/s and % of SGEMM of every setting x family; "
                                            "with --reference, the authors' implementation in the same run");
  bench->add_flag("--json", json, "JSON instead of a table");
  bench->add_option("--seconds", seconds, "seconds per measurement (0.01 to 3600)")->check(CLI::Range(0.01, 3600.0));
  bench->add_option("--setting", settings, "only these settings (mlp, mha, rnn)");
  auto* referenceOption = bench->add_option(
      "--reference", referenceDir, "a folder laid out by reference-setup: run the authors' bench_ref.py beside each row, same kernel");
  bench->add_option("--rounds", rounds,
                    "measure each row this many times, modlab and the reference alternating, and report each side's "
                    "median (1 to 9)")
      ->check(CLI::Range(1, 9));
  bool timeToInsight = false;
  bench->add_flag("--time-to-insight", timeToInsight,
                  "instead: one whole experiment timed start to finish (MHA R=4, four families, 6,000 steps, "
                  "13 evaluations, the run folder written)")
      ->excludes(referenceOption);
  int serveViewers = 0;
  bench->add_option("--serve-viewers", serveViewers,
                    "instead: training steps/s alone and with this many live browser views (loopback) following it, "
                    "alternated over 3 rounds of --seconds each")
      ->check(CLI::Range(1, 500))
      ->excludes(referenceOption);

  auto* info = app.add_subcommand("info", "version, LibTorch, BLAS library and kernel, threads, device");
  info->add_flag("--json", json, "JSON instead of text");

  auto* presets = app.add_subcommand("presets", "list the presets with what each shows");
  auto* configCmd = app.add_subcommand("config", "the experiment config: a preset's in full, or every key explained");
  configCmd->require_subcommand(1);
  std::string showPreset;
  auto* configShow = configCmd->add_subcommand("show", "a preset's full config as JSON, ready for 'train --config'");
  configShow->add_option("preset", showPreset, "a preset (see 'presets')")->required();
  auto* configKeys = configCmd->add_subcommand("keys", "each config key: type, what is allowed, default and meaning");

  std::string demoPreset;
  std::vector<std::string> demoOverrides;
  auto* demo = app.add_subcommand("demo", "train the default demo headless and print what it shows");
  demo->add_option("--preset", demoPreset, "another preset");
  demo->add_option("--set", demoOverrides, "override a config key: key=value");

  auto* sweep = app.add_subcommand("sweep", "grids of experiments: plan, run locally, or on Slurm");
  sweep->require_subcommand(1);
  std::string grid = "paper-lite", sweepOut, benchFile, sweepDir;
  bool force = false;
  auto* plan = sweep->add_subcommand("plan", "expand a grid into numbered run configs in a sweep folder");
  plan->add_option("--grid", grid, "paper, paper-lite, routing or a grid file (JSON)");
  plan->add_option("--out", sweepOut, "the sweep folder (default sweeps/<grid name>)");
  plan->add_option("--bench", benchFile, "throughput from 'modlab-cli bench --json' for the CPU-hour estimate");
  plan->add_flag("--force", force, "replace an existing sweep folder's plan");
  int jobs = 1;
  auto* runSweep = sweep->add_subcommand("run", "run the sweep here (finished runs are skipped, interrupted ones resumed)");
  runSweep->add_option("sweep", sweepDir, "the sweep folder")->required();
  runSweep->add_option("--jobs", jobs, "runs at a time")->check(CLI::Range(1, 256));
  int task = -1;
  bool sweepQuiet = false;
  auto* taskOption = runSweep->add_option("--task", task, "only this run (its index in the plan), as a Slurm array task runs it")
                         ->check(CLI::NonNegativeNumber);
  runSweep->add_flag("--quiet", sweepQuiet, "no progress lines");
  modlab::cli::SlurmArgs slurm;
  auto* slurmCmd = sweep->add_subcommand("slurm", "write a Slurm job array (one task per run); --submit calls sbatch");
  slurmCmd->add_option("sweep", slurm.sweep, "the sweep folder")->required();
  slurmCmd->add_option("--partition", slurm.partition, "Slurm partition");
  slurmCmd->add_option("--time", slurm.time, "time limit per run (HH:MM:SS; default: the plan's estimate for the longest run x --margin)");
  slurmCmd->add_option("--margin", slurm.margin, "the default time limit over the plan's estimate (1 to 100, default 3)")
      ->check(CLI::Range(1.0, 100.0));
  slurmCmd->add_option("--max-array-size", slurm.maxArraySize,
                       "tasks per job array (default: the cluster's MaxArraySize from scontrol, else 1001)")
      ->check(CLI::Range(2, 100000000));
  slurmCmd->add_option("--account", slurm.account, "Slurm account");
  slurmCmd->add_option("--cpus", slurm.cpus, "CPUs per run (1 to 1024; default one per family, at most 8)")->check(CLI::Range(1, 1024));
  slurmCmd->add_option("--gpus", slurm.gpus, "GPUs per run (0 to 64; refused where this build has no CUDA)")->check(CLI::Range(0, 64));
  slurmCmd->add_option("--mem", slurm.memory, "memory per run (GiB, 1 to 4096)")->check(CLI::Range(1, 4096));
  slurmCmd->add_option("--max-parallel", slurm.maxParallel, "at most this many array tasks at once (1 to 100000)")
      ->check(CLI::Range(1, 100000));
  slurmCmd->add_flag("--submit", slurm.submit, "submit with sbatch and print the job id");
  auto* status = sweep->add_subcommand("status", "count the runs of a sweep by state");
  status->add_option("sweep", sweepDir, "the sweep folder")->required();

  std::string exportRun, exportOut, exportCheckpoint = "last";
  auto* exportCmd = app.add_subcommand("export-reference",
                                       "write a run's models as the authors' state_dicts (their model.py loads them strictly)");
  exportCmd->add_option("run", exportRun, "the run folder")->required();
  exportCmd->add_option("--checkpoint", exportCheckpoint, "last or best")->check(CLI::IsMember({"last", "best"}));
  exportCmd->add_option("--out", exportOut, "the folder to write <model>/model_<checkpoint>.pt and reference.json into")->required();

  modlab::cli::ImportArgs importArgs;
  auto* importCmd = app.add_subcommand("import-reference",
                                       "the authors' trained models (model_best.pt, model_last.pt; a file or their folders) as run folders");
  importCmd->add_option("path", importArgs.path, "a checkpoint, or a folder laid out as their scripts write it")->required();
  importCmd->add_option("--setting", importArgs.setting, "mlp, mha or rnn")->required()->check(CLI::IsMember({"mlp", "mha", "rnn"}));
  importCmd->add_option("--task", importArgs.task, "classification or regression")->required()->check(CLI::IsMember({"classification", "regression"}));
  importCmd->add_option("--family", importArgs.family, "Monolithic, Modular, Modular-op or GT-Modular (default: read off each folder's name)");
  importCmd->add_option("--rules", importArgs.rules, "R, where the weights cannot say it (an RNN Monolithic classifier)")->check(CLI::Range(2, 128));
  importCmd->add_option("--set", importArgs.overrides, "override a config key of the runs: key=value (repeatable)");
  importCmd->add_option("--out", importArgs.out, "the run folder (one checkpoint) or the folder of run folders")->required();

  modlab::cli::ServeArgs serveArgs;
  auto* serveCmd = app.add_subcommand("serve", "watch runs and sweeps from a browser: a read-only, live web view");
  serveCmd->add_option("dir", serveArgs.dir, "a runs folder, one run folder or a sweep folder (default: the runs folder the app uses)");
  serveCmd->add_option("--port", serveArgs.port, "the TCP port (default 8750; 0: any free port)");
  auto* bindOption = serveCmd->add_option("--bind", serveArgs.bind,
                                          "the address to listen on (default 127.0.0.1; any other needs the access token the address carries)");

  std::string reportOut = "report";
  auto* reportCmd = app.add_subcommand("report", "aggregate a sweep: CSV, ranking and the paper's figures");
  reportCmd->add_option("sweep", sweepDir, "the sweep folder")->required();
  reportCmd->add_option("--out", reportOut, "where to write the report");
  double figureScale = 1.0;
  reportCmd->add_option("--figure-scale", figureScale, "PNG figures at 1, 2 or 4 times their pixels (as the app's exports)")
      ->check(CLI::IsMember({1.0, 2.0, 4.0}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (man page, EXIT STATUS).
    return app.exit(e) == 0 ? 0 : 2;
  }
  trainArgs.presetGiven = presetOption->count() > 0;
  trainArgs.configGiven = configOption->count() > 0;
  try {
    if (*train) return modlab::cli::train(trainArgs);
    if (*eval) return modlab::cli::eval(evalArgs);
    serveArgs.bindGiven = bindOption->count() > 0;
    if (*serveCmd) return modlab::cli::serve(serveArgs, argc, argv);
    if (*bench && serveViewers > 0) return modlab::cli::benchServe(serveViewers, seconds, json, argc, argv);
    if (*bench && timeToInsight) return modlab::cli::timeToInsight(json);
    if (*bench) return modlab::cli::bench(json, seconds, settings, referenceDir, rounds);
    if (*info) return modlab::cli::info(json);
    if (*presets) return modlab::cli::listPresets();
    if (*configShow) return modlab::cli::configShow(showPreset);
    if (*configKeys) return modlab::cli::configKeysTable();
    if (*demo) return modlab::cli::demo(demoPreset, demoOverrides);
    if (*plan) return modlab::cli::sweepPlan(grid, sweepOut, force, benchFile);
    if (*runSweep)
      return modlab::cli::sweepRun(sweepDir, jobs, taskOption->count() > 0 ? std::optional<int>(task) : std::nullopt, sweepQuiet);
    if (*slurmCmd) return modlab::cli::sweepSlurm(slurm, argv[0]);
    if (*status) return modlab::cli::sweepStatus(sweepDir);
    if (*importCmd) return modlab::cli::importReference(importArgs);
    if (*exportCmd) return modlab::cli::exportReference(exportRun, exportCheckpoint, exportOut);
    if (*reportCmd) return modlab::cli::report(sweepDir, reportOut, modlab::cli::figureRenderer(argc, argv), figureScale);
  } catch (const modlab::ConfigError& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", e.what());
    return 2;
  } catch (const modlab::InvalidArgument& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "modlab-cli: error: %s\n", modlab::describeError(e).c_str());
    return 1;
  }
  return 0;
}
