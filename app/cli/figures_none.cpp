#include "figures.h"

namespace modlab::cli {

FigureRenderer figureRenderer(int, char**) { return {}; }

}  // namespace modlab::cli
