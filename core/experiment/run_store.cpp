#include "modlab/experiment/run_store.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <unistd.h>

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kCsvHeader = "step,family,split,metric,value\n";

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void appendText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (!out) throw ConfigError("run folder", "cannot append to " + path.string());
  out << text;
  out.flush();
}

std::string splitName(const ConditionResult& c, bool perLength) {
  std::string s = c.scale == 1.0 ? "id" : "ood";
  return perLength ? s + "@" + std::to_string(c.length) : s;
}

void csvCondition(std::string& out, std::int64_t step, const std::string& family, const std::string& split,
                  const ConditionResult& c) {
  out += std::to_string(step) + "," + family + "," + split + ",loss," + number(c.loss) + "\n";
  out += std::to_string(step) + "," + family + "," + split + ",error," + number(c.error) + "\n";
}

const std::pair<const char*, double SpecialisationMetrics::*> kMetricFields[] = {
    {"collapse_avg", &SpecialisationMetrics::collapseAvg},
    {"collapse_worst", &SpecialisationMetrics::collapseWorst},
    {"alignment", &SpecialisationMetrics::alignment},
    {"adaptation", &SpecialisationMetrics::adaptation},
    {"inverse_mi", &SpecialisationMetrics::inverseMutualInformation},
};

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
  return out;
}

// Keeps the lines of `path` for which keep(line) holds (atomically).
template <typename Keep>
void filterLines(const fs::path& path, Keep&& keep) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line))
    if (keep(line)) kept += line + "\n";
  writeFileAtomic(path, kept);
}

json infoToJson(const RunInfo& i) {
  json lr = json::array();
  for (const auto& [step, value] : i.learningRateChanges) lr.push_back({{"step", step}, {"learning_rate", value}});
  return json{{"status", i.status},       {"version", i.version},         {"torch_version", i.torchVersion},
              {"device", i.device},       {"started", i.started},         {"updated", i.updated},
              {"wall_seconds", i.wallSeconds}, {"steps_done", i.stepsDone}, {"checkpoint_step", i.checkpointStep},
              {"error", i.error},         {"families", i.familyStates},   {"learning_rate_changes", lr}};
}

}  // namespace

void writeFileAtomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ConfigError("run folder", "cannot write " + tmp.string());
    out << content;
    out.flush();
    if (!out) throw ConfigError("run folder", "cannot write " + tmp.string() + " (disk full?)");
  }
  fs::rename(tmp, path);
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("file", "cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string utcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunStore RunStore::create(const fs::path& dir, const ExperimentConfig& config, bool overwrite) {
  if (fs::exists(dir / "config.json") || fs::exists(dir / "run.json")) {
    if (!overwrite)
      throw ConfigError("out", "run folder " + dir.string() +
                                   " already holds a run: choose another folder, --resume it, or pass --force to replace it");
    for (const char* name : {"config.json", "metrics.csv", "activations.jsonl", "run.json"}) fs::remove(dir / name);
    fs::remove_all(dir / "checkpoints");
  }
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw ConfigError("out", "cannot create run folder " + dir.string() + ": " + ec.message());
  RunStore store(dir);
  writeFileAtomic(dir / "config.json", toJson(config));
  writeFileAtomic(dir / "metrics.csv", kCsvHeader);
  writeFileAtomic(dir / "activations.jsonl", "");
  return store;
}

RunStore RunStore::open(const fs::path& dir) {
  if (!fs::exists(dir / "config.json"))
    throw ConfigError("run", "no run in " + dir.string() + " (config.json is missing)");
  return RunStore(dir);
}

void RunStore::appendTrain(const std::vector<TrainPoint>& points) {
  if (points.empty()) return;
  std::string out;
  for (const TrainPoint& p : points)
    out += std::to_string(p.step) + "," + toString(p.family) + ",train,loss," + number(p.loss) + "\n";
  appendText(dir_ / "metrics.csv", out);
}

void RunStore::appendEvaluation(const EvaluationSnapshot& e) {
  std::string csv, jsonl;
  for (const FamilyEvaluation& f : e.families) {
    const std::string name = toString(f.family);
    csvCondition(csv, e.step, name, "id", f.id);
    csvCondition(csv, e.step, name, "ood", f.ood);
    csvCondition(csv, e.step, name, "val", f.validation);
    for (const ConditionResult& c : f.conditions) csvCondition(csv, e.step, name, splitName(c, true), c);
    if (!f.hasMetrics) continue;
    for (const auto& [metric, field] : kMetricFields)
      csv += std::to_string(e.step) + "," + name + ",metrics," + metric + "," + number(f.metrics.*field) + "\n";
    json rows = json::array();
    for (int r = 0; r < f.rules; ++r)
      rows.push_back(std::vector<double>(f.moduleGivenRule.begin() + r * f.rules,
                                         f.moduleGivenRule.begin() + (r + 1) * f.rules));
    jsonl += json{{"step", e.step}, {"wall_seconds", e.wallSeconds}, {"family", name}, {"module_given_rule", rows}}.dump() + "\n";
  }
  appendText(dir_ / "metrics.csv", csv);
  if (!jsonl.empty()) appendText(dir_ / "activations.jsonl", jsonl);
}

