#include "commands.h"

#include "modlab/experiment/config_keys.h"
#include "modlab/reference/reference_export.h"
#include "modlab/reference/reference_import.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "modlab/experiment/run_store.h"
#include "modlab/platform/device.h"
#include "modlab/sweep/report.h"
#include "modlab/sweep/sweep.h"
#include "modlab/training/run_evaluation.h"
#include "modlab/training/session.h"
#include "progress.h"

namespace modlab::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::atomic<int> interrupts{0};
// The exit codes (man page, EXIT STATUS): 0 finished, 1 failed, 130 stopped by a signal.
int exitCodeOf(SessionState state) {
  return state == SessionState::Finished ? 0 : state == SessionState::Failed ? 1 : 130;
}
void onInterrupt(int) { interrupts.fetch_add(1); }
}  // namespace

void catchInterrupts() {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM}) sigaction(signal, &action, nullptr);
}

namespace {

ExperimentConfig configFrom(const TrainArgs& a) {
  if (a.presetGiven && a.configGiven) throw ConfigError("--preset", "give either --preset or --config, not both");
  if (a.configGiven) {
    if (a.configFile.empty()) throw ConfigError("--config", "invalid --config '': allowed is the path of an experiment file (JSON)");
    std::string text;
    try {
      text = readUserFile(a.configFile);
    } catch (const ReadError& e) {
      throw ConfigError("--config", e.what());
    }
    try {
      return parseConfig(text);
    } catch (const ConfigError& e) {
      throw ConfigError(e.field(), a.configFile + ": " + e.what());
    }
  }
  if (a.presetGiven && a.preset.empty())
    throw ConfigError("--preset", "invalid --preset '': allowed is a preset name ('modlab-cli presets' lists them)");
  return findPreset(a.presetGiven ? a.preset : defaultDemoPreset()).config;
}

std::string defaultRunFolder(const std::string& name) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return (defaultRunsFolder() / (name + "-" + stamp)).string();
}

}  // namespace

SessionState follow(Session& session, bool quiet, EvaluationSnapshot& lastEvaluation, int* evaluations, std::int64_t* step) {
  const bool tty = isatty(STDERR_FILENO);
  std::vector<TrainPoint> latest;  // each model's newest loss, in the session's order
  Snapshot last;
  auto lastPrint = std::chrono::steady_clock::now() - std::chrono::hours(1);
  bool stopping = false;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (interrupts.load() > 0 && !stopping) {
      stopping = true;
      std::fprintf(stderr, "\nstopping after the current step (the run can be resumed with --resume)...\n");
      session.stop();
    }
    for (Snapshot& s : session.drain()) {
      for (const std::string& w : s.warnings) std::fprintf(stderr, "%swarning: %s\n", tty ? "\r\033[K" : "", w.c_str());
      for (const TrainPoint& p : s.train) {
        const auto it = std::find_if(latest.begin(), latest.end(), [&](const TrainPoint& q) { return q.variant == p.variant; });
        if (it == latest.end()) latest.push_back(p);
        else *it = p;
      }
      for (EvaluationSnapshot& e : s.evaluations) {
        if (evaluations) ++*evaluations;
        lastEvaluation = std::move(e);
      }
      last = std::move(s);
    }
    const std::vector<TrainPoint>& losses = latest;
    const auto now = std::chrono::steady_clock::now();
    const bool done = last.state == SessionState::Finished || last.state == SessionState::Stopped ||
                      last.state == SessionState::Failed;
    if (!quiet && (now - lastPrint > std::chrono::milliseconds(tty ? 250 : 5000) || done) && last.totalSteps > 0) {
      lastPrint = now;
      const std::string line = progressLine(last, losses);
      if (tty) std::fprintf(stderr, "\r\033[K%s", fitToTerminal(line).c_str());
      else std::fprintf(stderr, "%s\n", line.c_str());
    }
    if (done) {
      if (!quiet && tty) std::fprintf(stderr, "\n");
      session.wait();
      if (last.state == SessionState::Failed) throw std::runtime_error(last.error);
      if (step) *step = last.step;
      return last.state;
    }
  }
}

