// Run folders that never lie: locks, foreign folders, checksummed records, checkpoint
// generations, resumes that fall back or start again, and failed resumes that change nothing.
#include <QtTest>

#include <filesystem>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "modlab/experiment/run_follower.h"
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

std::string str(SessionState s) { return toString(s); }

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
  void interruptedCreateIsReused();
  void configErrorsComeBeforeTheFolder();
  void missingRowsAreAbsentNeverZero();
  void resumeEvaluatesALostFinalEvaluationAgain();
  void resumeNeverRecreatesAMissingLog();
  void configAndRunJsonAreChecksummed();
  void aBestModelWithoutItsRecordIsRefused();
  void evalTakesEveryModelFromOneGeneration();
  void linksInARunFolderAreRefused();
  void forceDeletesOnlyWhatIsOurs();
  void aDivergedFamilyIsLeftOutAndTheRunFinishes();
  void unusableRoutingChangesAreReadErrors();
  void aFollowerSeesTheRunAsItIsWritten();
  void aDamagedRunIsShownUpToTheDamage();
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

// Issue 25 #17: one bad line refused the whole run, and a cut activations.jsonl opened without
// a word. loadReadable (the app's) shows what comes before the damage, names the file and the
// line, and marks the record partial; load (the report's, eval's) still refuses it.
void TstRunStore::aDamagedRunIsShownUpToTheDamage() {
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const std::string dir = tmp.path().toStdString() + "/whole";
  const RunRecord good = RunStore::load(dir);
  QVERIFY(!good.partial);
  QCOMPARE(RunStore::loadReadable(dir).train.size(), good.train.size());
  QVERIFY(!RunStore::loadReadable(dir).partial);
  // A flipped byte in a training row halfway down metrics.csv.
  std::string csv = reference;
  const std::size_t at = csv.find(",train,loss,", csv.size() / 2);
  csv[at + 13] ^= 0x01;
  writeFileAtomic(fs::path(dir) / "metrics.csv", csv);
  const std::size_t line = static_cast<std::size_t>(std::count(csv.begin(), csv.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
  QVERIFY_THROWS_EXCEPTION(ReadError, RunStore::load(dir));
  const RunRecord part = RunStore::loadReadable(dir);
  QVERIFY(part.partial);
  QVERIFY(!part.train.empty() && part.train.size() < good.train.size());
  QVERIFY(part.train.back().step < good.train.back().step);
  QVERIFY2(!part.warnings.empty() && QString::fromStdString(part.warnings.front()).contains(QString("metrics.csv line %1").arg(line)),
           part.warnings.empty() ? "no warning" : part.warnings.front().c_str());
  writeFileAtomic(fs::path(dir) / "metrics.csv", reference);
  // activations.jsonl cut after its first record: the later evaluations are left out by name.
  const std::string jsonl = readFile(fs::path(dir) / "activations.jsonl", kMaxLogBytes);
  writeFileAtomic(fs::path(dir) / "activations.jsonl", jsonl.substr(0, jsonl.find('\n') + 1));
  QVERIFY_THROWS_EXCEPTION(ReadError, RunStore::load(dir));
  const RunRecord cut = RunStore::loadReadable(dir);
  QVERIFY(cut.partial);
  QCOMPARE(cut.train.size(), good.train.size());
  QVERIFY(!cut.evaluations.empty());
  bool named = false;
  for (const std::string& w : cut.warnings) named = named || (w.find("lacks") != std::string::npos && w.find("left out") != std::string::npos);
  QVERIFY(named);
  for (const EvaluationSnapshot& e : cut.evaluations)
    for (const FamilyEvaluation& f : e.families)
      if (isModular(f.family)) QVERIFY(!f.moduleGivenRule.empty());
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
    j.erase("crc32");  // a run.json with a correct checksum: what is checked here is the value
    j["crc32"] = crc32Hex(j.dump());
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

namespace {
std::string finishedRun(const QTemporaryDir& tmp, const std::string& name = "run") {
  const std::string dir = tmp.path().toStdString() + "/" + name;
  Session s(tinyConfig(), SessionOptions{dir});
  finish(s);
  return dir;
}

std::vector<std::string> linesOf(const fs::path& file) {
  std::vector<std::string> lines;
  const std::string text = readFile(file, kMaxLogBytes);
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

void writeLines(const fs::path& file, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  writeFileAtomic(file, text);
}

// The file without the lines that start with `prefix`.
void dropLines(const fs::path& file, const std::string& prefix) {
  std::vector<std::string> kept;
  for (const std::string& l : linesOf(file))
    if (l.rfind(prefix, 0) != 0) kept.push_back(l);
  writeLines(file, kept);
}

template <typename F>
QString errorOf(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  return QString();
}
}  // namespace

void TstRunStore::interruptedCreateIsReused() {
  // Issue 22 #2: a kill (or a full disk) between mkdir checkpoints and config.json left a
  // folder that neither --resume, nor a fresh train, nor --force could use.
  QTemporaryDir tmp;
  const std::string reference = whole(tmp);
  const fs::path dir = tmp.path().toStdString() + "/run";
  fs::create_directories(dir / "checkpoints");
  writeFileAtomic(dir / ".lock", "process 1 on elsewhere\n");
  writeFileAtomic(dir / "config.json.tmp", "{\"half");
  {
    Session s(tinyConfig(), SessionOptions{dir.string()});
    QCOMPARE(str(finish(s).state), std::string("finished"));
  }
  QCOMPARE(readFile(dir / "metrics.csv", kMaxLogBytes), reference);
  QVERIFY(!fs::exists(dir / "config.json.tmp"));
  // config.json is written first: from then on the folder is a run (resumed from scratch).
  const fs::path second = tmp.path().toStdString() + "/second";
  RunStore::create(second, tinyConfig(), false);
  QVERIFY(fs::exists(second / "config.json") && fs::exists(second / "checkpoints"));
  QCOMPARE(str(resume(second.string()).state), std::string("finished"));
  QCOMPARE(readFile(second / "metrics.csv", kMaxLogBytes), reference);
  // A kill right after config.json (found by kill_resume): no checkpoints/ yet.
  const fs::path third = tmp.path().toStdString() + "/third";
  RunStore::create(third, tinyConfig(), false);
  fs::remove(third / "checkpoints");
  fs::remove(third / "activations.jsonl");
  QCOMPARE(str(resume(third.string()).state), std::string("finished"));
  QCOMPARE(readFile(third / "metrics.csv", kMaxLogBytes), reference);
}

void TstRunStore::configErrorsComeBeforeTheFolder() {
  // Issue 22 #2: description=\xff failed with a raw JSON type_error after the folder was made.
  QTemporaryDir tmp;
  const fs::path dir = tmp.path().toStdString() + "/run";
  ExperimentConfig c = tinyConfig();
  c.description = "bad \xff byte";
  try {
    Session s(c, SessionOptions{dir.string()});
    QFAIL("a description that is not UTF-8 was accepted");
  } catch (const ConfigError& e) {
    QCOMPARE(QString::fromStdString(e.field()), QString("description"));
    QVERIFY2(QString(e.what()).contains("UTF-8"), e.what());
  }
  QVERIFY(!fs::exists(dir));
  ExperimentConfig fine = tinyConfig();
  fine.description = "Gr\xc3\xbc\xc3\x9f" "e, \xe2\x86\x92 \xf0\x9f\x99\x82";  // UTF-8 of several lengths
  validate(fine);
  for (const char* bad : {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80" "b"}) {
    ExperimentConfig c2 = tinyConfig();
    c2.description = bad;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(c2));
  }
}

void TstRunStore::missingRowsAreAbsentNeverZero() {
  // Issue 22 #3: lines missing from metrics.csv were read as zeros.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  const fs::path csv = fs::path(dir) / "metrics.csv";
  const std::string original = readFile(csv, kMaxLogBytes);
  QVERIFY(RunStore::loadFinished(dir).warnings.empty());
  // The last line gone (sed '$d'): the final evaluation of that model is incomplete.
  std::vector<std::string> lines = linesOf(csv);
  const std::string last = lines.back();
  lines.pop_back();
  writeLines(csv, lines);
  RunRecord r = RunStore::load(dir);
  QCOMPARE(r.warnings.size(), std::size_t(1));
  QVERIFY2(QString::fromStdString(r.warnings[0]).contains("lacks metrics,inverse_mi"), r.warnings[0].c_str());
  for (const FamilyEvaluation& f : r.evaluations.back().families) QVERIFY(f.variant != "GT-Modular");
  QVERIFY(errorOf([&] { RunStore::loadFinished(dir); }).contains("lacks"));
  // One row of the final evaluation gone: flagged, never 0.
  writeFileAtomic(csv, original);
  dropLines(csv, "60,GT-Modular,id,error");
  QVERIFY(errorOf([&] { RunStore::loadFinished(dir); }).contains("id,error"));
  writeFileAtomic(csv, original);
  dropLines(csv, "60,Modular,metrics,alignment");
  QVERIFY(errorOf([&] { RunStore::loadFinished(dir); }).contains("metrics,alignment"));
  // The same gap in an earlier evaluation is damage: the record is not read at all.
  writeFileAtomic(csv, original);
  dropLines(csv, "20,GT-Modular,id,error");
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("the run's record cannot be trusted"));
  // A repeated line, and training lines out of order, are damage too.
  writeFileAtomic(csv, original);
  lines = linesOf(csv);
  const auto evalRow = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("20,Modular,id,loss", 0) == 0; });
  lines.insert(evalRow, *evalRow);
  writeLines(csv, lines);
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("repeats"));
  writeFileAtomic(csv, original);
  lines = linesOf(csv);
  const auto trainRow = [&](const char* prefix) {
    return std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  std::iter_swap(trainRow("2,Monolithic,train,loss"), trainRow("5,Monolithic,train,loss"));
  writeLines(csv, lines);
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("out of order"));
  // A missing activation record of the final evaluation.
  writeFileAtomic(csv, original);
  const fs::path acts = fs::path(dir) / "activations.jsonl";
  std::vector<std::string> records = linesOf(acts);
  records.pop_back();
  writeLines(acts, records);
  QVERIFY(errorOf([&] { RunStore::loadFinished(dir); }).contains("activation record"));
  Q_UNUSED(last);
}

