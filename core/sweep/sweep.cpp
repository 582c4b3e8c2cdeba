#include "modlab/sweep/sweep.h"

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
#include "modlab/training/session.h"
#include "training/evaluation.h"
#include "training/flops.h"

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kGridKeys{"name",        "settings",    "tasks",           "rules",    "sizes",
                                         "data_seeds",  "model_seeds", "search_versions", "families", "base"};

template <typename T, typename Parse>
std::vector<T> axis(const json& j, const std::string& key, Parse parse) {
  if (!j.is_array()) throw ConfigError(key, "invalid " + key + " " + j.dump() + ": allowed is a list of values");
  if (j.empty()) throw ConfigError(key, "empty axis '" + key + "': give at least one value");
  std::vector<T> out;
  for (const json& v : j) {
    try {
      out.push_back(parse(v));
    } catch (const InvalidArgument& e) {
      throw ConfigError(key, "invalid " + key + " value '" + e.value() + "': allowed is " + e.allowed());
    } catch (const json::exception&) {
      throw ConfigError(key, "invalid " + key + " value " + v.dump());
    }
  }
  return out;
}

int integer(const json& v) {
  if (!v.is_number_integer()) throw InvalidArgument("value", v.dump(), "an integer");
  return v.get<int>();
}

std::string runName(const ExperimentConfig& c) {
  std::string name = toString(c.setting);
  if (c.setting == Setting::Mha) name += "-sv" + std::to_string(c.searchVersion);
  return name + "-" + toString(c.task) + "-R" + std::to_string(c.rules) + "-E" + std::to_string(c.size) + "-ds" +
         std::to_string(c.dataSeed) + "-ms" + std::to_string(c.modelSeed);
}

std::string indexText(int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", index);
  return buf;
}

// The throughput of a training step (effective GFLOP/s, one thread), measured with
// `modlab-cli bench` on the 2-core development machine.
std::map<Setting, double> defaultThroughput() { return {{Setting::Mlp, 65.0}, {Setting::Mha, 40.0}, {Setting::Rnn, 50.0}}; }

ExperimentConfig baseConfig(Setting s, const std::vector<std::pair<std::string, std::string>>& keys, int steps, int evalEvery,
                            double lr) {
  ExperimentConfig c;
  c.setting = s;
  c.steps = steps;
  c.evalEvery = evalEvery;
  c.learningRate = lr;
  for (const auto& [k, v] : keys) applyOverride(c, k + "=" + v);
  return c;
}

}  // namespace

std::string toString(RunState s) {
  switch (s) {
    case RunState::Pending: return "pending";
    case RunState::Running: return "running";
    case RunState::Finished: return "finished";
    case RunState::Stopped: return "interrupted";
    case RunState::Failed: return "failed";
  }
  return "?";
}

