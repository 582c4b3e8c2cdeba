// The OpenBLAS kernel choice (pure logic over CPU feature sets), the start-up SGEMM check, and
// what modlab-cli info and bench report about it (the real binary, through QProcess).
#include <QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <dlfcn.h>

#include "modlab/platform/blas_kernel.h"
#include "modlab/platform/gemm_backend.h"
#include "modlab/platform/malloc_arenas.h"

using modlab::BlasKernelSource;
using modlab::BlasStartupState;
using modlab::CpuFeatures;
using Action = modlab::KernelChoice::Action;
using modlab::ReexecMarker;

namespace {

CpuFeatures avx512() { return {true, true, true, true, true, true}; }
CpuFeatures avx2Fma() { return {true, true, false, false, false, false}; }

BlasStartupState unaided(const std::string& core, CpuFeatures cpu) {
  BlasStartupState s;
  s.coreName = core;
  s.cpu = cpu;
  return s;
}

// A correct multiply the check must accept, and wrong ones it must reject (row-major only).
float at(const float* m, int ld, bool trans, int row, int col) { return trans ? m[col * ld + row] : m[row * ld + col]; }

void loopSgemm(int, int transA, int transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
               int ldb, float beta, float* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int p = 0; p < k; ++p) sum += at(a, lda, transA == 112, i, p) * at(b, ldb, transB == 112, p, j);
      c[i * ldc + j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * c[i * ldc + j]);
    }
}

void sgemmDroppingLastTerm(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a, int lda,
                           const float* b, int ldb, float beta, float* c, int ldc) {
  loopSgemm(order, transA, transB, m, n, k - 1, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemmIgnoringTranspose(int order, int, int, int m, int n, int k, float alpha, const float* a, int lda,
                            const float* b, int ldb, float beta, float* c, int ldc) {
  loopSgemm(order, 111, 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemmLeavingC(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int) {}

struct Result {
  int code = -1;
  QString out, err;
};

// modlab-cli with OPENBLAS_CORETYPE and MODLAB_BLAS_REEXEC removed, then `set` applied.
Result cli(const QStringList& args, const QMap<QString, QString>& set = {}, int timeoutMs = 180000) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove("OPENBLAS_CORETYPE");
  env.remove("MODLAB_BLAS_REEXEC");
  for (auto it = set.begin(); it != set.end(); ++it) env.insert(it.key(), it.value());
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(MODLAB_CLI, args);
  p.waitForFinished(timeoutMs);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

QJsonObject jsonOf(const Result& r) { return QJsonDocument::fromJson(r.out.toUtf8()).object(); }

// What OpenBLAS picks by itself here: this test process does not restart, so its core is it,
// unless the environment running the tests forces one.
bool unaidedHere(BlasStartupState& state) {
  state = modlab::readBlasStartupState();
  return !state.coretype && state.marker.empty() && !state.coreName.empty();
}

bool writeFile(const QString& path, const QString& text) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(text.toUtf8()) == text.toUtf8().size();
}

// A stand-in for the authors' bench_ref.py: records each call and prints its result line.
const char* kFakeReference = R"(import json, os, sys
with open('calls.jsonl', 'a') as f:
    f.write(json.dumps({'argv': sys.argv[1:], 'coretype': os.environ.get('OPENBLAS_CORETYPE'),
                        'ref_threads': os.environ.get('REF_THREADS'), 'preload': os.environ.get('LD_PRELOAD'),
                        'gemm': os.environ.get('MODLAB_GEMM')}) + '\n')
print(f"{sys.argv[1]} Classification {sys.argv[2]} R={sys.argv[3]} params=1234 steps/s=50.0")
)";

}  // namespace

class TstBlasKernel : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void aValueTheUserSetIsRespected();
  void aGenericCoreOnAnAvx512CpuGetsSkylakeX();
  void aGenericCoreOnAnAvx2FmaCpuGetsHaswell_data();
  void aGenericCoreOnAnAvx2FmaCpuGetsHaswell();
  void withoutAvx2AndFmaNothingIsForced_data();
  void withoutAvx2AndFmaNothingIsForced();
  void aGoodCoreIsKept_data();
  void aGoodCoreIsKept();
  void onlyOneRestart_data();
  void onlyOneRestart();
  void anInheritedChoiceThisCpuCannotRunIsForgotten();
  void withoutOpenBlasNothingIsForced();
  void markersRoundTrip();
  void statusSaysHowTheKernelWasChosen();
  void cpuFeaturesMatchProcCpuinfo();
  void sgemmCheckAcceptsCorrectAndRejectsWrongMultiplies();
  void infoNamesTheKernelChosenHere();
  void infoRespectsTheUsersKernel();
  void infoAfterAFailedCheckWarnsAndDoesNotRestart();
  void aKernelThatFailsTheCheckFallsBackWithAWarning();
  void benchNamesTheKernelAndShowsNoSpeedupWithoutReference();
  void benchRunsTheReferenceOnTheSameKernel();
  void benchReportsAFailingReference();
  void gemmChoiceRespectsTheUserAndTheCheck();
  void benchRoundsAlternateAndReportMedians();
  void infoNamesTheGemmLibrary();
  void infoNamesTheOwnKernelsAndTheirOverride();
  void mallocArenasRespectTheUsersChoice();
  void infoNamesTheMallocArenas();
};

