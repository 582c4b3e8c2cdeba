#include "modlab/platform/blas_kernel.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

namespace modlab {

namespace {

constexpr const char* kCoretypeVariable = "OPENBLAS_CORETYPE";
constexpr const char* kMarkerVariable = "MODLAB_BLAS_REEXEC";

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool sameCore(const std::string& a, const std::string& b) { return lowercase(a) == lowercase(b); }

// OpenBLAS's x86 cores without AVX2 kernels (names as openblas_get_corename() spells them).
// "Unknown" and Prescott are what it falls back to on a CPU it does not recognise.
bool isPreAvx2Core(const std::string& core) {
  static const std::array<const char*, 21> names{
      "unknown", "katmai", "coppermine", "northwood", "prescott", "banias", "atom",
      "core2", "penryn", "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3",
      "opteron(sse3)", "barcelona", "nano", "bobcat", "sandybridge", "bulldozer", "piledriver"};
  const std::string name = lowercase(core);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string featuresUsedBy(const std::string& kernel) {
  return sameCore(kernel, "SkylakeX") ? "AVX-512 (F, BW, DQ, VL)" : "AVX2 and FMA";
}

bool cpuRuns(const CpuFeatures& cpu, const std::string& kernel) {
  if (sameCore(kernel, "SkylakeX")) return cpu.hasAvx512();
  if (sameCore(kernel, "Haswell")) return cpu.hasAvx2Fma();
  return true;
}

template <typename Function>
Function lookUp(const char* symbol) {
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, symbol));
}

std::string& startupWarning() {
  static std::string warning;  // written once, by selectBlasKernelAtStartup before any thread starts
  return warning;
}

}  // namespace

CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // GCC's runtime checks both cpuid and the vector state the OS saves (xgetbv).
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

KernelChoice chooseBlasKernel(const BlasStartupState& s) {
  using Action = KernelChoice::Action;
  const ReexecMarker marker = parseMarker(s.marker);
  if (marker.kind == ReexecMarker::Kind::Chosen && s.coretype && sameCore(*s.coretype, marker.kernel) &&
      !cpuRuns(s.cpu, marker.kernel))
    return {Action::Forget, {}, "the inherited automatic choice " + marker.kernel + " needs " + featuresUsedBy(marker.kernel) +
                                    ", which this CPU lacks: choosing again"};
  if (!s.marker.empty())
    return {Action::Keep, {}, std::string("already restarted once (") + kMarkerVariable + "=" + s.marker + "): no further restart"};
  if (s.coretype)
    return {Action::Keep, {}, std::string(kCoretypeVariable) + "=" + *s.coretype + " is set by the user or the system: respected"};
  if (s.coreName.empty()) return {Action::Keep, {}, "OpenBLAS is not loaded: nothing to choose"};
  if (!isPreAvx2Core(s.coreName)) return {Action::Keep, {}, "OpenBLAS already uses its " + s.coreName + " kernel"};
  if (s.cpu.hasAvx512())
    return {Action::Restart, "SkylakeX", "OpenBLAS uses its generic " + s.coreName + " kernel on a CPU with AVX-512 (F, BW, DQ, VL)"};
  if (s.cpu.hasAvx2Fma())
    return {Action::Restart, "Haswell", "OpenBLAS uses its generic " + s.coreName + " kernel on a CPU with AVX2 and FMA"};
  return {Action::Keep, {}, "the CPU has neither AVX-512 (F, BW, DQ, VL) nor AVX2 with FMA: " + s.coreName + " is right"};
}

std::string formatMarker(const ReexecMarker& m) {
  if (m.kind == ReexecMarker::Kind::None) return {};
  return std::string(m.kind == ReexecMarker::Kind::Chosen ? "chosen" : "failed") + ":" + m.kernel + ":" + m.replaced;
}

ReexecMarker parseMarker(const std::string& text) {
  ReexecMarker m;
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? std::string::npos : text.find(':', first + 1);
  if (second == std::string::npos) return m;
  const std::string kind = text.substr(0, first);
  m.kernel = text.substr(first + 1, second - first - 1);
  m.replaced = text.substr(second + 1);
  if (m.kernel.empty()) return {};
  if (kind == "chosen") m.kind = ReexecMarker::Kind::Chosen;
  else if (kind == "failed") m.kind = ReexecMarker::Kind::Failed;
  else return {};
  return m;
}

std::string toString(BlasKernelSource source) {
  switch (source) {
    case BlasKernelSource::Automatic: return "automatic";
    case BlasKernelSource::User: return "user";
    case BlasKernelSource::OpenBlas: return "openblas";
    case BlasKernelSource::None: return "none";
  }
  return "?";
}

std::string BlasKernelStatus::summary() const {
  if (kernel.empty()) return how;
  return kernel + " (" + how + ")";
}

