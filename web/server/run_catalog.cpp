#include "web/server/run_catalog.h"

#include <algorithm>

#include "modlab/errors.h"
#include "modlab/experiment/run_csv.h"
#include "modlab/io/files.h"
#include "modlab/sweep/report.h"
#include "modlab/sweep/sweep.h"
#include "ui/data/run_comparison.h"

namespace modlab::web {

namespace fs = std::filesystem;
using nlohmann::json;

struct RunCatalog::FolderRun {
  fs::path dir;
  std::string name;
  std::unique_ptr<RunFollower> follower;
  RunView view;
  std::chrono::steady_clock::time_point polled{};
  std::pair<std::chrono::steady_clock::time_point, std::int64_t> rate{};  // for steps/s
  std::string damage;
  bool curves = true;  // keeps the training points (opened), or only counts them (listed)
};

namespace {

bool holdsSweep(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(dir / "sweep.json", ec));
}

bool isPlainFolder(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(path, ec));
}

// The runs of a sweep: runs/NNNNN-<name>/, in index order.
std::vector<std::pair<std::string, fs::path>> sweepRuns(const fs::path& sweepDir, const std::string& prefix) {
  std::vector<std::pair<std::string, fs::path>> out;
  std::error_code ec;
  fs::directory_iterator it(sweepDir / "runs", ec), end;
  if (ec || isLink(sweepDir / "runs")) return out;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (!isPlainFolder(it->path())) continue;
    out.emplace_back(prefix + "runs/" + it->path().filename().string(), it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

json rowJson(const ReportRow& r, const std::string& runId) {
  json metrics = nullptr;
  if (r.hasMetrics)
    metrics = {r.metrics.collapseAvg, r.metrics.collapseWorst, r.metrics.alignment, r.metrics.adaptation,
               r.metrics.inverseMutualInformation};
  return {{"run", r.run},     {"runId", runId},           {"setting", toString(r.setting)},
          {"task", toString(r.task)}, {"searchVersion", r.searchVersion}, {"family", toString(r.family)},
          {"model", r.variant}, {"routing", r.routing},   {"rules", r.rules},
          {"size", r.size},   {"dataSeed", r.dataSeed},   {"modelSeed", r.modelSeed},
          {"parameters", r.parameters}, {"steps", r.steps}, {"id", r.id},
          {"ood", r.ood},     {"metrics", metrics},       {"wallSeconds", r.wallSeconds}};
}

std::optional<ui::CompareQuantity> quantityNamed(const std::string& name) {
  using Q = ui::CompareQuantity;
  static const std::map<std::string, Q> names{
      {"train_loss", Q::TrainLoss},   {"id_loss", Q::IdLoss},         {"ood_loss", Q::OodLoss},
      {"id_error", Q::IdError},       {"ood_error", Q::OodError},     {"collapse_avg", Q::CollapseAvg},
      {"collapse_worst", Q::CollapseWorst}, {"alignment", Q::Alignment}, {"adaptation", Q::Adaptation},
      {"inverse_mi", Q::InverseMI}};
  const auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

json curveJson(const QVector<QPointF>& points) {
  json out = json::array();
  for (const QPointF& p : points) out.push_back({p.x(), p.y()});
  return out;
}

}  // namespace

std::string stateOf(const RunInfo& info, bool writing) {
  if (writing) return info.status == "paused" ? "paused" : "running";
  if (info.status == "finished" || info.status == "stopped" || info.status == "failed") return info.status;
  return info.stepsDone > 0 ? "stopped" : "created";  // interrupted: nobody writes it any more
}

RunCatalog::RunCatalog(const fs::path& root, std::size_t pointBudget) : pointBudget_(pointBudget) {
  std::error_code ec;
  root_ = fs::weakly_canonical(fs::absolute(root), ec);
  if (ec || !fs::is_directory(root_, ec))
    throw ConfigError("DIR", "DIR '" + root.string() + "' is not a folder: give a runs folder, one run folder or a sweep folder");
  title_ = root_.filename().string();
  if (RunStore::holdsRun(root_)) kind_ = "run";
  else if (holdsSweep(root_)) kind_ = "sweep";
  else kind_ = "runs";
  rescan(true);
}

RunCatalog::~RunCatalog() = default;

void RunCatalog::rescan(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - scanned_ < std::chrono::seconds(2)) return;
  scanned_ = now;
  runDirs_.clear();
  sweepDirs_.clear();
  runOrder_.clear();
  sweepOrder_.clear();
  const auto addRun = [&](const std::string& id, const fs::path& dir) {
    if (runDirs_.emplace(id, dir).second) runOrder_.push_back(id);
  };
  const auto addSweep = [&](const std::string& id, const fs::path& dir) {
    sweepDirs_.emplace(id, dir);
    sweepOrder_.push_back(id);
    for (const auto& [runId, runDir] : sweepRuns(dir, id + "/"))
      if (RunStore::holdsRun(runDir)) addRun(runId, runDir);
  };
  if (kind_ == "run") {
    addRun(title_, root_);
    return;
  }
  if (kind_ == "sweep") {
    addSweep(title_, root_);
    return;
  }
  std::vector<fs::path> children;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec))
    if (isPlainFolder(it->path())) children.push_back(it->path());
  std::sort(children.begin(), children.end());
  for (const fs::path& child : children) {
    const std::string id = child.filename().string();
    if (holdsSweep(child)) addSweep(id, child);
    else if (RunStore::holdsRun(child)) addRun(id, child);
  }
}

