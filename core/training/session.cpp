#include "modlab/version.h"
#include "modlab/training/session.h"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "modlab/metrics/activation.h"
#include "modlab/training/trainer.h"
#include "training/checkpoint.h"
#include "training/evaluation.h"
#include "training/family_pool.h"

namespace modlab {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string toString(SessionState s) {
  switch (s) {
    case SessionState::Idle: return "idle";
    case SessionState::Running: return "running";
    case SessionState::Paused: return "paused";
    case SessionState::Finished: return "finished";
    case SessionState::Stopped: return "stopped";
    case SessionState::Failed: return "failed";
  }
  return "?";
}

std::string toString(FamilyState s) {
  switch (s) {
    case FamilyState::Training: return "training";
    case FamilyState::Finished: return "finished";
    case FamilyState::Diverged: return "diverged";
    case FamilyState::Stopped: return "stopped";
  }
  return "?";
}


std::string describeError(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  const std::string torchMessage = c10 ? c10->what_without_backtrace() : "";
  // LibTorch's words for it: "not enough memory" (CUDA), "can't allocate memory" (the CPU allocator).
  if (dynamic_cast<const std::bad_alloc*>(&e) || torchMessage.find("not enough memory") != std::string::npos ||
      torchMessage.find("can't allocate memory") != std::string::npos)
    return "out of memory: this experiment needs more memory than the machine has (lower batch_size, size, rules or "
           "matrix_samples)";
  if (c10) {
    std::string message = torchMessage;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
  }
  return e.what();
}

namespace {

torch::Device resolveDevice(const std::string& requested) {
  if (requested == "cuda") {
    if (!cudaAvailable())
      throw ConfigError("device", "invalid device 'cuda': this LibTorch has no CUDA or no GPU is present; allowed is "
                                  "\"auto\" or \"cpu\" here");
    return torch::kCUDA;
  }
  return onGpu(requested) ? torch::kCUDA : torch::kCPU;
}

struct FamilyRun {
  Variant variant;     // as configured; the routing in effect is in Impl::variants
  bool plain = false;  // one of the experiment's families (the experiment's routing applies), not a named variant
  std::unique_ptr<Trainer> trainer;
  FamilyState state = FamilyState::Training;
  std::string message;
  double bestValidation = std::numeric_limits<double>::infinity();
  double stepSeconds = 0.0;  // a running mean of its step's time: the longest steps start first
  // Between the session's common steps (trainUntil): updates done, one running on a worker,
  // and its points not yet published (in step order).
  std::int64_t done = 0;
  bool busy = false;
  std::vector<TrainPoint> points;
};

// The training batches from one generator, in order, each sampled once by whichever worker
// needs it first and kept until every family has used it.
class BatchStream {
public:
  BatchStream(const RuleTask& task, at::Generator& data, SampleRequest request, torch::Device device, std::int64_t first)
      : task_(task), data_(data), request_(std::move(request)), device_(device), first_(first) {}
  Batch get(std::int64_t update) {  // the batch of that update (1-based)
    std::lock_guard lock(mutex_);
    while (first_ + static_cast<std::int64_t>(batches_.size()) <= update)
      batches_.push_back(task_.sample(request_, data_, device_));
    return batches_[static_cast<std::size_t>(update - first_)];
  }
  void dropBefore(std::int64_t update) {
    std::lock_guard lock(mutex_);
    while (first_ < update && !batches_.empty()) batches_.pop_front(), ++first_;
  }

private:
  const RuleTask& task_;
  at::Generator& data_;
  SampleRequest request_;
  torch::Device device_;
  std::int64_t first_;  // the update of batches_.front()
  std::deque<Batch> batches_;
  std::mutex mutex_;
};

}  // namespace

struct Session::Impl {
  ExperimentConfig config;
  SessionOptions options;
  torch::Device device = torch::kCPU;
  std::string deviceText;

