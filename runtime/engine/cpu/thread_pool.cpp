#include "runtime/engine/cpu/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace warden::engine::cpu {
namespace {

// Part `i` of `parts` over [0, n): contiguous, sizes differing by at most one.
std::pair<size_t, size_t> Range(size_t n, size_t parts, size_t i) {
  size_t base = n / parts, extra = n % parts;
  size_t begin = i * base + std::min(i, extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

}  // namespace

ThreadPool::ThreadPool(size_t num_threads) {
  if (num_threads == 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(size_t index) {
  size_t seen = 0;
  for (;;) {
    const std::function<void(size_t, size_t)>* job;
    size_t n, parts;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      n = job_n_;
      parts = job_parts_;
    }
    if (index < parts) {
      auto [b, e] = Range(n, parts, index);
      if (b < e) (*job)(b, e);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_grain) {
  if (n == 0) return;
  size_t parts = std::min(num_threads(), std::max<size_t>(1, n / std::max<size_t>(1, min_grain)));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    job_parts_ = parts;
    pending_ = workers_.size();
    ++generation_;
  }
  work_cv_.notify_all();
  auto [b, e] = Range(n, parts, 0);
  fn(b, e);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return pending_ == 0; });
}

ThreadPool& ThreadPool::Default() {
  static ThreadPool pool([] {
    const char* env = std::getenv("WARDEN_THREADS");
    return env != nullptr ? static_cast<size_t>(std::max(0, std::atoi(env))) : size_t{0};
  }());
  return pool;
}

}  // namespace warden::engine::cpu
