#include "modlab/experiment/experiment_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "experiment/json_input.h"
#include "modlab/io/files.h"

namespace modlab {

using nlohmann::json;

std::string lowered(std::string s);

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

// A variant as JSON: its name, family and the routing keys that differ from the paper's.
nlohmann::ordered_json toJsonValue(const Variant& v) {
  nlohmann::ordered_json j{{"name", v.name}, {"family", toString(v.family)}};
  const RoutingOptions paper;
  if (v.routing.mode != paper.mode) j["routing"] = toString(v.routing.mode);
  auto put = [&](const char* key, double value, double base) {
    if (value != base) j[key] = value;
  };
  put("routing_temperature", v.routing.temperature, paper.temperature);
  put("gumbel_temperature", v.routing.gumbelTemperature, paper.gumbelTemperature);
  put("gumbel_min_temperature", v.routing.gumbelMinTemperature, paper.gumbelMinTemperature);
  put("gumbel_anneal_rate", v.routing.gumbelAnnealRate, paper.gumbelAnnealRate);
  put("balance_loss", v.routing.balance, paper.balance);
  put("sample_entropy_loss", v.routing.sampleEntropy, paper.sampleEntropy);
  put("batch_entropy_loss", v.routing.batchEntropy, paper.batchEntropy);
  return j;
}

nlohmann::ordered_json toJsonValue(const ExperimentConfig& c) {
  nlohmann::ordered_json families = nlohmann::ordered_json::array();
  for (Family f : c.families) families.push_back(toString(f));
  nlohmann::ordered_json variants = nlohmann::ordered_json::array();
  for (const Variant& v : c.variants) variants.push_back(toJsonValue(v));
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
              {"model_dim", c.modelDim},
              {"families", families},
              {"routing", toString(c.routing.mode)},
              {"routing_temperature", c.routing.temperature},
              {"gumbel_temperature", c.routing.gumbelTemperature},
              {"gumbel_min_temperature", c.routing.gumbelMinTemperature},
              {"gumbel_anneal_rate", c.routing.gumbelAnnealRate},
              {"balance_loss", c.routing.balance},
              {"sample_entropy_loss", c.routing.sampleEntropy},
              {"batch_entropy_loss", c.routing.batchEntropy},
              {"variants", variants},
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

// Whether a JSON number is an integer that fits T (no silent wrap-around).
template <typename T>
bool fitsInteger(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    return v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
           v <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    return std::isfinite(v) && v == std::floor(v) && v >= static_cast<double>(std::numeric_limits<T>::min()) &&
           v <= static_cast<double>(std::numeric_limits<T>::max());
  }
  return false;
}

template <typename T>
T typed(const json& value, const std::string& key, const char* kind) {
  bool ok;
  if constexpr (std::is_integral_v<T>) ok = fitsInteger<T>(value);
  else if constexpr (std::is_floating_point_v<T>) ok = value.is_number() && std::isfinite(value.get<double>());
  else ok = value.is_string();
  if (!ok) throw ConfigError(key, "invalid " + key + " " + shownValue(value) + ": allowed is " + kind);
  if constexpr (std::is_integral_v<T>) {
    if (value.is_number_float()) return static_cast<T>(value.get<double>());
  }
  return value.get<T>();
}

// A routing key of the experiment or of a variant (`field` is how messages name it); false
// for another key.
bool setRoutingField(RoutingOptions& r, const std::string& key, const json& v, const std::string& field) {
  if (key == "routing") r.mode = parseRoutingMode(typed<std::string>(v, field, "\"soft\", \"top1\" or \"gumbel\""));
  else if (key == "routing_temperature") r.temperature = typed<double>(v, field, "a number");
  else if (key == "gumbel_temperature") r.gumbelTemperature = typed<double>(v, field, "a number");
  else if (key == "gumbel_min_temperature") r.gumbelMinTemperature = typed<double>(v, field, "a number");
  else if (key == "gumbel_anneal_rate") r.gumbelAnnealRate = typed<double>(v, field, "a number");
  else if (key == "balance_loss") r.balance = typed<double>(v, field, "a number");
  else if (key == "sample_entropy_loss") r.sampleEntropy = typed<double>(v, field, "a number");
  else if (key == "batch_entropy_loss") r.batchEntropy = typed<double>(v, field, "a number");
  else return false;
  return true;
}

constexpr std::size_t kMaxVariants = 12;

// "variants": a list of {"name", "family", routing keys}; a missing name is made from the rest.
std::vector<Variant> parseVariants(const json& list) {
  const std::string allowed = "a list of objects {\"name\": ..., \"family\": \"Modular\" or \"Modular-op\", routing keys}";
  if (!list.is_array()) fail("variants", shownValue(list), allowed);
  if (list.size() > kMaxVariants) fail("variants", "with " + std::to_string(list.size()) + " entries", "at most " + std::to_string(kMaxVariants));
  std::vector<Variant> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& entry = list[i];
    const std::string field = "variants[" + std::to_string(i) + "]";
    if (!entry.is_object()) fail(field, shownValue(entry), "an object {\"name\": ..., \"family\": ..., routing keys}");
    Variant v;
    bool named = false, hasFamily = false;
    for (const auto& [key, value] : entry.items()) {
      const std::string keyField = field + "." + truncatedForMessage(key);
      try {
        if (key == "name") v.name = typed<std::string>(value, keyField, "a string"), named = true;
        else if (key == "family") v.family = parseFamily(typed<std::string>(value, keyField, "\"Modular\" or \"Modular-op\"")), hasFamily = true;
        else if (!setRoutingField(v.routing, key, value, keyField))
          throw ConfigError(keyField, "unknown key '" + truncatedForMessage(key) + "' in " + field +
                                          ": allowed are name, family and the routing keys (routing, routing_temperature, "
                                          "gumbel_temperature, gumbel_min_temperature, gumbel_anneal_rate, balance_loss, "
                                          "sample_entropy_loss, batch_entropy_loss)");
      } catch (const InvalidArgument& e) {
        throw ConfigError(keyField, "invalid " + keyField + " '" + truncatedForMessage(e.value()) + "': allowed is " + e.allowed());
      }
    }
    if (!hasFamily) fail(field + ".family", "(missing)", "\"Modular\" or \"Modular-op\"");
    if (!named) v.name = defaultVariantName(v.family, v.routing);
    out.push_back(std::move(v));
  }
  return out;
}