void TstBlasKernel::aValueTheUserSetIsRespected() {
  for (const std::string& value : {"Haswell", "Prescott", "SkylakeX", ""}) {
    BlasStartupState s = unaided("Prescott", avx512());
    s.coretype = value;
    const auto choice = modlab::chooseBlasKernel(s);
    QVERIFY2(choice.kernel.empty(), value.c_str());
    QVERIFY2(choice.reason.find("respected") != std::string::npos, choice.reason.c_str());
  }
}

void TstBlasKernel::aGenericCoreOnAnAvx512CpuGetsSkylakeX() {
  for (const std::string& core : {"Prescott", "prescott", "Unknown", "Sandybridge", "Nehalem", "Core2"}) {
    const auto choice = modlab::chooseBlasKernel(unaided(core, avx512()));
    QVERIFY(choice.action == Action::Restart);
    QCOMPARE(choice.kernel, std::string("SkylakeX"));
    QVERIFY2(choice.reason.find(core) != std::string::npos, choice.reason.c_str());
  }
}

void TstBlasKernel::aGenericCoreOnAnAvx2FmaCpuGetsHaswell_data() {
  QTest::addColumn<int>("missing");  // which AVX-512 part the CPU lacks: 0 F, 1 BW, 2 DQ, 3 VL, 4 all
  for (int i = 0; i <= 4; ++i) QTest::addRow("missing %d", i) << i;
}

void TstBlasKernel::aGenericCoreOnAnAvx2FmaCpuGetsHaswell() {
  QFETCH(int, missing);
  CpuFeatures cpu = avx512();
  bool* parts[] = {&cpu.avx512f, &cpu.avx512bw, &cpu.avx512dq, &cpu.avx512vl};
  if (missing == 4) cpu = avx2Fma();
  else *parts[missing] = false;
  QCOMPARE(modlab::chooseBlasKernel(unaided("Prescott", cpu)).kernel, std::string("Haswell"));
}

void TstBlasKernel::withoutAvx2AndFmaNothingIsForced_data() {
  QTest::addColumn<bool>("avx2");
  QTest::addColumn<bool>("fma");
  QTest::addRow("AVX2 without FMA") << true << false;
  QTest::addRow("FMA without AVX2") << false << true;
  QTest::addRow("neither") << false << false;
}

void TstBlasKernel::withoutAvx2AndFmaNothingIsForced() {
  QFETCH(bool, avx2);
  QFETCH(bool, fma);
  CpuFeatures cpu;
  cpu.avx2 = avx2;
  cpu.fma = fma;
  const auto choice = modlab::chooseBlasKernel(unaided("Prescott", cpu));
  QVERIFY2(choice.kernel.empty(), choice.kernel.c_str());
  QVERIFY(!choice.reason.empty());
  cpu.avx512f = cpu.avx512dq = true;  // F and DQ alone are not enough for SkylakeX either
  QVERIFY(modlab::chooseBlasKernel(unaided("Prescott", cpu)).kernel.empty());
}

void TstBlasKernel::aGoodCoreIsKept_data() {
  QTest::addColumn<QString>("core");
  for (const char* core : {"SkylakeX", "Cooperlake", "SapphireRapids", "Haswell", "Zen", "Excavator", "NewCore2030"})
    QTest::newRow(core) << core;
}

void TstBlasKernel::aGoodCoreIsKept() {
  QFETCH(QString, core);
  for (const CpuFeatures& cpu : {avx512(), avx2Fma()}) {
    const auto choice = modlab::chooseBlasKernel(unaided(core.toStdString(), cpu));
    QVERIFY2(choice.kernel.empty(), choice.kernel.c_str());
  }
}