  // Control, shared with other threads.
  mutable std::mutex controlMutex;
  std::condition_variable controlChanged;
  bool pauseRequested = false, stopRequested = false;
  std::atomic<bool> cancelEvaluation{false};  // set with stopRequested: evaluations stop mid-way
  std::atomic<bool> interrupt{false};  // a control arrived: the families meet at a common step
  bool oneStep = false;                // waitForWork allowed a single step (Step, or a throttle)
  int singleSteps = 0;
  double pendingLearningRate = 0.0;
  std::vector<RoutingChange> pendingRouting;  // validated; step set when applied
  RoutingOptions routing;  // the experiment's routing now (written under controlMutex)
  std::vector<Variant> variants;  // variantsOf(config): their routing now (written under controlMutex)
  std::atomic<double> throttle{0.0};
  std::atomic<SessionState> state{SessionState::Idle};
  std::thread thread;

  // Mailbox.
  std::mutex mailboxMutex;
  std::vector<Snapshot> mailbox;

  // Owned by the training thread.
  std::unique_ptr<RuleTask> task;
  std::vector<FamilyRun> families;
  std::unique_ptr<FamilyPool> pool;
  std::unique_ptr<RunStore> store;
  RunInfo info;
  at::Generator data = at::make_generator<at::CPUGeneratorImpl>(0);
  std::int64_t step = 0;
  double wallBefore = 0.0;  // training time of earlier sessions of a resumed run
  Clock::time_point runningSince;
  double wallAccumulated = 0.0;
  std::vector<TrainPoint> pendingTrain;  // for the next snapshot
  std::vector<TrainPoint> unsavedTrain;  // for the run folder
  std::vector<EvaluationSnapshot> pendingEvaluations;
  std::vector<std::string> pendingWarnings;
  std::vector<RoutingChange> pendingRoutingChanges;  // for the next snapshot
  bool restored = false;       // resumed from a checkpoint (its step's evaluation is recorded)
  bool mayRecord = false;      // run.json may be written: never before a resume has succeeded
  Clock::time_point lastPublish = Clock::now();
  std::vector<std::pair<Clock::time_point, std::int64_t>> rateWindow;

  double wallSeconds() const {
    double running = state == SessionState::Running
                         ? std::chrono::duration<double>(Clock::now() - runningSince).count()
                         : 0.0;
    return wallBefore + wallAccumulated + running;
  }

  void setState(SessionState s) {
    const SessionState old = state.exchange(s);
    if (old == SessionState::Running && s != SessionState::Running)
      wallAccumulated += std::chrono::duration<double>(Clock::now() - runningSince).count();
    if (s == SessionState::Running && old != SessionState::Running) runningSince = Clock::now();
  }

