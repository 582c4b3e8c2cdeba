// Sweeps: grid expansion, bad grids, sweep folders, the local runner, Slurm scripts, report.
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include <QProcess>

#include "modlab/experiment/run_store.h"
#include "modlab/sweep/report.h"
#include "modlab/sweep/sweep.h"

using namespace modlab;
namespace fs = std::filesystem;

namespace {
const char* kTinyGrid = R"({
  "name": "tiny",
  "settings": ["mlp"],
  "tasks": ["classification", "regression"],
  "rules": [2, 4],
  "sizes": [8],
  "model_seeds": [0, 1],
  "base": {"mlp": {"steps": 30, "eval_every": 15, "batch_size": 32, "eval_batches": 1, "matrix_samples": 256,
                   "adaptation_priors": 2, "adaptation_samples": 128, "threads": 1}}
})";

QString errorOf(const std::string& json) {
  try {
    parseGrid(json);
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}
}  // namespace

class TstSweep : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void linksInASweepFolderAreRefused();
  void paperGridIsTwentyThousandModels();
  void paperLiteKeepsTheStructure();
  void badGridsAreNamed();
  void planRunReport();
  void otherVersionIsRefused();
  void slurmScriptHasOneTaskPerRun();
  void hostileGridsAreRefused();
  void slurmScriptQuotesEverything();
  void damagedRunsAreNamedNotScored();
  void aReplannedSweepRunsItsRunsAgain();
  void twoRunnersSplitTheWork();
  void routingAxisIsSweptAndReported();
};

