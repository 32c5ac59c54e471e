// A fixed pool of worker threads for the CPU backend's data-parallel loops.
//
// ParallelFor splits [0, n) into contiguous ranges, one per worker plus the calling thread, and returns when all
// are done. Calls from several threads at once are serialised (one loop runs at a time). The pool owns its
// threads and joins them on destruction.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace warden::engine::cpu {

class ThreadPool {
 public:
  // num_threads = 0: one per hardware thread. 1: everything runs on the caller.
  explicit ThreadPool(size_t num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t num_threads() const { return workers_.size() + 1; }

  // Runs fn(begin, end) over disjoint ranges covering [0, n). Ranges smaller than `min_grain` are not split
  // further, so tiny loops stay on the calling thread.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_grain = 1);

  // A process-wide pool sized to the machine (or $WARDEN_THREADS), made on first use.
  static ThreadPool& Default();

 private:
  void WorkerLoop(size_t index);

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one ParallelFor at a time
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;  // guarded by mu_
  size_t job_n_ = 0;                                          // guarded by mu_
  size_t job_parts_ = 0;                                      // guarded by mu_
  size_t generation_ = 0;                                     // guarded by mu_: bumps per job
  size_t pending_ = 0;                                        // guarded by mu_: workers still running
  bool stop_ = false;                                         // guarded by mu_
};

}  // namespace warden::engine::cpu
