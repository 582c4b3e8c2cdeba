// The report's figures, rendered offscreen with the app's chart code (when the GUI library is built).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace modlab::cli {

// What rendering the figures wrote (whole files) and could not write ("FILE: reason").
struct RenderedFigures {
  std::vector<std::string> files, failures;
};
// PNG at `scale` times the figure's pixels (1, 2 or 4, as the app's exports), and SVG.
using FigureRenderer = std::function<RenderedFigures(const void* report, const std::string& out, double scale)>;
FigureRenderer figureRenderer(int argc, char** argv);

}  // namespace modlab::cli