int train(const TrainArgs& a) {
  ExperimentConfig config;
  std::string out = a.out;
  if (a.resume) {
    if (out.empty()) throw ConfigError("--out", "--resume needs the run folder: --out DIR");
    config = RunStore::open(out).readConfig();
    if (a.presetGiven || a.configGiven || !a.overrides.empty())
      throw ConfigError("--resume", "a resumed run keeps its recorded config; drop --preset/--config/--set");
  } else {
    config = configFrom(a);
    applyOverrides(config, a.overrides);
    if (out.empty()) out = defaultRunFolder(config.name);
  }
  if (!a.quiet)
    std::fprintf(stderr, "%s %s: %s, %s, %d rules, size %d, %s steps on %s\n", a.resume ? "resuming" : "training",
                 config.name.c_str(), toString(config.setting).c_str(), toString(config.task).c_str(), config.rules,
                 config.size, humanCount(config.steps).c_str(), describeDevice(config.device).c_str());
  Session session(config, SessionOptions{out, a.resume, a.force});
  catchInterrupts();  // again: main caught them from the start, this keeps it so
  session.start();
  EvaluationSnapshot lastEvaluation;
  std::int64_t step = 0;
  int evaluations = 0;
  const SessionState state = follow(session, a.quiet, lastEvaluation, &evaluations, &step);
  if (evaluations == 0 && state == SessionState::Finished) {
    // Resumed at its last step: the final evaluation is the record's.
    const RunRecord record = RunStore::load(out);
    if (!record.evaluations.empty()) lastEvaluation = record.evaluations.back();
  }
  std::printf("%s", evaluationTable(lastEvaluation, config.task, config.setting != Setting::Mlp).c_str());
  std::printf("run folder: %s (%s at step %s)\n", fs::absolute(out).c_str(), toString(state).c_str(),
              humanCount(step).c_str());
  return exitCodeOf(state);
}