  void open();   // on the caller's thread: device and run folder, so that errors are immediate
  void build();
  void applyRouting();  // every routed model's routing from `variants`, on the training thread
  void changeRouting(const RoutingChange& change);  // into routing/variants, under controlMutex
  void run();
  // Trains the families from `step` towards `target`, each running ahead of the others by up
  // to kWindow updates (no barrier per step); on an interrupt they stop at a common step.
  void trainUntil(std::int64_t target);
  // One update of a family: its point, and the loss optimised (not finite: it diverged).
  TrainPoint trainFamily(FamilyRun& f, const Batch& batch, std::int64_t update, double& optimised);
  void collectPoints();  // the points of every update all families have done, in order
  EvaluationSnapshot evaluate();
  void saveCheckpoint();
  void restoreCheckpoint();
  void publish(bool force);
  // The run folder's training log, appended at least every half second while training (a
  // browser view or the app following the folder shows each point within a second) and at
  // every evaluation.
  Clock::time_point flushed = Clock::now();
  void flushTrain() {
    if (store && !unsavedTrain.empty()) store->appendTrain(unsavedTrain);
    unsavedTrain.clear();
    flushed = Clock::now();
  }
  void record(const std::string& status);
  void fail(const std::exception& e);  // on the training thread: state Failed, recorded when allowed
  bool waitForWork();  // false: stop
};

void Session::Impl::open() {
  validate(config);
  device = resolveDevice(config.device);
  deviceText = device.is_cuda() ? "CUDA" : "CPU";
  if (options.runDirectory.empty()) return;
  mayRecord = !options.resume;
  if (options.resume) {
    store = std::make_unique<RunStore>(RunStore::openForWriting(options.runDirectory, options.lock));
    const ExperimentConfig recorded = store->readConfig();
    if (!(recorded == config))
      throw ConfigError("resume", "the run in " + options.runDirectory +
                                      " was made with another config; resume it without --config/--set changes");
  } else {
    store = std::make_unique<RunStore>(RunStore::create(options.runDirectory, config, options.overwrite, options.lock));
  }
}

void Session::Impl::changeRouting(const RoutingChange& c) {
  if (c.variant.empty()) modlab::setRoutingCoefficient(routing, c.key, c.value);
  applyRoutingChange(variants, config, c);
}

void Session::Impl::applyRouting() {
  std::lock_guard lock(controlMutex);
  for (std::size_t i = 0; i < families.size(); ++i) {
    FamilyRun& f = families[i];
    if (isRouted(f.variant.family))
      f.trainer->model().setRouting(variants[i].routing, static_cast<std::uint64_t>(config.modelSeed));
  }
}

int familyWorkers(const ExperimentConfig& config) {
  if (onGpu(config.device)) return 1;
  if (config.threads > 0) return config.threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::min<int>(static_cast<int>(config.families.size() + config.variants.size()), cores);
}

void Session::Impl::build() {
  useSingleComputeThread();
  task = RuleTask::create(taskSpecOf(config));
  const OptimiserConfig opt{config.learningRate, config.effectiveClipNorm()};
  // Every variant of a family starts from the same weights: a controlled comparison.
  for (const Variant& v : variantsOf(config)) {
    RuleModel model = makeModel(modelSpecOf(config, v.family), static_cast<std::uint64_t>(config.modelSeed));
    model->to(device);
    FamilyRun run;
    run.variant = v;
    run.plain = families.size() < config.families.size();
    run.trainer = std::make_unique<Trainer>(model, opt);
    families.push_back(std::move(run));
  }
  data = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(config.modelSeed));
  pool = std::make_unique<FamilyPool>(familyWorkers(config));

  info.version = versionString();
  info.torchVersion = TORCH_VERSION;
  info.device = describeDevice(config.device);
  info.started = utcNow();
  if (store && options.resume) restoreCheckpoint();
  applyRouting();
  mayRecord = true;
}

void Session::Impl::record(const std::string& status) {
  if (!store || !mayRecord) return;
  info.status = status;
  info.updated = utcNow();
  info.wallSeconds = wallSeconds();
  info.stepsDone = step;
  for (const FamilyRun& f : families)
    info.familyStates[f.variant.name] = f.message.empty() ? toString(f.state) : toString(f.state) + ": " + f.message;
  store->writeInfo(info);
}

void Session::Impl::saveCheckpoint() {
  if (!store) return;
  store->syncLogs();  // the logs up to this step are on disk before the checkpoint names it
  std::vector<CheckpointFamily> parts;
  for (FamilyRun& f : families)
    parts.push_back({f.variant.name, f.trainer.get(), f.state == FamilyState::Diverged, f.message, f.bestValidation});
  writeCheckpoint(store->checkpointDirectory(), step, data, parts);
  info.checkpointStep = step;
}