void RunStore::writeInfo(const RunInfo& info) { writeFileAtomic(dir_ / "run.json", infoToJson(info).dump(2) + "\n"); }

RunInfo RunStore::readInfo() const {
  RunInfo i;
  if (!fs::exists(dir_ / "run.json")) return i;
  const json j = json::parse(readFile(dir_ / "run.json"));
  i.status = j.value("status", "");
  i.version = j.value("version", "");
  i.torchVersion = j.value("torch_version", "");
  i.device = j.value("device", "");
  i.started = j.value("started", "");
  i.updated = j.value("updated", "");
  i.wallSeconds = j.value("wall_seconds", 0.0);
  i.stepsDone = j.value("steps_done", std::int64_t{0});
  i.checkpointStep = j.value("checkpoint_step", std::int64_t{-1});
  i.error = j.value("error", "");
  if (j.contains("families")) i.familyStates = j["families"].get<std::map<std::string, std::string>>();
  if (j.contains("learning_rate_changes"))
    for (const auto& c : j["learning_rate_changes"])
      i.learningRateChanges.emplace_back(c["step"].get<std::int64_t>(), c["learning_rate"].get<double>());
  return i;
}

ExperimentConfig RunStore::readConfig() const {
  try {
    return parseConfig(readFile(dir_ / "config.json"));
  } catch (const ConfigError& e) {
    throw ConfigError("run", "run folder " + dir_.string() + " has an unusable config.json: " + e.what());
  }
}

void RunStore::truncateAfter(std::int64_t step) {
  bool header = true;
  filterLines(dir_ / "metrics.csv", [&](const std::string& line) {
    if (header) return !(header = false);
    const auto cells = splitCsv(line);
    return cells.size() == 5 && std::stoll(cells[0]) <= step;
  });
  filterLines(dir_ / "activations.jsonl", [&](const std::string& line) {
    try {
      return json::parse(line).at("step").get<std::int64_t>() <= step;
    } catch (const std::exception&) {
      return false;  // a line cut short by a kill
    }
  });
}

RunRecord RunStore::load(const fs::path& dir) {
  const RunStore store = open(dir);
  RunRecord record;
  record.config = store.readConfig();
  record.info = store.readInfo();
  std::map<std::int64_t, EvaluationSnapshot> evals;
  auto familyEval = [&](std::int64_t step, Family family) -> FamilyEvaluation& {
    EvaluationSnapshot& e = evals[step];
    e.step = step;
    for (FamilyEvaluation& f : e.families)
      if (f.family == family) return f;
    e.families.push_back(FamilyEvaluation{});
    e.families.back().family = family;
    return e.families.back();
  };
  std::ifstream csv(dir / "metrics.csv");
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    const auto c = splitCsv(line);
    if (c.size() != 5) continue;  // a row cut short by a kill
    std::int64_t step;
    double value;
    Family family;
    try {
      step = std::stoll(c[0]);
      family = parseFamily(c[1]);
      value = std::stod(c[4]);
    } catch (const std::exception&) {
      continue;
    }
    const std::string& split = c[2];
    const std::string& metric = c[3];
    if (split == "train") {
      record.train.push_back({step, family, value});
      continue;
    }
    FamilyEvaluation& f = familyEval(step, family);
    if (split == "metrics") {
      f.hasMetrics = true;
      for (const auto& [name, field] : kMetricFields)
        if (metric == name) f.metrics.*field = value;
      continue;
    }
    ConditionResult* target = nullptr;
    if (split == "id") target = &f.id;
    else if (split == "ood") target = &f.ood;
    else if (split == "val") target = &f.validation;
    else if (const auto at = split.find('@'); at != std::string::npos) {
      const double scale = split.substr(0, at) == "ood" ? 2.0 : 1.0;
      const int length = std::stoi(split.substr(at + 1));
      for (ConditionResult& cr : f.conditions)
        if (cr.length == length && cr.scale == scale) target = &cr;
      if (!target) {
        f.conditions.push_back({length, scale, 0.0, 0.0});
        target = &f.conditions.back();
      }
    }
    if (!target) continue;
    if (metric == "loss") target->loss = value;
    else if (metric == "error") target->error = value;
  }
  std::ifstream act(dir / "activations.jsonl");
  while (std::getline(act, line)) {
    json j;
    try {
      j = json::parse(line);
    } catch (const std::exception&) {
      continue;
    }
    FamilyEvaluation& f = familyEval(j["step"].get<std::int64_t>(), parseFamily(j["family"].get<std::string>()));
    evals[j["step"].get<std::int64_t>()].wallSeconds = j.value("wall_seconds", 0.0);
    const auto rows = j["module_given_rule"].get<std::vector<std::vector<double>>>();
    f.rules = static_cast<int>(rows.size());
    f.moduleGivenRule.clear();
    for (const auto& row : rows) f.moduleGivenRule.insert(f.moduleGivenRule.end(), row.begin(), row.end());
  }
  for (auto& [step, e] : evals) record.evaluations.push_back(std::move(e));
  return record;
}

}  // namespace modlab
