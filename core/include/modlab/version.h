// The version of this build: the project version and, when built from a git checkout, the
// revision, e.g. "0.1.0 (git 1a2b3c4d5)". No torch, no Qt.
#pragma once

namespace modlab {
const char* versionString();
}  // namespace modlab