void TstRunStore::resumeEvaluatesALostFinalEvaluationAgain() {
  // Issue 22 #4: --resume dropped a torn last line silently, said "finished at step 0" and
  // the run then passed the report without its final evaluation.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  const fs::path csv = fs::path(dir) / "metrics.csv";
  const std::string original = readFile(csv, kMaxLogBytes);
  std::string torn = original.substr(0, original.size() - 7);  // the last line torn
  writeFileAtomic(csv, torn);
  const Snapshot last = resume(dir);
  QCOMPARE(str(last.state), std::string("finished"));
  QCOMPARE(last.step, std::int64_t(60));
  bool said = false;
  for (const std::string& w : last.warnings) said = said || w.find("evaluated again") != std::string::npos;
  QVERIFY2(said, "the resume did not say that it dropped data");
  QCOMPARE(readFile(csv, kMaxLogBytes), original);  // evaluated again, to the same numbers
  QVERIFY(RunStore::loadFinished(dir).warnings.empty());
  // The same for a damaged last activation record.
  const fs::path acts = fs::path(dir) / "activations.jsonl";
  std::string a = readFile(acts, kMaxLogBytes);
  a[a.size() - 10] ^= 0x01;
  writeFileAtomic(acts, a);
  QVERIFY(!errorOf([&] { RunStore::loadFinished(dir); }).isEmpty());
  QCOMPARE(str(resume(dir).state), std::string("finished"));
  QVERIFY(RunStore::loadFinished(dir).warnings.empty());
  QCOMPARE(readFile(csv, kMaxLogBytes), original);
}

