// Internals shared by the executor's layer files (sandbox.md C.1): the plan the supervisor prepares before clone
// and the child only reads, and each layer's verbs. Style: prepare in the parent (may allocate, may fail with a
// Status); apply in the child (async-signal-safe syscalls only, no allocation, failure = a step number + errno
// sent over the sync socket); finish in the parent after clone (id maps, cgroup placement).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "sandbox/sandbox.h"

// Steps, sync-socket records and the init's plan: shared with the freestanding init (C).
#include "sandbox/init/init_plan.h"

namespace warden::sandbox::detail {

const char* StepName(int32_t step);

// ---- mounts.cpp -------------------------------------------------------------------------------------------
// An fd that closes itself; move-only (a detached mount tree must have exactly one owner in this process).
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd();
  OwnedFd(OwnedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& o) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }
  int release() {  // the caller owns the fd now
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

struct BindPlan {
  std::string source;  // canonical host path, checked by the supervisor (for messages)
  std::string target;  // staging path, e.g. "/tmp/usr"
  // A detached copy of the source's mount tree (open_tree OPEN_TREE_CLONE|AT_RECURSIVE), made by the supervisor
  // before clone with its final flags already set (mount_setattr: read-only unless writable, nosuid, nodev except
  // for device nodes). The child only moves it into place (move_mount), so the source is resolved with the
  // supervisor's rights (a workspace under a 0700 home works) and nothing can be swapped in after the check.
  OwnedFd tree;
  bool is_dir = true;
  bool writable = false;
  // A supervisor without CAP_SYS_ADMIN over the host's mounts (not root) cannot clone trees: `tree` is then empty
  // and the init clones `source` itself, in its own mount namespace before pivot_root, and sets these flags
  // (mount_setattr). Resolved with the caller's own uid, which is the only one such a supervisor maps.
  uint64_t attr_set = 0, attr_clr = 0;
};
// Whether this process may clone mount trees of the host (open_tree OPEN_TREE_CLONE needs CAP_SYS_ADMIN over the
// host's mount namespace: root). Without it binds are cloned by the init by path, and no view is built ahead (its
// task binds come after pivot_root, where host paths are gone).
bool CanCloneTrees();
constexpr size_t kMaxBinds = 64;  // bounds the per-spawn mount work (--ro paths)
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
  // When set, the root is this detached read-only copy of a skeleton folder made once per process (mounts.cpp,
  // root templates) instead of a tmpfs; `dirs`, `links` and `files` then hold only what lies under /tmp.
  OwnedFd root_tree;
  // The system trees (SystemTrees) came from the spare made ahead on the cleanup thread, not from this run.
  bool system_ahead = false;
  // A view made ahead (PrepareViewMounts) keeps what ViewCurrent checks later: the host mount-table watch and
  // whether /etc is the template.
  OwnedFd mounts_watch;
  bool etc_from_template = false;
};
// The part of the view that does not depend on the spec beyond its profile: detached, flagged copies (BindPlan) of
// the non-merged /bin, /lib.., /usr, the /etc template, /etc/alternatives, /etc/ssl (profile net) and the five
// device nodes, plus the merged-/usr links. Built inline by PrepareMounts, or ahead for the next run on the cleanup
// thread (spare_view.cpp). Each copy is moved into exactly one view: a SystemTrees is taken whole, once.
struct SystemTrees {
  std::string profile;
  std::vector<LinkPlan> links;      // merged-/usr links, staged ("/tmp/bin" -> "usr/bin")
  std::vector<BindPlan> lib_binds;  // non-merged /bin, /lib ... folders, bound read-only
  BindPlan usr;
  bool etc_from_template = false;   // etc_binds[0] is the /etc template; else the /etc files are written per spawn
  std::vector<BindPlan> etc_binds;  // the /etc template, /etc/alternatives, /etc/ssl: parents first
  std::vector<BindPlan> devices;    // null, zero, full, random, urandom
  // Made ahead only: a copy of the root template of skeleton `root_key` (the last one a run used).
  std::string root_key;
  OwnedFd root_tree;
  // /proc/self/mountinfo opened before the first copy was made: a pending POLLPRI means the host's mount table
  // changed since, and the copies may be stale (SystemTreesCurrent).
  OwnedFd mounts_watch;
};
Result<SystemTrees> OpenSystemTrees(const std::string& profile);
// Made ahead: adds a copy of the root template the last run used (none when there is no such template).
void AddRootTreeAhead(SystemTrees* trees);
// Whether `trees`, made earlier, is still what OpenSystemTrees would build now: no host mount change since (the
// watch), every copied folder or node still linked, the /etc and root templates still the folders held by fd.
bool SystemTreesCurrent(const SystemTrees& trees);
// Builds the view of sandbox.md C.3 for `spec` (host paths validated here). Takes the spare system trees when
// there are current ones for the profile (spare_view.cpp), else opens them here.
Result<MountPlan> PrepareMounts(const Spec& spec, const std::string& workspace);
// The same split in two for an init started ahead of time (init_launch.cpp): the view every task of `spec`'s
// profile shares (skeleton on a tmpfs root, system binds, devices; /tmp with `spec`'s size), sent before the task is
// known, and the task's own binds (workspace, --ro paths) with their mount points at their paths after the pivot.
Result<MountPlan> PrepareViewMounts(const Spec& spec);
Result<MountPlan> PrepareTaskMounts(const Spec& spec, const std::string& workspace);
// Whether a view sent ahead (its plan kept with the trees' fds) is still what PrepareViewMounts would build now:
// the same checks as SystemTreesCurrent.
bool ViewCurrent(const MountPlan& view);

