// Network namespaces made ahead of time (issue 7, spawn cost): creating a network namespace is the most expensive
// part of clone (~0.5 ms CPU of ~0.7 ms here: every pernet subsystem initialises, IPv6 the most). For the default
// profile the cleanup thread makes the next task's namespace after each run, off the critical path; Run() enters
// it on the calling thread just for the clone (setns), so the child is born in it, and returns to its own.
//
// Isolation is the same as CLONE_NEWNET: a fresh, unconfigured namespace per task (loopback down), never reused;
// it is owned by the supervisor's user namespace instead of the task's, so the task has no capability over it at
// any point. Only one is kept; a run that finds none (the first, or two runs at once) clones as before.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

std::mutex g_mu;
int g_spare = -1;  // guarded by g_mu
std::atomic<bool> g_enabled{true};

}  // namespace

bool SpareNetnsUsable() { return g_enabled && ::geteuid() == 0; }

int TakeSpareNetns() {
  if (!SpareNetnsUsable()) return -1;
  std::lock_guard<std::mutex> lock(g_mu);
  int fd = g_spare;
  g_spare = -1;
  return fd;
}

void MakeSpareNetns() {
  if (!SpareNetnsUsable()) return;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_spare >= 0) return;
  }
  // Only the calling (cleanup) thread moves; it needs no network, and the next unshare replaces this namespace.
  if (::unshare(CLONE_NEWNET) != 0) return;
  int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_spare >= 0) {
    ::close(fd);
    return;
  }
  g_spare = fd;
}

void SetSpareNetnsForBench(bool on) {
  g_enabled = on;
  if (!on) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_spare >= 0) ::close(g_spare);
    g_spare = -1;
  }
}

}  // namespace warden::sandbox::detail
