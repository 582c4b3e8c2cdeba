// Run folders that never lie: locks, foreign folders, checksummed records, checkpoint
// generations, resumes that fall back or start again, and failed resumes that change nothing.
#include <QtTest>

#include <filesystem>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "modlab/experiment/run_store.h"
#include "modlab/training/run_evaluation.h"
#include "modlab/training/session.h"

#include "support/tiny_config.h"

using namespace modlab;
namespace fs = std::filesystem;

namespace {
ExperimentConfig tinyConfig() {
  ExperimentConfig c = test::tinyConfig();
  c.threads = 1;
  return c;
}

// Runs a session to its end; returns its final snapshot (warnings of every snapshot kept).
Snapshot finish(Session& s) {
  s.start();
  s.wait();
  Snapshot last;
  std::vector<std::string> warnings;
  for (Snapshot& snap : s.drain()) {
    warnings.insert(warnings.end(), snap.warnings.begin(), snap.warnings.end());
    last = std::move(snap);
  }
  last.warnings = warnings;
  return last;
}

// Trains until the session passes `step`, then stops it.
void trainUntil(const std::string& dir, std::int64_t step, bool resume = false) {
  SessionOptions o{dir, resume};
  Session s(tinyConfig(), o);
  s.setThrottle(400);  // slow enough to stop at a known point
  s.start();
  for (;;) {
    bool past = false;
    for (const Snapshot& snap : s.drain()) past = past || snap.step >= step;
    if (past) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  s.stop();
  s.wait();
}

Snapshot resume(const std::string& dir) {
  SessionOptions o{dir, true};
  Session s(tinyConfig(), o);
  return finish(s);
}

std::string whole(const QTemporaryDir& tmp) {
  const std::string dir = tmp.path().toStdString() + "/whole";
  Session s(tinyConfig(), SessionOptions{dir});
  finish(s);
  return readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes);
}

void flipByte(const fs::path& file) {
  std::string bytes = readFile(file, std::size_t{1} << 30);
  bytes[bytes.size() / 2] ^= 0x10;
  writeFileAtomic(file, bytes);
}

std::vector<fs::path> generationsOf(const fs::path& run) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(run / "checkpoints"))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoll(a.filename().string().substr(5)) < std::stoll(b.filename().string().substr(5));
  });
  return out;
}
}  // namespace

class TstRunStore : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void aRunFolderHasOneWriter();
  void foreignFoldersAreNeverTouched();
  void twoGenerationsAreKept();
  void damagedCheckpointFallsBackToTheOlder();
  void failedResumeChangesNothing();
  void bitFlipsAreDetected();
  void stopBeforeTheFirstCheckpointStartsAgain();
  void stopRightAfterStepZeroDuplicatesNothing();
  void tornTailIsDroppedOnce();
  void stepsOutOfRangeAreReadErrors();
};

void TstRunStore::aRunFolderHasOneWriter() {
  // Issue 10 #6: a second writer on a training run folder.
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  {
    Session first(tinyConfig(), SessionOptions{dir});
    SessionOptions force{dir};
    force.overwrite = true;
    try {
      Session second(tinyConfig(), force);
      QFAIL("a second writer was accepted");
    } catch (const ConfigError& e) {
      const QString message = e.what();
      QVERIFY2(message.contains("in use by process " + QString::number(getpid())), e.what());
    }
    SessionOptions resumeIt{dir, true};
    QVERIFY_THROWS_EXCEPTION(ConfigError, Session(tinyConfig(), resumeIt));
    finish(first);
  }
  // The lock ends with its holder: the folder can be resumed (or replaced) now.
  QCOMPARE(QString::fromStdString(toString(resume(dir).state)), QString("finished"));
}