// ---- rlimits.cpp ------------------------------------------------------------------------------------------
struct RlimitPlan {
  int resource;
  rlimit value;
};
std::vector<RlimitPlan> PrepareRlimits(const Spec& spec);

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

// ---- seccomp.cpp ------------------------------------------------------------------------------------------
// The two programs of sandbox.md C.2, compiled once per profile and kept for the life of the process.
struct SeccompPrograms {
  std::vector<sock_filter> allowlist;      // filter 1
  std::vector<sock_filter> report;         // filter 2 (USER_NOTIF actions)
  std::vector<sock_filter> report_errno;   // filter 2 with ERRNO(EPERM) instead, when no listener can be made
};
Result<const SeccompPrograms*> GetSeccompPrograms(const std::string& profile);
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
  // The supervisor moves `pid` in (cgroup.procs). Used only when SelfAttachFds() is empty: a threadgroup move
  // waits for an RCU grace period (~10-20 ms after an idle spell on these machines).
  Status AddProcess(pid_t pid);
  // v1: the `tasks` files of the task groups, opened by the supervisor before clone. The child writes "0" into
  // each to move itself: a thread moving itself skips the global threadgroup lock (no grace period), and the
  // kernel checks the opener's credentials, so the child needs no privilege over the host cgroupfs.
  const std::vector<int>& SelfAttachFds() const { return attach_fds_; }
  // Closes the supervisor's copies of SelfAttachFds() (after clone).
  void CloseSelfAttachFds();
  // Writes `spec`'s limits (an init started ahead sits in a group made with the last task's; v1 writes only what
  // differs).
  Status ApplyLimits(const Spec& spec);
  bool OomKilled() const;
  bool PidsLimitHit() const;
  uint64_t PeakMemoryBytes() const;
  void KillAll();
  const char* Backend() const { return backend_; }
  std::vector<Limit> Mechanisms(const Spec& spec) const;
  // "v2", "v1" or "none" (cached per process).
  static std::string Available();
  // v1: makes an empty group pair for the next Create (on the cleanup thread); Create takes it when there is one.
  static void MakeSpare();
  // The same with the limits written and the `tasks` files opened ahead: Create then writes only the limits of its
  // spec that differ (the next task usually has the same limits as the last).
  static void MakeSpare(uint64_t memory_bytes, uint64_t pids);

 private:
  static std::unique_ptr<TaskCgroup> TakeSpare();
  Status SetV1Limits(uint64_t memory_bytes, uint64_t pids);  // writes only what differs from the last write
  Status OpenV1AttachFds();  // also opens the files read after the run (oom_fd_ ...)
  const char* backend_ = "none";
  std::vector<std::string> dirs_;  // created cgroup folders (removed in the destructor)
  std::string memory_dir_, pids_dir_;
  std::vector<int> attach_fds_;
  uint64_t memory_limit_ = 0, pids_limit_ = 0;  // v1: what memory.limit_in_bytes and pids.max hold; 0 = never written
  OwnedFd oom_fd_, peak_fd_, pids_events_fd_;   // v1: opened with the attach fds (ahead for a spare), read at the end
};

// ---- artifacts.cpp ----------------------------------------------------------------------------------------
// Lists (and hashes) what is under `workspace`/spec.artifacts_dir into `r`. Runs after every process of the task
// has exited; every open is relative to a directory fd with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so a symlink or
// a swapped folder can never make it read outside the workspace.
void CollectArtifacts(const Spec& spec, const std::string& workspace, RunResult* r);

// ---- spare_view.cpp ---------------------------------------------------------------------------------------
// One SystemTrees made ahead for the next run. Take returns it when it matches `profile` and is still current
// (SystemTreesCurrent), else null (a stale one is dropped on the cleanup thread); Make runs on the cleanup thread.
std::unique_ptr<SystemTrees> TakeSpareView(const std::string& profile);
void MakeSpareView(const std::string& profile);
// Tests and benchmarks: false builds every view inline and drops the spare.
void SetSpareViewEnabled(bool on);
// A run's stdio pipes, close-on-exec and never used before (the sync socket pair is made with the init).
struct RunChannels {
  OwnedFd in_r, in_w, out_r, out_w, err_r, err_w;
};
Result<RunChannels> MakePipes();
// The pipes made ahead for this run when there are some, else new ones. (The sync socket pair is made with the
// init, init_launch.cpp.)
Result<RunChannels> TakeRunChannels();

// Makes the next run's spares (system trees, cgroup pair with `spec`'s limits, stdio pipes) on the cleanup thread,
// ahead of the queued teardown work, so that a run right after this one finds them (run.cpp calls it once its own
// spares are taken). The network namespace is made after the run (run.cpp).
void PrepareNextRun(const Spec& spec);