std::vector<std::string> RunCatalog::runIds() {
  rescan(false);
  return runOrder_;
}

std::vector<std::string> RunCatalog::sweepIds() {
  rescan(false);
  return sweepOrder_;
}

void RunCatalog::poll(FolderRun& run) {
  const auto now = std::chrono::steady_clock::now();
  if (now - run.polled < std::chrono::milliseconds(200)) return;
  run.polled = now;
  if (!run.damage.empty()) return;  // a damaged run is read again only when it is opened anew
  try {
    if (!run.follower) {
      run.follower = std::make_unique<RunFollower>(run.dir);
      run.view.reset(run.follower->config(), run.name, run.curves);
    }
    RunFollower::Update u = run.follower->poll();
    if (u.restarted) run.view.reset(run.follower->config(), run.name, run.curves);
    for (const TrainPoint& p : u.train) run.view.addTrain(p);
    for (const EvaluationSnapshot& e : u.evaluations) run.view.addEvaluation(e);
    const auto& known = run.view.routingChanges();
    for (std::size_t i = known.size(); i < u.info.routingChanges.size(); ++i) run.view.addRoutingChange(u.info.routingChanges[i]);
    RunStatus s = run.view.status();
    // run.json is written at evaluations; the training log every half second.
    const std::int64_t step = std::max(u.info.stepsDone, run.view.lastStep());
    const bool changed = step != s.step || stateOf(u.info, u.writing) != s.state;
    if (!changed && u.train.empty() && u.evaluations.empty() && u.warnings.empty()) return;
    const double seconds = std::chrono::duration<double>(now - run.rate.first).count();
    if (u.writing && run.rate.second > 0 && seconds > 2.0) s.stepsPerSecond = (step - run.rate.second) / seconds;
    if (!u.writing) s.stepsPerSecond = 0.0;
    if (seconds > 2.0 || run.rate.second == 0) run.rate = {now, step};
    s.state = stateOf(u.info, u.writing);
    s.step = step;
    s.wallSeconds = u.info.wallSeconds;
    s.error = u.info.error;
    s.device = u.info.device;
    s.updated = u.info.updated;
    s.modelStates = u.info.familyStates;
    for (std::string& w : u.warnings) s.warnings.push_back(std::move(w));
    run.view.setStatus(std::move(s));
  } catch (const std::exception& e) {
    run.damage = e.what();
    if (!run.follower) run.view.reset(ExperimentConfig{}, run.name);
    RunStatus s = run.view.status();
    s.state = "damaged";
    s.error = e.what();
    run.view.setStatus(std::move(s));
  }
}