void Session::Impl::restoreCheckpoint() {
  try {
    info = store->readInfo();
  } catch (const ReadError& e) {
    pendingWarnings.push_back(std::string(e.what()) + ": rebuilt from the checkpoint (the training time so far is lost)");
    info = RunInfo{};
  }
  if (!hasCheckpoint(store->checkpointDirectory())) {
    // Stopped before its first checkpoint: nothing to continue, so the run starts again.
    pendingWarnings.push_back("no checkpoint yet in " + options.runDirectory + ": the run starts from step 0");
    store->truncateAfter(-1);
    info = RunInfo{};
    return;
  }
  std::vector<CheckpointFamily> parts;
  for (FamilyRun& f : families) parts.push_back({f.variant.name, f.trainer.get(), false, {}, 0.0});
  step = readCheckpoint(store->checkpointDirectory(), data, parts, &pendingWarnings);
  for (std::size_t i = 0; i < families.size(); ++i) {
    families[i].bestValidation = parts[i].bestValidation;
    if (parts[i].diverged) {
      families[i].state = FamilyState::Diverged;
      families[i].message = parts[i].message;
    }
  }
  wallBefore = info.wallSeconds;
  // Live routing changes up to the checkpoint hold again; later ones are undone with their steps.
  std::erase_if(info.routingChanges, [&](const RoutingChange& c) { return c.step > step; });
  {
    std::lock_guard lock(controlMutex);
    for (const RoutingChange& c : info.routingChanges) changeRouting(c);
  }
  std::vector<std::string> evaluated;
  for (const FamilyRun& f : families)
    if (f.state != FamilyState::Diverged) evaluated.push_back(f.variant.name);
  const RunStore::Truncation kept = store->truncateAfter(step, evaluated);
  pendingWarnings.insert(pendingWarnings.end(), kept.warnings.begin(), kept.warnings.end());
  info.stepsDone = step;
  info.checkpointStep = step;
  restored = kept.evaluationKept;  // otherwise run() evaluates the checkpoint's step again
}

bool Session::Impl::waitForWork() {
  std::unique_lock lock(controlMutex);
  oneStep = throttle.load() > 0.0;
  for (;;) {
    interrupt = false;  // every control up to here is handled below; a later one sets it again
    if (stopRequested) return false;
    if (pendingLearningRate > 0.0) {
      for (FamilyRun& f : families) f.trainer->setLearningRate(pendingLearningRate);
      info.learningRateChanges.emplace_back(step, pendingLearningRate);
      pendingLearningRate = 0.0;
    }
    if (!pendingRouting.empty()) {
      for (RoutingChange& c : pendingRouting) {
        c.step = step;
        changeRouting(c);
        info.routingChanges.push_back(c);
        pendingRoutingChanges.push_back(c);
      }
      pendingRouting.clear();
      lock.unlock();
      applyRouting();
      lock.lock();
      continue;  // the state may have changed meanwhile
    }
    if (!pauseRequested) {
      if (state != SessionState::Running) setState(SessionState::Running);
      return true;
    }
    if (singleSteps > 0) {
      --singleSteps;
      oneStep = true;
      return true;
    }
    if (state != SessionState::Paused) {
      setState(SessionState::Paused);
      lock.unlock();
      record("paused");
      publish(true);
      lock.lock();
      continue;
    }
    controlChanged.wait(lock);
  }
}

TrainPoint Session::Impl::trainFamily(FamilyRun& f, const Batch& batch, std::int64_t update, double& optimised) {
  double loss = f.trainer->step(batch);
  if (options.injectNaN && options.injectNaN(f.variant.name, update)) loss = std::numeric_limits<double>::quiet_NaN();
  optimised = loss;
  TrainPoint p{update, f.variant.name, loss};
  if (const StepLosses& l = f.trainer->lastLosses(); l.hasRoutingTerms) {
    p.loss = l.task;
    p.hasParts = true;
    p.objective = l.total;
    p.balance = l.balance;
    p.sampleEntropy = l.sampleEntropy;
    p.batchEntropy = l.batchEntropy;
  }
  return p;
}

void Session::Impl::collectPoints() {
  // The step every training family has done (with none left: the furthest any got).
  std::int64_t common = std::numeric_limits<std::int64_t>::max(), furthest = step;
  for (const FamilyRun& f : families) {
    if (f.state == FamilyState::Training) common = std::min(common, f.done);
    furthest = std::max(furthest, f.done);
  }
  if (common == std::numeric_limits<std::int64_t>::max()) common = furthest;
  if (common <= step) return;
  for (std::int64_t update = step + 1; update <= common; ++update)
    for (FamilyRun& f : families)
      if (!f.points.empty() && f.points.front().step == update) {
        pendingTrain.push_back(f.points.front());
        unsavedTrain.push_back(f.points.front());
        f.points.erase(f.points.begin());
      }
  step = common;
}

