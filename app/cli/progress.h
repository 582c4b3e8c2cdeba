// Text rendering of a training session for the terminal.
#pragma once

#include <string>

#include "modlab/training/snapshot.h"

namespace modlab::cli {

std::string humanCount(long long n);           // 12,400
std::string humanDuration(double seconds);     // 1:02:03 or 4:05
// "step 1,200/3,000 (40%) | 412 steps/s | ETA 0:04 | Monolithic 0.123 ..."
std::string progressLine(const Snapshot& latest, const std::vector<TrainPoint>& lastLosses);
// `line` cut to the terminal's width (stderr's; $COLUMNS, else 80): a progress line that wraps
// leaves a stale line at every update ("\r" returns only to the start of the last row).
std::string fitToTerminal(const std::string& line);
// A table of an evaluation: performance and the five metrics per family.
std::string evaluationTable(const EvaluationSnapshot& e, TaskKind kind, bool sequential);

}  // namespace modlab::cli
