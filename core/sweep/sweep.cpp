#include "modlab/version.h"
#include "modlab/sweep/sweep.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
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

}  // namespace

std::string toString(RunState s) {
  switch (s) {
    case RunState::Pending: return "pending";
    case RunState::Running: return "running";
    case RunState::Finished: return "finished";
    case RunState::Stopped: return "interrupted";
    case RunState::Failed: return "failed";
    case RunState::Damaged: return "damaged";
    case RunState::Stale: return "stale";
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
    const double runSeconds = perStep * static_cast<double>(c.steps) / plan.gflops[c.setting];
    seconds += runSeconds;
    plan.maxRunCpuSeconds = std::max(plan.maxRunCpuSeconds, runSeconds);
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
            {"estimated_max_run_cpu_seconds", plan.maxRunCpuSeconds},
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
  if (info.contains("estimated_max_run_cpu_seconds") && info["estimated_max_run_cpu_seconds"].is_number())
    sweep.maxRunCpuSeconds = std::max(0.0, info["estimated_max_run_cpu_seconds"].get<double>());
  return sweep;
}

RunState runState(const Sweep& sweep, const SweepRun& run, std::string* error) {
  if (FolderLock::isHeld(sweep.runDirectory(run))) return RunState::Running;
  return recordedState(sweep, run, error);
}

RunState recordedState(const Sweep& sweep, const SweepRun& run, std::string* error) {
  const fs::path dir = sweep.runDirectory(run);
  if (!fs::exists(dir / "config.json")) return RunState::Pending;
  RunInfo info;
  try {
    const RunStore store = RunStore::open(dir);
    if (!(store.readConfig() == run.config)) {
      if (error) *error = "its config.json is not the plan's " + sweep.configPath(run) + " (the sweep was planned again): 'sweep run' runs it again";
      return RunState::Stale;
    }
    if (!fs::exists(dir / "run.json")) return RunState::Stopped;
    info = store.readInfo();
    if (info.status == "finished") RunStore::loadFinished(dir);  // complete, or damaged: as the report reads it
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
                       const std::atomic<bool>* stop, std::optional<int> only) {
  if (only && (*only < 0 || *only >= static_cast<int>(sweep.runs.size())))
    throw ConfigError("--task", "invalid --task " + std::to_string(*only) + ": allowed is 0 to " + std::to_string(sweep.runs.size() - 1));
  std::string holder;
  const auto planLock = FolderLock::tryAcquireShared(sweep.directory, &holder);  // no re-plan while runs run
  if (!planLock) throw ConfigError("sweep", "sweep folder " + sweep.directory + " is being planned by " + holder);
  std::mutex mutex;
  SweepProgress state;
  state.total = only ? 1 : static_cast<int>(sweep.runs.size());
  std::vector<const SweepRun*> queue;
  std::map<int, std::int64_t> stepsOf;  // run index -> steps done
  for (const SweepRun& run : sweep.runs) {
    if (only && run.index != *only) continue;
    state.stepsTotal += run.config.steps;
    if (runState(sweep, run) == RunState::Finished) {
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
        claimed = claim && recorded != RunState::Finished;
        if (claimed) {
          // Interrupted runs continue from their last checkpoint (or start again when
          // stopped before it); a damaged one (its record unreadable, or incomplete although
          // it says finished) and a stale one (trained to another plan) start again.
          const bool restart = recorded == RunState::Damaged || recorded == RunState::Stale;
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

int slurmCpus(const Sweep& sweep) {
  std::size_t models = 1;
  for (const SweepRun& run : sweep.runs) models = std::max(models, variantsOf(run.config).size());
  return static_cast<int>(std::min<std::size_t>(models, 8));
}

std::string slurmTime(const Sweep& sweep, int cpus, double margin) {
  if (!(sweep.maxRunCpuSeconds > 0)) return "04:00:00";
  std::size_t models = 1;
  for (const SweepRun& run : sweep.runs) models = std::max(models, variantsOf(run.config).size());
  const double parallel = static_cast<double>(std::max(1, std::min(cpus, static_cast<int>(models))));
  const double seconds = std::max(1800.0, sweep.maxRunCpuSeconds / parallel * std::max(1.0, margin));
  const long minutes = static_cast<long>(std::ceil(seconds / 900.0)) * 15;
  const long days = minutes / 1440, hours = minutes % 1440 / 60, rest = minutes % 60;
  char text[32];
  if (days > 0) std::snprintf(text, sizeof text, "%ld-%02ld:%02ld:00", days, hours, rest);
  else std::snprintf(text, sizeof text, "%02ld:%02ld:00", hours, rest);
  return text;
}

SlurmScript writeSlurmScript(const Sweep& sweep, const SlurmOptions& o) {
  requireSlurmWord("--partition", o.partition, "_-.,", "letters, digits, '_', '-', '.' and ','");
  requireSlurmWord("--account", o.account, "_-.", "letters, digits, '_', '-' and '.'");
  requireSlurmWord("--time", o.time, ":-", "a Slurm time such as 04:00:00 or 1-12:00:00");
  if (o.time.empty()) throw ConfigError("--time", "invalid --time '': allowed is a Slurm time such as 04:00:00");
  if (o.cpus < 1) throw ConfigError("--cpus", "invalid --cpus " + std::to_string(o.cpus) + ": allowed is 1 or more");
  if (o.memoryGiB < 1) throw ConfigError("--mem", "invalid --mem " + std::to_string(o.memoryGiB) + ": allowed is 1 (GiB) or more");
  if (o.gpus < 0) throw ConfigError("--gpus", "invalid --gpus " + std::to_string(o.gpus) + ": allowed is 0 or more");
  if (o.maxParallel < 0) throw ConfigError("--max-parallel", "invalid --max-parallel " + std::to_string(o.maxParallel) + ": allowed is 1 or more");
  if (o.maxArraySize < 2) throw ConfigError("MaxArraySize", "invalid MaxArraySize " + std::to_string(o.maxArraySize) + ": allowed is 2 or more");
  if (!isSafeName(sweep.grid.name))
    throw ConfigError("name", "invalid grid name '" + truncatedForMessage(sweep.grid.name) + "': allowed is " + kSafeNameRule);
  const fs::path dir = fs::path(sweep.directory) / "slurm";
  // #SBATCH lines end at a newline and take '%' as a pattern: such a path is refused.
  if (dir.string().find_first_of("\n\r%") != std::string::npos)
    throw ConfigError("sweep", "the sweep folder's path '" + truncatedForMessage(sweep.directory) +
                                   "' holds a newline or '%', which Slurm's #SBATCH lines cannot take: move the sweep");
  fs::create_directories(dir / "logs");
  // A manifest for people: one line per run, its index, config and run folder (tab-separated).
  std::string manifest;
  for (const SweepRun& run : sweep.runs)
    manifest += std::to_string(run.index) + "\t" + sweep.configPath(run) + "\t" + sweep.runDirectory(run) + "\n";
  writeFileAtomic(dir / "runs.txt", manifest);
  const int n = static_cast<int>(sweep.runs.size());
  // Arrays of at most MaxArraySize tasks (indices 0 .. MaxArraySize-1), each with its offset.
  SlurmScript out;
  for (int offset = 0; offset < n; offset += o.maxArraySize) {
    SlurmArray a;
    a.offset = offset;
    a.count = std::min(o.maxArraySize, n - offset);
    a.sbatchArguments = "--array=0-" + std::to_string(a.count - 1) + (o.maxParallel > 0 ? "%" + std::to_string(o.maxParallel) : "") +
                        " --export=ALL,MODLAB_ARRAY_OFFSET=" + std::to_string(offset);
    out.arrays.push_back(a);
  }
  std::string s = "#!/bin/bash\n";
  s += "# Modularity Lab sweep " + sweep.grid.name + ": one array task per run config (" + std::to_string(n) + " runs";
  s += out.arrays.size() > 1 ? ", in " + std::to_string(out.arrays.size()) + " arrays of at most " + std::to_string(o.maxArraySize) +
                                   " tasks: the cluster's MaxArraySize).\n"
                             : ").\n";
  s += "# Written by 'modlab-cli sweep slurm'; submit with 'bash " + (dir / "submit.sh").string() + "' (or 'modlab-cli sweep slurm --submit').\n";
  s += "#SBATCH --job-name=modlab-" + sweep.grid.name + "\n";
  if (out.arrays.size() == 1)  // 'sbatch array.sh' alone submits the whole sweep
    s += "#SBATCH --array=0-" + std::to_string(n - 1) + (o.maxParallel > 0 ? "%" + std::to_string(o.maxParallel) : "") + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus) + "\n";
  s += "#SBATCH --mem=" + std::to_string(o.memoryGiB) + "G\n";
  s += "#SBATCH --time=" + o.time + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
  if (o.gpus > 0) s += "#SBATCH --gres=gpu:" + std::to_string(o.gpus) + "\n";
  // Slurm sends SIGTERM at the time limit: the run stops at a checkpoint, the next submission resumes it.
  s += "#SBATCH --signal=B:TERM@60\n";
  s += "#SBATCH --output=" + (dir / "logs").string() + "/%A_%a.out\n";
  s += "set -euo pipefail\n";
  s += "# The modlab-cli that wrote this script (its real path, not argv[0]); the nodes must see it\n";
  s += "# at the same path, or MODLAB_CLI must name theirs.\n";
  s += "default_cli=" + shellQuote(o.cli) + "\n";
  s += "CLI=\"${MODLAB_CLI:-$default_cli}\"\n";
  s += "sweep=" + shellQuote(sweep.directory) + "\n";
  s += R"(if [ ! -x "$CLI" ]; then
  echo "modlab-cli is not at $CLI on $(hostname): install it at that path on every node, or set MODLAB_CLI" >&2
  exit 2
fi
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# The run of this task, as 'sweep run' runs it: skipped when finished, resumed when stopped
# (at a time limit, say), started again when damaged or trained to an older plan; its folder's
# lock refuses a second task on the same run.
exec "$CLI" sweep run "$sweep" --task $((SLURM_ARRAY_TASK_ID + ${MODLAB_ARRAY_OFFSET:-0})) --quiet
)";
  const fs::path script = dir / "array.sh";
  writeFileAtomic(script, s);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  std::string submit = "#!/bin/bash\n# Submits the sweep's job arrays (" + std::to_string(out.arrays.size()) + "); resubmitting resumes what is unfinished.\nset -euo pipefail\n";
  for (const SlurmArray& a : out.arrays) submit += "sbatch " + a.sbatchArguments + " " + shellQuote(script.string()) + "\n";
  const fs::path submitPath = dir / "submit.sh";
  writeFileAtomic(submitPath, submit);
  fs::permissions(submitPath, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  out.script = script.string();
  out.submit = submitPath.string();
  return out;
}

}  // namespace modlab