void TstSweep::linksInASweepFolderAreRefused() {
  // Issue 22 #8: a sweep's configs -> elsewhere had plan --force delete every file there, and a
  // .lock link had its target overwritten.
  QTemporaryDir tmp;
  const fs::path dir = tmp.path().toStdString() + "/sweep", outside = tmp.path().toStdString() + "/outside";
  fs::create_directories(outside);
  writeFileAtomic(outside / "thesis.tex", "years of work");
  writeFileAtomic(outside / "00000.json", "{\"mine\": true}");
  planSweep(parseGrid(kTinyGrid), dir.string(), false);
  for (const char* part : {"configs", ".lock"}) {
    const fs::path p = dir / part;
    const fs::path saved = tmp.path().toStdString() + "/saved";
    fs::rename(p, saved);
    fs::create_symlink(std::string(part) == "configs" ? outside : outside / "thesis.tex", p);
    try {
      planSweep(parseGrid(kTinyGrid), dir.string(), true);
      QFAIL(part);
    } catch (const std::exception& e) {
      QVERIFY2(QString(e.what()).contains("symbolic link"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, loadSweep(dir.string()));
    QCOMPARE(readFile(outside / "thesis.tex"), std::string("years of work"));
    QCOMPARE(readFile(outside / "00000.json"), std::string("{\"mine\": true}"));
    fs::remove(p);
    fs::rename(saved, p);
  }
  // A re-plan deletes only the configs it wrote: files named as ours, not links.
  writeFileAtomic(dir / "configs" / "notes.txt", "mine");
  fs::create_symlink(outside / "00000.json", dir / "configs" / "00099.json");
  planSweep(parseGrid(kTinyGrid), dir.string(), true);
  QCOMPARE(readFile(dir / "configs" / "notes.txt"), std::string("mine"));
  QCOMPARE(readFile(outside / "00000.json"), std::string("{\"mine\": true}"));
  // A run folder of the sweep that is a link is refused, not written into.
  const Sweep sweep = loadSweep(dir.string());
  const fs::path first = sweep.runDirectory(sweep.runs[0]);
  fs::create_directories(first.parent_path());
  fs::create_symlink(outside, first);
  const SweepProgress p = runSweep(sweep, 1, {});
  QCOMPARE(p.failed, 1);
  QVERIFY(!fs::exists(outside / ".lock") && !fs::exists(outside / "config.json"));
}

void TstSweep::paperGridIsTwentyThousandModels() {
  const auto runs = expand(paperGrid());
  // MLP 2 tasks x 5 R x 5 sizes x 25 seeds = 1,250; MHA twice that (2 search versions); RNN 1,250.
  QCOMPARE(runs.size(), std::size_t(5000));
  QCOMPARE(runs.size() * paperGrid().families.size(), std::size_t(20000));
  int mlp = 0;
  for (const SweepRun& r : runs) {
    if (r.config.setting == Setting::Mlp) {
      ++mlp;
      QCOMPARE(r.config.steps, std::int64_t(100000));
    } else {
      QCOMPARE(r.config.steps, std::int64_t(500000));
    }
    QCOMPARE(r.config.learningRate, 1e-4);
    QCOMPARE(r.config.batchSize, 256);
  }
  QCOMPARE(mlp, 1250);
}

void TstSweep::paperLiteKeepsTheStructure() {
  const auto runs = expand(paperLiteGrid());
  std::set<int> settings, rules, families;
  for (const SweepRun& r : runs) {
    settings.insert(int(r.config.setting));
    rules.insert(r.config.rules);
    for (Family f : r.config.families) families.insert(int(f));
  }
  QCOMPARE(settings.size(), std::size_t(3));
  QCOMPARE(rules, (std::set<int>{2, 4, 8, 16, 32}));
  QCOMPARE(families.size(), std::size_t(4));
}

void TstSweep::badGridsAreNamed() {
  QVERIFY(errorOf(R"({"rulez": [2]})").contains("did you mean 'rules'"));
  QVERIFY(errorOf(R"({"rules": []})").contains("empty axis 'rules'"));
  QVERIFY(errorOf(R"({"settings": ["cnn"]})").contains("cnn"));
  QVERIFY(errorOf(R"({"base": {"mlp": {"stepz": 3}}})").contains("base.mlp"));
  QVERIFY(errorOf(R"({"base": {"cnn": {}}})").contains("cnn"));
  QVERIFY(errorOf(R"({"base": {"mha": "tiny"}})").contains("base.mha \"tiny\": allowed is an object"));  // fuzz_grid found it
  QVERIFY(errorOf(R"({"settings": ["mha"], "rules": [32], "sizes": [4]})").contains("size"));
  QVERIFY(errorOf("[1]").contains("object"));
  QVERIFY_THROWS_EXCEPTION(ConfigError, namedGrid("paper-huge"));
}

void TstSweep::planRunReport() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  const SweepPlan plan = planSweep(parseGrid(kTinyGrid), dir, false);
  QCOMPARE(plan.runs, 8);
  QCOMPARE(plan.models, 32);
  QVERIFY(plan.cpuHours > 0.0);
  QVERIFY_THROWS_EXCEPTION(ConfigError, planSweep(parseGrid(kTinyGrid), dir, false));  // never overwritten
  const Sweep sweep = loadSweep(dir);
  QCOMPARE(sweep.runs.size(), std::size_t(8));
  for (const SweepRun& r : sweep.runs) QVERIFY(fs::exists(sweep.configPath(r)));

  const SweepProgress first = runSweep(sweep, 2, {});
  QCOMPARE(first.finished, 8);
  QCOMPARE(first.failed, 0);
  const SweepProgress again = runSweep(sweep, 2, {});
  QCOMPARE(again.skipped, 8);  // finished runs are skipped

  SweepReport report = collectReport(sweep);
  QCOMPARE(report.rows.size(), std::size_t(32));
  QVERIFY(report.missing.empty());
  QCOMPARE(report.ranking.comparisons, 4);  // (task, rules) groups, averaged over the 2 model seeds
  int wins = 0;
  for (const auto& [family, n] : report.ranking.wins) wins += n;
  QCOMPARE(wins + report.ranking.ties, 4);
  QCOMPARE(report.ranking.modularWins + report.ranking.monolithicWins + report.ranking.modularTies, 4);
  // Issue 26 #7: equal results are ties, on both sides of Fig. 3 (they were Monolithic's wins
  // in one count and Modular's in the other).
  SweepReport tied = report;
  for (ReportRow& row : tied.rows) row.id = 50.0;  // every family at chance
  const Ranking even = rankRows(tied.rows);
  QCOMPARE(even.ties, 4);
  QVERIFY(even.wins.empty());
  QCOMPARE(even.modularTies, 4);
  QCOMPARE(even.modularWins + even.monolithicWins, 0);
  QVERIFY(QString::fromStdString(rankingCsv(even)).contains("all four,tie,4,4"));
  QCOMPARE(report.trainingCurves[Family::GtModular].size(), std::size_t(21));  // 0%, 5%, ..., 100%
  QCOMPARE(report.trainingCurves[Family::GtModular].back().first, 1.0);
  const std::string csv = reportCsv(report);
  QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), 33L);

  // A run that failed on the cluster and one that never ran: named, and the rest still reported.
  fs::remove_all(sweep.runDirectory(sweep.runs[0]));
  RunStore failedRun = RunStore::open(sweep.runDirectory(sweep.runs[1]));
  RunInfo info = failedRun.readInfo();
  info.status = "failed";
  info.error = "out of memory";
  failedRun.writeInfo(info);
  report = collectReport(sweep);
  QCOMPARE(report.missing.size(), std::size_t(1));
  QCOMPARE(QString::fromStdString(report.missing[0]), QString::fromStdString(sweep.runs[0].name));
  QCOMPARE(report.failed.size(), std::size_t(1));
  QVERIFY(QString::fromStdString(report.failed[0]).contains("out of memory"));
  QCOMPARE(report.rows.size(), std::size_t(24));  // a failed run is never scored
  // Running again redoes the missing run and retries the failed one.
  const SweepProgress resumed = runSweep(sweep, 1, {});
  QCOMPARE(resumed.finished, 8);
}

