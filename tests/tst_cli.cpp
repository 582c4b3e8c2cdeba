// modlab-cli, the real binary: exit codes, messages, run folders, kill and resume.
#include <QtTest>

#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>

#include <csignal>

using namespace std::chrono_literals;

namespace {
struct Result {
  int code = -1;
  QString out, err;
};

Result cli(const QStringList& args, int timeoutMs = 120000) {
  QProcess p;
  p.start(MODLAB_CLI, args);
  p.waitForFinished(timeoutMs);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

const QStringList kTiny{"--preset", "demo-mlp-few-rules", "--set", "size=8", "--set", "batch_size=64",
                        "--set", "eval_every=50", "--set", "eval_batches=1", "--set", "matrix_samples=512",
                        "--set", "adaptation_priors=4", "--set", "adaptation_samples=256", "--quiet"};

QString readAll(const QString& path) {
  QFile f(path);
  f.open(QIODevice::ReadOnly);
  return QString::fromUtf8(f.readAll());
}
}  // namespace

class TstCli : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void presetsAreListed();
  void badInputExitsWithAClearMessage();
  void trainWritesARunFolderAndProtectsIt();
  void killedRunResumesExactly();
  void evalReportsTheRun();
  void hostileInputNeverCrashes();
  void aSecondWriterIsRefused();
  void interruptDuringEvaluationIsPrompt();
  void evalWithoutRunJsonKnowsItsStep();
  void evalSizeAndMatricesFromTheCommandLine();
  void aSignalDuringSetUpStopsCleanly();
  void configBytesThatAreNotUtf8AreNamed();
  void resumingAFinishedRunNamesItsStep();
  void evalDuringTrainingTakesOneGeneration();
  void theRunsFolderIsTheAppsOne();
};

void TstCli::theRunsFolderIsTheAppsOne() {
  // Issue 25 #14: the CLI wrote ./runs/ and ignored MODLAB_RUNS_DIR, so the app never saw its runs.
  QTemporaryDir tmp;
  for (const bool byVariable : {false, true}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("MODLAB_RUNS_DIR");
    env.remove("XDG_DATA_HOME");
    if (byVariable) env.insert("MODLAB_RUNS_DIR", tmp.filePath("runs"));
    else env.insert("HOME", tmp.filePath("home"));
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(tmp.path());
    p.start(MODLAB_CLI, QStringList{"train"} + kTiny + QStringList{"--set", "steps=20"});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 0);
    const QString where = byVariable ? tmp.filePath("runs") : tmp.filePath("home/.local/share/ModularityLab/runs");
    const QStringList runs = QDir(where).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    QCOMPARE(runs.size(), 1);
    QVERIFY2(QString::fromUtf8(p.readAllStandardOutput()).contains(where + "/" + runs.first()), qPrintable(where));
    if (!byVariable) QVERIFY(!QDir(tmp.filePath("runs")).exists());  // nothing in the working folder
  }
}

void TstCli::evalDuringTrainingTakesOneGeneration() {
  // Issue 22 #7: eval while the run trained mixed checkpoint generations across families
  // (steps 445 and 450) and said the writer had stopped.
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QProcess training;
  training.start(MODLAB_CLI, QStringList{"train"} + kTiny +
                                 QStringList{"--set", "steps=1000000", "--set", "eval_every=10", "--out", out});
  QVERIFY(training.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QDir(out + "/checkpoints").entryList({"step-*"}, QDir::Dirs).size() >= 2, 120000);
  for (int i = 0; i < 3; ++i) {
    const Result r = cli({"eval", out, "--json", "--batches", "1", "--matrix-samples", "64"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QJsonObject report = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const qint64 step = report["step"].toInteger();
    for (const QJsonValue& f : report["families"].toArray())
      QCOMPARE(f.toObject()["checkpoint_step"].toInteger(), step);
    QVERIFY2(r.err.contains("still training") && !r.err.contains("process stopped"), qPrintable(r.err));
  }
  ::kill(static_cast<pid_t>(training.processId()), SIGTERM);
  QVERIFY(training.waitForFinished(120000));
  QCOMPARE(training.exitCode(), 130);
}

void TstCli::aSignalDuringSetUpStopsCleanly() {
  // Issue 22 #2: SIGTERM that came before the handler was installed killed the run (rc 143).
  // Here it comes as soon as the run folder appears, while it is being set up.
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QProcess p;
  p.start(MODLAB_CLI, QStringList{"train"} + kTiny + QStringList{"--set", "steps=2000", "--out", out});
  QVERIFY(p.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(out), 60000);
  ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
  QVERIFY(p.waitForFinished(120000));
  QCOMPARE(p.exitStatus(), QProcess::NormalExit);
  QCOMPARE(p.exitCode(), 130);
  const QString info = readAll(out + "/run.json");
  QVERIFY2(!info.contains("\"running\""), qPrintable(info));
  // What it left is resumable, or reused by a fresh train into the same folder.
  const Result again = QFileInfo::exists(out + "/config.json")
                           ? cli({"train", "--out", out, "--resume", "--quiet"}, 300000)
                           : cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out});
  QVERIFY2(again.code == 0 || again.code == 2, qPrintable(again.err));
}

