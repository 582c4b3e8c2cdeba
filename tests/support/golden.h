// Access to the golden values of the reference implementation (tests/data/golden).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace modlab::test {

// The parsed golden file `name` (e.g. "params.json"); fails loudly when missing.
const nlohmann::json& golden(const std::string& name);

// Splits "a/b/c" into {"a", "b", "c"}.
std::vector<std::string> splitKey(const std::string& key);

// Relative closeness with an absolute floor for values near 0.
bool close(double actual, double expected, double rel, double abs = 1e-9);

std::vector<double> flatten(const nlohmann::json& nested);

}  // namespace modlab::test

#include <QString>

#include "modlab/types.h"

namespace modlab::test {
// Enums as text, for QCOMPARE (their toString returns std::string, which QTest cannot print).
template <typename E>
QString str(E value) {
  return QString::fromStdString(modlab::toString(value));
}
}  // namespace modlab::test
