// The experiment config's keys documented: type, what is allowed, one sentence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modlab {

struct ConfigKeyDoc {
  std::string key, type, allowed, description;
  std::optional<std::int64_t> lowest, highest;  // integer keys: the range validate() enforces
};

// In config.json's order, every key of configKeys().
const std::vector<ConfigKeyDoc>& configKeyDocs();

}  // namespace modlab
