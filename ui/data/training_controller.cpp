#include "ui/data/training_controller.h"

#include <QDateTime>
#include <QDir>
#include <QStandardPaths>

namespace modlab::ui {

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
  timer_.setInterval(33);
  connect(&timer_, &QTimer::timeout, this, &TrainingController::drain);
  followTimer_.setInterval(250);  // a followed run's new points within a second
  connect(&followTimer_, &QTimer::timeout, this, &TrainingController::follow);
}

TrainingController::~TrainingController() {
  blockSignals(true);  // the views may already be gone
  stopSession();
}

QString TrainingController::runsRoot() { return QString::fromStdString(defaultRunsFolder().string()); }

void TrainingController::stopSession() {
  stopFollowing();
  timer_.stop();
  if (!session_) return;
  session_->stop();
  session_->wait();  // at most one training step
  drainNow();
  session_.reset();
}

bool TrainingController::start(const ExperimentConfig& config, QString* error) {
  stopSession();
  const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz");
  const QString root = runsRoot();
  // Runs go into a folder of their own, never straight into the file system's root.
  if (QDir(root).canonicalPath() == "/" || QDir::cleanPath(root) == "/") {
    if (error)
      *error = tr("invalid runs folder %1 (MODLAB_RUNS_DIR): allowed is a folder of your own, not the file system's root")
                   .arg(root);
    return false;
  }
  const QString dir = root + "/" + QString::fromStdString(config.name) + "-" + stamp;
  if (!QDir().mkpath(root)) {
    if (error) *error = tr("cannot create the runs folder %1 (MODLAB_RUNS_DIR or the default): check that it can be written").arg(root);
    return false;
  }
  try {
    session_ = std::make_unique<Session>(config, SessionOptions{dir.toStdString()});
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  runDirectory_ = dir;
  data_.reset(config);
  data_.setSource(dir);
  if (throttle_ > 0) session_->setThrottle(throttle_);
  session_->start();
  timer_.start();
  Q_EMIT runReset();
  return true;
}

void TrainingController::preview(const ExperimentConfig& config) {
  if (!isPreview()) return;
  runDirectory_.clear();
  data_.reset(config);
  data_.setSource(QString());
  Q_EMIT runReset();
}

bool TrainingController::openRun(const QString& directory, QString* error) {
  // A run another process is writing now (the CLI, a Slurm task) is followed live; any other
  // is read whole. Both through core's one reader.
  RunRecord record;
  std::unique_ptr<RunFollower> follower;
  try {
    if (FolderLock::isHeld(directory.toStdString())) {
      follower = std::make_unique<RunFollower>(directory.toStdString());
      RunFollower::Update first = follower->poll();
      record.config = follower->config();
      record.info = first.info;
      record.train = std::move(first.train);
      record.evaluations = std::move(first.evaluations);
      record.warnings = std::move(first.warnings);
      if (!first.writing) follower.reset();  // it stopped meanwhile: what was read is all there is
    } else {
      record = RunStore::load(directory.toStdString());
    }
  } catch (const ReadError& e) {
    // A damaged record: what can be read is shown, with what could not be (never scored).
    try {
      record = RunStore::loadReadable(directory.toStdString());
      follower.reset();
    } catch (const std::exception&) {
      if (error) *error = QString::fromStdString(e.what());
      return false;
    }
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  RunData loaded;
  try {
    loaded.load(record);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  stopSession();
  runDirectory_ = directory;
  readWarnings_.clear();
  for (const std::string& w : record.warnings) readWarnings_ << QString::fromStdString(w);
  readInPart_ = record.partial;
  data_.load(record);
  data_.setSource(directory);
  data_.setFollowing(static_cast<bool>(follower));
  if (follower) {
    follower_ = std::move(follower);
    followed_ = {std::chrono::steady_clock::now(), data_.step()};
    RunFollower::Update now;
    now.info = record.info;
    now.writing = true;
    data_.append(followedStatus(now));
    followTimer_.start();
  }
  Q_EMIT runReset();
  Q_EMIT dataUpdated();
  Q_EMIT evaluationAdded();
  return true;
}

void TrainingController::stopFollowing() {
  followTimer_.stop();
  follower_.reset();
  data_.setFollowing(false);
}

Snapshot TrainingController::followedStatus(const RunFollower::Update& u) {
  const ExperimentConfig& config = data_.config();
  Snapshot s;
  s.totalSteps = config.steps;
  s.step = std::max(u.info.stepsDone, data_.step());
  for (const TrainPoint& p : u.train) s.step = std::max(s.step, p.step);
  s.wallSeconds = u.info.wallSeconds;
  s.device = u.info.device;
  s.state = u.writing ? (u.info.status == "paused" ? SessionState::Paused : SessionState::Running)
            : u.info.status == "finished" ? SessionState::Finished
            : u.info.status == "failed"   ? SessionState::Failed
                                          : SessionState::Stopped;
  if (s.state == SessionState::Failed) s.error = u.info.error;
  // The rate from the steps another process recorded between two polls.
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - followed_.first).count();
  if (s.step > followed_.second && seconds > 0.2) {
    s.stepsPerSecond = static_cast<double>(s.step - followed_.second) / seconds;
    followed_ = {now, s.step};
  } else {
    s.stepsPerSecond = data_.status().stepsPerSecond;
  }
  double learningRate = config.learningRate;
  for (const auto& [step, lr] : u.info.learningRateChanges) learningRate = lr;
  for (const Variant& v : data_.variants()) {
    FamilyStatus f{v.name, s.state == SessionState::Running ? FamilyState::Training : FamilyState::Stopped, {}, learningRate, v.routing};
    const auto it = u.info.familyStates.find(v.name);
    if (it != u.info.familyStates.end()) {
      if (it->second.rfind("diverged", 0) == 0) {
        f.state = FamilyState::Diverged;
        const auto colon = it->second.find(": ");
        f.message = colon == std::string::npos ? "" : it->second.substr(colon + 2);
      } else if (it->second.rfind("finished", 0) == 0) {  // also "finished: imported from ..."
        f.state = FamilyState::Finished;
      }
    }
    s.families.push_back(f);
  }
  s.routing = data_.routing();
  return s;
}

void TrainingController::follow() {
  if (!follower_) return;
  RunFollower::Update u;
  try {
    u = follower_->poll();
  } catch (const std::exception& e) {
    stopFollowing();
    Q_EMIT failed(tr("Stopped following %1: %2").arg(runDirectory_, QString::fromStdString(e.what())));
    return;
  }
  if (u.restarted) {  // the other process cut its logs back (a resume): read the run again
    const QString directory = runDirectory_;
    openRun(directory);
    return;
  }
  Snapshot s = followedStatus(u);
  s.train = std::move(u.train);
  s.evaluations = std::move(u.evaluations);
  s.warnings = std::move(u.warnings);
  const bool evaluated = data_.append(std::move(s));
  if (!u.writing) stopFollowing();
  Q_EMIT dataUpdated();
  if (evaluated) Q_EMIT evaluationAdded();
}

void TrainingController::pause() {
  if (session_) session_->pause();
}

void TrainingController::resume() {
  if (session_) session_->resume();
}

void TrainingController::togglePause() {
  if (!session_) return;
  if (state() == SessionState::Paused) session_->resume();
  else session_->pause();
}

void TrainingController::step() {
  if (session_) session_->step();
}

void TrainingController::stop() {
  if (session_) session_->stop();
}

bool TrainingController::reset(QString* error) { return start(data_.config(), error); }

bool TrainingController::newSeed(QString* error) {
  ExperimentConfig c = data_.config();
  c.modelSeed += 1;
  return start(c, error);
}

void TrainingController::setLearningRate(double lr) {
  if (session_) session_->setLearningRate(lr);
}

bool TrainingController::setRoutingCoefficient(const QString& key, double value, const QString& variant, QString* error) {
  if (!session_) {
    if (error) *error = tr("no training is running");
    return false;
  }
  try {
    session_->setRoutingCoefficient(key.toStdString(), value, variant.toStdString());
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  return true;
}

void TrainingController::setThrottle(double stepsPerSecond) {
  throttle_ = stepsPerSecond;
  if (session_) session_->setThrottle(stepsPerSecond);
}

bool TrainingController::isRunning() const {
  if (!session_) return false;
  const SessionState s = state();
  return s == SessionState::Idle || s == SessionState::Running || s == SessionState::Paused;
}

void TrainingController::drainNow() { drain(); }

void TrainingController::drain() {
  if (!session_) return;
  std::vector<Snapshot> snapshots = session_->drain();
  if (snapshots.empty()) return;
  bool evaluated = false;
  QString failure;
  for (Snapshot& s : snapshots) {
    if (s.state == SessionState::Failed) failure = QString::fromStdString(s.error);
    evaluated = data_.append(std::move(s)) || evaluated;
  }
  Q_EMIT dataUpdated();
  if (evaluated) Q_EMIT evaluationAdded();
  if (!failure.isEmpty()) Q_EMIT failed(failure);
  const SessionState st = state();
  if (st == SessionState::Finished || st == SessionState::Stopped || st == SessionState::Failed) timer_.stop();
}

}  // namespace modlab::ui