int eval(const EvalArgs& a) {
  const std::string& run = a.run;
  const std::string& checkpoint = a.checkpoint;
  const bool asJson = a.json;
  if (checkpoint != "last" && checkpoint != "best")
    throw ConfigError("--checkpoint", "invalid --checkpoint '" + checkpoint + "': allowed is last or best");
  EvaluationSize size;
  size.paperSamples = a.paperSamples;
  size.batches = a.batches;
  size.batchSize = a.batchSize;
  size.matrixSamples = a.matrixSamples;
  const RunEvaluation r = evaluateRun(run, size, checkpoint);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (asJson) {
    json families = json::array();
    for (std::size_t i = 0; i < r.result.families.size(); ++i) {
      const FamilyEvaluation& f = r.result.families[i];
      const EvaluatedCheckpoint& c = r.checkpoints[i];
      json j{{"family", toString(f.family)},
             {"variant", f.variant},
             {"checkpoint_step", c.step},
             {"id", {{"loss", f.id.loss}, {"error", f.id.error}}},
             {"ood", {{"loss", f.ood.loss}, {"error", f.ood.error}}}};
      json lengths = json::array();
      for (const ConditionResult& c : f.conditions)
        lengths.push_back({{"length", c.length}, {"scale", c.scale}, {"loss", c.loss}, {"error", c.error}});
      if (!lengths.empty()) j["lengths"] = lengths;
      if (f.hasMetrics)
        j["metrics"] = {{"collapse_avg", f.metrics.collapseAvg},
                        {"collapse_worst", f.metrics.collapseWorst},
                        {"alignment", f.metrics.alignment},
                        {"adaptation", f.metrics.adaptation},
                        {"inverse_mutual_information", f.metrics.inverseMutualInformation}};
      if (c.hasValidation) j["best_validation"] = c.validation;
      if (f.hasMetrics) {
        json rows = json::array();
        for (int i = 0; i < f.rules; ++i)
          rows.push_back(std::vector<double>(f.moduleGivenRule.begin() + i * f.rules, f.moduleGivenRule.begin() + (i + 1) * f.rules));
        j["activation_matrix"] = {{"module_given_rule", rows},
                                  {"samples", r.data.matrixSamples},
                                  {"batch", r.data.matrixBatch},
                                  {"seed", r.data.matrixSeed}};
      }
      families.push_back(j);
    }
    std::printf("%s\n", json{{"run", run},
                             {"checkpoint", r.checkpoint},
                             {"step", r.step},
                             {"paper_samples", r.paperSamples},
                             {"evaluation", {{"batches", r.data.batches},
                                             {"batch_size", r.data.batchSize},
                                             {"matrix_samples", r.data.matrixSamples},
                                             {"adaptation_priors", r.data.adaptationPriors},
                                             {"adaptation_samples", r.data.adaptationSamples},
                                             {"seed", r.data.seed}}},
                             {"task", toString(r.config.task)},
                             {"families", families}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  if (checkpoint == "last") {
    std::printf("%s: last checkpoint at step %s\n", run.c_str(), humanCount(r.step).c_str());
  } else {
    std::printf("%s: best checkpoints (chosen by validation %s)\n", run.c_str(),
                r.config.task == TaskKind::Classification ? "error %" : "L1 loss");
    int width = 11;
    for (const EvaluatedCheckpoint& c : r.checkpoints) width = std::max(width, static_cast<int>(c.variant.size()));
    for (const EvaluatedCheckpoint& c : r.checkpoints) {
      if (c.step < 0) std::printf("  %-*s step not recorded (an earlier version's checkpoint)\n", width, c.variant.c_str());
      else std::printf("  %-*s step %s, validation %.4g\n", width, c.variant.c_str(), humanCount(c.step).c_str(), c.validation);
    }
  }
  std::printf("evaluated on %d batches of %s (%s), activation matrix from %s samples\n", r.data.batches,
              humanCount(r.data.batchSize).c_str(), r.paperSamples ? "the paper's counts" : "the run's counts unless given",
              humanCount(r.data.matrixSamples).c_str());
  std::printf("%s", evaluationTable(r.result, r.config.task, r.config.setting != Setting::Mlp).c_str());
  return 0;
}

int listPresets() {
  for (const Preset& p : presets())
    std::printf("%-26s %s%s\n", p.name.c_str(), p.config.description.c_str(),
                p.name == defaultDemoPreset() ? " (default demo)" : "");
  return 0;
}

int importReference(const ImportArgs& a) {
  ReferenceImportOptions o;
  o.path = a.path;
  o.setting = parseSetting(a.setting);
  o.task = parseTaskKind(a.task);
  if (!a.family.empty()) o.family = parseFamily(a.family);
  o.rules = a.rules;
  o.overrides = a.overrides;
  o.out = a.out;
  const bool tty = isatty(STDERR_FILENO);
  const ReferenceImport r = importReferenceModels(o, [tty](int done, int total) {
    if (tty && total > 1) std::fprintf(stderr, "\r\033[Kimported %d of %d", done, total);
  });
  if (tty) std::fprintf(stderr, "\r\033[K");
  for (const ImportedRun& run : r.imported) {
    std::printf("%s: %s -> %s\n", run.variant.c_str(), run.source.c_str(), run.run.c_str());
    for (const std::string& i : run.inferred) std::printf("  inferred: %s\n", i.c_str());
  }
  for (const std::string& s : r.skipped) std::printf("skipped: %s\n", s.c_str());
  std::printf("%zu imported, %zu skipped\n", r.imported.size(), r.skipped.size());
  if (r.imported.empty()) return 2;
  return 0;
}

int exportReference(const std::string& run, const std::string& checkpoint, const std::string& out) {
  for (const ExportedModel& e : exportReferenceModels(run, checkpoint, out))
    std::printf("%s (step %s): %s\n  loads into %s\n", e.variant.c_str(), humanCount(e.step).c_str(), e.file.c_str(), e.constructor.c_str());
  return 0;
}

int configShow(const std::string& preset) {
  std::fputs(toJson(findPreset(preset).config).c_str(), stdout);  // ready for train --config
  return 0;
}

int configKeysTable() {
  std::size_t width = 0;
  for (const ConfigKeyDoc& d : configKeyDocs()) width = std::max(width, d.key.size());
  const auto defaults = nlohmann::ordered_json::parse(toJson(ExperimentConfig{}));
  for (const ConfigKeyDoc& d : configKeyDocs()) {
    std::printf("%-*s %s; %s; default %s\n", static_cast<int>(width), d.key.c_str(), d.type.c_str(), d.allowed.c_str(),
                defaults.at(d.key).dump().c_str());
    std::printf("%-*s %s\n", static_cast<int>(width), "", d.description.c_str());
  }
  return 0;
}

int demo(const std::string& preset, const std::vector<std::string>& overrides) {
  ExperimentConfig config = findPreset(preset.empty() ? defaultDemoPreset() : preset).config;
  applyOverrides(config, overrides);
  std::printf("Modularity Lab headless demo: %s\n%s\n\n", config.name.c_str(), config.description.c_str());
  std::fflush(stdout);
  Session session(config, SessionOptions{});
  catchInterrupts();
  session.start();
  EvaluationSnapshot lastEvaluation;
  const SessionState state = follow(session, false, lastEvaluation);
  std::printf("\nafter %s steps (%s):\n%s", humanCount(lastEvaluation.step).c_str(),
              config.task == TaskKind::Classification ? "error %" : "L1 loss",
              evaluationTable(lastEvaluation, config.task, config.setting != Setting::Mlp).c_str());
  std::printf("\nReading the table: lower is better everywhere. GT-Modular is told the rule (perfect specialisation);\n"
              "Modular and Modular-op must learn their routing, and Collapse/Alignment show how far they got.\n");
  return exitCodeOf(state);
}

int sweepPlan(const std::string& grid, const std::string& out, bool force, const std::string& bench) {
  const SweepGrid g = namedGrid(grid);
  const std::string dir = out.empty() ? "sweeps/" + g.name : out;
  const SweepPlan plan = planSweep(g, dir, force, bench);
  std::printf("sweep '%s' planned in %s\n", g.name.c_str(), plan.directory.c_str());
  std::printf("  %s runs (%s models: %zu families each)\n", humanCount(plan.runs).c_str(), humanCount(plan.models).c_str(),
              g.families.size());
  if (plan.cpuHours >= 0.1) std::printf("  estimated %.1f CPU hours of training steps (", plan.cpuHours);
  else std::printf("  estimated %.0f CPU seconds of training steps (", std::ceil(plan.cpuHours * 3600.0));
  const char* sep = "";
  for (const auto& [s, gflops] : plan.gflops) {
    std::printf("%s%s %.0f GFLOP/s", sep, toString(s).c_str(), gflops);
    sep = ", ";
  }
  std::printf(" per core%s; evaluations add to it)\n", bench.empty() ? ", the built-in bench figures" : "");
  std::printf("next: modlab-cli sweep run %s --jobs N   or   modlab-cli sweep slurm %s --submit\n", dir.c_str(), dir.c_str());
  return 0;
}

int sweepRun(const std::string& dir, int jobs, std::optional<int> task, bool quiet) {
  const Sweep sweep = loadSweep(dir);
  std::atomic<bool> stop{false};
  catchInterrupts();
  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  auto last = start - std::chrono::hours(1);
  std::int64_t firstSteps = -1;
  const SweepProgress result = runSweep(
      sweep, jobs,
      [&](const SweepProgress& p) {
        if (interrupts.load() > 0 && !stop) {
          stop = true;
          std::fprintf(stderr, "\nstopping: running runs stop at their next step and can be resumed\n");
        }
        const auto now = std::chrono::steady_clock::now();
        if (quiet || now - last < std::chrono::milliseconds(tty ? 500 : 10000)) return;
        last = now;
        if (firstSteps < 0) firstSteps = p.stepsDone;
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const double rate = elapsed > 1 ? static_cast<double>(p.stepsDone - firstSteps) / elapsed : 0.0;
        const double eta = rate > 0 ? static_cast<double>(p.stepsTotal - p.stepsDone) / rate : NAN;
        char line[256];
        std::snprintf(line, sizeof line, "runs %d/%d done (%d skipped, %d running, %d failed) | steps %s/%s | %.0f steps/s | ETA %s",
                      p.finished, p.total, p.skipped, p.running, p.failed, humanCount(p.stepsDone).c_str(),
                      humanCount(p.stepsTotal).c_str(), rate, humanDuration(eta).c_str());
        if (tty) std::fprintf(stderr, "\r\033[K%s", fitToTerminal(line).c_str());

        else std::fprintf(stderr, "%s\n", line);
      },
      &stop, task);
  if (tty && !quiet) std::fprintf(stderr, "\n");
  std::printf("%d of %d runs finished", result.finished, result.total);
  if (result.skipped) std::printf(" (%d already before)", result.skipped);
  if (result.elsewhere) std::printf("; %d claimed by another runner", result.elsewhere);
  std::printf("\n");
  for (const std::string& f : result.failures) std::printf("failed: %s\n", f.c_str());
  if (stop) return 130;
  return result.failed > 0 ? 1 : 0;
}

namespace {
// The program's own path (not argv[0], which is a bare name when called from PATH).
std::string ownPath(const std::string& argv0) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::absolute(argv0).string() : self.string();
}

std::string runCommand(const std::string& command, int* status) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    *status = -1;
    return {};
  }
  char buf[512];
  std::string output;
  while (fgets(buf, sizeof buf, pipe)) output += buf;
  *status = pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output;
}

// The cluster's MaxArraySize from 'scontrol show config'; Slurm's default, 1001, when it cannot be read.
int clusterMaxArraySize(std::string* source) {
  int status = 0;
  const std::string config = runCommand("scontrol show config 2>/dev/null", &status);
  const auto at = config.find("MaxArraySize");
  if (status == 0 && at != std::string::npos) {
    const auto eq = config.find('=', at);
    if (eq != std::string::npos) {
      const int value = std::atoi(config.c_str() + eq + 1);
      if (value >= 2) {
        *source = "scontrol show config";
        return value;
      }
    }
  }
  *source = "Slurm's default (scontrol show config could not be read)";
  return 1001;
}

// The most CPUs a node of the partition (or of the default one) has; 0 when sinfo cannot say.
int partitionCpus(const std::string& partition) {
  int status = 0;
  const std::string out = runCommand("sinfo -h -o %c" + (partition.empty() ? std::string() : " -p " + shellQuote(partition)) + " 2>/dev/null", &status);
  int most = 0;
  for (std::size_t at = 0; status == 0 && at < out.size();) {
    most = std::max(most, std::atoi(out.c_str() + at));
    const auto next = out.find('\n', at);
    at = next == std::string::npos ? out.size() : next + 1;
  }
  return most;
}
// Seconds of a Slurm time ("2-00:00:00", "12:00:00", "30:00", "45"); -1 for "infinite" or unreadable.
long slurmSeconds(const std::string& text) {
  long days = 0;
  std::string rest = text;
  if (const auto dash = rest.find('-'); dash != std::string::npos) {
    days = std::atol(rest.substr(0, dash).c_str());
    rest = rest.substr(dash + 1);
  }
  std::vector<long> parts;
  for (std::size_t at = 0; at <= rest.size();) {
    const auto colon = rest.find(':', at);
    const std::string part = rest.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return -1;
    parts.push_back(std::atol(part.c_str()));
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  long seconds = 0;
  if (parts.size() == 3) seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
  else if (parts.size() == 2) seconds = (days > 0 ? parts[0] * 3600 + parts[1] * 60 : parts[0] * 60 + parts[1]);
  else if (parts.size() == 1) seconds = days > 0 ? parts[0] * 3600 : parts[0] * 60;
  else return -1;
  return days * 86400 + seconds;
}

// The partition's time limit (sinfo), or "" when it has none or sinfo cannot say.
std::string partitionTimeLimit(const std::string& partition) {
  int status = 0;
  const std::string out = runCommand("sinfo -h -o %l" + (partition.empty() ? std::string() : " -p " + shellQuote(partition)) + " 2>/dev/null", &status);
  const std::string first = out.substr(0, out.find('\n'));
  return status == 0 && slurmSeconds(first) > 0 ? first : std::string();
}
}  // namespace

int sweepSlurm(const SlurmArgs& a, const std::string& argv0) {
  const Sweep sweep = loadSweep(a.sweep);
  if (a.gpus > 0 && !cudaAvailable())
    throw ConfigError("--gpus", "invalid --gpus " + std::to_string(a.gpus) +
                                    ": this modlab-cli's LibTorch has no CUDA, so a run never uses a GPU; allowed is 0");
  if (!(a.margin >= 1.0 && a.margin <= 100.0))
    throw ConfigError("--margin", "invalid --margin " + std::to_string(a.margin) + ": allowed is 1 to 100");
  SlurmOptions o;
  o.partition = a.partition;
  o.account = a.account;
  o.cpus = a.cpus;
  if (o.cpus == 0) {  // one per family, within what the partition's nodes have
    o.cpus = slurmCpus(sweep);
    if (const int node = partitionCpus(a.partition); node > 0) o.cpus = std::min(o.cpus, node);
  }
  o.time = a.time.empty() ? slurmTime(sweep, o.cpus, a.margin) : a.time;
  // Within the partition's limit: a longer run stops at a checkpoint there and continues when
  // the arrays are submitted again.
  std::string capped;
  if (a.time.empty())
    if (const std::string limit = partitionTimeLimit(a.partition); !limit.empty() && slurmSeconds(limit) < slurmSeconds(o.time)) {
      capped = o.time;
      o.time = limit;
    }
  o.gpus = a.gpus;
  o.memoryGiB = a.memory;
  o.maxParallel = a.maxParallel;
  o.cli = ownPath(argv0);
  std::string arraySource = "--max-array-size";
  o.maxArraySize = a.maxArraySize > 0 ? a.maxArraySize : clusterMaxArraySize(&arraySource);
  const SlurmScript script = writeSlurmScript(sweep, o);
  std::printf("Slurm job array for %zu runs: %s\n", sweep.runs.size(), script.script.c_str());
  std::printf("  %d CPUs and %s per run", o.cpus, o.time.c_str());
  if (a.time.empty())
    std::printf(" (%.0f CPU seconds estimated for the longest run's training steps, x%.1f)", sweep.maxRunCpuSeconds, a.margin);
  if (!capped.empty())
    std::printf("\n  the estimate (%s) is over the partition's time limit: runs that reach it stop at a checkpoint; "
                "submit again (bash submit.sh) to continue them", capped.c_str());
  std::printf("\n  modlab-cli on the nodes: %s (the same path there, or set MODLAB_CLI)\n", o.cli.c_str());
  if (script.arrays.size() > 1)
    std::printf("  %zu arrays of at most %d tasks (MaxArraySize %d, from %s)\n", script.arrays.size(), o.maxArraySize,
                o.maxArraySize, arraySource.c_str());
  if (!a.submit) {
    std::printf("submit it with: bash %s\n", script.submit.c_str());
    return 0;
  }
  for (const SlurmArray& array : script.arrays) {
    int status = 0;
    const std::string output =
        runCommand("sbatch --parsable " + array.sbatchArguments + " " + shellQuote(script.script) + " 2>&1", &status);
    if (status != 0)
      throw std::runtime_error("sbatch failed: " + (output.empty() ? std::string("is Slurm installed and running?") : output));
    std::printf("submitted job %s (runs %d to %d)\n", output.c_str(), array.offset, array.offset + array.count - 1);
  }
  return 0;
}

int sweepStatus(const std::string& dir) {
  const Sweep sweep = loadSweep(dir);
  std::map<RunState, int> counts;
  for (const SweepRun& run : sweep.runs) {
    std::string error;
    const RunState s = runState(sweep, run, &error);
    ++counts[s];
    if (s == RunState::Failed || s == RunState::Damaged || s == RunState::Stale)
      std::printf("%s: %s: %s\n", toString(s).c_str(), run.name.c_str(), error.c_str());
  }
  for (const auto& [state, n] : counts) std::printf("%-12s %d\n", toString(state).c_str(), n);
  return 0;
}

int report(const std::string& dir, const std::string& out,
           const FigureRenderer& renderFigures, double figureScale) {
  const Sweep sweep = loadSweep(dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw ConfigError("--out", "cannot create report folder " + out + ": " + ec.message());
  const SweepReport r = collectReport(sweep);
  writeFileAtomic(fs::path(out) / "runs.csv", reportCsv(r));
  writeFileAtomic(fs::path(out) / "ranking.csv", rankingCsv(r.ranking));
  if (hasRoutingVariants(r)) writeFileAtomic(fs::path(out) / "routing.csv", routingCsv(r));
  std::printf("%zu rows (runs x models) in %s\n", r.rows.size(), (fs::path(out) / "runs.csv").c_str());
  std::printf("ranking (Fig. 3), %d comparisons:", r.ranking.comparisons);
  for (Family f : kAllFamilies) {
    const auto it = r.ranking.wins.find(f);
    std::printf(" %s %d", toString(f).c_str(), it == r.ranking.wins.end() ? 0 : it->second);
  }
  std::printf(", ties %d; Modular vs Monolithic %d : %d, ties %d\n", r.ranking.ties, r.ranking.modularWins,
              r.ranking.monolithicWins, r.ranking.modularTies);
  for (const std::string& m : r.missing) std::printf("missing: %s\n", m.c_str());
  for (const std::string& f : r.failed) std::printf("failed: %s\n", f.c_str());
  if (renderFigures) {
    const RenderedFigures rendered = renderFigures(&r, out, figureScale);
    for (const std::string& file : rendered.files) std::printf("figure: %s\n", file.c_str());
    // A figure is written whole or the report fails naming it (a full disk once gave 0-byte files).
    if (!rendered.failures.empty()) {
      std::string all;
      for (const std::string& f : rendered.failures) all += (all.empty() ? "" : "; ") + f;
      throw WriteError("the report's figures were not all written: " + all);
    }
  } else {
    std::printf("figures: not rendered (this modlab-cli was built without the GUI library)\n");
  }
  return 0;
}

}  // namespace modlab::cli