void TstRunStore::foreignFoldersAreNeverTouched() {
  // Issue 10 #12: --force trusted any folder holding a config.json.
  QTemporaryDir tmp;
  const fs::path project = tmp.path().toStdString() + "/project";
  fs::create_directories(project / "checkpoints");
  writeFileAtomic(project / "config.json", "{\"optimizer\": \"sgd\"}");
  writeFileAtomic(project / "checkpoints" / "model.ckpt", "weights");
  SessionOptions force{project.string()};
  force.overwrite = true;
  try {
    Session s(tinyConfig(), force);
    QFAIL("a foreign folder was replaced");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("not a Modularity Lab run"), e.what());
  }
  QVERIFY(fs::exists(project / "checkpoints" / "model.ckpt"));
  QCOMPARE(readFile(project / "config.json"), std::string("{\"optimizer\": \"sgd\"}"));
  // A non-empty folder without a run, stale step folders included, is not written into.
  const fs::path stale = tmp.path().toStdString() + "/stale";
  fs::create_directories(stale / "checkpoints" / "step-500");
  try {
    Session s(tinyConfig(), SessionOptions{stale.string()});
    QFAIL("a non-empty folder was used");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("not empty"), e.what());
  }
  QVERIFY(fs::exists(stale / "checkpoints" / "step-500"));
  // --force on a run of ours removes our files only.
  const fs::path ours = tmp.path().toStdString() + "/ours";
  {
    Session s(tinyConfig(), SessionOptions{ours.string()});
    finish(s);
  }
  writeFileAtomic(ours / "notes.txt", "mine");
  SessionOptions replace{ours.string()};
  replace.overwrite = true;
  QVERIFY_THROWS_EXCEPTION(ConfigError, Session(tinyConfig(), replace));  // notes.txt is not ours
  QCOMPARE(readFile(ours / "notes.txt"), std::string("mine"));
}

void TstRunStore::twoGenerationsAreKept() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  Session s(tinyConfig(), SessionOptions{dir});
  finish(s);
  const auto gens = generationsOf(dir);
  QCOMPARE(gens.size(), std::size_t(2));
  QCOMPARE(QString::fromStdString(gens[0].filename().string()), QString("step-40"));
  QCOMPARE(QString::fromStdString(gens[1].filename().string()), QString("step-60"));
  for (const fs::path& g : gens) QVERIFY(fs::exists(g / "manifest.json"));
  QCOMPARE(readFile(fs::path(dir) / "checkpoints" / "latest"), std::string("step-60\n"));
}

void TstRunStore::damagedCheckpointFallsBackToTheOlder() {
  // Issue 10 #13: one generation only; a damaged latest file made the run unresumable.
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const std::string dir = tmp.path().toStdString() + "/run";
  trainUntil(dir, 45);
  const auto gens = generationsOf(dir);
  QCOMPARE(QString::fromStdString(gens.back().filename().string()), QString("step-40"));
  flipByte(gens.back() / "session.pt");
  const Snapshot last = resume(dir);
  QCOMPARE(QString::fromStdString(toString(last.state)), QString("finished"));
  QCOMPARE(last.warnings.size(), std::size_t(1));
  QVERIFY2(QString::fromStdString(last.warnings[0]).contains("step-20"), last.warnings[0].c_str());
  QCOMPARE(readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes), reference);
}

void TstRunStore::failedResumeChangesNothing() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  trainUntil(dir, 45);
  for (const fs::path& g : generationsOf(dir)) flipByte(g / "Modular.pt");
  const std::string info = readFile(fs::path(dir) / "run.json"), csv = readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes);
  const Snapshot last = resume(dir);
  QCOMPARE(QString::fromStdString(toString(last.state)), QString("failed"));
  QVERIFY2(QString::fromStdString(last.error).contains("no usable checkpoint") &&
               QString::fromStdString(last.error).contains("checksum"),
           last.error.c_str());
  QVERIFY2(last.error.find("Exception raised from") == std::string::npos, "a stack trace reached the user");
  QCOMPARE(readFile(fs::path(dir) / "run.json"), info);  // steps_done is not rewritten to 0
  QCOMPARE(readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes), csv);
}

void TstRunStore::bitFlipsAreDetected() {
  // Issue 10 #14: a flipped bit in a checkpoint went unnoticed by eval and resume.
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  {
    Session s(tinyConfig(), SessionOptions{dir});
    finish(s);
  }
  const RunEvaluation clean = evaluateRun(dir, false, "last");
  QCOMPARE(clean.step, std::int64_t(60));
  flipByte(generationsOf(dir).back() / "GT-Modular.pt");
  const RunEvaluation fallback = evaluateRun(dir, false, "last");
  QCOMPARE(fallback.warnings.size(), std::size_t(1));
  QCOMPARE(fallback.checkpoints.back().step, std::int64_t(40));
  flipByte(generationsOf(dir).front() / "GT-Modular.pt");
  try {
    evaluateRun(dir, false, "last");
    QFAIL("a damaged checkpoint was evaluated");
  } catch (const ReadError& e) {
    QVERIFY2(QString(e.what()).contains("checksum"), e.what());
  }
  const RunEvaluation best = evaluateRun(dir, false, "best");
  for (const EvaluatedCheckpoint& c : best.checkpoints) {
    QVERIFY(c.step >= 0 && c.step <= 60);
    QVERIFY(c.hasValidation);
  }
  flipByte(fs::path(dir) / "checkpoints" / "Modular-best.pt");
  QVERIFY_THROWS_EXCEPTION(ReadError, evaluateRun(dir, false, "best"));
}