void validateVariants(const ExperimentConfig& c) {
  std::set<std::string> stems;
  for (Family f : c.families) stems.insert(lowered(toString(f)));
  for (std::size_t i = 0; i < c.variants.size(); ++i) {
    const Variant& v = c.variants[i];
    const std::string field = "variants[" + std::to_string(i) + "]";
    if (!isVariantName(v.name)) fail(field + ".name", quoted(truncatedForMessage(v.name)), kVariantNameRule);
    if (!isRouted(v.family))
      fail(field + ".family", quoted(toString(v.family)), "\"Modular\" or \"Modular-op\" (the families with a router)");
    for (Family f : kAllFamilies)
      if (lowered(v.name) == lowered(toString(f)))
        fail(field + ".name", quoted(v.name), "a name that is not a family's (the families are named after themselves)");
    if (!stems.insert(lowered(variantFileStem(v.name))).second)
      fail(field + ".name", quoted(v.name), "a name no other variant has (spaces count as '_', case is ignored)");
    try {
      validate(v.routing);
    } catch (const InvalidArgument& e) {
      fail(field + "." + e.parameter(), e.value(), e.allowed());
    }
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
      if (!v.is_array()) fail(key, shownValue(v), "a list of integers, e.g. [3, 5, 10, 20, 30]");
      if (v.size() > 100) fail(key, shownValue(v), "at most 100 lengths");
      c.evalLengths.clear();
      for (const auto& x : v) c.evalLengths.push_back(typed<int>(x, key, "a list of integers"));
    } else if (key == "size") c.size = typed<int>(v, key, "an integer");
    else if (key == "model_dim") c.modelDim = typed<int>(v, key, "an integer (0: 4 x size)");
    else if (key == "families") {
      if (!v.is_array()) fail(key, shownValue(v), "a list of family names");
      if (v.size() > kAllFamilies.size()) fail(key, shownValue(v), "each family at most once");
      c.families.clear();
      for (const auto& x : v) c.families.push_back(parseFamily(typed<std::string>(x, key, "a list of family names")));
    } else if (setRoutingField(c.routing, key, v, key)) {
    } else if (key == "variants") c.variants = parseVariants(v);
    else if (key == "learning_rate") c.learningRate = typed<double>(v, key, "a number");
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
      throw ConfigError(truncatedForMessage(key), "unknown key '" + truncatedForMessage(key) + "'" +
                                                     (key.size() <= 64 ? ": did you mean '" + closestMatch(key, configKeys()) + "'?"
                                                                       : ": allowed are the keys 'modlab-cli train --help' names"));
  } catch (const InvalidArgument& e) {
    throw ConfigError(key, "invalid " + key + " '" + truncatedForMessage(e.value()) + "': allowed is " + e.allowed());
  }
}

}  // namespace

