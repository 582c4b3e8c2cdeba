#include "training/family_pool.h"

#include <dlfcn.h>
#include <malloc.h>

#include <ATen/Parallel.h>

#include "modlab/platform/gemm_backend.h"

namespace modlab {

namespace {
// Training allocates and frees the same mid-sized tensors every step. glibc's defaults hand
// blocks above 128 KiB to mmap/munmap and trim the heap eagerly, so each step page-faults
// its memory back in (about 10% of an MLP step, measured). Keep them in the heap instead.
void keepTensorMemoryInTheHeap() {
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);
    return true;
  }();
  (void)once;
}
}  // namespace

void useSingleComputeThread() {
  keepTensorMemoryInTheHeap();
  (void)gemmStatus();  // chooses (and checks) the GEMM library before the first product
  at::set_num_threads(1);
  // OpenBLAS (pthread build) keeps its own pool; a vendor LibTorch may use MKL instead.
  using SetThreads = void (*)(int);
  static const auto openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas) openblas(1);
}

FamilyPool::FamilyPool(int workers) {
  for (int i = 1; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

FamilyPool::~FamilyPool() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void FamilyPool::run(const std::vector<std::function<void()>>& jobs) {
  if (jobs.empty()) return;
  {
    std::lock_guard lock(mutex_);
    jobs_ = &jobs;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  // The calling thread works too.
  for (;;) {
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      if (next_ >= jobs.size()) break;
      index = next_++;
    }
    try {
      jobs[index]();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    ++finished_;
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return finished_ == jobs.size(); });
  jobs_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void FamilyPool::work() {
  useSingleComputeThread();
  std::uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return quit_ || (jobs_ && generation_ != seen && next_ < jobs_->size()); });
    if (quit_) return;
    seen = generation_;
    while (jobs_ && next_ < jobs_->size()) {
      const std::size_t index = next_++;
      const auto* jobs = jobs_;
      lock.unlock();
      try {
        (*jobs)[index]();
      } catch (...) {
        lock.lock();
        if (!error_) error_ = std::current_exception();
        lock.unlock();
      }
      lock.lock();
      if (++finished_ == jobs->size()) done_.notify_all();
    }
  }
}

}  // namespace modlab