void TstRunStore::stopBeforeTheFirstCheckpointStartsAgain() {
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const std::string dir = tmp.path().toStdString() + "/run";
  RunStore::create(dir, tinyConfig(), false);  // what a kill before the first checkpoint leaves
  const Snapshot last = resume(dir);
  QCOMPARE(QString::fromStdString(toString(last.state)), QString("finished"));
  QVERIFY(!last.warnings.empty());
  QCOMPARE(readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes), reference);
}

void TstRunStore::stopRightAfterStepZeroDuplicatesNothing() {
  // Issue 10 #5: a kill right after the step-0 checkpoint duplicated the step-0 rows.
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const std::string dir = tmp.path().toStdString() + "/run";
  {
    Session s(tinyConfig(), SessionOptions{dir});
    s.pause();  // the session evaluates and checkpoints step 0, then waits
    s.start();
    for (bool paused = false; !paused; std::this_thread::sleep_for(std::chrono::milliseconds(5)))
      for (const Snapshot& snap : s.drain()) paused = paused || snap.state == SessionState::Paused;
    s.stop();
    s.wait();
  }
  QVERIFY(fs::exists(fs::path(dir) / "checkpoints" / "step-0" / "manifest.json"));
  resume(dir);
  QCOMPARE(readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes), reference);
  const RunRecord r = RunStore::load(dir);
  QCOMPARE(r.evaluations.size(), std::size_t(4));  // 0, 20, 40, 60
}

void TstRunStore::tornTailIsDroppedOnce() {
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const std::string dir = tmp.path().toStdString() + "/run";
  trainUntil(dir, 45);
  // A kill in the middle of an append: half a record at the end of each log.
  appendFile(fs::path(dir) / "metrics.csv", "47,Modular,train,loss,0.69");
  appendFile(fs::path(dir) / "activations.jsonl", "{\"step\": 60, \"fam");
  const RunRecord torn = RunStore::load(dir);
  QCOMPARE(torn.warnings.size(), std::size_t(2));
  resume(dir);
  QCOMPARE(readFile(fs::path(dir) / "metrics.csv", kMaxLogBytes), reference);
  QVERIFY(RunStore::load(dir).warnings.empty());
  // A damaged record before the end is not a torn tail: the record cannot be trusted.
  std::string csv = reference;
  csv[csv.find(",train,loss,") + 13] ^= 0x01;
  writeFileAtomic(fs::path(dir) / "metrics.csv", csv);
  try {
    RunStore::load(dir);
    QFAIL("a damaged record was read");
  } catch (const ReadError& e) {
    QVERIFY2(QString(e.what()).contains("metrics.csv line"), e.what());
  }
}

// Found by fuzz_run_folder: a step in run.json such as 2.1e45 was cast to an integer unchecked
// (undefined behaviour). Every step field must be a whole number in range, or the file is damaged.
void TstRunStore::stepsOutOfRangeAreReadErrors() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  trainUntil(dir, 20);
  const fs::path runJson = fs::path(dir) / "run.json";
  const std::string good = readFile(runJson, kMaxLogBytes);
  const std::int64_t checkpoint = RunStore::load(dir).info.checkpointStep;
  const auto withStep = [&](const std::string& key, const std::string& value) {
    nlohmann::json j = nlohmann::json::parse(good);
    j[key] = nlohmann::json::parse(value);
    return j.dump();
  };
  for (const auto& [key, value] : {std::pair{"checkpoint_step", "2111111111111111111111111111111111111111111110"},
                                   std::pair{"steps_done", "1e300"}, std::pair{"checkpoint_step", "20.5"},
                                   std::pair{"steps_done", "18446744073709551615"}}) {
    writeFileAtomic(runJson, withStep(key, value));
    try {
      RunStore::load(dir);
      QFAIL(qPrintable(QString("%1 = %2 was read").arg(key, value)));
    } catch (const ReadError& e) {
      QVERIFY2(QString(e.what()).contains("run.json") && QString(e.what()).contains(key), e.what());
    }
  }
  writeFileAtomic(runJson, good);
  QCOMPARE(RunStore::load(dir).info.checkpointStep, checkpoint);
}

QTEST_GUILESS_MAIN(TstRunStore)
#include "tst_run_store.moc"
