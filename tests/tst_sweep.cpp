// Sweeps: grid expansion, bad grids, sweep folders, the local runner, Slurm scripts, report.
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <set>

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
  void paperGridIsTwentyThousandModels();
  void paperLiteKeepsTheStructure();
  void badGridsAreNamed();
  void planRunReport();
  void otherVersionIsRefused();
  void slurmScriptHasOneTaskPerRun();
};

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
  QCOMPARE(wins, 4);
  QCOMPARE(report.ranking.modularWins + report.ranking.monolithicWins, 4);
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
  QCOMPARE(report.rows.size(), std::size_t(28));
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
  const std::string script = readFile(writeSlurmScript(loadSweep(dir), o));
  QVERIFY(script.find("#SBATCH --array=0-7") != std::string::npos);
  QVERIFY(script.find("#SBATCH --partition=gpu") != std::string::npos);
  QVERIFY(script.find("#SBATCH --gres=gpu:1") != std::string::npos);
  QVERIFY(script.find("#SBATCH --cpus-per-task=4") != std::string::npos);
  QVERIFY(script.find("#SBATCH --time=01:30:00") != std::string::npos);
  QVERIFY(script.find("/opt/modlab/bin/modlab-cli") != std::string::npos);
  const std::string runs = readFile(dir + "/slurm/runs.txt");
  QCOMPARE(std::count(runs.begin(), runs.end(), '\n'), 8L);
}

QTEST_GUILESS_MAIN(TstSweep)
#include "tst_sweep.moc"