void TstSweep::otherVersionIsRefused() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  std::string info = readFile(dir + "/sweep.json");
  info.replace(info.find("\"format_version\": 1"), 19, "\"format_version\": 7");
  writeFileAtomic(dir + "/sweep.json", info);
  try {
    loadSweep(dir);
    QFAIL("a sweep of another format was accepted");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("format 7"), e.what());
  }
  QVERIFY_THROWS_EXCEPTION(ConfigError, loadSweep(tmp.path().toStdString() + "/nothing"));
}

void TstSweep::slurmScriptHasOneTaskPerRun() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  SlurmOptions o;
  o.partition = "gpu";
  o.gpus = 1;
  o.cpus = 4;
  o.time = "01:30:00";
  o.cli = "/opt/modlab/bin/modlab-cli";
  const std::string script = readFile(writeSlurmScript(loadSweep(dir), o).script);
  QVERIFY(script.find("#SBATCH --array=0-7") != std::string::npos);
  QVERIFY(script.find("#SBATCH --partition=gpu") != std::string::npos);
  QVERIFY(script.find("#SBATCH --gres=gpu:1") != std::string::npos);
  QVERIFY(script.find("#SBATCH --cpus-per-task=4") != std::string::npos);
  QVERIFY(script.find("#SBATCH --time=01:30:00") != std::string::npos);
  QVERIFY(script.find("/opt/modlab/bin/modlab-cli") != std::string::npos);
  const std::string runs = readFile(dir + "/slurm/runs.txt");
  QCOMPARE(std::count(runs.begin(), runs.end(), '\n'), 8L);
  // Issue 26 #2: more runs than the cluster's MaxArraySize: several arrays, each task finds
  // its run by its array's offset; submit.sh submits them all.
  o.maxArraySize = 3;
  const SlurmScript split = writeSlurmScript(loadSweep(dir), o);
  QCOMPARE(split.arrays.size(), std::size_t(3));
  QCOMPARE(split.arrays[2].offset, 6);
  QCOMPARE(split.arrays[2].count, 2);
  QVERIFY(readFile(split.script).find("#SBATCH --array") == std::string::npos);
  const std::string submit = readFile(split.submit);
  QCOMPARE(std::count(submit.begin(), submit.end(), '\n') - 3, 3L);
  QVERIFY(submit.find("--array=0-1 --export=ALL,MODLAB_ARRAY_OFFSET=6") != std::string::npos);
  QVERIFY_THROWS_EXCEPTION(ConfigError, [&] { o.memoryGiB = 0; writeSlurmScript(loadSweep(dir), o); }());
  o.memoryGiB = 4;
  QVERIFY_THROWS_EXCEPTION(ConfigError, [&] { o.gpus = -1; writeSlurmScript(loadSweep(dir), o); }());
  o.gpus = 0;
  QVERIFY_THROWS_EXCEPTION(ConfigError, [&] { o.maxParallel = -3; writeSlurmScript(loadSweep(dir), o); }());
  o.maxParallel = 0;
  // #3: the time limit comes from the plan's estimate for its longest run, with the margin.
  Sweep estimated = loadSweep(dir);
  QVERIFY(estimated.maxRunCpuSeconds > 0);
  estimated.maxRunCpuSeconds = 4 * 3600.0;  // 4 CPU hours over 4 families on 4 CPUs: 1 hour
  QCOMPARE(slurmCpus(estimated), 4);
  QCOMPARE(slurmTime(estimated, 4, 3.0), std::string("03:00:00"));
  QCOMPARE(slurmTime(estimated, 1, 12.0), std::string("2-00:00:00"));
  estimated.maxRunCpuSeconds = 1.0;
  QCOMPARE(slurmTime(estimated, 4, 3.0), std::string("00:30:00"));  // at least half an hour
  estimated.maxRunCpuSeconds = 0.0;
  QCOMPARE(slurmTime(estimated, 4, 3.0), std::string("04:00:00"));  // a plan without an estimate
}

