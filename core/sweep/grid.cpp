// Sweep grids: parsing (validated, bounded), the paper's grids, and expansion into runs.
// No torch: the grid parser is fuzzed on its own.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "experiment/json_input.h"
#include "modlab/io/files.h"
#include "modlab/sweep/sweep.h"

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxAxisValues = 1000;
constexpr std::size_t kMaxRuns = 100000;  // the paper's grid is 5,000

const std::vector<std::string> kGridKeys{"name",        "settings",    "tasks",           "rules",    "sizes",
                                         "data_seeds",  "model_seeds", "search_versions", "families", "routing",
                                         "base"};

// One entry of the routing axis: an object of routing keys ({} is the paper's routing).
RoutingOptions routingEntry(const json& item) {
  if (!item.is_object())
    throw ConfigError("routing", "invalid routing entry " + shownValue(item) +
                                     ": allowed is an object of routing keys, e.g. {\"balance_loss\": 0.01}");
  json full = json::object();
  for (const auto& [key, value] : item.items()) {
    if (std::find(std::begin(kRoutingKeys), std::end(kRoutingKeys), key) == std::end(kRoutingKeys)) {
      std::string allowed;
      for (std::string_view k : kRoutingKeys) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
      throw ConfigError("routing", "unknown key '" + truncatedForMessage(key) + "' in a routing entry: allowed is " + allowed);
    }
    full[key] = value;
  }
  full["families"] = json::array({"Modular"});
  return parseConfig(full.dump()).routing;
}

json routingJson(const RoutingOptions& o) {
  const json all = json::parse(modlab::toJson([&] {
    ExperimentConfig c;
    c.routing = o;
    return c;
  }()));
  const json defaults = json::parse(modlab::toJson(ExperimentConfig{}));
  json entry = json::object();
  for (std::string_view k : kRoutingKeys)
    if (const std::string key(k); all.at(key) != defaults.at(key)) entry[key] = all.at(key);
  return entry;
}

// A run-name suffix for a routing entry: "" for the paper's, else e.g. "-bal0.01-top1".
std::string routingSuffix(const RoutingOptions& o) {
  auto number = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  const RoutingOptions paper;
  std::string s;
  if (o.balance != paper.balance) s += "-bal" + number(o.balance);
  if (o.sampleEntropy != paper.sampleEntropy) s += "-sent" + number(o.sampleEntropy);
  if (o.batchEntropy != paper.batchEntropy) s += "-bent" + number(o.batchEntropy);
  if (o.temperature != paper.temperature) s += "-T" + number(o.temperature);
  if (o.mode != paper.mode) s += "-" + toString(o.mode);
  if (o.mode == RoutingMode::Gumbel)
    s += "-tau" + number(o.gumbelTemperature) + "-" + number(o.gumbelMinTemperature) + "-r" + number(o.gumbelAnnealRate);
  return s;
}

template <typename T, typename Parse>
std::vector<T> axis(const json& j, const std::string& key, Parse parse) {
  if (!j.is_array()) throw ConfigError(key, "invalid " + key + " " + shownValue(j) + ": allowed is a list of values");
  if (j.empty()) throw ConfigError(key, "empty axis '" + key + "': give at least one value");
  if (j.size() > kMaxAxisValues)
    throw ConfigError(key, "axis '" + key + "' has " + std::to_string(j.size()) + " values: allowed is at most " +
                               std::to_string(kMaxAxisValues));
  std::vector<T> out;
  for (const json& v : j) {
    try {
      out.push_back(parse(v));
    } catch (const InvalidArgument& e) {
      throw ConfigError(key, "invalid " + key + " value '" + truncatedForMessage(e.value()) + "': allowed is " + e.allowed());
    } catch (const json::exception&) {
      throw ConfigError(key, "invalid " + key + " value " + shownValue(v));
    }
  }
  return out;
}

int integer(const json& v) {
  const bool fits = (v.is_number_unsigned() && v.get<std::uint64_t>() <= std::numeric_limits<int>::max()) ||
                    (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() >= std::numeric_limits<int>::min() &&
                     v.get<std::int64_t>() <= std::numeric_limits<int>::max());
  if (!fits) throw InvalidArgument("value", shownValue(v), "an integer from -2147483648 to 2147483647");
  return static_cast<int>(v.get<std::int64_t>());
}

std::string stringValue(const json& v, const std::string& key) {
  if (!v.is_string()) throw ConfigError(key, "invalid " + key + " " + shownValue(v) + ": allowed is a string");
  return v.get<std::string>();
}

std::string runName(const ExperimentConfig& c) {
  std::string name = toString(c.setting);
  if (c.setting == Setting::Mha) name += "-sv" + std::to_string(c.searchVersion);
  return name + "-" + toString(c.task) + "-R" + std::to_string(c.rules) + "-E" + std::to_string(c.size) + "-ds" +
         std::to_string(c.dataSeed) + "-ms" + std::to_string(c.modelSeed);
}

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

