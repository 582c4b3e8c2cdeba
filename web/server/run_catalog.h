// The runs and sweeps under a folder given to `modlab-cli serve`: the folder itself when it
// holds a run or a sweep, else the runs and sweeps directly inside it. Nothing outside the
// folder is reachable: ids are looked up in what a scan found (never resolved as paths),
// scans never follow a link, and the run folders are read through core's readers (which
// refuse links). Each run is followed incrementally (RunFollower); never written.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include "modlab/experiment/run_follower.h"
#include "web/server/view_source.h"

namespace modlab::web {

class RunCatalog : public ViewSource {
public:
  // Throws ConfigError when `root` is not a folder. Runs only listed keep their training points
  // while all the runs kept hold fewer than `pointBudget` (about 40 bytes each); beyond, a listed
  // run keeps its evaluations and counts its points, and is read again in full when opened.
  explicit RunCatalog(const std::filesystem::path& root, std::size_t pointBudget = 10'000'000);
  ~RunCatalog() override;

  std::string kind() const override { return kind_; }
  std::string title() const override { return title_; }
  std::vector<std::string> runIds() override;
  std::vector<std::string> sweepIds() override;
  RunView* run(const std::string& id, bool curves = true) override;
  std::optional<nlohmann::json> sweep(const std::string& id) override;
  std::optional<std::string> sweepCsv(const std::string& id) override;
  std::optional<nlohmann::json> compare(const std::vector<std::string>& ids, const std::string& model,
                                        const std::string& quantity, double smoothing) override;
  const std::filesystem::path& root() const { return root_; }

private:
  struct FolderRun;
  void rescan(bool force);
  void poll(FolderRun& run);

  std::filesystem::path root_;
  std::string kind_, title_;
  std::map<std::string, std::filesystem::path> runDirs_, sweepDirs_;
  std::vector<std::string> runOrder_, sweepOrder_;
  std::map<std::string, std::unique_ptr<FolderRun>> runs_;
  std::chrono::steady_clock::time_point scanned_{};
  std::size_t pointBudget_;
};

// A run's state word for the browser view from what its folder says: running or paused while
// a live writer holds it, else its recorded end (an unfinished run nobody writes: stopped).
std::string stateOf(const RunInfo& info, bool writing);

}  // namespace modlab::web
