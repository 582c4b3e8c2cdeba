#include "support/golden.h"

#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

namespace modlab::test {

const nlohmann::json& golden(const std::string& name) {
  static std::map<std::string, nlohmann::json> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string path = std::string(MODLAB_GOLDEN_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("golden file missing: " + path);
  return cache[name] = nlohmann::json::parse(in);
}

std::vector<std::string> splitKey(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t pos; (pos = key.find('/', start)) != std::string::npos; start = pos + 1)
    parts.push_back(key.substr(start, pos - start));
  parts.push_back(key.substr(start));
  return parts;
}

bool close(double actual, double expected, double rel, double abs) {
  return std::abs(actual - expected) <= std::max(abs, rel * std::abs(expected));
}

std::vector<double> flatten(const nlohmann::json& nested) {
  std::vector<double> out;
  if (nested.is_array()) {
    for (const auto& item : nested) {
      const auto part = flatten(item);
      out.insert(out.end(), part.begin(), part.end());
    }
  } else {
    out.push_back(nested.get<double>());
  }
  return out;
}

}  // namespace modlab::test
