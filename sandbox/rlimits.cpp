// rlimits of sandbox.md C.5, always applied (they also work where no cgroup controller does). Only lowered, never
// raised: the supervisor may lack CAP_SYS_RESOURCE, so each value is clamped to the current hard limit.
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

rlim_t Clamp(int resource, rlim_t want) {
  rlimit cur{};
  if (::getrlimit(resource, &cur) != 0 || cur.rlim_max == RLIM_INFINITY) return want;
  return std::min<rlim_t>(want, cur.rlim_max);
}

RlimitPlan Both(int resource, uint64_t value) {
  rlim_t v = Clamp(resource, static_cast<rlim_t>(value));
  return {resource, {v, v}};
}

}  // namespace

std::vector<RlimitPlan> PrepareRlimits(const Spec& spec) {
  std::vector<RlimitPlan> plan;
  // Address space: generous because runtimes reserve far more than they touch; the cgroup bounds real memory.
  uint64_t as = std::max<uint64_t>(spec.memory_bytes * 4, 1ull << 30);
  plan.push_back(Both(RLIMIT_AS, as));
  // CPU: SIGXCPU at the soft limit, SIGKILL one second later.
  uint64_t cpu = static_cast<uint64_t>(std::max(1.0, spec.cpu_time_s + 0.999));
  plan.push_back({RLIMIT_CPU, {Clamp(RLIMIT_CPU, cpu), Clamp(RLIMIT_CPU, cpu + 1)}});
  plan.push_back(Both(RLIMIT_FSIZE, spec.file_size_bytes));
  plan.push_back(Both(RLIMIT_NOFILE, spec.open_files));
  // The cgroup pids limit is the real fork-bomb bound (and the one we can observe); NPROC is a backstop that
  // counts every process of the task's host uid.
  plan.push_back(Both(RLIMIT_NPROC, spec.pids + 8));
  plan.push_back(Both(RLIMIT_CORE, 0));
  plan.push_back(Both(RLIMIT_MEMLOCK, 64 << 10));
  plan.push_back(Both(RLIMIT_MSGQUEUE, 0));
  plan.push_back(Both(RLIMIT_STACK, 8 << 20));
  return plan;
}


}  // namespace warden::sandbox::detail
