// The names of the setup steps the init can fail at (init/init_plan.h), as the result's setup_error shows them, and
// the tests' fault injection.
#include <atomic>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

std::atomic<int32_t> g_fail_step{0};

}  // namespace

void SetFailStepForTest(int32_t step) { g_fail_step = step; }
int32_t FailStepForTest() { return g_fail_step; }

const char* StepName(int32_t step) {
  switch (step) {
    case kStepSync: return "sync with supervisor";
    case kStepIdentity: return "switch to the sandbox uid/gid";
    case kStepCgroupNs: return "cgroup namespace";
    case kStepMountPrivate: return "make mounts private";
    case kStepRootTmpfs: return "tmpfs root";
    case kStepSkeleton: return "root skeleton (dirs, links, /etc files)";
    case kStepBind: return "bind mount";
    case kStepDev: return "/dev";
    case kStepTmp: return "/tmp tmpfs";
    case kStepProc: return "/proc";
    case kStepPivot: return "pivot_root";
    case kStepRemountRoot: return "read-only root";
    case kStepHostname: return "sethostname";
    case kStepSetsid: return "setsid";
    case kStepRlimits: return "rlimits";
    case kStepFds: return "close inherited fds";
    case kStepCaps: return "drop capabilities";
    case kStepNoNewPrivs: return "no_new_privs";
    case kStepLandlock: return "landlock";
    case kStepSeccomp: return "seccomp";
    case kStepListener: return "pass the seccomp listener";
    case kStepFork: return "fork the program";
    case kStepExec: return "execve";
    case kStepChdir: return "chdir /workspace";
    case kStepCgroupAttach: return "join the task cgroup";
    case kStepNet: return "network proxy listener (loopback in the netns)";
    case kStepStartInit: return "start the sandbox init (execveat)";
    case kStepPlan: return "read the init's plan";
    case kStepSignals: return "reset signal dispositions";
    default: return "unknown step";
  }
}

}  // namespace warden::sandbox::detail
