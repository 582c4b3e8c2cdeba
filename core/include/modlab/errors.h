// The errors core throws at its boundary, each with a message a user can act on. The lowest
// floor: includes nothing of Modularity Lab, so io/ and platform/ can throw them too.
#pragma once

#include <stdexcept>
#include <string>

namespace modlab {

// A config (or an option) that cannot be used; the message names the field, the value and
// what is allowed (or, for malformed JSON, the line and column).
class ConfigError : public std::runtime_error {
public:
  ConfigError(std::string field, const std::string& message) : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

private:
  std::string field_;
};

// A write that did not complete; the message names the file and the OS error.
class WriteError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A file that is missing, too large, damaged or a link; the message names the file and the reason.
class ReadError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace modlab
