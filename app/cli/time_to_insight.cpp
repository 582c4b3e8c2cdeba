// modlab-cli bench --time-to-insight: one whole experiment as a user runs it (four families
// side by side, every evaluation, the run folder written), timed from start to finish.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "modlab/experiment/experiment_config.h"
#include "modlab/platform/platform_info.h"
#include "modlab/training/session.h"
#include "progress.h"

namespace modlab::cli {

namespace {

namespace fs = std::filesystem;

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// MHA classification (search version 1), R = 4, size 32, 10 tokens, the four families,
// lr 1e-3, batch 256, 6,000 steps, evaluated every 500 steps (13 evaluations).
ExperimentConfig timeToInsightConfig() {
  ExperimentConfig c = findPreset("demo-mha-search").config;
  applyOverrides(c, {"steps=6000", "eval_every=500"});
  return c;
}

}  // namespace

int timeToInsight(bool asJson) {
  const ExperimentConfig config = timeToInsightConfig();
  const fs::path folder = fs::temp_directory_path() / ("modlab-time-to-insight-" + std::to_string(::getpid()));
  const PlatformInfo platform = platformInfo();
  if (!asJson)
    std::fprintf(stderr, "time to insight: %s, %zu families, %lld steps, evaluated every %lld (the run folder in %s)...\n",
                 config.name.c_str(), config.families.size(), static_cast<long long>(config.steps),
                 static_cast<long long>(config.evalEvery), folder.c_str());
  const double cpu0 = cpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  struct RemovedAtEnd {  // also when the run fails
    fs::path path;
    ~RemovedAtEnd() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } removed{folder};
  SessionOptions options;
  options.runDirectory = folder.string();
  options.overwrite = true;
  Session session(config, options);
  session.start();
  EvaluationSnapshot lastEvaluation;
  int evaluations = 0;
  // The progress line of 'train' (on stderr, fitted to the terminal): minutes are not silent.
  const SessionState state = follow(session, asJson, lastEvaluation, &evaluations);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpuSeconds() - cpu0;
  if (state != SessionState::Finished) throw std::runtime_error("the timed run was stopped before its end");
  const int threads = familyWorkers(config);
  if (asJson) {
    nlohmann::json out{{"machine", {{"cpu", platform.cpu}, {"hardware_threads", platform.hardwareThreads}}},
                       {"blas_kernel", platform.blasKernel.kernel},
                       {"experiment", config.name},
                       {"steps", config.steps},
                       {"eval_every", config.evalEvery},
                       {"evaluations", evaluations},
                       {"family_threads", threads},
                       {"wall_seconds", wall},
                       {"cpu_seconds", cpu}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("Machine:   %s, %d hardware threads\n", platform.cpu.c_str(), platform.hardwareThreads);
  std::printf("BLAS:      %s\n", describeBlas(platform).c_str());
  std::printf("GEMM:      %s\n", describeGemm(platform).c_str());
  std::printf("Run:       %s: MHA classification, R = %d, size %d, %d tokens, %zu families, lr %g, batch %d,\n"
              "           %d steps, %d evaluations (every %d steps), the run folder written, %d family threads\n\n",
              config.name.c_str(), config.rules, config.size, config.length, config.families.size(), config.learningRate,
              static_cast<int>(config.batchSize), static_cast<int>(config.steps), evaluations,
              static_cast<int>(config.evalEvery), threads);
  std::printf("%s", evaluationTable(lastEvaluation, config.task, true).c_str());
  std::printf("\nTime to insight: %.1f s wall, %.1f s CPU (%.0f%% of one core)\n", wall, cpu, 100.0 * cpu / wall);
  return 0;
}

}  // namespace modlab::cli