// ---- cleanup.cpp ------------------------------------------------------------------------------------------
// Runs `job` later on the cleanup thread, in order (cgroup removal, namespace release, temporary workspace).
void DeferCleanup(std::function<void()> job);
// Runs `job` on the cleanup thread before the teardown jobs queued so far (making the next run's spares).
void DeferAhead(std::function<void()> job);
// Tests: waits until every queued cleanup has run.
void DrainCleanupForTest();

// ---- init_launch.cpp --------------------------------------------------------------------------------------
// Everything the init needs, as the supervisor prepared it (run.cpp); serialised into the init's plan.
struct ChildPlan {
  // kAll: one plan does everything. kView: the profile's shared view, sent to an init started ahead of time; the
  // init builds it and waits. kTask: the task's part for an init whose view is built (post-pivot mount paths).
  enum class Stage { kAll, kView, kTask } stage = Stage::kAll;
  bool remount_tmp = false;  // kTask: /tmp gets this task's size (it differs from the view's)
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  const MountPlan* mounts = nullptr;
  const std::vector<RlimitPlan>* rlimits = nullptr;
  const LandlockPlan* landlock = nullptr;
  const SeccompPrograms* seccomp = nullptr;
  int cgroup_fds[2] = {-1, -1};  // v1 `tasks` files the init writes "0" into first (TaskCgroup::SelfAttachFds)
  bool wait_for_attach = false;   // the supervisor attaches us (v2): wait for its second byte before the program
  const char* exec_path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  bool net_proxy = false;    // profile "net": make the proxy listener in the netns
  int32_t fail_at_step = 0;  // fault injection for tests (SetFailStepForTest): that step fails with EPERM
};
// Tests only: make the next runs of this process fail at `step` inside the init, as if the kernel refused it
// (sandbox.md probe 53). 0 turns it off. Thread-compatible.
void SetFailStepForTest(int32_t step);
int32_t FailStepForTest();

// A started init (init/init_main.c) in its new namespaces, id maps written, waiting for its go message; made for a
// task, or ahead of time for the next one (prestart). The destructor kills and reaps it unless Release()d.
struct StartedInit {
  pid_t pid = -1;
  OwnedFd pidfd;
  OwnedFd sync;                 // the supervisor's end of the SOCK_SEQPACKET pair
  std::vector<int> held_ns;     // the task's mount and network namespaces, held (see run.cpp)
  uid_t host_uid = 0;
  gid_t host_gid = 0;
  bool prestarted = false;      // started ahead of its task (its network namespace too, in the clone)
  // Set for an init started ahead whose view (kView plan) was sent: the plan, kept for ViewCurrent (its trees' fds)
  // and its /tmp options; the init serves a task of `view_profile` only and already sits in `cgroup` (limits of the
  // last task; the run writes its own).
  std::unique_ptr<MountPlan> view;
  std::string view_profile;
  std::unique_ptr<TaskCgroup> cgroup;
  StartedInit() = default;
  ~StartedInit();
  StartedInit(const StartedInit&) = delete;
  StartedInit& operator=(const StartedInit&) = delete;
  // Hands pid, pidfd and held_ns to the caller (the run now owns the process).
  void Release() { pid = -1; held_ns.clear(); }
};
// The host uid/gid the next task maps to kSandboxUid/Gid (sandbox.md C.7): a fresh unprivileged one per task when
// the supervisor is root, else the caller's own.
std::pair<uid_t, gid_t> NextHostIdentity();
// Starts an init now: clone(CLONE_VM|CLONE_VFORK|every namespace|CLONE_PIDFD) + execveat of the init image, then
// the id maps.
Result<std::unique_ptr<StartedInit>> StartInit(uid_t host_uid, gid_t host_gid);
// An init started ahead of time with `profile`'s view, if one is ready and alive; else null (the run starts its own
// at once: waiting for one the cleanup thread is making measured no better).
std::unique_ptr<StartedInit> TakePrestartedInit(const std::string& profile);
// After each run: queues, first on the cleanup thread, the start of the next tasks' inits (two per profile; their
// network namespace is made in the clone, owned by the task's user namespace) with their view built for `spec`'s
// profile, /tmp size and limits (the next task usually looks like the last). Nothing when prestart is off or trees
// cannot be cloned (not root).
void QueueNextInit(const Spec& spec);
// Benchmarks: false measures every spawn cold (init started at the call) and drops the one kept.
void SetPrestartForBench(bool on);

// The go message for an init: the plan (init_plan.h) in a memfd and the fds it names.
struct InitGoMessage {
  OwnedFd plan;
  std::vector<int> fds;  // [plan, stdin, stdout, stderr, cgroup..., root tree, binds...]; not owned except plan
};
Result<InitGoMessage> PrepareInitGo(const ChildPlan& plan);
Status SendInitGo(int sync_fd, const InitGoMessage& go);

// Where the init comes from, for `warden doctor`: "memfd", "file" or the reason it cannot start.
std::string InitImageSource();

}  // namespace warden::sandbox::detail