void TstSweep::hostileGridsAreRefused() {
  // Issue 10 #1, #2, #11, #16: nesting, wrapping integers, names with paths, huge grids.
  const std::string nested = "{\"rules\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  QVERIFY(errorOf(nested).contains("nests deeper"));
  QVERIFY(errorOf(nested).size() < 400);
  QVERIFY(errorOf("{\"rules\": [4294967304]}").contains("rules"));
  QVERIFY(errorOf("{\"sizes\": [-4294967264]}").contains("sizes"));
  QVERIFY(errorOf("{\"name\": \"../../x\"}").contains("name"));
  QVERIFY(errorOf("{\"name\": \"x\\necho PWNED>/tmp/p\\n#\"}").contains("name"));
  QVERIFY(errorOf("{\"name\": 3}").contains("name"));
  std::string many = "{\"rules\": [2,3,4,5,6,7,8,9,10], \"sizes\": [";
  for (int i = 32; i < 32 + 300; ++i) many += std::to_string(i) + (i + 1 < 332 ? "," : "");
  many += "], \"data_seeds\": [0,1,2,3,4,5,6,7,8,9], \"model_seeds\": [0,1,2,3,4,5,6,7,8,9]}";
  QVERIFY2(errorOf(many).contains("at most 100000"), qPrintable(errorOf(many)));
  // Issue 26 #8: 512 values on 7 axes and 2 routing entries is 2^64 runs: it wrapped to 0.
  SweepGrid huge = parseGrid(kTinyGrid);
  std::vector<int> values(512);
  for (int i = 0; i < 512; ++i) values[static_cast<std::size_t>(i)] = i;
  huge.rules = huge.sizes = huge.dataSeeds = huge.modelSeeds = values;
  huge.settings = {Setting::Mlp, Setting::Mha, Setting::Rnn};
  huge.searchVersions = {1, 2};
  huge.routings.resize(2);
  try {
    expand(huge);
    QFAIL("a grid of 2^64 runs was expanded");
  } catch (const ConfigError& e) {
    QVERIFY2(QString(e.what()).contains("more than 100000"), e.what());
  }
}

void TstSweep::slurmScriptQuotesEverything() {
  QTemporaryDir tmp;
  // A sweep folder whose path holds a space, a tab, quotes and a command substitution.
  const std::string dir = tmp.path().toStdString() + "/it's a\t$(touch PWNED) sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  SlurmOptions o;
  o.cli = tmp.path().toStdString() + "/bin dir/modlab-cli";
  o.partition = "gpu\n#SBATCH --wrap=evil";
  QVERIFY_THROWS_EXCEPTION(ConfigError, writeSlurmScript(loadSweep(dir), o));
  o.partition = "gpu";
  o.time = "1:00:00; rm -rf /";
  QVERIFY_THROWS_EXCEPTION(ConfigError, writeSlurmScript(loadSweep(dir), o));
  o.time = "01:00:00";
  const std::string script = writeSlurmScript(loadSweep(dir), o).script;
  // Run the array task with a stand-in CLI that records its arguments.
  const std::string fake = tmp.path().toStdString() + "/fake-cli";
  writeFileAtomic(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGS_OUT\"\n");
  fs::permissions(fake, fs::perms::owner_all);
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("SLURM_ARRAY_TASK_ID", "1");
  env.insert("MODLAB_CLI", QString::fromStdString(fake));
  env.insert("ARGS_OUT", tmp.filePath("args.txt"));
  p.setProcessEnvironment(env);
  p.setWorkingDirectory(tmp.path());
  p.start("bash", {QString::fromStdString(script)});
  QVERIFY(p.waitForFinished(30000));
  QCOMPARE(p.exitCode(), 0);
  QVERIFY2(!QFile::exists(tmp.filePath("PWNED")), "a command in the path was run");
  const QStringList args = QString::fromStdString(readFile(tmp.filePath("args.txt").toStdString())).split('\n', Qt::SkipEmptyParts);
  const Sweep sweep = loadSweep(dir);
  // The task runs its run as 'sweep run' does (one reader, one verdict: skip, resume or restart).
  QCOMPARE(args, (QStringList{"sweep", "run", QString::fromStdString(sweep.directory), "--task", "1", "--quiet"}));
  // A task of the second array of a split sweep runs the run at its offset.
  env.insert("MODLAB_ARRAY_OFFSET", "6");
  p.setProcessEnvironment(env);
  p.start("bash", {QString::fromStdString(script)});
  QVERIFY(p.waitForFinished(30000));
  QCOMPARE(QString::fromStdString(readFile(tmp.filePath("args.txt").toStdString())).split('\n', Qt::SkipEmptyParts).at(4), QString("7"));
}