std::string lowered(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool isVariantName(const std::string& name) {
  if (name.empty() || name.size() > 40 || name[0] == '.' || name[0] == '-' || name[0] == ' ' || name.back() == ' ') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '.' ||
           c == '_' || c == '+' || c == '-' || c == '=' || c == '(' || c == ')';
  });
}

std::string variantFileStem(const std::string& name) {
  std::string stem = name;
  std::replace(stem.begin(), stem.end(), ' ', '_');
  return stem;
}

std::string defaultVariantName(Family family, const RoutingOptions& routing) {
  // Short words (as Fig. 8's axis: bal, Hs, Hb), so that the name passes the program's own rule
  // (isVariantName: at most 40 characters); the full settings are in the tooltips and config.
  const RoutingOptions paper;
  std::vector<std::string> parts;
  const auto shownValue = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  if (routing.balance != paper.balance) parts.push_back("bal " + shownValue(routing.balance));
  if (routing.sampleEntropy != paper.sampleEntropy) parts.push_back("Hs " + shownValue(routing.sampleEntropy));
  if (routing.batchEntropy != paper.batchEntropy) parts.push_back("Hb " + shownValue(routing.batchEntropy));
  if (routing.temperature != paper.temperature) parts.push_back("T " + shownValue(routing.temperature));
  if (routing.mode == RoutingMode::TopOne) parts.push_back("top-1");
  if (routing.mode == RoutingMode::Gumbel) parts.push_back("Gumbel " + shownValue(routing.gumbelTemperature));
  std::string name = toString(family);
  for (const std::string& part : parts) name += " + " + part;
  // Too many settings for 40 characters: the family and a checksum of them (still one name per setting).
  if (!isVariantName(name)) name = toString(family) + " variant " + crc32Hex(name);
  return name;
}

std::vector<Variant> variantsOf(const ExperimentConfig& config) {
  std::vector<Variant> out;
  for (Family f : config.families) out.push_back({toString(f), f, isRouted(f) ? config.routing : RoutingOptions{}});
  out.insert(out.end(), config.variants.begin(), config.variants.end());
  return out;
}

const Variant& findVariant(const std::vector<Variant>& variants, const std::string& name) {
  for (const Variant& v : variants)
    if (v.name == name) return v;
  std::string known;
  for (const Variant& v : variants) known += (known.empty() ? "" : ", ") + quoted(v.name);
  throw ConfigError("variants", "unknown variant " + quoted(truncatedForMessage(name)) + ": allowed is one of " + known);
}

bool isSafeName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '+' || c == '-';
  });
}

namespace {

// The value of a --set: JSON when it parses (numbers, lists), otherwise the bare text.
json overrideValue(const std::string& key, const std::string& text) {
  json value;
  try {
    value = parseJsonInput(text, key, "--set " + key);
  } catch (const ConfigError&) {
    value = text;  // a bare string such as setting=mha
  }
  if ((key == "families" || key == "eval_lengths") && value.is_string()) {
    json list = json::array();
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = text.find(',', start);
      const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (key == "families") list.push_back(item);
      else {
        const json number = json::parse(item, nullptr, false);
        if (number.is_discarded() || !number.is_number_integer())
          fail(key, quoted(truncatedForMessage(text)), "a comma-separated list of integers");
        list.push_back(number);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    value = list;
  }
  return value;
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

namespace {
// Whether `text` is well-formed UTF-8 (JSON holds nothing else; a stray byte such as \xff
// would only fail later, when the run folder is written).
bool isUtf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || (extra == 1 && c < 0xC2) || i + static_cast<std::size_t>(extra) >= text.size() + (extra == 0 ? 1 : 0))
      return false;
    std::uint32_t code = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (extra == 3 && (code < 0x10000 || code > 0x10FFFF)))
      return false;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}
}  // namespace

// Every error of a config at once (a config with three mistakes is fixed in one go): one
// ConfigError naming the first field, its message listing each.
[[noreturn]] static void throwAll(const std::vector<ConfigError>& errors) {
  if (errors.size() == 1) throw errors.front();
  std::string message = std::to_string(errors.size()) + " errors:";
  for (const ConfigError& e : errors) message += "\n- " + std::string(e.what());
  throw ConfigError(errors.front().field(), message);
}