void TstRunStore::resumeNeverRecreatesAMissingLog() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  trainUntil(dir, 45);
  fs::remove(fs::path(dir) / "activations.jsonl");
  const Snapshot last = resume(dir);
  QCOMPARE(str(last.state), std::string("failed"));
  QVERIFY2(QString::fromStdString(last.error).contains("activations.jsonl is missing"), last.error.c_str());
  QVERIFY(!fs::exists(fs::path(dir) / "activations.jsonl"));
}

void TstRunStore::configAndRunJsonAreChecksummed() {
  // Issue 22 #5: data_seed 0 -> 1 in config.json made eval print other numbers, unwarned.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  const fs::path config = fs::path(dir) / "config.json", info = fs::path(dir) / "run.json";
  const std::string configText = readFile(config), infoText = readFile(info);
  std::string changed = configText;
  const auto at = changed.find("\"data_seed\": 0");
  QVERIFY(at != std::string::npos);
  changed[at + 13] = '1';
  writeFileAtomic(config, changed);
  QVERIFY(errorOf([&] { evaluateRun(dir, false, "last"); }).contains("does not match its checksum"));
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("does not match its checksum"));
  QVERIFY(!RunStore::holdsRun(dir));
  writeFileAtomic(config, configText);
  changed = infoText;
  changed.replace(changed.find("\"finished\""), 10, "\"stopped\" ");
  writeFileAtomic(info, changed);
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("run.json is damaged"));
  // Removing a checksum is no way around it: a run has both or (before checksums) neither.
  writeFileAtomic(info, infoText);
  nlohmann::json j = nlohmann::json::parse(configText);
  j.erase("crc32");
  writeFileAtomic(config, j.dump(2));
  QVERIFY(errorOf([&] { RunStore::load(dir); }).contains("carries no checksum although run.json does"));
  nlohmann::json i = nlohmann::json::parse(infoText);
  i.erase("crc32");
  writeFileAtomic(info, i.dump(2));
  QCOMPARE(RunStore::load(dir).info.status, std::string("finished"));  // a run of an earlier version
  // A run's config.json, copied, is a config a user can train from.
  QVERIFY(parseConfig(configText) == tinyConfig());
}

