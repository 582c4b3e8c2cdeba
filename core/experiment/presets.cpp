#include <string_view>
#include <utility>

#include "modlab/experiment/experiment_config.h"

namespace modlab {

const std::vector<std::pair<std::string_view, std::string_view>>& embeddedPresets();  // generated

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = [] {
    std::vector<Preset> out;
    for (const auto& [name, json] : embeddedPresets()) {
      try {
        out.push_back({std::string(name), parseConfig(std::string(json))});
      } catch (const ConfigError& e) {
        throw ConfigError("preset", "built-in preset '" + std::string(name) + "' is invalid: " + e.what());
      }
    }
    return out;
  }();
  return all;
}

const Preset& findPreset(const std::string& name) {
  std::vector<std::string> names;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    names.push_back(p.name);
  }
  throw ConfigError("preset", "unknown preset '" + name + "': did you mean '" + closestMatch(name, names) +
                                  "'? ('modlab-cli presets' lists them all)");
}

const std::string& defaultDemoPreset() {
  static const std::string name = "demo-mlp-collapse";
  return name;
}

}  // namespace modlab