static std::vector<ConfigError> configErrors(const ExperimentConfig& c) {
  std::vector<ConfigError> errors;
  const auto check = [&errors](const auto& test) {
    try {
      test();
    } catch (const ConfigError& e) {
      errors.push_back(e);
    }
  };
  check([&] {
    for (const auto& [field, text] : {std::pair<const char*, const std::string*>{"name", &c.name}, {"description", &c.description}})
      if (!isUtf8(*text))
        fail(field, "with bytes that are not UTF-8", "text in UTF-8 (" + std::string(field) + " is written into config.json)");
    for (const Variant& v : c.variants)
      if (!isUtf8(v.name)) fail("variants", "with a name whose bytes are not UTF-8", "names in UTF-8");
    if (!isSafeName(c.name)) fail("name", quoted(truncatedForMessage(c.name)), std::string(kSafeNameRule) + " (it names the run folder)");
  });
  check([&] {
    if (c.description.size() > 10000) fail("description", "of " + std::to_string(c.description.size()) + " characters", "at most 10000 characters");
  });
  const bool sequential = c.setting != Setting::Mlp;
  const int minLength = c.setting == Setting::Mha ? 2 : 1;
  check([&] { requireRange("rules", c.rules, 2, 128); });
  check([&] { requireRange("size", c.size, 1, 4096); });
  check([&] { requireRange("model_dim", c.modelDim, 0, 16384); });
  check([&] {
    if (c.searchVersion != 1 && c.searchVersion != 2) fail("search_version", std::to_string(c.searchVersion), "1 or 2");
  });
  check([&] {
    if (sequential) requireRange("length", c.length, minLength, 1000);
  });
  check([&] { requireRange("data_dim", c.dataDim, 1, 1024); });
  check([&] {
    if (sequential && c.evalLengths.empty()) fail("eval_lengths", "[]", "at least one length");
    for (int len : c.evalLengths) requireRange("eval_lengths", len, sequential ? minLength : 1, 1000);
  });
  check([&] {
    if (c.families.empty() && c.variants.empty())
      fail("families", "[]", "at least one of Monolithic, Modular, Modular-op, GT-Modular (or a variant)");
    if (std::set<Family>(c.families.begin(), c.families.end()).size() != c.families.size())
      fail("families", "with a repeated family", "each family at most once");
  });
  check([&] {
    try {
      validate(c.routing);
    } catch (const InvalidArgument& e) {
      fail(e.parameter(), e.value(), e.allowed());
    }
  });
  check([&] {
    if (!(c.learningRate > 0.0 && c.learningRate <= 1.0)) fail("learning_rate", std::to_string(c.learningRate), "a number in (0, 1]");
  });
  check([&] { requireRange("batch_size", c.batchSize, 1, 65536); });
  check([&] {
    if (!(c.clipNorm == -1.0 || c.clipNorm >= 0.0))
      fail("clip_norm", std::to_string(c.clipNorm), "-1 (the paper's default), 0 (off) or a positive norm");
  });
  check([&] { requireRange<std::int64_t>("steps", c.steps, 1, 100'000'000); });
  check([&] { requireRange<std::int64_t>("eval_every", c.evalEvery, 1, 100'000'000); });
  check([&] { requireRange("eval_batches", c.evalBatches, 1, 1000); });
  check([&] { requireRange<std::int64_t>("matrix_samples", c.matrixSamples, 0, 100'000'000); });
  check([&] { requireRange("adaptation_priors", c.adaptationPriors, 0, 100); });
  check([&] { requireRange<std::int64_t>("adaptation_samples", c.adaptationSamples, 0, 10'000'000); });
  check([&] { requireRange("data_seed", c.dataSeed, 0, 2147483647); });
  check([&] { requireRange("model_seed", c.modelSeed, 0, 2147483647); });
  check([&] {
    if (c.device != "auto" && c.device != "cpu" && c.device != "cuda") fail("device", quoted(c.device), "\"auto\", \"cpu\" or \"cuda\"");
  });
  check([&] { requireRange("threads", c.threads, 0, 256); });
  // What depends on several fields, once each of them is in range.
  if (errors.empty()) {
    check([&] {
      const char* wideKey = c.modelDim > 0 ? "model_dim" : "size";
      const std::string wideValue = std::to_string(c.modelDim > 0 ? c.modelDim : c.size);
      if (c.setting == Setting::Mlp && c.wideDim() / c.rules < 1)
        fail(wideKey, wideValue, c.modelDim > 0 ? "at least rules for MLP (every module needs a hidden unit)"
                                                : "at least rules/4 for MLP (every module needs a hidden unit)");
      if (c.setting == Setting::Mha && c.wideDim() / (2 * c.rules) < 1)
        fail(wideKey, wideValue, c.modelDim > 0 ? "at least 2 x rules for MHA (every head needs a dimension)"
                                                : "at least rules/2 for MHA (every head needs a dimension)");
    });
    check([&] {
      const bool routed = std::any_of(c.families.begin(), c.families.end(), isRouted);
      if (!c.routing.isPaper() && !routed)
        fail("families", "without Modular or Modular-op",
             "at least one of them when a routing intervention is set (" + describe(c.routing) + ")");
    });
    check([&] { validateVariants(c); });
  }
  return errors;
}