void TstRunStore::aBestModelWithoutItsRecordIsRefused() {
  // Issue 22 #6: without -best.json a best model was loaded unchecked.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  fs::remove(fs::path(dir) / "checkpoints" / "Modular-best.json");
  const QString error = errorOf([&] { evaluateRun(dir, false, "best"); });
  QVERIFY2(error.contains("cannot be checked") && error.contains("Modular-best.json"), qPrintable(error));
}

void TstRunStore::evalTakesEveryModelFromOneGeneration() {
  // Issue 22 #7: eval during training mixed checkpoint generations across families.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  fs::remove(generationsOf(dir).back() / "Modular.pt");  // the newest generation, incomplete
  const RunEvaluation e = evaluateRun(dir, false, "last");
  QCOMPARE(e.step, std::int64_t(40));
  for (const EvaluatedCheckpoint& c : e.checkpoints) QCOMPARE(c.step, std::int64_t(40));
  QCOMPARE(e.warnings.size(), std::size_t(1));
  QVERIFY2(QString::fromStdString(e.warnings[0]).contains("step-60"), e.warnings[0].c_str());
}

void TstRunStore::linksInARunFolderAreRefused() {
  // Issue 22 #8: planted links made the program write and delete outside its folder.
  QTemporaryDir tmp;
  const fs::path outside = tmp.path().toStdString() + "/outside";
  fs::create_directories(outside / "step-7");
  writeFileAtomic(outside / "victim.txt", "precious");
  writeFileAtomic(outside / "step-7" / "manifest.json", "{}");
  writeFileAtomic(outside / "latest", "mine\n");
  const auto intact = [&] {
    return readFile(outside / "victim.txt") == "precious" && fs::exists(outside / "step-7" / "manifest.json") &&
           fs::exists(outside / "latest");
  };
  for (const char* part : {".lock", "run.json", "checkpoints", "metrics.csv"}) {
    const std::string dir = finishedRun(tmp, std::string("run-") + (part[0] == '.' ? part + 1 : part));
    const fs::path p = fs::path(dir) / part;
    fs::remove_all(p);
    fs::create_symlink(std::string(part) == "checkpoints" ? outside : outside / "victim.txt", p);
    SessionOptions resumeIt{dir, true};
    QVERIFY2(errorOf([&] { Session s(tinyConfig(), resumeIt); finish(s); }).contains("symbolic link"), part);
    SessionOptions force{dir};
    force.overwrite = true;
    QVERIFY2(errorOf([&] { Session s(tinyConfig(), force); finish(s); }).contains("symbolic link"), part);
    QVERIFY2(errorOf([&] { RunStore::load(dir); }).contains("symbolic link"), part);
    QVERIFY2(intact(), part);
  }
  // run.json a link and a folder where its temporary file goes: no write through the link.
  const std::string dir = finishedRun(tmp, "run-tmp");
  fs::remove(fs::path(dir) / "run.json");
  fs::create_symlink(outside / "victim.txt", fs::path(dir) / "run.json");
  fs::create_directories(fs::path(dir) / "run.json.tmp");
  QVERIFY_THROWS_EXCEPTION(std::exception, RunStore::open(dir).writeInfo(RunInfo{}));
  QVERIFY(intact());
  // No read or write of ours goes through a link.
  QVERIFY(errorOf([&] { readFile(fs::path(dir) / "run.json"); }).contains("symbolic link"));
  QVERIFY(errorOf([&] { appendFile(fs::path(dir) / "run.json", "x"); }).contains("symbolic link"));
  QVERIFY(errorOf([&] { overwriteInPlace(fs::path(dir) / "run.json", "x"); }).contains("symbolic link"));
  QVERIFY(intact());
}