SweepGrid parseGrid(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ConfigError("grid", std::string("malformed grid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ConfigError("grid", "a grid must be a JSON object");
  SweepGrid g;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") g.name = value.get<std::string>();
    else if (key == "settings") g.settings = axis<Setting>(value, key, [](const json& v) { return parseSetting(v.get<std::string>()); });
    else if (key == "tasks") g.tasks = axis<TaskKind>(value, key, [](const json& v) { return parseTaskKind(v.get<std::string>()); });
    else if (key == "rules") g.rules = axis<int>(value, key, integer);
    else if (key == "sizes") g.sizes = axis<int>(value, key, integer);
    else if (key == "data_seeds") g.dataSeeds = axis<int>(value, key, integer);
    else if (key == "model_seeds") g.modelSeeds = axis<int>(value, key, integer);
    else if (key == "search_versions") g.searchVersions = axis<int>(value, key, integer);
    else if (key == "families") g.families = axis<Family>(value, key, [](const json& v) { return parseFamily(v.get<std::string>()); });
    else if (key == "base") {
      if (!value.is_object()) throw ConfigError("base", "base must map a setting (mlp, mha, rnn) to config keys");
      for (const auto& [setting, config] : value.items()) {
        Setting s;
        try {
          s = parseSetting(setting);
        } catch (const InvalidArgument&) {
          throw ConfigError("base", "unknown setting '" + setting + "' in base: allowed is mlp, mha, rnn");
        }
        json full = config;
        full["setting"] = setting;
        try {
          g.base[s] = parseConfig(full.dump());
        } catch (const ConfigError& e) {
          throw ConfigError(e.field(), "base." + setting + ": " + e.what());
        }
      }
    } else {
      throw ConfigError(key, "unknown grid key '" + key + "': did you mean '" + closestMatch(key, kGridKeys) + "'?");
    }
  }
  expand(g);  // every combination must be a valid experiment
  return g;
}

std::string toJson(const SweepGrid& g) {
  json j;
  j["name"] = g.name;
  for (Setting s : g.settings) j["settings"].push_back(toString(s));
  for (TaskKind t : g.tasks) j["tasks"].push_back(toString(t));
  j["rules"] = g.rules;
  j["sizes"] = g.sizes;
  j["data_seeds"] = g.dataSeeds;
  j["model_seeds"] = g.modelSeeds;
  j["search_versions"] = g.searchVersions;
  for (Family f : g.families) j["families"].push_back(toString(f));
  j["base"] = json::object();
  for (const auto& [s, c] : g.base) j["base"][toString(s)] = json::parse(modlab::toJson(c));
  return j.dump(2) + "\n";
}

SweepGrid paperGrid() {
  SweepGrid g;
  g.name = "paper";
  g.settings = {Setting::Mlp, Setting::Mha, Setting::Rnn};
  g.tasks = {TaskKind::Classification, TaskKind::Regression};
  g.rules = {2, 4, 8, 16, 32};
  g.sizes = {32, 64, 128, 256, 512};
  g.dataSeeds = {0, 1, 2, 3, 4};
  g.modelSeeds = {0, 1, 2, 3, 4};
  g.searchVersions = {1, 2};
  const std::vector<std::pair<std::string, std::string>> paper{
      {"eval_batches", "10"}, {"adaptation_priors", "100"}, {"adaptation_samples", "10000"}};
  g.base[Setting::Mlp] = baseConfig(Setting::Mlp, paper, 100000, 5000, 1e-4);
  g.base[Setting::Mha] = baseConfig(Setting::Mha, paper, 500000, 5000, 1e-4);
  g.base[Setting::Rnn] = baseConfig(Setting::Rnn, paper, 500000, 5000, 1e-4);
  g.base[Setting::Mlp].matrixSamples = g.base[Setting::Mha].matrixSamples = 1000000;
  g.base[Setting::Rnn].matrixSamples = 100000;
  return g;
}

SweepGrid paperLiteGrid() {
  SweepGrid g = paperGrid();
  g.name = "paper-lite";
  g.sizes = {32};
  g.dataSeeds = {0};
  g.modelSeeds = {0};
  const std::vector<std::pair<std::string, std::string>> lite{{"threads", "1"}};
  g.base[Setting::Mlp] = baseConfig(Setting::Mlp, lite, 3000, 300, 1e-3);
  g.base[Setting::Mha] = baseConfig(Setting::Mha, lite, 600, 100, 1e-3);
  g.base[Setting::Rnn] = baseConfig(Setting::Rnn, lite, 800, 100, 1e-3);
  g.base[Setting::Mha].evalBatches = g.base[Setting::Rnn].evalBatches = 2;
  return g;
}

SweepGrid namedGrid(const std::string& nameOrFile) {
  if (nameOrFile == "paper") return paperGrid();
  if (nameOrFile == "paper-lite") return paperLiteGrid();
  if (!fs::exists(nameOrFile))
    throw ConfigError("--grid", "unknown grid '" + nameOrFile + "': allowed is paper, paper-lite or a grid file (JSON)");
  try {
    return parseGrid(readFile(nameOrFile));
  } catch (const ConfigError& e) {
    throw ConfigError(e.field(), nameOrFile + ": " + e.what());
  }
}

std::vector<SweepRun> expand(const SweepGrid& g) {
  std::vector<SweepRun> runs;
  for (Setting s : g.settings)
    for (TaskKind t : g.tasks)
      for (int sv : s == Setting::Mha ? g.searchVersions : std::vector<int>{1})
        for (int r : g.rules)
          for (int size : g.sizes)
            for (int ds : g.dataSeeds)
              for (int ms : g.modelSeeds) {
                ExperimentConfig c = g.base.count(s) ? g.base.at(s) : ExperimentConfig{};
                c.setting = s;
                c.task = t;
                c.searchVersion = sv;
                c.rules = r;
                c.size = size;
                c.dataSeed = ds;
                c.modelSeed = ms;
                c.families = g.families;
                c.name = runName(c);
                c.description = "Sweep " + g.name + ", run " + std::to_string(runs.size()) + ".";
                try {
                  validate(c);
                } catch (const ConfigError& e) {
                  throw ConfigError(e.field(), "grid " + g.name + ", run " + c.name + ": " + e.what());
                }
                runs.push_back({static_cast<int>(runs.size()), c.name, c});
              }
  return runs;
}

std::string Sweep::runDirectory(const SweepRun& run) const {
  return (fs::path(directory) / "runs" / (indexText(run.index) + "-" + run.name)).string();
}

std::string Sweep::configPath(const SweepRun& run) const {
  return (fs::path(directory) / "configs" / (indexText(run.index) + ".json")).string();
}

SweepPlan planSweep(const SweepGrid& grid, const std::string& directory, bool force, const std::string& benchJson) {
  const fs::path dir(directory);
  if (fs::exists(dir / "sweep.json") && !force)
    throw ConfigError("out", "sweep folder " + directory + " already holds a sweep: choose another folder or pass --force");
  const std::vector<SweepRun> runs = expand(grid);
  SweepPlan plan;
  plan.directory = fs::absolute(dir).string();
  plan.runs = static_cast<int>(runs.size());
  plan.gflops = defaultThroughput();
  if (!benchJson.empty()) {
    const json bench = json::parse(readFile(benchJson));
    std::map<Setting, std::vector<double>> rates;
    for (const json& row : bench.at("families"))
      rates[parseSetting(row.at("setting").get<std::string>())].push_back(row.at("gflops").get<double>());
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
    for (Family f : c.families) {
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
    plan.models += static_cast<int>(c.families.size());
  }
  plan.cpuHours = seconds / 3600.0;

  fs::create_directories(dir / "configs");
  fs::create_directories(dir / "runs");
  for (const auto& entry : fs::directory_iterator(dir / "configs")) fs::remove(entry.path());
  Sweep sweep{plan.directory, grid, runs};
  for (const SweepRun& run : runs) writeFileAtomic(sweep.configPath(run), toJson(run.config));
  json info{{"format_version", kSweepFormatVersion},
            {"modlab_version", PROJECT_VERSION_STRING},
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
  json info;
  try {
    info = json::parse(readFile(dir / "sweep.json"));
  } catch (const json::exception& e) {
    throw ConfigError("sweep", directory + "/sweep.json is unreadable: " + e.what());
  }
  const int version = info.value("format_version", 0);
  if (version != kSweepFormatVersion)
    throw ConfigError("sweep", "sweep " + directory + " was written by Modularity Lab " + info.value("modlab_version", "?") +
                                   " in sweep format " + std::to_string(version) + "; this version reads format " +
                                   std::to_string(kSweepFormatVersion) + ": plan the sweep again");
  Sweep sweep;
  sweep.directory = fs::absolute(dir).string();
  sweep.grid = parseGrid(info.at("grid").dump());
  sweep.runs = expand(sweep.grid);
  return sweep;
}

RunState runState(const Sweep& sweep, const SweepRun& run, std::string* error) {
  const fs::path dir = sweep.runDirectory(run);
  if (!fs::exists(dir / "run.json")) return fs::exists(dir / "config.json") ? RunState::Stopped : RunState::Pending;
  const RunInfo info = RunStore::open(dir).readInfo();
  if (error) *error = info.error;
  if (info.status == "finished") return RunState::Finished;
  if (info.status == "failed") return RunState::Failed;
  return RunState::Stopped;
}

SweepProgress runSweep(const Sweep& sweep, int jobs, const std::function<void(const SweepProgress&)>& progress,
                       const std::atomic<bool>* stop) {
  std::mutex mutex;
  SweepProgress state;
  state.total = static_cast<int>(sweep.runs.size());
  std::vector<const SweepRun*> queue;
  std::map<int, std::int64_t> stepsOf;  // run index -> steps done
  for (const SweepRun& run : sweep.runs) {
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
      bool finished = false;
      try {
        // Interrupted runs continue from their last checkpoint; a run killed before its
        // first checkpoint starts again.
        const bool resumable = fs::exists(dir / "checkpoints" / "latest");
        SessionOptions options{dir.string(), resumable, !resumable};
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
      } catch (const std::exception& e) {
        failure = e.what();
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

std::string writeSlurmScript(const Sweep& sweep, const SlurmOptions& o) {
  const fs::path dir = fs::path(sweep.directory) / "slurm";
  fs::create_directories(dir / "logs");
  std::string manifest;
  for (const SweepRun& run : sweep.runs) manifest += sweep.configPath(run) + " " + sweep.runDirectory(run) + "\n";
  writeFileAtomic(dir / "runs.txt", manifest);
  const int n = static_cast<int>(sweep.runs.size());
  std::string s = "#!/bin/bash\n";
  s += "# Modularity Lab sweep '" + sweep.grid.name + "': one array task per run config (" + std::to_string(n) + " runs).\n";
  s += "# Written by 'modlab-cli sweep slurm'; submit with sbatch (or 'modlab-cli sweep slurm --submit').\n";
  s += "#SBATCH --job-name=modlab-" + sweep.grid.name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(n - 1) + (o.maxParallel > 0 ? "%" + std::to_string(o.maxParallel) : "") + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus) + "\n";
  s += "#SBATCH --mem=" + std::to_string(o.memoryGiB) + "G\n";
  s += "#SBATCH --time=" + o.time + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
  if (o.gpus > 0) s += "#SBATCH --gres=gpu:" + std::to_string(o.gpus) + "\n";
  s += "#SBATCH --output=" + (dir / "logs" / "%A_%a.out").string() + "\n";
  s += R"(set -euo pipefail
CLI="${MODLAB_CLI:-)" + o.cli + R"(}"
line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ")" + (dir / "runs.txt").string() + R"(")
config=${line%% *}
run=${line#* }
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
if [ -f "$run/run.json" ] && grep -q '"status": "finished"' "$run/run.json"; then
  echo "run $run already finished"
  exit 0
fi
if [ -f "$run/checkpoints/latest" ]; then
  exec "$CLI" train --out "$run" --resume --quiet
fi
exec "$CLI" train --config "$config" --out "$run" --force --quiet
)";
  const fs::path script = dir / "array.sh";
  writeFileAtomic(script, s);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  return script.string();
}

}  // namespace modlab
