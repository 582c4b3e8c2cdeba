// What a web server shows: the runs (and sweeps) it can serve, each as a RunView brought up
// to date when asked. A folder on disk (RunCatalog) or the app's session (LiveShare).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "web/server/run_view.h"

namespace modlab::web {

class ViewSource {
public:
  virtual ~ViewSource() = default;
  // "runs" (a folder of runs and sweeps), "run" (one run) or "sweep" (one sweep folder).
  virtual std::string kind() const = 0;
  virtual std::string title() const = 0;
  virtual std::vector<std::string> runIds() = 0;    // every run, in order
  virtual std::vector<std::string> sweepIds() = 0;  // every sweep, in order
  // The run with that id brought up to date (read only what was appended); nullptr for an unknown id.
  // With `curves` false (the runs page) a run nobody has opened keeps no training points: a
  // sweep of thousands of runs is listed without holding all their curves.
  virtual RunView* run(const std::string& id, bool curves = true) = 0;
  // A sweep's report (its runs table, ranking and curves); nullopt for an unknown id.
  virtual std::optional<nlohmann::json> sweep(const std::string& id) = 0;
  virtual std::optional<std::string> sweepCsv(const std::string& id) = 0;
  // The app's Compare window's groups (runs that differ only by seeds, mean and band).
  virtual std::optional<nlohmann::json> compare(const std::vector<std::string>& ids, const std::string& model,
                                                const std::string& quantity, double smoothing) = 0;
};

}  // namespace modlab::web
