// JSON from a user (configs, grids, --set values), parsed within limits: at most
// kMaxConfigBytes of text and kMaxJsonDepth levels of nesting, so no input can exhaust the
// stack or the memory. Private to core.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace modlab {

inline constexpr int kMaxJsonDepth = 16;

// Throws ConfigError(field) naming `what`, the line and column, and the limit broken.
nlohmann::json parseJsonInput(const std::string& text, const std::string& field, const std::string& what);

// A value as it would appear in an error message: compact JSON, cut to a readable length.
std::string shownValue(const nlohmann::json& value);

}  // namespace modlab
