// modlab-cli, the real binary: exit codes, messages, run folders, kill and resume.
#include <QtTest>

#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

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
};

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
  r = cli({"frobnicate"});
  QVERIFY(r.code != 0);
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

QTEST_GUILESS_MAIN(TstCli)
#include "tst_cli.moc"