void TstCli::configBytesThatAreNotUtf8AreNamed() {
  // Issue 22 #2: --set $'description=\xff' failed with a raw JSON type_error after the run
  // folder was half made. The raw byte goes through bash: QProcess passes UTF-8 only.
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QProcess p;
  p.start("bash", {"-c", "exec \"$0\" train --preset demo-mlp-few-rules --quiet --out \"$1\" --set $'description=caf\\xff'",
                   MODLAB_CLI, out});
  QVERIFY(p.waitForFinished(60000));
  const QString err = QString::fromUtf8(p.readAllStandardError());
  QCOMPARE(p.exitCode(), 2);
  QVERIFY2(err.contains("invalid description") && err.contains("UTF-8"), qPrintable(err));
  QVERIFY2(!err.contains("type_error"), qPrintable(err));
  QVERIFY(!QFileInfo::exists(out));
}

void TstCli::resumingAFinishedRunNamesItsStep() {
  // Issue 22 #4: resuming a finished run printed "finished at step 0" and an empty table.
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QCOMPARE(cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out}).code, 0);
  const Result r = cli({"train", "--out", out, "--resume", "--quiet"});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains("finished at step 100"), qPrintable(r.out));
  QVERIFY2(r.out.contains("Monolithic"), qPrintable(r.out));
}

