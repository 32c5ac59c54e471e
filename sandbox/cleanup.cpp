// Work that may finish after a run's result is known (sandbox.md C.1, "cleanup"; issue 7 spawn cost): removing
// the task cgroup once the dying namespace has left it, dropping the supervisor's hold on the task's namespaces
// (their teardown — unmounting the whole view, freeing the network namespace — then runs here instead of inside
// the init's exit, where the supervisor would wait for it) and removing a temporary workspace; and making the next
// run's spares (DeferAhead: queued in front of the teardowns, so they are ready when a run follows at once). One
// worker thread, started on first use, drains a queue in order; at process exit the queue's destructor lets it
// finish what is queued (so no task cgroup outlives the process that made it). DrainCleanupForTest waits until it
// is empty.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

struct Queue {
  std::mutex mu;
  std::condition_variable cv, idle, progress;
  struct Job {
    std::function<void()> run;
    bool ahead = false;  // makes something for a next run (DeferAhead): pointless once the process is stopping
  };
  std::deque<Job> jobs;
  bool busy = false;
  bool stop = false;
  std::thread worker;
  ~Queue() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    progress.notify_all();
    if (worker.joinable()) worker.join();
  }
};

constexpr size_t kMaxWaitingTeardowns = 8;
constexpr size_t kMaxBacklog = 16;

Queue& TheQueue() {
  static Queue q;
  return q;
}

void Worker(Queue* q) {
  std::unique_lock<std::mutex> lock(q->mu);
  for (;;) {
    q->cv.wait(lock, [q] { return !q->jobs.empty() || q->stop; });
    if (q->jobs.empty()) return;  // stopping, nothing left
    // Ahead jobs first (the next run may be waiting), but not forever: a caller running tasks back to back keeps
    // queueing them, and the teardowns behind them hold each finished task's fds and namespaces. Past a few waiting
    // teardowns the oldest goes first.
    auto pick = q->jobs.begin();
    size_t teardowns = 0;
    for (const auto& j : q->jobs) teardowns += !j.ahead;
    if (teardowns > kMaxWaitingTeardowns) {
      pick = std::find_if(q->jobs.begin(), q->jobs.end(), [](const Queue::Job& j) { return !j.ahead; });
    }
    auto job = std::move(*pick);
    q->jobs.erase(pick);
    if (q->stop && job.ahead) continue;  // at exit: teardowns only, no new sandboxes to kill again
    q->busy = true;
    lock.unlock();
    job.run();
    job.run = nullptr;  // what it captured is released here, outside the lock
    lock.lock();
    q->busy = false;
    q->progress.notify_all();
    if (q->jobs.empty()) q->idle.notify_all();
  }
}

}  // namespace

void DeferCleanup(std::function<void()> job) {
  Queue& q = TheQueue();
  std::unique_lock<std::mutex> lock(q.mu);
  if (!q.worker.joinable()) q.worker = std::thread(Worker, &q);
  q.jobs.push_back({std::move(job), false});
  q.cv.notify_one();
  // Backpressure: a caller finishing tasks faster than the worker tears them down (an overloaded box) waits here
  // rather than let every finished task's fds, namespaces and cgroups pile up. Never on the worker itself.
  if (std::this_thread::get_id() == q.worker.get_id()) return;
  auto teardowns = [&q] {
    return static_cast<size_t>(std::count_if(q.jobs.begin(), q.jobs.end(), [](const Queue::Job& j) { return !j.ahead; }));
  };
  if (teardowns() > kMaxBacklog) q.progress.wait(lock, [&] { return teardowns() <= kMaxBacklog / 2 || q.stop; });
}

void DeferAhead(std::function<void()> job) {
  Queue& q = TheQueue();
  std::lock_guard<std::mutex> lock(q.mu);
  if (!q.worker.joinable()) q.worker = std::thread(Worker, &q);
  q.jobs.push_front({std::move(job), true});
  q.cv.notify_one();
}

void DrainCleanupForTest() {
  Queue& q = TheQueue();
  std::unique_lock<std::mutex> lock(q.mu);
  q.idle.wait(lock, [&q] { return q.jobs.empty() && !q.busy; });
}

}  // namespace warden::sandbox::detail