void TstBlasKernel::onlyOneRestart_data() {
  QTest::addColumn<QString>("marker");
  QTest::newRow("after our choice") << "chosen:SkylakeX:Prescott";
  QTest::newRow("after a failed check") << "failed:SkylakeX:Prescott";
  QTest::newRow("any other value") << "1";
}

void TstBlasKernel::onlyOneRestart() {
  QFETCH(QString, marker);
  BlasStartupState s = unaided("Prescott", avx512());  // would restart without the marker
  s.marker = marker.toStdString();
  const auto choice = modlab::chooseBlasKernel(s);
  QVERIFY(choice.action == Action::Keep);
  QVERIFY2(choice.kernel.empty(), choice.kernel.c_str());
  QVERIFY2(choice.reason.find("already restarted") != std::string::npos, choice.reason.c_str());
}

void TstBlasKernel::anInheritedChoiceThisCpuCannotRunIsForgotten() {
  // A parent on an AVX-512 machine chose SkylakeX; this child runs where there is only AVX2 + FMA.
  BlasStartupState s = unaided("SkylakeX", avx2Fma());
  s.coretype = "SkylakeX";
  s.marker = "chosen:SkylakeX:Prescott";
  auto choice = modlab::chooseBlasKernel(s);
  QVERIFY(choice.action == Action::Forget);
  QVERIFY2(choice.reason.find("AVX-512") != std::string::npos, choice.reason.c_str());
  s.cpu = CpuFeatures{};
  QVERIFY(modlab::chooseBlasKernel(s).action == Action::Forget);

  s.cpu = avx512();  // a CPU that runs it keeps it
  QVERIFY(modlab::chooseBlasKernel(s).action == Action::Keep);
  s.cpu = avx2Fma();
  s.coretype = "Haswell";  // a kernel that the user set is theirs even under our marker
  QVERIFY(modlab::chooseBlasKernel(s).action == Action::Keep);
  s.coretype = "SkylakeX";
  s.marker = "failed:SkylakeX:Prescott";
  QVERIFY(modlab::chooseBlasKernel(s).action == Action::Keep);
}

void TstBlasKernel::withoutOpenBlasNothingIsForced() {
  QVERIFY(modlab::chooseBlasKernel(unaided("", avx512())).kernel.empty());
  const auto status = modlab::describeBlasKernel(unaided("", avx512()));
  QVERIFY(status.source == BlasKernelSource::None);
  QVERIFY(status.kernel.empty());
}

void TstBlasKernel::markersRoundTrip() {
  for (auto kind : {ReexecMarker::Kind::Chosen, ReexecMarker::Kind::Failed}) {
    const ReexecMarker m = modlab::parseMarker(modlab::formatMarker({kind, "Haswell", "Prescott"}));
    QVERIFY(m.kind == kind);
    QCOMPARE(m.kernel, std::string("Haswell"));
    QCOMPARE(m.replaced, std::string("Prescott"));
  }
  for (const std::string& bad : {"", "1", "chosen", "chosen:", "chosen::Prescott", "other:Haswell:Prescott"})
    QVERIFY2(modlab::parseMarker(bad).kind == ReexecMarker::Kind::None, bad.c_str());
}

void TstBlasKernel::statusSaysHowTheKernelWasChosen() {
  BlasStartupState s = unaided("SkylakeX", avx512());
  s.coretype = "SkylakeX";
  s.marker = "chosen:SkylakeX:Prescott";
  auto status = modlab::describeBlasKernel(s);
  QVERIFY(status.source == BlasKernelSource::Automatic);
  QCOMPARE(status.kernel, std::string("SkylakeX"));
  QVERIFY2(status.how.find("Prescott") != std::string::npos, status.how.c_str());
  QVERIFY(status.warning.empty());

  s.coreName = "Prescott";  // an OpenBLAS without DYNAMIC_ARCH ignores the variable
  status = modlab::describeBlasKernel(s);
  QCOMPARE(status.kernel, std::string("Prescott"));
  QVERIFY2(status.warning.find("asked for SkylakeX") != std::string::npos, status.warning.c_str());

  s.coretype = "Haswell";  // the user changed the variable after our restart: it is theirs
  s.coreName = "Haswell";
  status = modlab::describeBlasKernel(s);
  QVERIFY(status.source == BlasKernelSource::User);
  QVERIFY2(status.how.find("OPENBLAS_CORETYPE=Haswell") != std::string::npos, status.how.c_str());

  s.coretype = "Bogus";  // OpenBLAS maps a name it does not know to a core of its choice
  s.coreName = "Cooperlake";
  status = modlab::describeBlasKernel(s);
  QCOMPARE(status.kernel, std::string("Cooperlake"));
  QVERIFY2(status.how.find("maps to Cooperlake") != std::string::npos, status.how.c_str());

  s = unaided("Prescott", avx512());
  s.marker = "failed:SkylakeX:Prescott";
  status = modlab::describeBlasKernel(s, "from start-up");
  QVERIFY(status.source == BlasKernelSource::OpenBlas);
  QCOMPARE(status.kernel, std::string("Prescott"));
  QVERIFY2(status.warning.find("from start-up") != std::string::npos, status.warning.c_str());
  QVERIFY2(status.warning.find("SkylakeX kernel disagreed") != std::string::npos, status.warning.c_str());
  QVERIFY(status.summary().find("Prescott") == 0);
}

