// Internals shared by the executor's layer files (sandbox.md C.1): the plan the supervisor prepares before clone
// and the child only reads, and each layer's verbs. Style: prepare in the parent (may allocate, may fail with a
// Status); apply in the child (async-signal-safe syscalls only, no allocation, failure = a step number + errno
// sent over the sync socket); finish in the parent after clone (id maps, cgroup placement).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "sandbox/sandbox.h"

namespace warden::sandbox::detail {

// The setup steps, in the order spawn.cpp runs them; a failure names one of them in setup_error.
enum Step : int32_t {
  kStepSync = 1, kStepIdentity, kStepCgroupNs, kStepMountPrivate, kStepRootTmpfs, kStepSkeleton, kStepBind,
  kStepDev, kStepTmp, kStepProc, kStepPivot, kStepRemountRoot, kStepHostname, kStepSetsid, kStepRlimits,
  kStepFds, kStepCaps, kStepNoNewPrivs, kStepLandlock, kStepSeccomp, kStepListener, kStepFork, kStepExec,
  kStepChdir, kStepNet,
};
const char* StepName(int32_t step);

// Fixed-size records on the sync socket from the child (and its in-sandbox init) to the supervisor.
enum MsgType : int32_t {
  kMsgSetupError = 1, kMsgListener = 2, kMsgExitStatus = 3, kMsgStarted = 4,
  kMsgProxyListener = 5,  // profile "net": the proxy's listening socket made inside the netns (net_bridge.cpp)
};
struct ChildMsg {
  int32_t type = 0;
  int32_t step = 0;    // kMsgSetupError
  int32_t err = 0;     // errno for kMsgSetupError
  int32_t status = 0;  // wait status of the program for kMsgExitStatus
};

// The uid and gid the program has inside; mapped to an unprivileged host uid (sandbox.md C.7).
constexpr uid_t kSandboxUid = 1000;
constexpr gid_t kSandboxGid = 1000;

// ---- mounts.cpp -------------------------------------------------------------------------------------------
struct BindPlan {
  std::string source;           // canonical host path, checked by the supervisor; the child reopens it with
                                // RESOLVE_NO_SYMLINKS and binds through /proc/self/fd/N (a mount fd opened in the
                                // supervisor's mount namespace cannot be bound in the child's copy)
  std::string target;           // staging path, e.g. "/tmp/usr"
  bool is_dir = true;
  bool writable = false;
  unsigned long keep_flags = 0;  // MS_NOEXEC etc. that the source mount has (a user ns must keep them)
};
constexpr size_t kMaxBinds = 64;  // the child keeps the source fds in a fixed array (no allocation after clone)
struct FilePlan {
  std::string path;     // staging path
  std::string content;  // regular file content
};
struct LinkPlan {
  std::string path;    // staging path
  std::string target;  // symlink target
};
struct MountPlan {
  std::string staging = "/tmp";  // where the new root is assembled before pivot_root
  std::string root_options;      // tmpfs options of the new root
  std::string tmp_options;       // tmpfs options of /tmp
  std::string tmp_target, proc_target, dev_target;
  std::vector<std::string> dirs;  // staging paths to create, parents first
  std::vector<LinkPlan> links;
  std::vector<FilePlan> files;
  std::vector<BindPlan> binds;    // parents before children
};
// Builds the view of sandbox.md C.3 for `spec` (host paths validated here).
Result<MountPlan> PrepareMounts(const Spec& spec, const std::string& workspace);
// In the child: private propagation, tmpfs root, binds, /dev, /tmp, /proc, pivot_root, read-only root.
int ApplyMountsInChild(const MountPlan& plan, int32_t* failed_step);

// ---- rlimits.cpp ------------------------------------------------------------------------------------------
struct RlimitPlan {
  int resource;
  rlimit value;
};
std::vector<RlimitPlan> PrepareRlimits(const Spec& spec);
int ApplyRlimitsInChild(const std::vector<RlimitPlan>& plan);

// ---- caps.cpp ---------------------------------------------------------------------------------------------
// In the child: become kSandboxUid/kSandboxGid but keep the capabilities needed for mounts (caps are dropped
// later by DropCapsInChild).
int BecomeSandboxUserInChild();
int DropCapsInChild();

// ---- landlock.cpp -----------------------------------------------------------------------------------------
struct LandlockRule {
  std::string path;  // path inside the sandbox (after pivot_root)
  uint64_t access;
};
struct LandlockPlan {
  int abi = 0;  // 0 = Landlock unavailable: the layer is skipped and the result says so
  uint64_t handled_fs = 0;
  uint64_t handled_net = 0;
  uint64_t scoped = 0;
  std::vector<LandlockRule> rules;
  std::vector<uint16_t> connect_ports;  // TCP connect allowed (the proxy port in profile "net")
};
int LandlockAbi();  // cached
LandlockPlan PrepareLandlock(const Spec& spec);
int ApplyLandlockInChild(const LandlockPlan& plan);

// ---- seccomp.cpp ------------------------------------------------------------------------------------------
// The two programs of sandbox.md C.2, compiled once per profile and kept for the life of the process.
struct SeccompPrograms {
  std::vector<sock_filter> allowlist;      // filter 1
  std::vector<sock_filter> report;         // filter 2 (USER_NOTIF actions)
  std::vector<sock_filter> report_errno;   // filter 2 with ERRNO(EPERM) instead, when no listener can be made
};
Result<const SeccompPrograms*> GetSeccompPrograms(const std::string& profile);
// Returns the listener fd (>= 0) or -errno.
int ApplySeccompInChild(const SeccompPrograms& programs, bool* notify);
// The pseudo-filter code of both filters (for tests and docs).
Result<std::string> ExportSeccompPfc(const std::string& profile);
// Syscall name for a native syscall number ("ptrace"), or "syscall_<nr>".
std::string SyscallName(int nr);
// The names filter 2 reports (sorted), for tests.
std::vector<std::string> ReportedSyscalls();

// ---- notify.cpp -------------------------------------------------------------------------------------------
// Receives one notification from `listener_fd`, answers it (EPERM / EAFNOSUPPORT) and returns the record.
// Returns false when the listener is gone (all filtered processes exited).
bool HandleNotification(int listener_fd, double t_ms, Violation* out);

// ---- cgroup.cpp -------------------------------------------------------------------------------------------
// The per-task cgroup: v2 when its controllers can be enabled, else v1 memory+pids (sandbox.md C.5).
class TaskCgroup {
 public:
  static Result<std::unique_ptr<TaskCgroup>> Create(const Spec& spec);  // nullptr when no backend is usable
  TaskCgroup() = default;  // empty; use Create
  ~TaskCgroup();
  TaskCgroup(const TaskCgroup&) = delete;
  TaskCgroup& operator=(const TaskCgroup&) = delete;
  Status AddProcess(pid_t pid);
  bool OomKilled() const;
  bool PidsLimitHit() const;
  uint64_t PeakMemoryBytes() const;
  void KillAll();
  const char* Backend() const { return backend_; }
  std::vector<Limit> Mechanisms(const Spec& spec) const;
  // "v2", "v1" or "none" (cached per process).
  static std::string Available();

 private:
  const char* backend_ = "none";
  std::vector<std::string> dirs_;  // created cgroup folders (removed in the destructor)
  std::string memory_dir_, pids_dir_;
};

// ---- spawn.cpp --------------------------------------------------------------------------------------------
struct ChildPlan {
  int sync_fd = -1;  // child end of the SOCK_SEQPACKET pair
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  const MountPlan* mounts = nullptr;
  const std::vector<RlimitPlan>* rlimits = nullptr;
  const LandlockPlan* landlock = nullptr;
  const SeccompPrograms* seccomp = nullptr;
  const char* exec_path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  bool net_proxy = false;    // profile "net": make the proxy listener in the netns (net_bridge.cpp)
  int32_t fail_at_step = 0;  // fault injection for tests (SetFailStepForTest): that step fails with EPERM
};
// Tests only: make the next runs of this process fail at `step` inside the child, as if the kernel refused it
// (sandbox.md probe 53). 0 turns it off. Thread-compatible.
void SetFailStepForTest(int32_t step);
int32_t FailStepForTest();
// Child entry after clone: applies every layer in order and runs the in-sandbox init. Never returns.
[[noreturn]] void ChildMain(const ChildPlan& plan);

}  // namespace warden::sandbox::detail
