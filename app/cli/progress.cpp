#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>
#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace modlab::cli {

std::string humanCount(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string humanDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long long s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string progressLine(const Snapshot& s, const std::vector<TrainPoint>& lastLosses) {
  char buf[128];
  const double pct = s.totalSteps ? 100.0 * static_cast<double>(s.step) / static_cast<double>(s.totalSteps) : 0.0;
  const double eta = s.stepsPerSecond > 0 ? static_cast<double>(s.totalSteps - s.step) / s.stepsPerSecond : NAN;
  std::snprintf(buf, sizeof buf, " (%.0f%%) | %.1f steps/s | ETA %s", pct, s.stepsPerSecond, humanDuration(eta).c_str());
  std::string line = "step " + humanCount(s.step) + "/" + humanCount(s.totalSteps) + buf;
  for (const TrainPoint& p : lastLosses) {
    std::snprintf(buf, sizeof buf, " %.4g", p.loss);
    line += " | " + p.variant + buf;
  }
  for (const FamilyStatus& f : s.families)
    if (f.state == FamilyState::Diverged) line += " | " + f.variant + " diverged";
  return line;
}

namespace {
// The model names' column: as wide as the longest name (variants have long ones).
std::string nameCell(const std::string& name, std::size_t width) {
  return name + std::string(width > name.size() ? width - name.size() : 0, ' ');
}
}  // namespace

std::string evaluationTable(const EvaluationSnapshot& e, TaskKind kind, bool sequential) {
  const std::string unit = kind == TaskKind::Classification ? "error %" : "L1";
  std::size_t width = 12;
  for (const FamilyEvaluation& f : e.families) width = std::max(width, f.variant.size());
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, " %12s %12s %9s %9s %9s %9s %9s\n", ("ID " + unit).c_str(), ("OoD " + unit).c_str(),
                "Coll-Avg", "Coll-Wst", "Align", "Adapt", "Inv-MI");
  out += nameCell("model", width) + buf;
  for (const FamilyEvaluation& f : e.families) {
    std::snprintf(buf, sizeof buf, " %12.4f %12.4f", f.id.error, f.ood.error);
    out += nameCell(f.variant, width) + buf;
    if (f.hasMetrics) {
      std::snprintf(buf, sizeof buf, " %9.3f %9.3f %9.3f %9.3f %9.3f\n", f.metrics.collapseAvg, f.metrics.collapseWorst,
                    f.metrics.alignment, f.metrics.adaptation, f.metrics.inverseMutualInformation);
      out += buf;
    } else {
      out += "         -         -         -         -         -\n";
    }
  }
  if (sequential && !e.families.empty() && !e.families[0].conditions.empty()) {
    out += "\nper evaluation length (" + unit + ", ID / OoD x2):\n";
    out += nameCell("model", width);
    for (const ConditionResult& c : e.families[0].conditions)
      if (c.scale == 1.0) {
        std::snprintf(buf, sizeof buf, " %17s", ("N=" + std::to_string(c.length)).c_str());
        out += buf;
      }
    out += "\n";
    for (const FamilyEvaluation& f : e.families) {
      out += nameCell(f.variant, width);
      for (std::size_t i = 0; i + 1 < f.conditions.size(); i += 2) {
        std::snprintf(buf, sizeof buf, " %8.3f/%-8.3f", f.conditions[i].error, f.conditions[i + 1].error);
        out += buf;
      }
      out += "\n";
    }
  }
  return out;
}

std::string fitToTerminal(const std::string& line) {
  int columns = 0;
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) columns = size.ws_col;
  else if (const char* env = std::getenv("COLUMNS")) columns = std::atoi(env);
  if (columns <= 0) columns = 80;
  // One column short of the edge (a cursor at the last column wraps on some terminals); UTF-8
  // is counted by characters, not bytes.
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const bool start = (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    if (start && ++shown > columns - 1) break;
    out += line[i];
  }
  return out;
}

}  // namespace modlab::cli