void TstBlasKernel::cpuFeaturesMatchProcCpuinfo() {
#if !defined(__x86_64__)
  QSKIP("x86-64 only");
#endif
  QFile cpuinfo("/proc/cpuinfo");
  if (!cpuinfo.open(QIODevice::ReadOnly)) QSKIP("no /proc/cpuinfo");
  QStringList flags;
  for (const QByteArray& line : cpuinfo.readAll().split('\n'))
    if (line.startsWith("flags")) {
      flags = QString::fromLatin1(line.mid(line.indexOf(':') + 1)).split(' ', Qt::SkipEmptyParts);
      break;
    }
  QVERIFY(!flags.isEmpty());
  const CpuFeatures f = modlab::detectCpuFeatures();
  QCOMPARE(f.avx2, flags.contains("avx2"));
  QCOMPARE(f.fma, flags.contains("fma"));
  QCOMPARE(f.avx512f, flags.contains("avx512f"));
  QCOMPARE(f.avx512bw, flags.contains("avx512bw"));
  QCOMPARE(f.avx512dq, flags.contains("avx512dq"));
  QCOMPARE(f.avx512vl, flags.contains("avx512vl"));
}

void TstBlasKernel::sgemmCheckAcceptsCorrectAndRejectsWrongMultiplies() {
  QVERIFY2(modlab::checkSgemm(loopSgemm).ok, modlab::checkSgemm(loopSgemm).detail.c_str());
  for (modlab::CblasSgemm wrong : {sgemmDroppingLastTerm, sgemmIgnoringTranspose, sgemmLeavingC}) {
    const modlab::SgemmCheck check = modlab::checkSgemm(wrong);
    QVERIFY(!check.ok);
    QVERIFY2(check.detail.find("relative error") != std::string::npos, check.detail.c_str());
  }
  const auto loaded = reinterpret_cast<modlab::CblasSgemm>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  if (!loaded) QSKIP("no cblas_sgemm in this process");
  const modlab::SgemmCheck check = modlab::checkLoadedSgemm();
  QVERIFY2(check.ok, check.detail.c_str());
}

void TstBlasKernel::infoNamesTheKernelChosenHere() {
  BlasStartupState here;
  if (!unaidedHere(here)) QSKIP("the test environment sets OPENBLAS_CORETYPE or MODLAB_BLAS_REEXEC, or has no OpenBLAS");
  const auto choice = modlab::chooseBlasKernel(here);
  const Result r = cli({"info", "--json"});
  QCOMPARE(r.code, 0);
  const QJsonObject info = jsonOf(r);
  const QString expected = QString::fromStdString(choice.kernel.empty() ? here.coreName : choice.kernel);
  QCOMPARE(info["blas_kernel"].toString(), expected);
  QCOMPARE(info["blas_kernel_source"].toString(), QString(choice.kernel.empty() ? "openblas" : "automatic"));
  QVERIFY2(info["blas_kernel_warning"].toString().isEmpty(), qPrintable(info["blas_kernel_warning"].toString()));
  QVERIFY(!info["blas_library"].toString().isEmpty());
  QVERIFY(info["threads"].toObject()["hardware"].toInt() >= 1);
  QVERIFY(!info["libtorch_version"].toString().isEmpty());

  const Result text = cli({"info"});
  QCOMPARE(text.code, 0);
  QVERIFY2(text.out.contains(QRegularExpression("BLAS kernel +" + expected)), qPrintable(text.out));
  QVERIFY2(text.out.contains("CUDA"), qPrintable(text.out));
}