BlasKernelStatus describeBlasKernel(const BlasStartupState& s, const std::string& warning) {
  BlasKernelStatus status;
  status.warning = warning;
  if (s.coreName.empty()) {
    status.how = "OpenBLAS is not loaded: LibTorch uses another BLAS";
    return status;
  }
  status.kernel = s.coreName;
  const ReexecMarker marker = parseMarker(s.marker);
  auto addWarning = [&status](const std::string& text) { status.warning += (status.warning.empty() ? "" : "; ") + text; };
  if (s.coretype && marker.kind == ReexecMarker::Kind::Chosen && sameCore(*s.coretype, marker.kernel)) {
    status.source = BlasKernelSource::Automatic;
    status.how = "chosen automatically: OpenBLAS's own choice here is its generic " + marker.replaced +
                 " kernel, and this CPU has " + featuresUsedBy(marker.kernel);
    if (!sameCore(s.coreName, *s.coretype))
      addWarning("OpenBLAS was asked for " + *s.coretype + " but uses " + s.coreName);
  } else if (s.coretype) {
    status.source = BlasKernelSource::User;
    status.how = "set by the user: " + std::string(kCoretypeVariable) + "=" + *s.coretype;
    if (!sameCore(s.coreName, *s.coretype)) status.how += ", which OpenBLAS maps to " + s.coreName;
  } else {
    status.source = BlasKernelSource::OpenBlas;
    status.how = "OpenBLAS's own choice for this CPU";
    if (marker.kind == ReexecMarker::Kind::Failed)
      addWarning("the automatically chosen " + marker.kernel +
                 " kernel disagreed with a plain matrix multiply at start-up, so OpenBLAS's own choice is used");
  }
  return status;
}

BlasStartupState readBlasStartupState() {
  BlasStartupState s;
  if (const char* v = std::getenv(kCoretypeVariable)) s.coretype = v;
  if (const char* v = std::getenv(kMarkerVariable)) s.marker = v;
  using CoreName = char* (*)();
  if (const auto coreName = lookUp<CoreName>("openblas_get_corename"))
    if (const char* name = coreName()) s.coreName = name;
  s.cpu = detectCpuFeatures();
  return s;
}

namespace {

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct SgemmCase {
  int m, n, k;
  bool transA, transB;
};

std::vector<float> pseudoRandom(std::size_t count, std::uint32_t seed) {
  std::vector<float> v(count);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return v;
}

// Relative Frobenius error of sgemm's C = op(A) op(B) against a double-precision loop.
double relativeError(CblasSgemm sgemm, const SgemmCase& c) {
  const std::vector<float> a = pseudoRandom(static_cast<std::size_t>(c.m) * c.k, 1u + c.m);
  const std::vector<float> b = pseudoRandom(static_cast<std::size_t>(c.k) * c.n, 7u + c.n);
  std::vector<float> out(static_cast<std::size_t>(c.m) * c.n, 1e30f);  // beta = 0 must overwrite it
  const int lda = c.transA ? c.m : c.k, ldb = c.transB ? c.k : c.n;
  sgemm(kRowMajor, c.transA ? kTrans : kNoTrans, c.transB ? kTrans : kNoTrans, c.m, c.n, c.k, 1.0f, a.data(), lda,
        b.data(), ldb, 0.0f, out.data(), c.n);
  double diff = 0.0, norm = 0.0;
  for (int i = 0; i < c.m; ++i)
    for (int j = 0; j < c.n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < c.k; ++p) {
        const float x = c.transA ? a[static_cast<std::size_t>(p) * lda + i] : a[static_cast<std::size_t>(i) * lda + p];
        const float y = c.transB ? b[static_cast<std::size_t>(j) * ldb + p] : b[static_cast<std::size_t>(p) * ldb + j];
        sum += static_cast<double>(x) * y;
      }
      const double d = out[static_cast<std::size_t>(i) * c.n + j] - sum;
      diff += d * d;
      norm += sum * sum;
    }
  const double error = std::sqrt(diff / std::max(norm, 1e-300));
  return std::isfinite(error) ? error : INFINITY;
}

std::string describeCase(const SgemmCase& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) +
         (c.transA || c.transB ? std::string(" (") + (c.transA ? "A" : "") + (c.transB ? "B" : "") + " transposed)" : "");
}

std::string formatError(double e) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g", e);
  return text;
}

}  // namespace

SgemmCheck checkSgemm(CblasSgemm sgemm) {
  static const std::array<SgemmCase, 4> cases{{
      {17, 33, 65, false, false},
      {64, 256, 256, false, false},
      {255, 31, 129, false, true},
      {7, 300, 513, true, false},
  }};
  constexpr double kTolerance = 1e-4;
  SgemmCheck check;
  double worst = -1.0;
  for (const SgemmCase& c : cases) {
    const double error = relativeError(sgemm, c);
    if (error > worst) {
      worst = error;
      check.detail = describeCase(c) + ": relative error " + formatError(error);
    }
  }
  check.ok = worst <= kTolerance;
  return check;
}

SgemmCheck checkLoadedSgemm() {
  const auto sgemm = lookUp<CblasSgemm>("cblas_sgemm");
  if (!sgemm) return {true, "not checked: no cblas_sgemm in this process"};
  return checkSgemm(sgemm);
}

