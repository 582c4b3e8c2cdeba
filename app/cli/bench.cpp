// modlab-cli bench: steps/s of every setting x family on this machine's BLAS kernel and, with
// --reference, the authors' implementation measured in the same run on the same kernel.
#include <algorithm>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "modlab/platform/platform_info.h"
#include "reference_bench.h"

namespace modlab::cli {

namespace {

using nlohmann::json;

constexpr std::int64_t kMinReferenceSteps = 10;

struct ReferenceSide {
  std::string directory, kernel, gemm;
};

double gflops(const BenchmarkRow& b) { return b.gflopPerStep * b.stepsPerSecond; }
double ratio(const BenchmarkRow& b) { return b.stepsPerSecond / b.reference->stepsPerSecond; }

json rowJson(const BenchmarkRow& b, double sgemm) {
  json row{{"setting", toString(b.setting)},  {"family", toString(b.family)},   {"steps_per_second", b.stepsPerSecond},
           {"steps", b.steps},                {"gflop_per_step", b.gflopPerStep}, {"gflops", gflops(b)},
           {"rounds", b.rounds},
           {"percent_of_sgemm", 100.0 * gflops(b) / sgemm}, {"parameters", b.parameters}};
  if (b.reference) {
    row["reference_steps_per_second"] = b.reference->stepsPerSecond;
    row["reference_steps"] = b.reference->steps;
    row["reference_rounds"] = b.reference->rounds;
    row["reference_parameters"] = b.reference->parameters;
    row["ratio_to_reference"] = ratio(b);
  }
  return row;
}

json reportJson(const BenchmarkReport& r, const PlatformInfo& p, const std::optional<ReferenceSide>& reference) {
  json rows = json::array(), concurrency = json::array();
  for (const BenchmarkRow& b : r.rows) rows.push_back(rowJson(b, r.sgemmGflops));
  for (const ConcurrencyRow& c : r.concurrency)
    concurrency.push_back({{"setting", toString(c.setting)}, {"threads", c.threads},
                           {"family_steps_per_second_1_thread", c.familyStepsPerSecond1},
                           {"family_steps_per_second_n_threads", c.familyStepsPerSecondN},
                           {"scaling", c.familyStepsPerSecondN / c.familyStepsPerSecond1}});
  json out{{"machine", {{"cpu", p.cpu}, {"hardware_threads", p.hardwareThreads}}},
           {"blas", {{"library", p.blasLibrary}, {"config", p.blasConfig}, {"kernel", p.blasKernel.kernel},
                     {"kernel_source", toString(p.blasKernel.source)}, {"kernel_how", p.blasKernel.how},
                     {"kernel_warning", p.blasKernel.warning}}},
           {"gemm", {{"backend", toString(p.gemm.backend)}, {"library", p.gemm.library}, {"how", p.gemm.how},
                     {"warning", p.gemm.warning}}},
           {"libtorch_version", p.libtorchVersion},
           {"device", r.device},
           {"sgemm_gflops_single_core", r.sgemmGflops},
           {"peak_resident_mib", r.peakResidentMiB},
           {"families", rows},
           {"concurrency", concurrency}};
  if (reference)
    out["reference"] = {{"directory", reference->directory}, {"python", ReferenceBench::kPython},
                        {"kernel", reference->kernel}, {"gemm", reference->gemm}, {"threads", 1}};
  return out;
}

void printHeader(const BenchmarkReport& r, const PlatformInfo& p, const std::optional<ReferenceSide>& reference,
                 int rounds) {
  std::printf("Machine:   %s, %d hardware threads\n", p.cpu.c_str(), p.hardwareThreads);
  std::printf("BLAS:      %s\n", describeBlas(p).c_str());
  std::printf("GEMM:      %s\n", describeGemm(p).c_str());
  std::printf("LibTorch:  %s, one compute thread per measurement; single-core SGEMM (1024^3, %s): %.1f GFLOP/s\n",
              p.libtorchVersion.c_str(), toString(p.gemm.backend).c_str(), r.sgemmGflops);
  std::printf("Configs:   batch 256, R = 8; MLP E 64/D 256; MHA sv1 d 64/att 256, N 10; RNN E 64/H 256, d 32, N 10\n");
  if (reference) {
    std::printf("Reference: the authors' implementation, %s/bench_ref.py (%s, one thread), %s kernel, products by %s; "
                "as many timed steps as modlab's (at least %lld), measured right after modlab's row\n",
                reference->directory.c_str(), ReferenceBench::kPython, reference->kernel.c_str(), reference->gemm.c_str(),
                static_cast<long long>(kMinReferenceSteps));
    if (reference->kernel != p.blasKernel.kernel)
      std::printf("WARNING:   the reference runs on the %s kernel and modlab on %s: the ratios compare different kernels\n",
                  reference->kernel.c_str(), p.blasKernel.kernel.c_str());
    if (reference->gemm != modlab_gemm_library())
      std::printf("WARNING:   the reference's products are computed by %s and modlab's by %s: the ratios compare "
                  "different GEMM libraries\n",
                  reference->gemm.c_str(), modlab_gemm_library());
  }
  if (rounds > 1)
    std::printf("Rounds:    each row measured %d times%s; steps/s is each side's median round\n", rounds,
                reference ? ", modlab and the reference alternating" : "");
  std::printf("\n");
}

void printRows(const BenchmarkReport& r, bool withReference) {
  std::printf("%-8s %-11s %9s %9s %9s %8s", "setting", "family", "steps/s", "GFLOP/st", "GFLOP/s", "% SGEMM");
  if (withReference) std::printf(" %13s %11s", "ref steps/s", "modlab/ref");
  std::printf("\n");
  for (const BenchmarkRow& b : r.rows) {
    std::printf("%-8s %-11s %9.1f %9.3f %9.1f %7.0f%%", toString(b.setting).c_str(), toString(b.family).c_str(),
                b.stepsPerSecond, b.gflopPerStep, gflops(b), 100.0 * gflops(b) / r.sgemmGflops);
    if (b.reference) std::printf(" %13.1f %10.2fx", b.reference->stepsPerSecond, ratio(b));
    std::printf("\n");
  }
  for (const BenchmarkRow& b : r.rows)
    if (b.reference && b.reference->parameters != b.parameters)
      std::printf("note: %s %s has %lld parameters here and %lld in the reference\n", toString(b.setting).c_str(),
                  toString(b.family).c_str(), static_cast<long long>(b.parameters),
                  static_cast<long long>(b.reference->parameters));
}

void printConcurrency(const BenchmarkReport& r) {
  if (r.concurrency.empty()) return;
  std::printf("\nFour families on one data stream, trained by a session as the app trains them (aggregate family-steps/s):\n");
  std::printf("%-8s %12s %12s %8s\n", "setting", "1 thread", "N threads", "scaling");
  for (const ConcurrencyRow& c : r.concurrency)
    std::printf("%-8s %12.1f %9.1f (%d) %7.2fx\n", toString(c.setting).c_str(), c.familyStepsPerSecond1,
                c.familyStepsPerSecondN, c.threads, c.familyStepsPerSecondN / c.familyStepsPerSecond1);
}

}  // namespace

int bench(bool asJson, double seconds, const std::vector<std::string>& settings, const std::string& referenceDir,
          int rounds) {
  BenchmarkOptions options;
  options.secondsPerCase = seconds;
  options.rounds = rounds;
  if (!settings.empty()) {
    options.settings.clear();
    for (const std::string& s : settings) options.settings.push_back(parseSetting(s));
  }
  std::optional<ReferenceBench> referenceBench;
  std::optional<ReferenceSide> reference;
  if (!referenceDir.empty()) {
    referenceBench.emplace(referenceDir);
    reference = ReferenceSide{referenceDir, referenceBench->kernel(), referenceBench->gemm()};
    options.measureReference = [&referenceBench](const BenchmarkRow& row, int rules) {
      const std::int64_t steps = std::max(row.steps, kMinReferenceSteps);
      std::fprintf(stderr, "  %s %s: modlab %.1f steps/s; the reference runs %lld steps...\n", toString(row.setting).c_str(),
                   toString(row.family).c_str(), row.stepsPerSecond, static_cast<long long>(steps));
      return referenceBench->run(row.setting, row.family, rules, steps);
    };
  }
  if (!asJson)
    std::fprintf(stderr, "benchmarking (about %.0f s%s)...\n", seconds * (4.0 * rounds + 3.0) * options.settings.size() + 1,
                 reference ? ", plus the reference's runs" : "");
  const BenchmarkReport r = runBenchmark(options);
  const PlatformInfo platform = platformInfo();
  if (asJson) {
    std::printf("%s\n", reportJson(r, platform, reference).dump(2).c_str());
    return 0;
  }
  printHeader(r, platform, reference, rounds);
  printRows(r, reference.has_value());
  printConcurrency(r);
  std::printf("\nPeak resident memory: %.0f MiB\n", r.peakResidentMiB);
  return 0;
}

}  // namespace modlab::cli