RunView* RunCatalog::run(const std::string& id, bool curves) {
  auto it = runDirs_.find(id);
  if (it == runDirs_.end()) {
    rescan(false);
    it = runDirs_.find(id);
    if (it == runDirs_.end()) return nullptr;
  }
  if (!curves) {
    std::size_t kept = 0;
    for (const auto& [other, r] : runs_) kept += r->view.trainCount();
    curves = kept < pointBudget_;
  }
  auto& slot = runs_[id];
  // Opened for its curves after it was only listed: read again from the start, keeping them.
  if (!slot || slot->dir != it->second || (curves && !slot->curves)) {
    slot = std::make_unique<FolderRun>();
    slot->dir = it->second;
    slot->name = id;
    slot->curves = curves;
  }
  poll(*slot);
  return &slot->view;
}

std::optional<json> RunCatalog::sweep(const std::string& id) {
  rescan(false);
  const auto it = sweepDirs_.find(id);
  if (it == sweepDirs_.end()) return std::nullopt;
  const Sweep s = loadSweep(it->second.string());
  const SweepReport report = collectReport(s);
  std::map<std::string, std::string> runIdOf;
  for (const SweepRun& r : s.runs)
    runIdOf[r.name] = id + "/" + fs::path(s.runDirectory(r)).lexically_relative(it->second).generic_string();
  json rows = json::array();
  for (const ReportRow& r : report.rows) rows.push_back(rowJson(r, runIdOf[r.run]));
  json wins = json::object();
  for (const auto& [family, n] : report.ranking.wins) wins[toString(family)] = n;
  json curves = json::object();
  for (const auto& [family, points] : report.trainingCurves) curves[toString(family)] = points;
  return json{{"id", id},
              {"name", s.grid.name},
              {"runs", s.runs.size()},
              {"rows", rows},
              {"missing", report.missing},
              {"failed", report.failed},
              {"ranking", {{"wins", wins}, {"modularWins", report.ranking.modularWins},
                           {"monolithicWins", report.ranking.monolithicWins}, {"comparisons", report.ranking.comparisons},
                           {"ties", report.ranking.ties}, {"modularTies", report.ranking.modularTies}}},
              {"trainingCurves", curves},
              {"metricNames", metricNames()}};
}

std::optional<std::string> RunCatalog::sweepCsv(const std::string& id) {
  rescan(false);
  const auto it = sweepDirs_.find(id);
  if (it == sweepDirs_.end()) return std::nullopt;
  return reportCsv(collectReport(loadSweep(it->second.string())));
}

std::optional<json> RunCatalog::compare(const std::vector<std::string>& ids, const std::string& model,
                                        const std::string& quantity, double smoothing) {
  const auto q = quantityNamed(quantity);
  if (!q) return std::nullopt;
  rescan(false);
  std::vector<RunRecord> records;
  QStringList sources;
  json skipped = json::array();
  for (const std::string& id : ids) {
    const auto it = runDirs_.find(id);
    if (it == runDirs_.end()) return std::nullopt;
    try {
      records.push_back(RunStore::load(it->second));
      sources << QString::fromStdString(id);
    } catch (const std::exception& e) {
      skipped.push_back({{"run", id}, {"reason", e.what()}});
    }
  }
  json groups = json::array();
  for (const ui::ComparedGroup& g : ui::compareRuns(records, sources, model, *q, std::clamp(smoothing, 0.0, 0.999))) {
    json runs = json::array();
    for (const QString& s : g.sources) runs.push_back(s.toStdString());
    groups.push_back({{"label", g.label.toStdString()}, {"seeds", g.seeds}, {"mean", curveJson(g.mean)},
                      {"lower", curveJson(g.lower)}, {"upper", curveJson(g.upper)}, {"runs", runs}});
  }
  return json{{"groups", groups}, {"skipped", skipped}, {"model", model}, {"quantity", quantity}};
}

}  // namespace modlab::web