void TstCli::presetsAreListed() {
  const Result r = cli({"presets"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.contains("demo-mlp-collapse"));
  QVERIFY(r.out.contains("(default demo)"));
  QVERIFY(r.out.contains("paper-rnn-regression"));
}

void TstCli::badInputExitsWithAClearMessage() {
  Result r = cli({"train", "--preset", "demo-mlp-colapse"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("did you mean 'demo-mlp-collapse'"), qPrintable(r.err));
  r = cli({"train", "--preset", "demo-mlp-collapse", "--set", "rules=1"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("rules") && r.err.contains("from 2"), qPrintable(r.err));
  QTemporaryDir tmp;
  const QString bad = tmp.filePath("bad.json");
  QFile f(bad);
  f.open(QIODevice::WriteOnly);
  f.write("{\n  \"rules\": 8,\n  \"size\" 64\n}\n");
  f.close();
  r = cli({"train", "--config", bad});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("line 3") && r.err.contains("bad.json"), qPrintable(r.err));
  r = cli({"train", "--config", tmp.filePath("missing.json")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("missing.json"), qPrintable(r.err));
  r = cli({"eval", tmp.filePath("no-run-here")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("no run"), qPrintable(r.err));
  // Issue 26 #10: one scheme: every usage error exits 2 (CLI11's own codes were 105 to 109),
  // --help and --version 0, and a value out of range is named, not printed as 300 digits.
  for (const QStringList& usage : {QStringList{"frobnicate"}, QStringList{}, QStringList{"train", "--nope"},
                                   QStringList{"bench", "--seconds", "-1"}, QStringList{"sweep", "slurm", "x", "--mem=-5"},
                                   QStringList{"sweep", "slurm", "x", "--mem=0"}, QStringList{"sweep", "slurm", "x", "--gpus=-1"},
                                   QStringList{"sweep", "slurm", "x", "--max-parallel=-3"}, QStringList{"report", "x", "--figure-scale", "3"}}) {
    r = cli(usage);
    QVERIFY2(r.code == 2, qPrintable(usage.join(' ') + QString(": exit %1").arg(r.code)));
    QVERIFY2(r.err.size() < 300, qPrintable(r.err));
  }
  QCOMPARE(cli({"--help"}).code, 0);
  QCOMPARE(cli({"--version"}).code, 0);
  // #13: the progress line fits an 80-column terminal (it wrapped and left a stale line).
  QProcess terminal;
  terminal.start("script", {"-qfec", QString("stty cols 80 rows 24; '%1' train %2 --set steps=600 --out '%3'")
                                         .arg(MODLAB_CLI, QStringList(kTiny.mid(0, kTiny.size() - 1)).join(' '), tmp.filePath("tty-run")),
                            "/dev/null"});
  QVERIFY(terminal.waitForFinished(120000));
  const QString shown = QString::fromUtf8(terminal.readAllStandardOutput());
  QVERIFY2(shown.contains("step"), qPrintable(shown.left(400)));
  for (QString segment : shown.split(QRegularExpression("[\r\n]"))) {
    segment.remove(QRegularExpression("\x1b\\[[0-9;]*[A-Za-z]"));
    QVERIFY2(segment.size() < 80 || !segment.startsWith("step"), qPrintable(QString("%1 columns: %2").arg(segment.size()).arg(segment)));
  }
}

void TstCli::trainWritesARunFolderAndProtectsIt() {
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  Result r = cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains("run folder:") && r.out.contains("finished at step 100"), qPrintable(r.out));
  for (const char* name : {"config.json", "metrics.csv", "activations.jsonl", "run.json"})
    QVERIFY2(QFile::exists(out + "/" + name), name);
  const QString before = readAll(out + "/metrics.csv");
  r = cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("already holds a run"), qPrintable(r.err));
  QCOMPARE(readAll(out + "/metrics.csv"), before);
  r = cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out, "--force"});
  QCOMPARE(r.code, 0);
}

// SIGKILL in the middle of training, then --resume: the run ends exactly as one never interrupted.
void TstCli::killedRunResumesExactly() {
  QTemporaryDir tmp;
  const QString whole = tmp.filePath("whole"), killed = tmp.filePath("killed");
  const QStringList steps{"--set", "steps=1500"};
  QCOMPARE(cli(QStringList{"train"} + kTiny + steps + QStringList{"--out", whole}).code, 0);

  QProcess p;
  p.start(MODLAB_CLI, QStringList{"train"} + kTiny + steps + QStringList{"--out", killed});
  QVERIFY(p.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(readAll(killed + "/run.json").toUtf8())["checkpoint_step"].toInt() >= 100,
                           60000);
  p.kill();
  p.waitForFinished();
  const QJsonObject info = QJsonDocument::fromJson(readAll(killed + "/run.json").toUtf8()).object();
  QVERIFY2(info["steps_done"].toInt() < 1500, "killed before the end");

  const Result r = cli({"train", "--out", killed, "--resume", "--quiet"});
  QCOMPARE(r.code, 0);
  QCOMPARE(readAll(killed + "/metrics.csv"), readAll(whole + "/metrics.csv"));
  // The activation matrices too (their lines also carry the wall time, which differs).
  auto matrices = [](const QString& path) {
    QStringList rows;
    for (const QString& line : readAll(path).split('\n', Qt::SkipEmptyParts)) {
      QJsonObject o = QJsonDocument::fromJson(line.toUtf8()).object();
      o.remove("wall_seconds");
      o.remove("crc32");  // covers the wall time
      rows << QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    }
    return rows;
  };
  QCOMPARE(matrices(killed + "/activations.jsonl"), matrices(whole + "/activations.jsonl"));
}