void TstRunStore::forceDeletesOnlyWhatIsOurs() {
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  const fs::path checkpoints = fs::path(dir) / "checkpoints";
  writeFileAtomic(checkpoints / "thesis-best.docx", "years of work");
  fs::create_directories(checkpoints / "step-7");
  writeFileAtomic(checkpoints / "step-7" / "notes.txt", "mine");
  SessionOptions force{dir};
  force.overwrite = true;
  // Refused before anything is deleted, naming what is not ours.
  const QString error = errorOf([&] { Session s(tinyConfig(), force); });
  QVERIFY2(error.contains("thesis-best.docx") || error.contains("step-7"), qPrintable(error));
  QCOMPARE(readFile(checkpoints / "thesis-best.docx"), std::string("years of work"));
  QCOMPARE(readFile(checkpoints / "step-7" / "notes.txt"), std::string("mine"));
  QVERIFY(RunStore::loadFinished(dir).warnings.empty());  // the run is untouched too
  fs::remove(checkpoints / "thesis-best.docx");
  fs::remove_all(checkpoints / "step-7");
  {
    Session s(tinyConfig(), force);
    QCOMPARE(str(finish(s).state), std::string("finished"));
  }
  QVERIFY(RunStore::loadFinished(dir).warnings.empty());
}

void TstRunStore::aDivergedFamilyIsLeftOutAndTheRunFinishes() {
  // Issue 22 #10: one family's divergence made every later evaluation fail.
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  SessionOptions options{dir};
  options.injectNaN = [](const std::string& v, std::int64_t step) { return v == "Modular" && step == 25; };
  {
    Session s(tinyConfig(), options);
    QCOMPARE(str(finish(s).state), std::string("finished"));
  }
  const RunRecord r = RunStore::loadFinished(dir);
  QVERIFY(r.info.familyStates.at("Modular").rfind("diverged: loss became NaN at step 25", 0) == 0);
  for (const EvaluationSnapshot& e : r.evaluations) {
    const bool hasModular = std::any_of(e.families.begin(), e.families.end(), [](const FamilyEvaluation& f) { return f.variant == "Modular"; });
    QCOMPARE(hasModular, e.step < 25);
    QCOMPARE(e.families.size(), hasModular ? std::size_t(4) : std::size_t(3));
  }
  const RunEvaluation e = evaluateRun(dir, false, "last");
  QCOMPARE(e.result.families.size(), std::size_t(3));
  QVERIFY(!e.warnings.empty() && e.warnings[0].find("Modular is left out") != std::string::npos);
  // Resuming a run with a diverged family works too.
  QCOMPARE(str(resume(dir).state), std::string("finished"));
  ExperimentConfig cold = tinyConfig();  // a temperature that only makes NaN is refused up front
  QVERIFY(errorOf([&] { applyOverride(cold, "routing_temperature=1e-40"); }).contains("routing_temperature"));
}