// Issue 26 #5: after 'sweep plan --force' with another learning rate, the runs of the old plan
// were reused ("6 of 6 finished (6 already before)") and the report was the old plan's.
void TstSweep::aReplannedSweepRunsItsRunsAgain() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  QCOMPARE(runSweep(loadSweep(dir), 2, {}).finished, 8);
  SweepGrid other = parseGrid(kTinyGrid);
  other.base[Setting::Mlp].learningRate = 3e-3;
  other.base[Setting::Mlp].steps = 20;
  other.families = {Family::Modular, Family::GtModular};  // the re-plan drops two families
  planSweep(other, dir, true);
  const Sweep replanned = loadSweep(dir);
  std::string error;
  QVERIFY(runState(replanned, replanned.runs[0], &error) == RunState::Stale);
  QVERIFY2(QString::fromStdString(error).contains("not the plan's"), error.c_str());
  const SweepReport before = collectReport(replanned);  // no result of the old plan is scored
  QVERIFY(before.rows.empty());
  QCOMPARE(before.missing.size(), std::size_t(8));
  const SweepProgress again = runSweep(replanned, 2, {});
  QCOMPARE(again.finished, 8);
  QCOMPARE(again.skipped, 0);
  for (const SweepRun& run : replanned.runs) {
    QVERIFY(runState(replanned, run) == RunState::Finished);
    QVERIFY(RunStore::open(replanned.runDirectory(run)).readConfig() == run.config);
  }
  QCOMPARE(collectReport(replanned).rows.size(), std::size_t(16));  // 8 runs x 2 families
}

void TstSweep::damagedRunsAreNamedNotScored() {
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  const Sweep sweep = loadSweep(dir);
  QCOMPARE(runSweep(sweep, 2, {}).finished, 8);
  // Issue 10 #8: one corrupt run.json; #9: a missing metrics.csv, one cut mid-number.
  const fs::path r0 = sweep.runDirectory(sweep.runs[0]), r1 = sweep.runDirectory(sweep.runs[1]),
                 r2 = sweep.runDirectory(sweep.runs[2]);
  writeFileAtomic(r0 / "run.json", "{\"status\": \"finis");
  fs::remove(r1 / "metrics.csv");
  std::string csv = readFile(r2 / "metrics.csv", kMaxLogBytes);
  const std::size_t cut = csv.rfind("0.") + 1;  // inside the last line's value
  std::string middle = csv;
  middle[csv.size() / 2] = middle[csv.size() / 2] == '9' ? '8' : '9';
  writeFileAtomic(r2 / "metrics.csv", middle);  // one changed digit in the middle of the file
  QVERIFY(recordedState(sweep, sweep.runs[0]) == RunState::Damaged);
  // Issue 26 #6: one verdict: a run.json that says finished over a damaged record is damaged for
  // 'sweep status' as for the report.
  QVERIFY(recordedState(sweep, sweep.runs[1]) == RunState::Damaged);
  QVERIFY(recordedState(sweep, sweep.runs[2]) == RunState::Damaged);
  SweepReport report = collectReport(sweep);
  QCOMPARE(report.rows.size(), std::size_t(20));
  QCOMPARE(report.failed.size(), std::size_t(3));
  const QString failed = QString::fromStdString(report.failed[0] + "\n" + report.failed[1] + "\n" + report.failed[2]);
  QVERIFY2(failed.contains("run.json") && failed.contains("metrics.csv is missing") && failed.contains("damaged"),
           qPrintable(failed));
  // A cut last line (a kill mid-write) is dropped with a warning, never read as a number.
  writeFileAtomic(r2 / "metrics.csv", csv.substr(0, cut));
  const RunRecord torn = RunStore::load(r2);
  QCOMPARE(torn.warnings.size(), std::size_t(2));  // the torn line, and the evaluation it leaves incomplete
  QVERIFY2(torn.warnings[1].find("left out") != std::string::npos, torn.warnings[1].c_str());
  QVERIFY_THROWS_EXCEPTION(ReadError, RunStore::loadFinished(r2));  // a finished run lost its last line
  // The damaged runs are run again; the others are kept.
  const SweepProgress again = runSweep(sweep, 2, {});
  QCOMPARE(again.skipped, 5);
  QCOMPARE(again.finished, 8);
  QVERIFY(collectReport(sweep).failed.empty());
}

