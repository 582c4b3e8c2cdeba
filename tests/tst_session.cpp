// Session: control from another thread, determinism, divergence, run folders and resume.
// Uses the engine API only (no torch in this test).
#include <QtTest>

#include <filesystem>
#include <thread>

#include "modlab/experiment/run_store.h"
#include "modlab/training/session.h"

#include "support/tiny_config.h"

#include "support/golden.h"

using namespace modlab;
using modlab::test::str;
namespace fs = std::filesystem;

namespace {
using test::tinyConfig;

struct Collected {
  std::vector<TrainPoint> train;
  std::vector<EvaluationSnapshot> evaluations;
  Snapshot last;
};

// Drains until the session's thread ends.
Collected runToEnd(Session& s) {
  Collected out;
  s.wait();
  for (Snapshot& snap : s.drain()) {
    out.train.insert(out.train.end(), snap.train.begin(), snap.train.end());
    out.evaluations.insert(out.evaluations.end(), snap.evaluations.begin(), snap.evaluations.end());
    out.last = std::move(snap);
  }
  return out;
}

// Polls the mailbox until pred(latest snapshot) holds or the timeout passes.
template <typename Pred>
bool waitFor(Session& s, Snapshot& latest, Pred pred, int timeoutMs = 20000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    for (Snapshot& snap : s.drain()) latest = std::move(snap);
    if (pred(latest)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::string read(const fs::path& p) { return readFile(p); }
}  // namespace

class TstSession : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void controlFromAnotherThread();
  void sameSeedsGiveIdenticalCurves();
  void divergedFamilyIsMarkedOthersGoOn();
  void runFolderIsCompleteAndReloads();
  void existingRunIsNotOverwritten();
  void stoppedRunResumesExactly();
  void learningRateChangeIsRecorded();
  void badConfigFailsCleanly();
};

void TstSession::controlFromAnotherThread() {
  ExperimentConfig c = tinyConfig();
  c.steps = 1'000'000;
  c.evalEvery = 1'000'000;
  Session s(c);
  s.start();
  Snapshot latest;
  QVERIFY(waitFor(s, latest, [](const Snapshot& x) { return x.step > 5; }));
  std::thread([&] { s.pause(); }).join();  // controls come from any thread
  QVERIFY(waitFor(s, latest, [](const Snapshot& x) { return x.state == SessionState::Paused; }));
  const std::int64_t paused = latest.step;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (Snapshot& snap : s.drain()) latest = std::move(snap);
  QCOMPARE(latest.step, paused);  // nothing moves while paused
  std::thread([&] { s.step(); }).join();
  QVERIFY(waitFor(s, latest, [&](const Snapshot& x) { return x.step == paused + 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (Snapshot& snap : s.drain()) latest = std::move(snap);
  QCOMPARE(latest.step, paused + 1);  // exactly one step
  s.resume();
  QVERIFY(waitFor(s, latest, [&](const Snapshot& x) { return x.step > paused + 10; }));
  const auto stopAsked = std::chrono::steady_clock::now();
  std::thread([&] { s.stop(); }).join();
  s.wait();
  QVERIFY(std::chrono::steady_clock::now() - stopAsked < std::chrono::seconds(2));
  QCOMPARE(str(s.state()), str(SessionState::Stopped));
}

void TstSession::sameSeedsGiveIdenticalCurves() {
  const ExperimentConfig c = tinyConfig();
  Session a(c), b(c);
  a.start();
  b.start();  // concurrently, on other threads: still bit-identical
  const Collected ra = runToEnd(a), rb = runToEnd(b);
  QCOMPARE(str(ra.last.state), str(SessionState::Finished));
  QCOMPARE(ra.train.size(), std::size_t(60 * 4));
  QCOMPARE(ra.train.size(), rb.train.size());
  for (std::size_t i = 0; i < ra.train.size(); ++i) {
    QCOMPARE(ra.train[i].variant, rb.train[i].variant);
    QCOMPARE(ra.train[i].loss, rb.train[i].loss);  // bit-identical
  }
  QCOMPARE(ra.evaluations.size(), std::size_t(4));  // steps 0, 20, 40, 60
  for (std::size_t e = 0; e < ra.evaluations.size(); ++e)
    for (std::size_t f = 0; f < 4; ++f) {
      QCOMPARE(ra.evaluations[e].families[f].id.loss, rb.evaluations[e].families[f].id.loss);
      QCOMPARE(ra.evaluations[e].families[f].moduleGivenRule, rb.evaluations[e].families[f].moduleGivenRule);
    }
  ExperimentConfig other = c;
  other.modelSeed = 1;
  Session d(other);
  d.start();
  const Collected rd = runToEnd(d);
  QVERIFY(rd.train[0].loss != ra.train[0].loss);
}

void TstSession::divergedFamilyIsMarkedOthersGoOn() {
  SessionOptions options;
  options.injectNaN = [](const std::string& v, std::int64_t step) { return v == "Modular-op" && step == 31; };
  Session s(tinyConfig(), options);
  s.start();
  const Collected r = runToEnd(s);
  QCOMPARE(str(r.last.state), str(SessionState::Finished));
  for (const FamilyStatus& f : r.last.families) {
    if (f.variant == "Modular-op") {
      QCOMPARE(str(f.state), str(FamilyState::Diverged));
      QVERIFY2(QString::fromStdString(f.message).contains("NaN at step 31"), f.message.c_str());
    } else {
      QCOMPARE(str(f.state), str(FamilyState::Finished));
    }
  }
  std::int64_t lastModularOp = 0, lastModular = 0;
  for (const TrainPoint& p : r.train) {
    if (p.variant == "Modular-op") lastModularOp = p.step;
    if (p.variant == "Modular") lastModular = p.step;
  }
  QCOMPARE(lastModularOp, std::int64_t(31));
  QCOMPARE(lastModular, std::int64_t(60));
}

void TstSession::runFolderIsCompleteAndReloads() {
  QTemporaryDir tmp;
  const fs::path dir = fs::path(tmp.path().toStdString()) / "run";
  Session s(tinyConfig(), SessionOptions{dir.string()});
  s.start();
  const Collected r = runToEnd(s);
  for (const char* name : {"config.json", "metrics.csv", "activations.jsonl", "run.json", "checkpoints/latest"})
    QVERIFY2(fs::exists(dir / name), name);
  QVERIFY(fs::exists(dir / "checkpoints" / "GT-Modular-best.pt"));
  const RunRecord rec = RunStore::load(dir);
  QVERIFY(rec.config == tinyConfig());
  QCOMPARE(rec.info.status, std::string("finished"));
  QCOMPARE(rec.info.stepsDone, std::int64_t(60));
  QCOMPARE(rec.train.size(), r.train.size());
  QCOMPARE(rec.evaluations.size(), r.evaluations.size());
  const FamilyEvaluation& live = r.evaluations.back().families[1];
  const FamilyEvaluation& saved = rec.evaluations.back().families[1];
  QCOMPARE(str(saved.family), str(live.family));
  QCOMPARE(saved.variant, live.variant);
  QVERIFY(std::abs(saved.id.loss - live.id.loss) <= 1e-8 * std::abs(live.id.loss));
  QVERIFY(std::abs(saved.metrics.alignment - live.metrics.alignment) < 1e-8);
  QCOMPARE(saved.moduleGivenRule.size(), std::size_t(16));
  QVERIFY(!fs::exists(dir / "metrics.csv.tmp"));
}

void TstSession::existingRunIsNotOverwritten() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  {
    Session s(tinyConfig(), SessionOptions{dir});
    s.start();
    runToEnd(s);
  }
  const std::string before = read(fs::path(dir) / "metrics.csv");
  try {
    Session again(tinyConfig(), SessionOptions{dir});
    QFAIL("an existing run was accepted");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("already holds a run"), e.what());
  }
  QCOMPARE(read(fs::path(dir) / "metrics.csv"), before);  // no data lost
  SessionOptions force{dir};
  force.overwrite = true;
  Session replaced(tinyConfig(), force);
  replaced.start();
  QCOMPARE(str(runToEnd(replaced).last.state), str(SessionState::Finished));
}

void TstSession::stoppedRunResumesExactly() {
  QTemporaryDir tmp;
  const fs::path whole = fs::path(tmp.path().toStdString()) / "whole";
  const fs::path parts = fs::path(tmp.path().toStdString()) / "parts";
  {
    Session s(tinyConfig(), SessionOptions{whole.string()});
    s.start();
    runToEnd(s);
  }
  {
    Session s(tinyConfig(), SessionOptions{parts.string()});
    s.start();
    Snapshot latest;
    QVERIFY(waitFor(s, latest, [](const Snapshot& x) { return x.step >= 27; }));
    s.stop();
    QCOMPARE(str(runToEnd(s).last.state), str(SessionState::Stopped));
  }
  QCOMPARE(RunStore::open(parts).readInfo().status, std::string("stopped"));
  {
    SessionOptions resume{parts.string()};
    resume.resume = true;
    Session s(tinyConfig(), resume);
    s.start();
    QCOMPARE(str(runToEnd(s).last.state), str(SessionState::Finished));
  }
  QCOMPARE(read(parts / "metrics.csv"), read(whole / "metrics.csv"));
  const RunRecord a = RunStore::load(whole), b = RunStore::load(parts);
  QCOMPARE(a.evaluations.size(), b.evaluations.size());
  for (std::size_t e = 0; e < a.evaluations.size(); ++e)
    for (std::size_t f = 0; f < a.evaluations[e].families.size(); ++f)
      QCOMPARE(a.evaluations[e].families[f].moduleGivenRule, b.evaluations[e].families[f].moduleGivenRule);
}

void TstSession::learningRateChangeIsRecorded() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  ExperimentConfig c = tinyConfig();
  c.steps = 200000;
  Session s(c, SessionOptions{dir});
  s.start();
  Snapshot latest;
  QVERIFY(waitFor(s, latest, [](const Snapshot& x) { return x.step >= 5; }));
  s.setLearningRate(5e-4);
  QVERIFY(waitFor(s, latest, [](const Snapshot& x) {
    return !x.families.empty() && x.families[0].learningRate == 5e-4;
  }));
  s.stop();
  s.wait();
  const RunInfo info = RunStore::open(dir).readInfo();
  QCOMPARE(info.learningRateChanges.size(), std::size_t(1));
  QCOMPARE(info.learningRateChanges[0].second, 5e-4);
  QVERIFY(info.learningRateChanges[0].first >= 5);
  QVERIFY_THROWS_EXCEPTION(ConfigError, s.setLearningRate(0.0));
}

void TstSession::badConfigFailsCleanly() {
  ExperimentConfig c = tinyConfig();
  c.rules = 1;
  QVERIFY_THROWS_EXCEPTION(ConfigError, Session{c});
  ExperimentConfig cuda = tinyConfig();
  cuda.device = "cuda";
  if (!cudaAvailable()) {
    try {
      Session s(cuda);
      QFAIL("cuda accepted without a GPU");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("device"));
    }
  }
  SessionOptions resume{"/nonexistent/run"};
  resume.resume = true;
  QVERIFY_THROWS_EXCEPTION(ConfigError, Session(tinyConfig(), resume));
}

QTEST_GUILESS_MAIN(TstSession)
#include "tst_session.moc"