void Session::Impl::trainUntil(std::int64_t target) {
  constexpr std::int64_t kWindow = 16;
  SampleRequest request;
  request.batch = config.batchSize;
  BatchStream stream(*task, data, request, device, step + 1);
  for (FamilyRun& f : families) f.done = step;
  std::int64_t limit = target;
  std::mutex mutex;  // guards done, busy, points, state and message of every family, and limit
  std::condition_variable changed;
  const std::thread::id trainingThread = std::this_thread::get_id();
  auto worker = [&] {
    std::unique_lock lock(mutex);
    for (;;) {
      if (interrupt.load() && limit == target) {
        limit = step;  // every family meets the furthest one
        for (const FamilyRun& f : families) limit = std::max(limit, f.done + (f.busy ? 1 : 0));
      }
      std::int64_t slowest = limit;
      for (const FamilyRun& f : families)
        if (f.state == FamilyState::Training) slowest = std::min(slowest, f.done);
      FamilyRun* next = nullptr;  // the furthest behind, the longest step first
      for (FamilyRun& f : families)
        if (f.state == FamilyState::Training && !f.busy && f.done < limit && f.done < slowest + kWindow &&
            (!next || f.done < next->done || (f.done == next->done && f.stepSeconds > next->stepSeconds)))
          next = &f;
      if (!next) {
        const bool running = std::any_of(families.begin(), families.end(), [](const FamilyRun& f) { return f.busy; });
        const bool waiting = std::any_of(families.begin(), families.end(), [&](const FamilyRun& f) {
          return f.state == FamilyState::Training && f.done < limit;
        });
        if (!running && !waiting) return;
        changed.wait(lock);
        continue;
      }
      next->busy = true;
      const std::int64_t update = next->done + 1;
      lock.unlock();
      const auto started = Clock::now();
      TrainPoint point;
      double loss = 0.0;
      try {
        point = trainFamily(*next, stream.get(update), update, loss);
      } catch (...) {
        lock.lock();
        next->busy = false;
        limit = step;  // the others stop; the pool rethrows
        changed.notify_all();
        throw;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      lock.lock();
      next->stepSeconds = next->stepSeconds == 0.0 ? seconds : 0.9 * next->stepSeconds + 0.1 * seconds;
      next->busy = false;
      next->done = update;
      if (!std::isfinite(loss)) {
        next->state = FamilyState::Diverged;
        next->message = std::string("loss became ") + (std::isnan(loss) ? "NaN" : "infinite") + " at step " +
                        std::to_string(update);
      }
      next->points.push_back(std::move(point));
      changed.notify_all();
      if (std::this_thread::get_id() == trainingThread) {  // the training thread publishes as it goes
        collectPoints();
        stream.dropBefore(step + 1);
        publish(false);
        if (Clock::now() - flushed > std::chrono::milliseconds(500)) flushTrain();
      }
    }
  };
  std::vector<std::function<void()>> jobs(static_cast<std::size_t>(pool->size()), worker);
  pool->run(jobs);
  collectPoints();
}

EvaluationSnapshot Session::Impl::evaluate() {
  // A diverged family is left out: its weights are not numbers any more.
  std::vector<FamilyRun*> live;
  std::vector<RuleModelImpl*> models;
  for (FamilyRun& f : families)
    if (f.state != FamilyState::Diverged) {
      live.push_back(&f);
      models.push_back(&f.trainer->model());
    }
  EvaluationPlan plan = trainingPlan(config, step);
  plan.estimates.cancel = &cancelEvaluation;
  EvaluationSnapshot snapshot = evaluateFamilies(config, *task, models, plan, *pool, device);
  for (std::size_t i = 0; i < live.size(); ++i) snapshot.families[i].variant = live[i]->variant.name;
  snapshot.step = step;
  snapshot.wallSeconds = wallSeconds();
  // The best checkpoint: validation accuracy (classification) or loss (regression).
  for (std::size_t i = 0; i < live.size(); ++i) {
    FamilyRun& f = *live[i];
    const double v = config.task == TaskKind::Classification ? snapshot.families[i].validation.error
                                                              : snapshot.families[i].validation.loss;
    if (store && v < f.bestValidation) {
      f.bestValidation = v;
      writeBestModel(store->checkpointDirectory(), f.variant.name, *f.trainer, step, v);
    }
  }
  return snapshot;
}

void Session::Impl::publish(bool force) {
  const auto now = Clock::now();
  if (!force && now - lastPublish < std::chrono::milliseconds(30)) return;
  lastPublish = now;
  flushTrain();
  rateWindow.emplace_back(now, step);
  while (rateWindow.size() > 2 && now - rateWindow.front().first > std::chrono::seconds(3)) rateWindow.erase(rateWindow.begin());
  Snapshot s;
  s.step = step;
  s.totalSteps = config.steps;
  s.wallSeconds = wallSeconds();
  const double span = std::chrono::duration<double>(now - rateWindow.front().first).count();
  s.stepsPerSecond = span > 0.05 ? static_cast<double>(step - rateWindow.front().second) / span : 0.0;
  s.state = state;
  s.device = deviceText;
  s.train = std::move(pendingTrain);
  s.evaluations = std::move(pendingEvaluations);
  s.warnings = std::move(pendingWarnings);
  pendingTrain.clear();
  pendingEvaluations.clear();
  pendingWarnings.clear();
  {
    std::lock_guard lock(controlMutex);
    for (std::size_t i = 0; i < families.size(); ++i) {
      const FamilyRun& f = families[i];
      s.families.push_back({f.variant.name, f.state, f.message, f.trainer->learningRate(), variants[i].routing});
    }
    s.routing = routing;
  }
  s.routingChanges = std::move(pendingRoutingChanges);
  pendingRoutingChanges.clear();
  std::lock_guard lock(mailboxMutex);
  mailbox.push_back(std::move(s));
}

void Session::Impl::run() {
  try {
    build();
    setState(SessionState::Running);
    record("running");
    if (!restored) {
      EvaluationSnapshot e = evaluate();
      if (store) store->appendEvaluation(e);
      pendingEvaluations.push_back(std::move(e));
      saveCheckpoint();
    }
    publish(true);
    auto nextAllowed = Clock::now();
    while (step < config.steps) {
      if (!waitForWork()) break;
      if (const double rate = throttle.load(); rate > 0.0) {
        std::this_thread::sleep_until(nextAllowed);
        nextAllowed = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
      }
      trainUntil(oneStep ? step + 1 : std::min(config.steps, (step / config.evalEvery + 1) * config.evalEvery));
      const bool anyTraining = std::any_of(families.begin(), families.end(),
                                           [](const FamilyRun& f) { return f.state == FamilyState::Training; });
      if (step % config.evalEvery == 0 || step == config.steps || !anyTraining) {
        flushTrain();
        EvaluationSnapshot e = evaluate();
        if (store) store->appendEvaluation(e);
        pendingEvaluations.push_back(std::move(e));
        saveCheckpoint();
        record("running");
        publish(true);
      } else {
        publish(oneStep);  // a single step is shown at once, not after the 30 ms rate limit
      }
      if (!anyTraining) break;
    }
    const bool stopped = step < config.steps && std::none_of(families.begin(), families.end(), [](const FamilyRun& f) {
                           return f.state == FamilyState::Diverged;
                         });
    for (FamilyRun& f : families)
      if (f.state == FamilyState::Training) f.state = stopped ? FamilyState::Stopped : FamilyState::Finished;
    flushTrain();
    setState(stopped ? SessionState::Stopped : SessionState::Finished);
    record(stopped ? "stopped" : "finished");
    publish(true);
  } catch (const EvaluationCancelled&) {
    // A stop during an evaluation: the run continues from its last checkpoint on resume.
    for (FamilyRun& f : families)
      if (f.state == FamilyState::Training) f.state = FamilyState::Stopped;
    setState(SessionState::Stopped);
    try {
      record("stopped");
      publish(true);
    } catch (const std::exception& e) {
      fail(e);
    }
  } catch (const std::exception& e) {
    fail(e);
  }
}

void Session::Impl::fail(const std::exception& e) {
  const std::string message = describeError(e);  // never a stack trace
  setState(SessionState::Failed);
  Snapshot s;
  s.step = step;
  s.totalSteps = config.steps;
  s.state = SessionState::Failed;
  s.error = message;
  s.device = deviceText;
  s.warnings = std::move(pendingWarnings);
  info.error = message;
  try {
    record("failed");
  } catch (const std::exception& writeError) {
    s.error += " (and run.json could not record the failure: " + std::string(writeError.what()) + ")";
  }
  std::lock_guard lock(mailboxMutex);
  mailbox.push_back(std::move(s));
}

Session::Session(ExperimentConfig config, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  validate(config);
  impl_->config = std::move(config);
  impl_->routing = impl_->config.routing;
  impl_->variants = variantsOf(impl_->config);
  impl_->options = std::move(options);
  impl_->open();
}

Session::~Session() {
  stop();
  wait();
}

void Session::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void Session::pause() {
  std::lock_guard lock(impl_->controlMutex);
  impl_->pauseRequested = true;
  impl_->interrupt = true;
  impl_->controlChanged.notify_all();
}

void Session::resume() {
  std::lock_guard lock(impl_->controlMutex);
  impl_->pauseRequested = false;
  impl_->controlChanged.notify_all();
}

void Session::step() {
  std::lock_guard lock(impl_->controlMutex);
  impl_->pauseRequested = true;
  ++impl_->singleSteps;
  impl_->interrupt = true;
  impl_->controlChanged.notify_all();
}

void Session::stop() {
  std::lock_guard lock(impl_->controlMutex);
  impl_->stopRequested = true;
  impl_->cancelEvaluation = true;
  impl_->interrupt = true;
  impl_->controlChanged.notify_all();
}

void Session::setLearningRate(double lr) {
  if (!(lr > 0.0 && lr <= 1.0)) throw ConfigError("learning_rate", "invalid learning_rate " + std::to_string(lr) + ": allowed is a number in (0, 1]");
  std::lock_guard lock(impl_->controlMutex);
  impl_->pendingLearningRate = lr;
  impl_->interrupt = true;
  impl_->controlChanged.notify_all();
}

void Session::setRoutingCoefficient(const std::string& key, double value, const std::string& variant) {
  const ExperimentConfig& config = impl_->config;
  if (variant.empty() && std::none_of(config.families.begin(), config.families.end(), isRouted))
    throw ConfigError("variants", "invalid " + key + ": this experiment has no Modular or Modular-op family to route" +
                                      (config.variants.empty() ? "" : "; name one of its variants"));
  if (!variant.empty()) findVariant(config.variants, variant);  // throws for an unknown one
  std::lock_guard lock(impl_->controlMutex);
  RoutingOptions next = variant.empty() ? impl_->routing : findVariant(impl_->variants, variant).routing;
  try {
    for (const RoutingChange& c : impl_->pendingRouting)
      if (c.variant == variant) modlab::setRoutingCoefficient(next, c.key, c.value);
    modlab::setRoutingCoefficient(next, key, value);
  } catch (const InvalidArgument& e) {
    throw ConfigError(e.parameter(), "invalid " + e.parameter() + " " + e.value() + ": allowed is " + e.allowed());
  }
  impl_->pendingRouting.push_back({0, key, value, variant});
  impl_->interrupt = true;
  impl_->controlChanged.notify_all();
}

RoutingOptions Session::routing(const std::string& variant) const {
  std::lock_guard lock(impl_->controlMutex);
  return variant.empty() ? impl_->routing : findVariant(impl_->variants, variant).routing;
}

void Session::setThrottle(double stepsPerSecond) { impl_->throttle = std::max(0.0, stepsPerSecond); }

void Session::wait() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::vector<Snapshot> Session::drain() {
  std::lock_guard lock(impl_->mailboxMutex);
  std::vector<Snapshot> out;
  out.swap(impl_->mailbox);
  return out;
}

SessionState Session::state() const { return impl_->state; }
const ExperimentConfig& Session::config() const { return impl_->config; }
std::string Session::device() const { return describeDevice(impl_->config.device); }

}  // namespace modlab