void TstRunStore::unusableRoutingChangesAreReadErrors() {
  // Issue 22 #9: a run.json with an unknown routing change aborted the app.
  QTemporaryDir tmp;
  const std::string dir = finishedRun(tmp);
  const RunInfo recorded = RunStore::open(dir).readInfo();
  for (const auto& [key, value] : {std::pair<std::string, double>{"no_such_key", 1.0}, {"balance_loss", 1000.0}}) {
    RunStore store = RunStore::open(dir);
    RunInfo info = recorded;
    info.routingChanges = {{10, key, value, ""}};
    store.writeInfo(info);
    const QString error = errorOf([&] { RunStore::load(dir); });
    QVERIFY2(error.contains("routing change at step 10") && error.contains(QString::fromStdString(key)), qPrintable(error));
  }
}

void TstRunStore::aFollowerSeesTheRunAsItIsWritten() {
  // Issue 25 #13: a run written by another process is followed, incrementally, by the reader
  // that loads it: what the follower hands over, poll by poll, is the finished record.
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/run";
  auto s = std::make_unique<Session>(tinyConfig(), SessionOptions{dir});
  s->setThrottle(600);
  s->start();
  std::unique_ptr<RunFollower> follower;
  std::vector<TrainPoint> train;
  std::vector<EvaluationSnapshot> evaluations;
  int polls = 0, pollsWithNews = 0;
  bool sawWriting = false;
  for (;;) {
    if (s) s->drain();
    if (s && s->state() == SessionState::Finished) {
      s->wait();
      s.reset();  // its lock goes with it: the writer is gone
    }
    if (!follower && fs::exists(fs::path(dir) / "config.json")) follower = std::make_unique<RunFollower>(dir);
    if (follower) {
      RunFollower::Update u = follower->poll();
      ++polls;
      QVERIFY(!u.restarted);
      sawWriting = sawWriting || u.writing;
      if (!u.train.empty() || !u.evaluations.empty()) ++pollsWithNews;
      for (const EvaluationSnapshot& e : u.evaluations)  // never handed over twice, never out of order
        QVERIFY(evaluations.empty() || e.step > evaluations.back().step);
      train.insert(train.end(), u.train.begin(), u.train.end());
      evaluations.insert(evaluations.end(), u.evaluations.begin(), u.evaluations.end());
      if (!u.writing && !s) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  QVERIFY(sawWriting);
  QVERIFY2(pollsWithNews > 3, qPrintable(QString("%1 of %2 polls brought news").arg(pollsWithNews).arg(polls)));
  const RunRecord whole = RunStore::loadFinished(dir);
  QCOMPARE(train.size(), whole.train.size());
  for (std::size_t i = 0; i < train.size(); ++i) {
    QCOMPARE(train[i].step, whole.train[i].step);
    QCOMPARE(train[i].variant, whole.train[i].variant);
    QCOMPARE(train[i].loss, whole.train[i].loss);
    QCOMPARE(train[i].hasParts, whole.train[i].hasParts);
  }
  QCOMPARE(evaluations.size(), whole.evaluations.size());
  for (std::size_t i = 0; i < evaluations.size(); ++i) {
    QCOMPARE(evaluations[i].step, whole.evaluations[i].step);
    QCOMPARE(evaluations[i].families.size(), whole.evaluations[i].families.size());
    for (std::size_t k = 0; k < evaluations[i].families.size(); ++k) {
      QCOMPARE(evaluations[i].families[k].id.loss, whole.evaluations[i].families[k].id.loss);
      QCOMPARE(evaluations[i].families[k].moduleGivenRule, whole.evaluations[i].families[k].moduleGivenRule);
    }
  }
  // Nothing new: nothing handed over again.
  const RunFollower::Update after = follower->poll();
  QVERIFY(after.train.empty() && after.evaluations.empty() && !after.writing);
  QCOMPARE(after.info.status, std::string("finished"));
  // A resume cuts the logs back and writes them anew: the follower starts again from them.
  appendFile(fs::path(dir) / "metrics.csv", "61,Modular,train,loss,0.5");  // torn, then cut by the resume
  resume(dir);
  const RunFollower::Update again = follower->poll();
  QVERIFY(again.restarted);
  QCOMPARE(again.train.size(), whole.train.size());
}

QTEST_GUILESS_MAIN(TstRunStore)
#include "tst_run_store.moc"
