#include "modlab/experiment/experiment_config.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace modlab {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& value, const std::string& allowed) {
  throw ConfigError(field, "invalid " + field + " " + value + ": allowed is " + allowed);
}

template <typename T>
void requireRange(const std::string& field, T value, T lo, T hi) {
  if (value < lo || value > hi) {
    std::ostringstream v, a;
    v << value;
    a << "from " << lo << " to " << hi;
    fail(field, v.str(), a.str());
  }
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// (line, column) of a byte offset in text, both 1-based.
std::pair<int, int> lineColumn(const std::string& text, std::size_t offset) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return {line, column};
}

nlohmann::ordered_json toJsonValue(const ExperimentConfig& c) {
  nlohmann::ordered_json families = nlohmann::ordered_json::array();
  for (Family f : c.families) families.push_back(toString(f));
  return nlohmann::ordered_json{{"name", c.name},
              {"description", c.description},
              {"setting", toString(c.setting)},
              {"task", toString(c.task)},
              {"rules", c.rules},
              {"search_version", c.searchVersion},
              {"length", c.length},
              {"data_dim", c.dataDim},
              {"eval_lengths", c.evalLengths},
              {"size", c.size},
              {"families", families},
              {"learning_rate", c.learningRate},
              {"batch_size", c.batchSize},
              {"clip_norm", c.clipNorm},
              {"steps", c.steps},
              {"eval_every", c.evalEvery},
              {"eval_batches", c.evalBatches},
              {"matrix_samples", c.matrixSamples},
              {"adaptation_priors", c.adaptationPriors},
              {"adaptation_samples", c.adaptationSamples},
              {"data_seed", c.dataSeed},
              {"model_seed", c.modelSeed},
              {"device", c.device},
              {"threads", c.threads}};
}

template <typename T>
T typed(const json& value, const std::string& key, const char* kind) {
  try {
    if constexpr (std::is_integral_v<T>) {
      if (!value.is_number_integer() && !(value.is_number_float() && value.get<double>() == std::floor(value.get<double>())))
        throw std::invalid_argument("");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!value.is_number()) throw std::invalid_argument("");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!value.is_string()) throw std::invalid_argument("");
    }
    return value.get<T>();
  } catch (const std::exception&) {
    throw ConfigError(key, "invalid " + key + " " + value.dump() + ": allowed is " + kind);
  }
}

void setField(ExperimentConfig& c, const std::string& key, const json& v) {
  try {
    if (key == "name") c.name = typed<std::string>(v, key, "a string");
    else if (key == "description") c.description = typed<std::string>(v, key, "a string");
    else if (key == "setting") c.setting = parseSetting(typed<std::string>(v, key, "one of \"mlp\", \"mha\", \"rnn\""));
    else if (key == "task") c.task = parseTaskKind(typed<std::string>(v, key, "\"classification\" or \"regression\""));
    else if (key == "rules") c.rules = typed<int>(v, key, "an integer");
    else if (key == "search_version") c.searchVersion = typed<int>(v, key, "1 or 2");
    else if (key == "length") c.length = typed<int>(v, key, "an integer");
    else if (key == "data_dim") c.dataDim = typed<int>(v, key, "an integer");
    else if (key == "eval_lengths") {
      if (!v.is_array()) fail(key, v.dump(), "a list of integers, e.g. [3, 5, 10, 20, 30]");
      c.evalLengths.clear();
      for (const auto& x : v) c.evalLengths.push_back(typed<int>(x, key, "a list of integers"));
    } else if (key == "size") c.size = typed<int>(v, key, "an integer");
    else if (key == "families") {
      if (!v.is_array()) fail(key, v.dump(), "a list of family names");
      c.families.clear();
      for (const auto& x : v) c.families.push_back(parseFamily(typed<std::string>(x, key, "a list of family names")));
    } else if (key == "learning_rate") c.learningRate = typed<double>(v, key, "a number");
    else if (key == "batch_size") c.batchSize = typed<int>(v, key, "an integer");
    else if (key == "clip_norm") c.clipNorm = typed<double>(v, key, "a number (-1 for the paper's default)");
    else if (key == "steps") c.steps = typed<std::int64_t>(v, key, "an integer");
    else if (key == "eval_every") c.evalEvery = typed<std::int64_t>(v, key, "an integer");
    else if (key == "eval_batches") c.evalBatches = typed<int>(v, key, "an integer");
    else if (key == "matrix_samples") c.matrixSamples = typed<std::int64_t>(v, key, "an integer");
    else if (key == "adaptation_priors") c.adaptationPriors = typed<int>(v, key, "an integer");
    else if (key == "adaptation_samples") c.adaptationSamples = typed<std::int64_t>(v, key, "an integer");
    else if (key == "data_seed") c.dataSeed = typed<int>(v, key, "an integer");
    else if (key == "model_seed") c.modelSeed = typed<int>(v, key, "an integer");
    else if (key == "device") c.device = typed<std::string>(v, key, "\"auto\", \"cpu\" or \"cuda\"");
    else if (key == "threads") c.threads = typed<int>(v, key, "an integer");
    else
      throw ConfigError(key, "unknown key '" + key + "': did you mean '" + closestMatch(key, configKeys()) + "'?");
  } catch (const InvalidArgument& e) {
    throw ConfigError(key, "invalid " + key + " '" + e.value() + "': allowed is " + e.allowed());
  }
}

}  // namespace