namespace {

// Replaces this process with a fresh copy of itself; returns only if that failed (the errno text).
std::string restartSelf(char** argv) {
  std::fflush(stdout);
  std::fflush(stderr);
  execv("/proc/self/exe", argv);
  return std::string("execv /proc/self/exe: ") + std::strerror(errno);
}

void restartWithKernel(const KernelChoice& choice, const std::string& replaced, char** argv, const char* program) {
  setenv(kCoretypeVariable, choice.kernel.c_str(), 1);
  setenv(kMarkerVariable, formatMarker({ReexecMarker::Kind::Chosen, choice.kernel, replaced}).c_str(), 1);
  const std::string error = restartSelf(argv);
  unsetenv(kCoretypeVariable);
  unsetenv(kMarkerVariable);
  startupWarning() = "could not restart with OpenBLAS's " + choice.kernel + " kernel (" + error + "), so it runs on " + replaced;
  std::fprintf(stderr, "%s: warning: %s\n", program, startupWarning().c_str());
}

void forgetInheritedChoice(const KernelChoice& choice, char** argv, const char* program) {
  unsetenv(kCoretypeVariable);
  unsetenv(kMarkerVariable);
  const std::string error = restartSelf(argv);
  startupWarning() = choice.reason + ", but the restart failed (" + error + "): OpenBLAS may stop on an illegal instruction";
  std::fprintf(stderr, "%s: warning: %s\n", program, startupWarning().c_str());
}

// After our restart: the chosen kernel must multiply like a plain loop, or we go back to OpenBLAS's choice.
void verifyChosenKernel(const ReexecMarker& marker, char** argv, const char* program) {
  const SgemmCheck check = checkLoadedSgemm();
  if (check.ok) return;
  std::fprintf(stderr, "%s: warning: OpenBLAS's %s kernel disagrees with a plain matrix multiply (%s); "
               "restarting on OpenBLAS's own choice (%s)\n",
               program, marker.kernel.c_str(), check.detail.c_str(), marker.replaced.c_str());
  unsetenv(kCoretypeVariable);
  setenv(kMarkerVariable, formatMarker({ReexecMarker::Kind::Failed, marker.kernel, marker.replaced}).c_str(), 1);
  const std::string error = restartSelf(argv);
  setenv(kCoretypeVariable, marker.kernel.c_str(), 1);  // the kernel this process still runs on
  setenv(kMarkerVariable, formatMarker(marker).c_str(), 1);
  startupWarning() = "OpenBLAS's " + marker.kernel + " kernel disagrees with a plain matrix multiply (" + check.detail +
                     ") and the restart failed (" + error + "): results may be wrong; set " + kCoretypeVariable + "=" +
                     marker.replaced + " to avoid it";
  std::fprintf(stderr, "%s: warning: %s\n", program, startupWarning().c_str());
}

}  // namespace

void selectBlasKernelAtStartup(char** argv, const char* program) {
  const BlasStartupState state = readBlasStartupState();
  const KernelChoice choice = chooseBlasKernel(state);
  if (choice.action == KernelChoice::Action::Restart) {
    restartWithKernel(choice, state.coreName, argv, program);
    return;
  }
  if (choice.action == KernelChoice::Action::Forget) {
    forgetInheritedChoice(choice, argv, program);
    return;
  }
  const ReexecMarker marker = parseMarker(state.marker);
  if (marker.kind == ReexecMarker::Kind::Chosen && state.coretype && sameCore(*state.coretype, marker.kernel))
    verifyChosenKernel(marker, argv, program);
}

BlasKernelStatus blasKernelStatus() { return describeBlasKernel(readBlasStartupState(), startupWarning()); }

std::string blasLibraryPath() {
  const auto coreName = lookUp<void*>("openblas_get_corename");
  Dl_info info{};
  if (!coreName || dladdr(coreName, &info) == 0 || !info.dli_fname) return {};
  std::error_code ec;
  const auto resolved = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : resolved.string();
}

std::string blasLibraryConfig() {
  using Config = char* (*)();
  const auto config = lookUp<Config>("openblas_get_config");
  const char* text = config ? config() : nullptr;
  return text ? std::string(text) : std::string();
}

int blasThreads() {
  using Threads = int (*)();
  const auto threads = lookUp<Threads>("openblas_get_num_threads");
  return threads ? threads() : 0;
}

std::string cpuModelName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, name, family, model;
  while (std::getline(cpuinfo, line) && !line.empty()) {  // the first processor's block
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const auto start = line.find_first_not_of(" \t", colon + 1);
    const std::string value = start == std::string::npos ? std::string() : line.substr(start);
    if (key == "model name") name = value;
    else if (key == "cpu family") family = value;
    else if (key == "model") model = value;
  }
  if (name.empty()) return "unknown CPU";
  if (!family.empty() && !model.empty()) name += " (family " + family + ", model " + model + ")";
  return name;
}

}  // namespace modlab