void TstSweep::twoRunnersSplitTheWork() {
  // Issue 10 #7: two runners on one sweep trained every run twice.
  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(parseGrid(kTinyGrid), dir, false);
  const Sweep sweep = loadSweep(dir);
  SweepProgress a, b;
  std::thread other([&] { b = runSweep(sweep, 1, {}); });
  a = runSweep(sweep, 1, {});
  other.join();
  QCOMPARE(a.failed + b.failed, 0);
  QCOMPARE(collectReport(sweep).rows.size(), std::size_t(32));
  for (const SweepRun& run : sweep.runs) {
    const RunRecord r = RunStore::load(sweep.runDirectory(run));
    QCOMPARE(r.evaluations.size(), std::size_t(3));  // steps 0, 15, 30: each once
    QCOMPARE(r.train.size(), std::size_t(30 * 4));
  }
  QVERIFY(a.elsewhere + b.elsewhere > 0 || a.skipped + b.skipped > 0);
}


// The routing interventions as an axis: one run per entry, named by it, reported per entry
// (routing.csv) and kept out of the paper's ranking.
void TstSweep::routingAxisIsSweptAndReported() {
  const char* grid = R"({
  "name": "routing-tiny", "settings": ["mlp"], "tasks": ["classification"], "rules": [4], "sizes": [8],
  "model_seeds": [0, 1], "families": ["Monolithic", "Modular", "Modular-op"],
  "routing": [{}, {"balance_loss": 0.05}, {"sample_entropy_loss": 0.01, "batch_entropy_loss": 0.1, "routing": "top1"}],
  "base": {"mlp": {"steps": 30, "eval_every": 15, "batch_size": 32, "eval_batches": 1, "matrix_samples": 256,
                   "adaptation_priors": 2, "adaptation_samples": 128, "threads": 1}}
})";
  const SweepGrid g = parseGrid(grid);
  QCOMPARE(g.routings.size(), std::size_t(3));
  QVERIFY(parseGrid(toJson(g)).routings == g.routings);  // grid.json round-trips
  const auto runs = expand(g);
  QCOMPARE(runs.size(), std::size_t(6));
  std::set<std::string> names;
  for (const SweepRun& r : runs) names.insert(r.name);
  QCOMPARE(names.size(), std::size_t(6));
  QVERIFY(names.count("mlp-classification-R4-E8-ds0-ms1-bal0.05"));
  QVERIFY(names.count("mlp-classification-R4-E8-ds0-ms0-sent0.01-bent0.1-top1"));
  QVERIFY(errorOf(R"({"routing": [{"stepz": 1}]})").contains("stepz"));
  QVERIFY(errorOf(R"({"routing": [{"balance_loss": -1}]})").contains("balance_loss"));
  QVERIFY(errorOf(R"({"routing": [3]})").contains("routing"));

  QTemporaryDir tmp;
  const std::string dir = tmp.path().toStdString() + "/sweep";
  planSweep(g, dir, false);
  const Sweep sweep = loadSweep(dir);
  QCOMPARE(runSweep(sweep, 2, {}).finished, 6);
  const SweepReport report = collectReport(sweep);
  QCOMPARE(report.rows.size(), std::size_t(18));
  QVERIFY(hasRoutingVariants(report));
  QCOMPARE(report.ranking.comparisons, 1);  // the paper's routing only: one (task, R) group
  const std::string csv = routingCsv(report);
  // header + 2 families x 3 routings x 6 metrics
  QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), 1L + 2 * 3 * 6);
  QVERIFY(csv.find("\"paper\"") != std::string::npos);
  QVERIFY(csv.find("\"balance 0.05\"") != std::string::npos);
  for (const ReportRow& r : report.rows)
    if (r.family == Family::Monolithic) QVERIFY(r.routing.empty());
}
QTEST_GUILESS_MAIN(TstSweep)
#include "tst_sweep.moc"