const std::vector<std::string>& configKeys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    const auto defaults = toJsonValue(ExperimentConfig{});
    for (const auto& [key, value] : defaults.items()) k.push_back(key);
    return k;
  }();
  return keys;
}

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t bestDistance = std::string::npos;
  for (const auto& c : candidates)
    if (const auto d = distance(word, c); d < bestDistance) bestDistance = d, best = c;
  return best;
}

void validate(const ExperimentConfig& c) {
  if (c.name.empty()) fail("name", "''", "a non-empty string");
  requireRange("rules", c.rules, 2, 128);
  requireRange("size", c.size, 1, 4096);
  const bool sequential = c.setting != Setting::Mlp;
  if (c.setting == Setting::Mlp && 4 * c.size / c.rules < 1)
    fail("size", std::to_string(c.size), "at least rules/4 for MLP (every module needs a hidden unit)");
  if (c.setting == Setting::Mha && 4 * c.size / (2 * c.rules) < 1)
    fail("size", std::to_string(c.size), "at least rules/2 for MHA (every head needs a dimension)");
  if (c.searchVersion != 1 && c.searchVersion != 2) fail("search_version", std::to_string(c.searchVersion), "1 or 2");
  const int minLength = c.setting == Setting::Mha ? 2 : 1;
  if (sequential) requireRange("length", c.length, minLength, 1000);
  requireRange("data_dim", c.dataDim, 1, 1024);
  if (sequential && c.evalLengths.empty()) fail("eval_lengths", "[]", "at least one length");
  for (int len : c.evalLengths) requireRange("eval_lengths", len, sequential ? minLength : 1, 1000);
  if (c.families.empty()) fail("families", "[]", "at least one of Monolithic, Modular, Modular-op, GT-Modular");
  if (std::set<Family>(c.families.begin(), c.families.end()).size() != c.families.size())
    fail("families", "with a repeated family", "each family at most once");
  if (!(c.learningRate > 0.0 && c.learningRate <= 1.0))
    fail("learning_rate", std::to_string(c.learningRate), "a number in (0, 1]");
  requireRange("batch_size", c.batchSize, 1, 65536);
  if (!(c.clipNorm == -1.0 || c.clipNorm >= 0.0))
    fail("clip_norm", std::to_string(c.clipNorm), "-1 (the paper's default), 0 (off) or a positive norm");
  requireRange<std::int64_t>("steps", c.steps, 1, 100'000'000);
  requireRange<std::int64_t>("eval_every", c.evalEvery, 1, 100'000'000);
  requireRange("eval_batches", c.evalBatches, 1, 1000);
  requireRange<std::int64_t>("matrix_samples", c.matrixSamples, 0, 100'000'000);
  requireRange("adaptation_priors", c.adaptationPriors, 0, 100);
  requireRange<std::int64_t>("adaptation_samples", c.adaptationSamples, 0, 10'000'000);
  requireRange("data_seed", c.dataSeed, 0, 2147483647);
  requireRange("model_seed", c.modelSeed, 0, 2147483647);
  if (c.device != "auto" && c.device != "cpu" && c.device != "cuda")
    fail("device", quoted(c.device), "\"auto\", \"cpu\" or \"cuda\"");
  requireRange("threads", c.threads, 0, 256);
}

ExperimentConfig parseConfig(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    const auto [line, column] = lineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    if (auto pos = what.find("parse error"); pos != std::string::npos) what = what.substr(pos);
    throw ConfigError("json", "malformed JSON at line " + std::to_string(line) + ", column " +
                                  std::to_string(column) + ": " + what);
  }
  if (!j.is_object()) throw ConfigError("json", "a config must be a JSON object {...}, not " + std::string(j.type_name()));
  ExperimentConfig c;
  for (const auto& [key, value] : j.items()) setField(c, key, value);
  validate(c);
  return c;
}

std::string toJson(const ExperimentConfig& config) { return toJsonValue(config).dump(2) + "\n"; }

void applyOverride(ExperimentConfig& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set", "invalid --set '" + assignment + "': allowed is key=value, e.g. rules=16");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // a bare string such as setting=mha
  }
  if ((key == "families" || key == "eval_lengths") && value.is_string()) {
    json list = json::array();
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) {
      if (key == "families") list.push_back(item);
      else {
        try {
          list.push_back(std::stoi(item));
        } catch (const std::exception&) {
          fail(key, quoted(text), "a comma-separated list of integers");
        }
      }
    }
    value = list;
  }
  ExperimentConfig updated = config;
  setField(updated, key, value);
  validate(updated);
  config = updated;
}

}  // namespace modlab