void validate(const ExperimentConfig& c) {
  if (const std::vector<ConfigError> errors = configErrors(c); !errors.empty()) throwAll(errors);
}

ExperimentConfig parseConfig(const std::string& text) {
  const json j = parseJsonInput(text, "json", "config");
  if (!j.is_object()) throw ConfigError("json", "a config must be a JSON object {...}, not " + std::string(j.type_name()));
  ExperimentConfig c;
  std::vector<ConfigError> errors;
  for (const auto& [key, value] : j.items()) {
    if (key == "crc32") continue;  // a run's config.json, copied: its checksum is the run's
    try {
      setField(c, key, value);
    } catch (const ConfigError& e) {
      errors.push_back(e);
    }
  }
  for (const ConfigError& e : configErrors(c)) errors.push_back(e);
  if (!errors.empty()) throwAll(errors);
  return c;
}

json parseJsonInput(const std::string& text, const std::string& field, const std::string& what) {
  if (text.size() > kMaxConfigBytes)
    throw ConfigError(field, what + " of " + std::to_string(text.size()) + " bytes: allowed is at most " +
                                 std::to_string(kMaxConfigBytes >> 10) + " KiB");
  bool tooDeep = false;
  const json::parser_callback_t limitDepth = [&tooDeep](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) && depth >= kMaxJsonDepth)
      tooDeep = true;
    return !tooDeep;
  };
  try {
    json j = json::parse(text, limitDepth);
    if (tooDeep)
      throw ConfigError(field, what + " nests deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels of lists or objects: allowed is at most " + std::to_string(kMaxJsonDepth));
    return j;
  } catch (const json::parse_error& e) {
    const auto [line, column] = lineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    // nlohmann's text names the position again ("parse error at line 2, column 12: syntax error
    // ..."): only the reason after it is kept, the position is said once.
    std::string reason = e.what();
    if (auto pos = reason.find("parse error"); pos != std::string::npos) {
      reason = reason.substr(pos);
      if (auto colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    }
    throw ConfigError(field, "malformed JSON in " + what + " at line " + std::to_string(line) + ", column " +
                                 std::to_string(column) + ": " + truncatedForMessage(reason, 200));
  } catch (const json::exception&) {
    throw ConfigError(field, what + " holds a number too large to represent (e.g. 1e400)");
  }
}

std::string shownValue(const json& value) {
  return truncatedForMessage(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string toJson(const ExperimentConfig& config) { return toJsonValue(config).dump(2) + "\n"; }

void applyOverrides(ExperimentConfig& config, const std::vector<std::string>& assignments) {
  ExperimentConfig updated = config;
  std::vector<ConfigError> errors;
  for (const std::string& assignment : assignments) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("--set", "invalid --set '" + truncatedForMessage(assignment) + "': allowed is key=value, e.g. rules=16");
    const std::string key = assignment.substr(0, eq);
    try {
      setField(updated, key, overrideValue(key, assignment.substr(eq + 1)));
    } catch (const ConfigError& e) {
      errors.push_back(e);
    }
  }
  // Validated once, after all of them: the order of --set does not matter.
  for (const ConfigError& e : configErrors(updated)) errors.push_back(e);
  if (!errors.empty()) throwAll(errors);
  config = updated;
}

void applyOverride(ExperimentConfig& config, const std::string& assignment) { applyOverrides(config, {assignment}); }

}  // namespace modlab
