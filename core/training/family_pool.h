// A fixed set of worker threads that run one batch of jobs at a time (the families'
// steps), each worker with one LibTorch intra-op thread. Private to core.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace modlab {

class FamilyPool {
public:
  explicit FamilyPool(int workers);
  ~FamilyPool();
  int size() const { return static_cast<int>(threads_.size()) + 1; }
  // Runs every job, spread over the workers and the calling thread; returns when all are done.
  // A job's exception is rethrown here (the first one).
  void run(const std::vector<std::function<void()>>& jobs);

private:
  void work();
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::vector<std::function<void()>>* jobs_ = nullptr;
  std::size_t next_ = 0, finished_ = 0;
  std::uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

// One intra-op thread for LibTorch and for OpenBLAS on the calling thread.
void useSingleComputeThread();

}  // namespace modlab