// modlab's own loops: the widest this CPU runs unless MODLAB_KERNELS asks for narrower; a value
// it does not know is named as ignored.
void TstBlasKernel::infoNamesTheOwnKernelsAndTheirOverride() {
  const auto kernels = [&](const QString& asked) {
    const Result r = asked.isEmpty() ? cli({"info", "--json"}) : cli({"info", "--json"}, {{"MODLAB_KERNELS", asked}});
    return jsonOf(r)["kernels"].toString();
  };
  if (qEnvironmentVariableIsSet("MODLAB_KERNELS")) QSKIP("the test environment sets MODLAB_KERNELS");
  QVERIFY2(kernels("").endsWith("(the widest this CPU runs)"), qPrintable(kernels("")));
  QCOMPARE(kernels("baseline"), QString("baseline (SSE2), 4 floats (MODLAB_KERNELS=baseline)"));
  QVERIFY2(kernels("avx9").endsWith("(MODLAB_KERNELS=avx9 ignored: baseline or avx2)"), qPrintable(kernels("avx9")));
  QVERIFY2(cli({"info"}).out.contains(QRegularExpression("own kernels +(AVX-512|AVX2|baseline)")), "the text line");
}

void TstBlasKernel::infoRespectsTheUsersKernel() {
  const Result r = cli({"info", "--json"}, {{"OPENBLAS_CORETYPE", "Haswell"}});
  QCOMPARE(r.code, 0);
  const QJsonObject info = jsonOf(r);
  if (info["blas_library"].toString().isEmpty()) QSKIP("LibTorch does not use OpenBLAS here");
  QCOMPARE(info["blas_kernel"].toString(), QString("Haswell"));
  QCOMPARE(info["blas_kernel_source"].toString(), QString("user"));
  QVERIFY2(info["blas_kernel_how"].toString().contains("OPENBLAS_CORETYPE=Haswell"), qPrintable(r.out));
}

void TstBlasKernel::infoAfterAFailedCheckWarnsAndDoesNotRestart() {
  BlasStartupState here;
  if (!unaidedHere(here)) QSKIP("the test environment sets OPENBLAS_CORETYPE or MODLAB_BLAS_REEXEC, or has no OpenBLAS");
  const Result r = cli({"info", "--json"}, {{"MODLAB_BLAS_REEXEC", "failed:SkylakeX:Prescott"}});
  QCOMPARE(r.code, 0);
  const QJsonObject info = jsonOf(r);
  QCOMPARE(info["blas_kernel"].toString(), QString::fromStdString(here.coreName));
  QCOMPARE(info["blas_kernel_source"].toString(), QString("openblas"));
  QVERIFY2(info["blas_kernel_warning"].toString().contains("SkylakeX kernel disagreed"), qPrintable(r.out));
}

void TstBlasKernel::aKernelThatFailsTheCheckFallsBackWithAWarning() {
  BlasStartupState here;
  if (!unaidedHere(here)) QSKIP("the test environment sets OPENBLAS_CORETYPE or MODLAB_BLAS_REEXEC, or has no OpenBLAS");
  const auto choice = modlab::chooseBlasKernel(here);
  if (choice.action != Action::Restart) QSKIP("OpenBLAS picks a fitting kernel by itself on this CPU: nothing is chosen");
  const Result r = cli({"info", "--json"}, {{"LD_PRELOAD", MODLAB_BROKEN_SGEMM}});
  QCOMPARE(r.code, 0);
  const QJsonObject info = jsonOf(r);
  QCOMPARE(info["blas_kernel"].toString(), QString::fromStdString(here.coreName));
  QCOMPARE(info["blas_kernel_source"].toString(), QString("openblas"));
  QVERIFY2(info["blas_kernel_warning"].toString().contains(QString::fromStdString(choice.kernel) + " kernel disagreed"),
           qPrintable(r.out));
  const QString said = QString("OpenBLAS's %1 kernel disagrees with a plain matrix multiply").arg(choice.kernel.c_str());
  QVERIFY2(r.err.contains(said) && r.err.contains(QString::fromStdString("own choice (" + here.coreName + ")")),
           qPrintable(r.err));
  QCOMPARE(r.err.count(said), 1);  // one check, one fallback, no loop
}