void TstCli::evalReportsTheRun() {
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QCOMPARE(cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=50", "--out", out}).code, 0);
  Result r = cli({"eval", out});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains("GT-Modular") && r.out.contains("Align"), qPrintable(r.out));
  r = cli({"eval", out, "--json", "--checkpoint", "best"});
  QCOMPARE(r.code, 0);
  const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
  QCOMPARE(o["checkpoint"].toString(), QString("best"));
  QCOMPARE(o["families"].toArray().size(), 4);
  QVERIFY(o["families"].toArray()[3].toObject()["metrics"].toObject()["alignment"].toDouble() < 1e-9);  // GT
}

void TstCli::hostileInputNeverCrashes() {
  QTemporaryDir tmp;
  auto write = [&](const QString& name, const QByteArray& bytes) {
    QFile f(tmp.filePath(name));
    f.open(QIODevice::WriteOnly);
    f.write(bytes);
    return tmp.filePath(name);
  };
  // Issue 10 #1: deeply nested JSON (was a segfault), as a config and as a grid.
  const QString nested = write("n.json", "{\"rules\":" + QByteArray(100000, '[') + QByteArray(100000, ']') + "}");
  Result r = cli({"train", "--config", nested});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("nests deeper") && r.err.size() < 600, qPrintable(r.err.left(600)));
  r = cli({"sweep", "plan", "--grid", nested, "--out", tmp.filePath("s")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("nests deeper"), qPrintable(r.err.left(600)));
  // #2: wrapping integers.
  r = cli({"train", "--preset", "demo-mlp-speed", "--set", "rules=4294967304", "--out", tmp.filePath("w")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("rules"), qPrintable(r.err));
  QVERIFY(!QFile::exists(tmp.filePath("w/config.json")));
  // #15: an overflowing number names its key.
  r = cli({"train", "--preset", "demo-mlp-speed", "--set", "learning_rate=1e400"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("learning_rate"), qPrintable(r.err));
  // #16: /dev/zero and a 50 MB value.
  r = cli({"train", "--config", "/dev/zero"}, 20000);
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("/dev/zero") && r.err.contains("larger than"), qPrintable(r.err));
  const QString big = write("big.json", "{\"setting\": \"" + QByteArray(50 << 20, 'x') + "\"}");
  r = cli({"train", "--config", big});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.size() < 600, qPrintable(r.err.left(600)));
  // #17: empty --config / --preset are errors, not the default demo; --set order is free.
  r = cli({"train", "--config", ""});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--config"), qPrintable(r.err));
  r = cli({"train", "--preset", ""});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--preset"), qPrintable(r.err));
  r = cli(QStringList{"train"} + kTiny + QStringList{"--set", "setting=mha", "--set", "rules=128", "--set", "size=64",
                                                    "--set", "steps=1", "--set", "eval_every=1", "--out", tmp.filePath("mha")});
  QCOMPARE(r.code, 0);
  // #11: names that would leave their folder.
  r = cli(QStringList{"train"} + kTiny + QStringList{"--set", "name=../../../X"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("name"), qPrintable(r.err));
}

void TstCli::aSecondWriterIsRefused() {
  // Issue 10 #6: a second train --force (or --resume) while the first still trains.
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QProcess first;
  first.start(MODLAB_CLI, QStringList{"train"} + kTiny + QStringList{"--set", "steps=1000000", "--out", out});
  QVERIFY(first.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(out + "/run.json"), 60000);
  Result r = cli(QStringList{"train"} + kTiny + QStringList{"--out", out, "--force"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("in use by process " + QString::number(first.processId())), qPrintable(r.err));
  r = cli({"train", "--out", out, "--resume"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("in use"), qPrintable(r.err));
  first.terminate();  // SIGTERM: stops cleanly
  QVERIFY(first.waitForFinished(20000));
  QCOMPARE(QJsonDocument::fromJson(readAll(out + "/run.json").toUtf8())["status"].toString(), QString("stopped"));
  // A stale lock of a dead holder is taken over.
  QProcess killed;
  killed.start(MODLAB_CLI, {"train", "--out", out, "--resume", "--quiet"});
  QVERIFY(killed.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(readAll(out + "/run.json").toUtf8())["status"].toString() == "running",
                           60000);
  killed.kill();
  killed.waitForFinished();
  QProcess again;
  again.start(MODLAB_CLI, {"train", "--out", out, "--resume", "--quiet"});
  QVERIFY(again.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(readAll(out + "/.lock").startsWith("process " + QString::number(again.processId()) + " "), 60000);
  QThread::msleep(500);
  again.terminate();
  QVERIFY(again.waitForFinished(20000));
  QCOMPARE(again.exitCode(), 130);
}

void TstCli::interruptDuringEvaluationIsPrompt() {
  // Issue 10 #17: Ctrl-C was ignored for 30 s during a large evaluation.
  QTemporaryDir tmp;
  QProcess p;
  p.start(MODLAB_CLI, QStringList{"train"} + kTiny + QStringList{"--set", "matrix_samples=100000000", "--out", tmp.filePath("r")});
  QVERIFY(p.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(tmp.filePath("r/run.json")), 60000);  // the step-0 evaluation is under way
  QThread::msleep(500);
  QElapsedTimer answered;
  answered.start();
  ::kill(static_cast<pid_t>(p.processId()), SIGINT);
  QVERIFY(p.waitForFinished(20000));
  QVERIFY2(answered.elapsed() < 5000, qPrintable(QString::number(answered.elapsed()) + " ms"));
  QCOMPARE(p.exitCode(), 130);
}

void TstCli::evalWithoutRunJsonKnowsItsStep() {
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QCOMPARE(cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=50", "--out", out}).code, 0);
  QFile::remove(out + "/run.json");
  const Result r = cli({"eval", out});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains("at step 50"), qPrintable(r.out));
}

void TstCli::evalSizeAndMatricesFromTheCommandLine() {
  QTemporaryDir tmp;
  const QString out = tmp.filePath("run");
  QCOMPARE(cli(QStringList{"train"} + kTiny + QStringList{"--set", "steps=100", "--out", out}).code, 0);
  const QStringList args{"eval", out, "--batches", "3", "--batch-size", "100", "--matrix-samples", "1000", "--json"};
  Result r = cli(args);
  QCOMPARE(r.code, 0);
  const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
  const QJsonObject e = o["evaluation"].toObject();
  QCOMPARE(e["batches"].toInt(), 3);
  QCOMPARE(e["batch_size"].toInt(), 100);
  QCOMPARE(e["matrix_samples"].toInt(), 1000);
  QVERIFY(e.contains("seed"));
  const int rules = QJsonDocument::fromJson(readAll(out + "/config.json").toUtf8())["rules"].toInt();
  for (const QJsonValue& v : o["families"].toArray()) {
    const QJsonObject f = v.toObject();
    QVERIFY(f.contains("checkpoint_step"));
    if (f["family"].toString() == "Monolithic") {
      QVERIFY(!f.contains("activation_matrix"));
      continue;
    }
    const QJsonObject m = f["activation_matrix"].toObject();
    QCOMPARE(m["samples"].toInt(), 1000);
    QVERIFY(m.contains("seed"));
    const QJsonArray rows = m["module_given_rule"].toArray();
    QCOMPARE(rows.size(), rules);
    for (const QJsonValue& row : rows) {
      QCOMPARE(row.toArray().size(), rules);
      double total = 0;
      for (const QJsonValue& p : row.toArray()) total += p.toDouble();
      QVERIFY2(std::abs(total - 1.0) < 1e-6, qPrintable(QString::number(total)));  // p(module | rule) sums to 1
    }
  }
  // The same data again gives the same matrices: the seed makes it reproducible.
  QCOMPARE(cli(args).out, r.out);
  // Sizes are validated and named.
  r = cli({"eval", out, "--batches", "0"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--batches"), qPrintable(r.err));
  r = cli({"eval", out, "--matrix-samples", "1000000000"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--matrix-samples"), qPrintable(r.err));
  // Best checkpoints know the step and the validation value they were chosen at.
  r = cli({"eval", out, "--checkpoint", "best"});
  QCOMPARE(r.code, 0);
  QVERIFY2(r.out.contains("GT-Modular  step ") && r.out.contains("validation"), qPrintable(r.out));
}

QTEST_GUILESS_MAIN(TstCli)
#include "tst_cli.moc"
