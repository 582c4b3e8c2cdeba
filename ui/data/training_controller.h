// The only object that knows the training Session. It owns it, drains its snapshot
// mailbox on a ~30 Hz timer on the GUI thread, keeps the RunData the views draw, and
// turns the user's commands into session controls. The GUI thread never waits on training.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <chrono>
#include <memory>

#include "modlab/experiment/run_follower.h"
#include "modlab/training/session.h"
#include "ui/data/run_data.h"

namespace modlab::ui {

class TrainingController : public QObject {
  Q_OBJECT
public:
  explicit TrainingController(QObject* parent = nullptr);
  ~TrainingController() override;  // stops and joins the session first

  // Starts training `config`; the run is recorded in a new folder under runsRoot().
  // Returns false with a message (naming the field) when it cannot start.
  bool start(const ExperimentConfig& config, QString* error = nullptr);
  bool openRun(const QString& directory, QString* error = nullptr);  // replay a run folder
  // Before anything was started or opened: the views show `config` (its families, R and
  // steps) with no data yet. Ignored once a run is live or replayed.
  void preview(const ExperimentConfig& config);
  bool isPreview() const { return !session_ && !data_.isReplay(); }

  void pause();
  void resume();
  void togglePause();
  void step();
  void stop();
  bool reset(QString* error = nullptr);    // the same config and seeds: an identical rerun
  bool newSeed(QString* error = nullptr);  // the same config with the next model seed
  void setLearningRate(double lr);
  // A routing coefficient (kRoutingCoefficientKeys) of the running session, from its next
  // update; false with a message naming the key when refused.
  // Of the named variant, or with "" of the experiment's routing (its Modular and Modular-op).
  bool setRoutingCoefficient(const QString& key, double value, const QString& variant = {}, QString* error = nullptr);
  void setThrottle(double stepsPerSecond);

  const RunData& data() const { return data_; }
  bool isLive() const { return static_cast<bool>(session_); }
  bool isRunning() const;  // live and not finished/stopped/failed
  SessionState state() const { return data_.status().state; }
  QString runDirectory() const { return runDirectory_; }
  // What the last openRun could not read (file and line), each a sentence; empty when whole.
  const QStringList& readWarnings() const { return readWarnings_; }
  bool readInPart() const { return readInPart_; }
  // Whether the open run folder is being written by another process and followed live.
  bool isFollowing() const { return static_cast<bool>(follower_); }
  static QString runsRoot();  // where the app keeps its runs (overridable: MODLAB_RUNS_DIR)

  void drainNow();  // process everything published so far (tests, exports)

Q_SIGNALS:
  void runReset();        // a new run started or a run folder was opened
  void dataUpdated();     // new training points and/or status (at most ~30 per second)
  void evaluationAdded(); // a new evaluation (heatmaps, metrics)
  void failed(const QString& message);

private:
  void drain();
  void stopSession();
  void follow();  // a poll of the followed run
  void stopFollowing();
  Snapshot followedStatus(const RunFollower::Update& update);

  std::unique_ptr<Session> session_;
  RunData data_;
  QTimer timer_;
  QString runDirectory_;
  QStringList readWarnings_;
  bool readInPart_ = false;
  double throttle_ = 0.0;
  std::unique_ptr<RunFollower> follower_;  // a run folder another process writes
  QTimer followTimer_;
  std::pair<std::chrono::steady_clock::time_point, std::int64_t> followed_;  // for its rate
};

}  // namespace modlab::ui