void TstBlasKernel::benchNamesTheKernelAndShowsNoSpeedupWithoutReference() {
  const Result info = cli({"info", "--json"});
  QCOMPARE(info.code, 0);
  const QString kernel = jsonOf(info)["blas_kernel"].toString();
  const Result r = cli({"bench", "--setting", "mlp", "--seconds", "0.02"});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  QVERIFY2(r.out.contains(QRegularExpression("BLAS: .*" + kernel + " kernel")), qPrintable(r.out));
  QVERIFY2(r.out.contains("Machine:"), qPrintable(r.out));
  QVERIFY2(!r.out.contains("speedup", Qt::CaseInsensitive) && !r.out.contains("target", Qt::CaseInsensitive) &&
               !r.out.contains("ref steps/s"),
           qPrintable(r.out));
  QVERIFY2(r.out.contains("% SGEMM") && r.out.contains("GFLOP/s"), qPrintable(r.out));
}

namespace {
bool pythonImportsTorch() {
  QProcess python;
  python.start("/usr/bin/python3", {"-c", "import torch"});
  return python.waitForFinished(120000) && python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0;
}
}  // namespace

void TstBlasKernel::benchRunsTheReferenceOnTheSameKernel() {
  if (!QFile::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3");
  QTemporaryDir dir;
  QVERIFY(writeFile(dir.filePath("bench_ref.py"), kFakeReference));
  const Result r = cli({"bench", "--setting", "mlp", "--seconds", "0.02", "--json", "--reference", dir.path()});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  const QJsonObject report = jsonOf(r);
  const QString kernel = report["blas"].toObject()["kernel"].toString();
  QVERIFY(report.contains("reference"));
  const QJsonArray rows = report["families"].toArray();
  QCOMPARE(rows.size(), 4);
  for (const QJsonValue& v : rows) {
    const QJsonObject row = v.toObject();
    QCOMPARE(row["reference_steps_per_second"].toDouble(), 50.0);
    QCOMPARE(row["reference_parameters"].toInt(), 1234);
    QVERIFY(qAbs(row["ratio_to_reference"].toDouble() - row["steps_per_second"].toDouble() / 50.0) < 1e-9);
    QCOMPARE(row["reference_steps"].toInt(), qMax(10, row["steps"].toInt()));
  }

  QFile calls(dir.filePath("calls.jsonl"));
  QVERIFY(calls.open(QIODevice::ReadOnly));
  const QList<QByteArray> lines = calls.readAll().trimmed().split('\n');
  QCOMPARE(lines.size(), 4);
  const QStringList families{"Monolithic", "Modular", "Modular-op", "GT_Modular"};
  for (int i = 0; i < 4; ++i) {
    const QJsonObject call = QJsonDocument::fromJson(lines[i]).object();
    const QJsonArray argv = call["argv"].toArray();
    QCOMPARE(argv[0].toString(), QString("MLP"));
    QCOMPARE(argv[1].toString(), families[i]);
    QCOMPARE(argv[2].toString(), QString("8"));
    QCOMPARE(argv[3].toString().toInt(), rows[i].toObject()["reference_steps"].toInt());
    QCOMPARE(call["ref_threads"].toString(), QString("1"));
    const QString source = report["blas"].toObject()["kernel_source"].toString();
    if (source == "automatic") QCOMPARE(call["coretype"].toString(), kernel);  // our choice travels to the reference
    else QVERIFY(call["coretype"].isNull());
    // So do our sgemm_ and our choice of GEMM library.
    QVERIFY2(call["preload"].toString().endsWith("/lib/modlab/preload/libmodlab_sgemm.so"), qPrintable(call["preload"].toString()));
    const bool oneDnn = report["gemm"].toObject()["backend"].toString() == "oneDNN";
    QCOMPARE(call["gemm"].toString(), QString(oneDnn ? "onednn" : "openblas"));
  }
  const QJsonObject gemm = report["gemm"].toObject();
  const QString ours = gemm["library"].toString().isEmpty() ? gemm["backend"].toString() : gemm["library"].toString();
  const QString theirs = report["reference"].toObject()["gemm"].toString();
  if (!pythonImportsTorch()) {
    // The reference's process is probed with its own torch (Debian's python3-torch, which
    // reference-setup installs and packaging/quickstart does not): without it the bench
    // says it could not tell, never a library it did not see.
    QVERIFY2(theirs.startsWith("unknown (") && theirs.contains("torch"), qPrintable(theirs));
    QSKIP("the rest is checked; comparing the reference's GEMM library with ours needs python3-torch (not installed)");
  }
  QCOMPARE(theirs, ours);  // as the reference's process reports it
}

void TstBlasKernel::benchReportsAFailingReference() {
  if (!QFile::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3");
  QTemporaryDir dir;
  QVERIFY(writeFile(dir.filePath("bench_ref.py"), "import sys\nprint('boom: no model here')\nsys.exit(3)\n"));
  Result r = cli({"bench", "--setting", "mlp", "--seconds", "0.02", "--reference", dir.path()});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains("the reference failed (exit 3)") && r.err.contains("boom: no model here"), qPrintable(r.err));

  r = cli({"bench", "--reference", dir.filePath("missing")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("--reference") && r.err.contains("bench_ref.py"), qPrintable(r.err));
}

void TstBlasKernel::benchRoundsAlternateAndReportMedians() {
  if (!QFile::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3");
  QTemporaryDir dir;
  QVERIFY(writeFile(dir.filePath("bench_ref.py"), kFakeReference));
  const Result r =
      cli({"bench", "--setting", "mlp", "--seconds", "0.02", "--json", "--reference", dir.path(), "--rounds", "3"});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  const QJsonArray rows = jsonOf(r)["families"].toArray();
  QCOMPARE(rows.size(), 4);
  for (const QJsonValue& v : rows) {
    const QJsonObject row = v.toObject();
    const QJsonArray rounds = row["rounds"].toArray();
    QCOMPARE(rounds.size(), 3);
    QList<double> rates;
    for (const QJsonValue& x : rounds) rates.push_back(x.toDouble());
    std::sort(rates.begin(), rates.end());
    QCOMPARE(row["steps_per_second"].toDouble(), rates[1]);  // the median round
    QCOMPARE(row["reference_rounds"].toArray().size(), 3);
    QCOMPARE(row["reference_steps_per_second"].toDouble(), 50.0);
  }
  // modlab and the reference alternate: each family's three reference runs come in a row, in family order.
  QFile calls(dir.filePath("calls.jsonl"));
  QVERIFY(calls.open(QIODevice::ReadOnly));
  const QList<QByteArray> lines = calls.readAll().trimmed().split('\n');
  QCOMPARE(lines.size(), 12);
  const QStringList families{"Monolithic", "Modular", "Modular-op", "GT_Modular"};
  for (int i = 0; i < 12; ++i)
    QCOMPARE(QJsonDocument::fromJson(lines[i]).object()["argv"].toArray()[1].toString(), families[i / 3]);

  const Result text = cli({"bench", "--setting", "mlp", "--seconds", "0.02", "--rounds", "2"});
  QVERIFY2(text.out.contains("Rounds:    each row measured 2 times; steps/s is each side's median round"),
           qPrintable(text.out));
  const Result bad = cli({"bench", "--rounds", "0"});
  QVERIFY(bad.code != 0);
  QVERIFY2(bad.err.contains("--rounds") && bad.err.contains("0") && bad.err.contains("not in range 1 to 9"), qPrintable(bad.err));
}

void TstBlasKernel::gemmChoiceRespectsTheUserAndTheCheck() {
  using modlab::GemmBackend;
  modlab::GemmChoiceInput loaded;
  loaded.oneDnn = "oneDNN 2.6.3 (avx512_core)";
  loaded.oneDnnChecked = true;
  auto choose = [](modlab::GemmChoiceInput in, std::optional<std::string> request) {
    in.request = std::move(request);
    return modlab::chooseGemmBackend(in);
  };
  const auto automatic = choose(loaded, std::nullopt);
  QVERIFY(automatic.backend == GemmBackend::OneDnn);
  QCOMPARE(automatic.library, loaded.oneDnn);
  QVERIFY(automatic.how.find("automatically") != std::string::npos);
  QVERIFY(automatic.warning.empty());
  QVERIFY(choose(loaded, "auto").backend == GemmBackend::OneDnn);

  const auto user = choose(loaded, "openblas");  // the user's word, even where oneDNN would be faster
  QVERIFY(user.backend == GemmBackend::OpenBlas);
  QVERIFY(user.how.find("MODLAB_GEMM=openblas") != std::string::npos);
  QVERIFY(user.warning.empty());
  QVERIFY(choose(loaded, "onednn").backend == GemmBackend::OneDnn);

  modlab::GemmChoiceInput wrong = loaded;  // oneDNN multiplies wrongly: never used, and said
  wrong.oneDnnChecked = false;
  wrong.checkDetail = "64x256x256: relative error 0.5";
  for (const auto& request : {std::optional<std::string>(), std::optional<std::string>("onednn")}) {
    const auto fallback = choose(wrong, request);
    QVERIFY(fallback.backend == GemmBackend::OpenBlas);
    QVERIFY2(fallback.warning.find("64x256x256: relative error 0.5") != std::string::npos, fallback.warning.c_str());
  }

  const modlab::GemmChoiceInput absent;  // no oneDNN: OpenBLAS, with a warning only when it was asked for
  QVERIFY(choose(absent, std::nullopt).backend == GemmBackend::OpenBlas);
  QVERIFY(choose(absent, std::nullopt).warning.empty());
  QVERIFY(choose(absent, "onednn").warning.find("MODLAB_GEMM=onednn") != std::string::npos);

  const auto unknown = choose(loaded, "fastest");  // named with its value and what is allowed
  QVERIFY(unknown.backend == GemmBackend::OneDnn);
  QVERIFY2(unknown.warning.find("MODLAB_GEMM=\"fastest\"") != std::string::npos &&
               unknown.warning.find("auto, onednn, openblas") != std::string::npos,
           unknown.warning.c_str());
  QVERIFY(unknown.summary().find("warning: ") != std::string::npos);
}

void TstBlasKernel::infoNamesTheGemmLibrary() {
  const Result automatic = cli({"info", "--json"});
  QCOMPARE(automatic.code, 0);
  const QJsonObject info = jsonOf(automatic);
  const QString backend = info["gemm"].toString();
  QVERIFY2(backend == "oneDNN" || backend == "OpenBLAS", qPrintable(automatic.out));
  QVERIFY2(info["gemm_warning"].toString().isEmpty(), qPrintable(info["gemm_warning"].toString()));
  if (backend == "oneDNN") QVERIFY(info["gemm_library"].toString().startsWith("oneDNN "));

  const QJsonObject user = jsonOf(cli({"info", "--json"}, {{"MODLAB_GEMM", "openblas"}}));
  QCOMPARE(user["gemm"].toString(), QString("OpenBLAS"));
  QVERIFY(user["gemm_how"].toString().contains("MODLAB_GEMM=openblas"));

  const Result bad = cli({"info"}, {{"MODLAB_GEMM", "fastest"}});
  QCOMPARE(bad.code, 0);
  QVERIFY2(bad.out.contains(QRegularExpression("GEMM +.*MODLAB_GEMM=\"fastest\" is not one of auto, onednn, openblas")),
           qPrintable(bad.out));
}

void TstBlasKernel::mallocArenasRespectTheUsersChoice() {
  const modlab::MallocArenas unset = modlab::chooseMallocArenas(nullptr, nullptr);
  QCOMPARE(unset.limit, 1);
  QVERIFY2(unset.how.rfind("one ", 0) == 0, unset.how.c_str());
  QCOMPARE(modlab::chooseMallocArenas(nullptr, "glibc.malloc.tcache_count=0").limit, 1);  // another tunable
  for (const char* value : {"4", "1", ""}) {
    const modlab::MallocArenas user = modlab::chooseMallocArenas(value, nullptr);
    QCOMPARE(user.limit, 0);
    QCOMPARE(user.how, std::string("set by the user: MALLOC_ARENA_MAX=") + value);
  }
  const modlab::MallocArenas tuned = modlab::chooseMallocArenas(nullptr, "glibc.malloc.arena_max=3");
  QCOMPARE(tuned.limit, 0);
  QCOMPARE(tuned.how, std::string("set by the user: GLIBC_TUNABLES=glibc.malloc.arena_max=3"));
}

void TstBlasKernel::infoNamesTheMallocArenas() {
  if (qEnvironmentVariableIsSet("MALLOC_ARENA_MAX")) QSKIP("the test environment sets MALLOC_ARENA_MAX");
  if (qgetenv("GLIBC_TUNABLES").contains("arena_max")) QSKIP("the test environment sets glibc.malloc.arena_max");
  const QString own = jsonOf(cli({"info", "--json"}))["malloc_arenas"].toString();
  QVERIFY2(own.startsWith("one ("), qPrintable(own));
  QCOMPARE(jsonOf(cli({"info", "--json"}, {{"MALLOC_ARENA_MAX", "2"}}))["malloc_arenas"].toString(),
           QString("set by the user: MALLOC_ARENA_MAX=2"));
  QVERIFY2(cli({"info"}).out.contains(QRegularExpression("malloc arenas +one \\(")), "the text line");
}

QTEST_GUILESS_MAIN(TstBlasKernel)
#include "tst_blas_kernel.moc"
