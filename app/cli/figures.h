// The report's figures, rendered offscreen with the app's chart code (when the GUI library is built).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace modlab::cli {

std::function<std::vector<std::string>(const void* report, const std::string& out)> figureRenderer(int argc, char** argv);

}  // namespace modlab::cli
