#include "modlab/version.h"
#include "modlab/sweep/sweep.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "modlab/io/files.h"
#include "modlab/training/session.h"
#include "training/evaluation.h"
#include "training/flops.h"

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string indexText(int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", index);
  return buf;
}

// The throughput of a training step (effective GFLOP/s, one thread), measured with
// `modlab-cli bench` on the 2-core development machine.
std::map<Setting, double> defaultThroughput() { return {{Setting::Mlp, 65.0}, {Setting::Mha, 40.0}, {Setting::Rnn, 50.0}}; }

bool isComplete(const Sweep& sweep, const SweepRun& run) {
  try {
    RunStore::loadFinished(sweep.runDirectory(run));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string toString(RunState s) {
  switch (s) {
    case RunState::Pending: return "pending";
    case RunState::Running: return "running";
    case RunState::Finished: return "finished";
    case RunState::Stopped: return "interrupted";
    case RunState::Failed: return "failed";
    case RunState::Damaged: return "damaged";
  }
  return "?";
}

std::string Sweep::runDirectory(const SweepRun& run) const {
  return (fs::path(directory) / "runs" / (indexText(run.index) + "-" + run.name)).string();
}

std::string Sweep::configPath(const SweepRun& run) const {
  return (fs::path(directory) / "configs" / (indexText(run.index) + ".json")).string();
}

namespace {
// A sweep folder whose parts are links would have its runner write, and a re-plan delete,
// wherever they lead.
void refuseLinkedSweepParts(const fs::path& dir) {
  for (const char* part : {"sweep.json", ".lock", "configs", "runs", "logs", "runs.txt"})
    if (isLink(dir / part))
      throw ConfigError("out", (dir / part).string() + " is a symbolic link: a sweep folder's parts are never links " +
                                   "(Modularity Lab would write or delete where it leads); replace it with the folder itself");
}
}  // namespace

SweepPlan planSweep(const SweepGrid& grid, const std::string& directory, bool force, const std::string& benchJson) {
  const fs::path dir(directory);
  if (fs::exists(dir / "sweep.json") && !force)
    throw ConfigError("out", "sweep folder " + directory + " already holds a sweep: choose another folder or pass --force");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError("out", "cannot create sweep folder " + directory + ": " + ec.message());
  refuseLinkedSweepParts(dir);
  std::string holder;
  const auto lock = FolderLock::tryAcquire(dir, &holder);  // no runner may work on a plan being replaced
  if (!lock) throw ConfigError("out", "sweep folder " + directory + " is in use by " + holder + ": stop its runners first");
  const std::vector<SweepRun> runs = expand(grid);
  SweepPlan plan;
  plan.directory = fs::absolute(dir).string();
  plan.runs = static_cast<int>(runs.size());
  plan.gflops = defaultThroughput();
  if (!benchJson.empty()) {
    std::map<Setting, std::vector<double>> rates;
    try {
      const json bench = json::parse(readFile(benchJson));
      for (const json& row : bench.at("families"))
        rates[parseSetting(row.at("setting").get<std::string>())].push_back(row.at("gflops").get<double>());
    } catch (const std::exception&) {
      throw ConfigError("--bench", "cannot use " + benchJson + ": allowed is the output of 'modlab-cli bench --json'");
    }
    for (auto& [s, r] : rates) {
      double sum = 0;
      for (double v : r) sum += v;
      plan.gflops[s] = sum / static_cast<double>(r.size());
    }
  }
  // Training FLOPs of every run, from its models (one model per distinct architecture).
  std::map<std::tuple<int, int, int, int, int, int>, double> flopsCache;
  double seconds = 0.0;
  for (const SweepRun& run : runs) {
    const ExperimentConfig& c = run.config;
    double perStep = 0.0;
    for (const Variant& v : variantsOf(c)) {
      const Family f = v.family;
      const auto key = std::make_tuple(int(c.setting), int(c.task), c.rules, c.size, c.searchVersion, int(f));
      auto it = flopsCache.find(key);
      if (it == flopsCache.end()) {
        torch::NoGradGuard noGrad;
        const RuleModel model = makeModel(modelSpecOf(c, f), 0);
        it = flopsCache.emplace(key, gflopPerStep(*model, c)).first;
      }
      perStep += it->second;
    }
    seconds += perStep * static_cast<double>(c.steps) / plan.gflops[c.setting];
    plan.models += static_cast<int>(c.families.size() + c.variants.size());
  }
  plan.cpuHours = seconds / 3600.0;

  fs::create_directories(dir / "configs");
  fs::create_directories(dir / "runs");
  // The configs of the plan being replaced, and nothing else: files named as ours, not links.
  for (const auto& entry : fs::directory_iterator(dir / "configs")) {
    const std::string name = entry.path().filename().string();
    const std::string stem = name.substr(0, name.find('.'));
    const bool ours = !stem.empty() && stem.find_first_not_of("0123456789") == std::string::npos &&
                      (name == stem + ".json" || name == stem + ".json.tmp");
    if (ours && !entry.is_symlink() && entry.is_regular_file()) fs::remove(entry.path());
  }
  Sweep sweep{plan.directory, grid, runs};
  for (const SweepRun& run : runs) writeFileAtomic(sweep.configPath(run), toJson(run.config));
  json info{{"format_version", kSweepFormatVersion},
            {"modlab_version", versionString()},
            {"created", utcNow()},
            {"runs", plan.runs},
            {"models", plan.models},
            {"estimated_cpu_hours", plan.cpuHours},
            {"grid", json::parse(toJson(grid))}};
  writeFileAtomic(dir / "sweep.json", info.dump(2) + "\n");
  return plan;
}

Sweep loadSweep(const std::string& directory) {
  const fs::path dir(directory);
  if (!fs::exists(dir / "sweep.json"))
    throw ConfigError("sweep", "no sweep in " + directory + " (sweep.json is missing; create one with 'modlab-cli sweep plan')");
  refuseLinkedSweepParts(dir);
  const fs::path file = dir / "sweep.json";
  json info;
  try {
    info = json::parse(readFile(file));
    if (!info.is_object() || !info.contains("grid")) throw ReadError("no grid in it");
  } catch (const std::exception&) {
    throw ConfigError("sweep", file.string() + " is damaged: plan the sweep again with 'modlab-cli sweep plan --force'");
  }
  const int version = info["format_version"].is_number_integer() ? info["format_version"].get<int>() : 0;
  if (version != kSweepFormatVersion)
    throw ConfigError("sweep", "sweep " + directory + " was written by Modularity Lab " + info.value("modlab_version", "?") +
                                   " in sweep format " + std::to_string(version) + "; this version reads format " +
                                   std::to_string(kSweepFormatVersion) + ": plan the sweep again");
  Sweep sweep;
  sweep.directory = fs::absolute(dir).string();
  try {
    sweep.grid = parseGrid(info["grid"].dump());
  } catch (const ConfigError& e) {
    throw ConfigError("sweep", file.string() + " holds an invalid grid: " + e.what());
  }
  sweep.runs = expand(sweep.grid);
  return sweep;
}

RunState runState(const Sweep& sweep, const SweepRun& run, std::string* error) {
  if (FolderLock::isHeld(sweep.runDirectory(run))) return RunState::Running;
  return recordedState(sweep, run, error);
}

RunState recordedState(const Sweep& sweep, const SweepRun& run, std::string* error) {
  const fs::path dir = sweep.runDirectory(run);
  if (!fs::exists(dir / "run.json")) return fs::exists(dir / "config.json") ? RunState::Stopped : RunState::Pending;
  RunInfo info;
  try {
    info = RunStore::open(dir).readInfo();
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return RunState::Damaged;
  }
  if (error) *error = info.error;
  if (info.status == "finished") return RunState::Finished;
  if (info.status == "failed") return RunState::Failed;
  return RunState::Stopped;
}

SweepProgress runSweep(const Sweep& sweep, int jobs, const std::function<void(const SweepProgress&)>& progress,
                       const std::atomic<bool>* stop) {
  std::string holder;
  const auto planLock = FolderLock::tryAcquireShared(sweep.directory, &holder);  // no re-plan while runs run
  if (!planLock) throw ConfigError("sweep", "sweep folder " + sweep.directory + " is being planned by " + holder);
  std::mutex mutex;
  SweepProgress state;
  state.total = static_cast<int>(sweep.runs.size());
  std::vector<const SweepRun*> queue;
  std::map<int, std::int64_t> stepsOf;  // run index -> steps done
  for (const SweepRun& run : sweep.runs) {
    state.stepsTotal += run.config.steps;
    if (runState(sweep, run) == RunState::Finished && isComplete(sweep, run)) {
      ++state.finished;
      ++state.skipped;
      stepsOf[run.index] = run.config.steps;
    } else {
      queue.push_back(&run);
    }
  }
  std::size_t next = 0;
  auto worker = [&] {
    for (;;) {
      const SweepRun* run;
      {
        std::lock_guard lock(mutex);
        if (next >= queue.size() || (stop && stop->load())) return;
        run = queue[next++];
        ++state.running;
      }
      const fs::path dir = sweep.runDirectory(*run);
      std::string failure;
      bool finished = false, claimed = false;
      try {
        // Claim the run through its folder's lock: another runner (here, on another
        // machine, or a Slurm task) that holds it keeps it, and this one moves on.
        if (isLink(dir) || isLink(dir.parent_path()))
          throw ConfigError("sweep", dir.string() + " is a symbolic link: a sweep's run folders are never links");
        std::error_code ec;
        fs::create_directories(dir, ec);
        std::shared_ptr<FolderLock> claim = FolderLock::tryAcquire(dir);
        const RunState recorded = claim ? recordedState(sweep, *run) : RunState::Running;
        claimed = claim && !(recorded == RunState::Finished && isComplete(sweep, *run));
        if (claimed) {
          // Interrupted runs continue from their last checkpoint (or start again when
          // stopped before it); a damaged one, or one whose record is incomplete although
          // it says finished, starts again.
          const bool restart = recorded == RunState::Damaged || recorded == RunState::Finished;
          const bool resume = !restart && RunStore::holdsRun(dir);
          SessionOptions options{dir.string(), resume, restart};
          options.lock = claim;
          Session session(run->config, options);
          session.start();
          for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            if (stop && stop->load()) session.stop();
            bool done = false;
            for (const Snapshot& s : session.drain()) {
              std::lock_guard lock(mutex);
              stepsOf[run->index] = s.step;
              if (s.state == SessionState::Failed) failure = s.error;
              done = done || s.state == SessionState::Finished || s.state == SessionState::Stopped || s.state == SessionState::Failed;
              finished = finished || s.state == SessionState::Finished;
            }
            if (done) break;
          }
          session.wait();
        }
      } catch (const std::exception& e) {
        failure = describeError(e);
      }
      if (!claimed && failure.empty()) {
        std::lock_guard lock(mutex);
        --state.running;
        ++state.elsewhere;
        continue;
      }
      std::lock_guard lock(mutex);
      --state.running;
      if (finished) ++state.finished;
      if (!failure.empty()) {
        ++state.failed;
        state.failures.push_back(run->name + ": " + failure);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, jobs); ++i) threads.emplace_back(worker);
  for (;;) {
    bool idle;
    {
      std::lock_guard lock(mutex);
      state.stepsDone = 0;
      for (const auto& [index, steps] : stepsOf) state.stepsDone += steps;
      idle = state.running == 0 && (next >= queue.size() || (stop && stop->load()));
      if (progress) progress(state);
    }
    if (idle) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (auto& t : threads) t.join();
  return state;
}

std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

// #SBATCH lines are not shell, so their values are restricted rather than quoted.
void requireSlurmWord(const std::string& option, const std::string& value, const std::string& allowedChars,
                      const std::string& allowed) {
  const bool ok = value.size() <= 100 && std::all_of(value.begin(), value.end(), [&](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || allowedChars.find(c) != std::string::npos;
                  });
  if (!ok) throw ConfigError(option, "invalid " + option + " '" + truncatedForMessage(value) + "': allowed is " + allowed);
}

}  // namespace

std::string writeSlurmScript(const Sweep& sweep, const SlurmOptions& o) {
  requireSlurmWord("--partition", o.partition, "_-.,", "letters, digits, '_', '-', '.' and ','");
  requireSlurmWord("--account", o.account, "_-.", "letters, digits, '_', '-' and '.'");
  requireSlurmWord("--time", o.time, ":-", "a Slurm time such as 04:00:00 or 1-12:00:00");
  if (o.time.empty()) throw ConfigError("--time", "invalid --time '': allowed is a Slurm time such as 04:00:00");
  if (!isSafeName(sweep.grid.name))
    throw ConfigError("name", "invalid grid name '" + truncatedForMessage(sweep.grid.name) + "': allowed is " + kSafeNameRule);
  const fs::path dir = fs::path(sweep.directory) / "slurm";
  fs::create_directories(dir / "logs");
  // One line per run: config and run folder, tab-separated (names hold no tabs or newlines).
  std::string manifest;
  for (const SweepRun& run : sweep.runs) manifest += sweep.configPath(run) + "\t" + sweep.runDirectory(run) + "\n";
  writeFileAtomic(dir / "runs.txt", manifest);
  const int n = static_cast<int>(sweep.runs.size());
  std::string s = "#!/bin/bash\n";
  s += "# Modularity Lab sweep " + sweep.grid.name + ": one array task per run config (" + std::to_string(n) + " runs).\n";
  s += "# Written by 'modlab-cli sweep slurm'; submit with sbatch (or 'modlab-cli sweep slurm --submit').\n";
  s += "#SBATCH --job-name=modlab-" + sweep.grid.name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(n - 1) + (o.maxParallel > 0 ? "%" + std::to_string(o.maxParallel) : "") + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus) + "\n";
  s += "#SBATCH --mem=" + std::to_string(o.memoryGiB) + "G\n";
  s += "#SBATCH --time=" + o.time + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
  if (o.gpus > 0) s += "#SBATCH --gres=gpu:" + std::to_string(o.gpus) + "\n";
  const std::string logs = (dir / "logs").string();
  if (logs.find_first_of("\n\r%") != std::string::npos)
    throw ConfigError("sweep", "the sweep folder's path holds a newline or '%', which Slurm cannot take: move the sweep");
  s += "#SBATCH --output=" + logs + "/%A_%a.out\n";
  s += "set -euo pipefail\n";
  s += "default_cli=" + shellQuote(o.cli) + "\n";
  s += "CLI=\"${MODLAB_CLI:-$default_cli}\"\n";
  s += "runs=" + shellQuote((dir / "runs.txt").string()) + "\n";
  s += R"(line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$runs")
config=${line%%$'\t'*}
run=${line#*$'\t'}
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
if [ -f "$run/run.json" ] && grep -q '"status": "finished"' "$run/run.json"; then
  echo "run $run already finished"
  exit 0
fi
# A run folder holding a run is continued (from its checkpoint, or from the start when it
# has none yet); the run folder's lock refuses a second task on the same run.
if [ -f "$run/config.json" ]; then
  exec "$CLI" train --out "$run" --resume --quiet
fi
exec "$CLI" train --config "$config" --out "$run" --quiet
)";
  const fs::path script = dir / "array.sh";
  writeFileAtomic(script, s);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  return script.string();
}

}  // namespace modlab