SweepGrid parseGrid(const std::string& text) {
  const json j = parseJsonInput(text, "grid", "grid");
  if (!j.is_object()) throw ConfigError("grid", "a grid must be a JSON object {...}, not " + std::string(j.type_name()));
  SweepGrid g;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      g.name = stringValue(value, key);
      if (!isSafeName(g.name))
        throw ConfigError("name", "invalid grid name '" + truncatedForMessage(g.name) + "': allowed is " + kSafeNameRule);
    }
    else if (key == "settings") g.settings = axis<Setting>(value, key, [](const json& v) { return parseSetting(v.get<std::string>()); });
    else if (key == "tasks") g.tasks = axis<TaskKind>(value, key, [](const json& v) { return parseTaskKind(v.get<std::string>()); });
    else if (key == "rules") g.rules = axis<int>(value, key, integer);
    else if (key == "sizes") g.sizes = axis<int>(value, key, integer);
    else if (key == "data_seeds") g.dataSeeds = axis<int>(value, key, integer);
    else if (key == "model_seeds") g.modelSeeds = axis<int>(value, key, integer);
    else if (key == "search_versions") g.searchVersions = axis<int>(value, key, integer);
    else if (key == "families") g.families = axis<Family>(value, key, [](const json& v) { return parseFamily(v.get<std::string>()); });
    else if (key == "routing") g.routings = axis<RoutingOptions>(value, key, routingEntry);
    else if (key == "base") {
      if (!value.is_object()) throw ConfigError("base", "invalid base " + shownValue(value) + ": allowed is an object mapping a setting (mlp, mha, rnn) to config keys");
      for (const auto& [setting, config] : value.items()) {
        Setting s;
        try {
          s = parseSetting(setting);
        } catch (const InvalidArgument&) {
          throw ConfigError("base", "unknown setting '" + truncatedForMessage(setting) + "' in base: allowed is mlp, mha, rnn");
        }
        if (!config.is_object())
          throw ConfigError("base", "invalid base." + truncatedForMessage(setting) + " " + shownValue(config) +
                                        ": allowed is an object of config keys, e.g. {\"steps\": 3000}");
        json full = config;
        full["setting"] = setting;
        try {
          g.base[s] = parseConfig(full.dump());
        } catch (const ConfigError& e) {
          throw ConfigError(e.field(), "base." + setting + ": " + e.what());
        }
      }
    } else {
      throw ConfigError(truncatedForMessage(key), "unknown grid key '" + truncatedForMessage(key) + "'" +
                                                     (key.size() <= 64 ? ": did you mean '" + closestMatch(key, kGridKeys) + "'?" : ""));
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
  j["routing"] = json::array();
  for (const RoutingOptions& r : g.routings) j["routing"].push_back(routingJson(r));
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

SweepGrid routingGrid() {
  SweepGrid g;
  g.name = "routing";
  g.settings = {Setting::Mlp};
  g.tasks = {TaskKind::Classification};
  g.rules = {16};
  g.sizes = {32};
  g.modelSeeds = {0, 1, 2};
  g.families = {Family::Modular, Family::ModularOp};
  g.routings.assign(4, RoutingOptions{});
  g.routings[1].balance = 0.01;
  g.routings[2].balance = 0.1;
  g.routings[3].sampleEntropy = 0.01;
  g.routings[3].batchEntropy = 0.1;
  g.base[Setting::Mlp] = baseConfig(Setting::Mlp, {{"threads", "1"}}, 3000, 300, 1e-3);
  return g;
}

SweepGrid namedGrid(const std::string& nameOrFile) {
  if (nameOrFile == "paper") return paperGrid();
  if (nameOrFile == "paper-lite") return paperLiteGrid();
  if (nameOrFile == "routing") return routingGrid();
  if (nameOrFile.empty() || !fs::exists(nameOrFile))
    throw ConfigError("--grid", "unknown grid '" + truncatedForMessage(nameOrFile) +
                                    "': allowed is paper, paper-lite, routing or a grid file (JSON)");
  std::string text;
  try {
    text = readUserFile(nameOrFile);
  } catch (const ReadError& e) {
    throw ConfigError("--grid", e.what());
  }
  try {
    return parseGrid(text);
  } catch (const ConfigError& e) {
    throw ConfigError(e.field(), nameOrFile + ": " + e.what());
  }
}

std::vector<SweepRun> expand(const SweepGrid& g) {
  // Counted with a cap: the product of the axes can pass 2^64 (512 values on 7 axes), which
  // once wrapped to 0 and passed the check.
  const auto tooMany = [&g](const std::string& count) {
    return ConfigError("grid", "grid " + g.name + " expands to " + count + " runs: allowed is at most " + std::to_string(kMaxRuns) +
                                   " (the paper's grid is 5,000)");
  };
  const auto times = [&](std::size_t a, std::size_t b) {
    if (a != 0 && b > kMaxRuns / a + 1) throw tooMany("more than " + std::to_string(kMaxRuns));
    return a * b;
  };
  std::size_t count = 0;
  for (Setting s : g.settings) {
    count += times(times(times(g.tasks.size(), s == Setting::Mha ? g.searchVersions.size() : 1), g.rules.size()), g.sizes.size());
    if (count > kMaxRuns) throw tooMany("more than " + std::to_string(kMaxRuns));
  }
  count = times(times(times(count, g.dataSeeds.size()), g.modelSeeds.size()), g.routings.size());
  if (count > kMaxRuns) throw tooMany(std::to_string(count));
  std::vector<SweepRun> runs;
  for (Setting s : g.settings)
    for (TaskKind t : g.tasks)
      for (int sv : s == Setting::Mha ? g.searchVersions : std::vector<int>{1})
        for (int r : g.rules)
          for (int size : g.sizes)
            for (int ds : g.dataSeeds)
              for (int ms : g.modelSeeds)
                for (const RoutingOptions& routing : g.routings) {
                ExperimentConfig c = g.base.count(s) ? g.base.at(s) : ExperimentConfig{};
                c.routing = routing;
                c.setting = s;
                c.task = t;
                c.searchVersion = sv;
                c.rules = r;
                c.size = size;
                c.dataSeed = ds;
                c.modelSeed = ms;
                c.families = g.families;
                c.name = runName(c) + routingSuffix(routing);
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

}  // namespace modlab
