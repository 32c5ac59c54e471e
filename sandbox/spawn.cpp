// The one place that fixes the order of the sandbox layers inside the child (sandbox.md C.1 steps 4-12), plus the
// tiny in-sandbox init that runs the program as its only child. Everything here runs between clone and exec:
// async-signal-safe system calls only, no allocation, no logging; a failure is sent to the supervisor as a
// fixed-size ChildMsg naming the step and the errno, and the child exits.
//
// INVARIANT: the program never runs unless every mandatory step before kStepExec succeeded.
// INVARIANT: the init (pid 1 of the namespace) carries the same filters and no capabilities as the program, is not
// dumpable, and exits as soon as the program exits, which makes the kernel kill every process left in the
// namespace (orphans, daemons).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "sandbox/net_proxy.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

constexpr int kSyncFd = 3;  // where the sync socket sits after the fd cleanup

void Send(int fd, const ChildMsg& msg) {
  while (::send(fd, &msg, sizeof(msg), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

std::atomic<int32_t> g_fail_step{0};

[[noreturn]] void Fail(int fd, int32_t step, int err) {
  ChildMsg m;
  m.type = kMsgSetupError;
  m.step = step;
  m.err = err;
  Send(fd, m);
  ::_exit(127);
}


// Moves the three pipes to 0-2 and the sync socket to fd 3, then closes everything else (no inherited host fd
// survives, sandbox.md A.4 "fd leaks").
int SetUpFds(const ChildPlan& p) {
  // Lift every source above 3 first so the dup2 calls below cannot clobber one another.
  int in = ::fcntl(p.stdin_fd, F_DUPFD, 10), out = ::fcntl(p.stdout_fd, F_DUPFD, 10);
  int err = ::fcntl(p.stderr_fd, F_DUPFD, 10), sync = ::fcntl(p.sync_fd, F_DUPFD, 10);
  if (in < 0 || out < 0 || err < 0 || sync < 0) return errno;
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 || ::dup2(sync, kSyncFd) < 0) return errno;
  if (::syscall(SYS_close_range, kSyncFd + 1, ~0U, 0) < 0) return errno;
  // The program must not inherit the sync socket; the init keeps it across fork.
  if (::fcntl(kSyncFd, F_SETFD, FD_CLOEXEC) < 0) return errno;
  return 0;
}

// The program's first instructions, on g_exec_stack in the init's memory (CLONE_VM): execve, or report and exit.
// Raw system calls and no sanitizer instrumentation: a sanitizer runtime would map memory for this unknown stack,
// which the task's RLIMIT_AS refuses.
__attribute__((no_sanitize("address", "undefined"))) int ExecProgram(void* arg) {
  const ChildPlan* p = static_cast<const ChildPlan*>(arg);
  ::syscall(SYS_execve, p->exec_path, p->argv, p->envp);
  ChildMsg m;
  m.type = kMsgSetupError;
  m.step = kStepExec;
  m.err = errno;
  ::syscall(SYS_sendto, kSyncFd, &m, sizeof(m), MSG_NOSIGNAL, nullptr, 0);
  ::syscall(SYS_exit_group, 127);
  return 127;
}

// The stack of that short-lived clone. Static: the init runs under the task's RLIMIT_AS, which a copy of a large
// supervisor already exceeds, so it cannot map anything (glibc's vfork/posix_spawn, or a sanitizer's vfork
// interceptor, would); every init is its own process, so each has its own copy.
alignas(64) char g_exec_stack[64 * 1024];

// The in-sandbox init: start the program, reap everything, report the program's wait status, exit.
[[noreturn]] void RunInit(const ChildPlan& p) {
  // vfork semantics: the program starts without a copy of the init's page tables (itself a copy of the
  // supervisor's), and the init sleeps until the execve.
  pid_t child = ::clone(ExecProgram, g_exec_stack + sizeof(g_exec_stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
                        const_cast<ChildPlan*>(&p));
  if (child < 0) Fail(kSyncFd, kStepFork, errno);
  for (;;) {
    int status = 0;
    pid_t r = ::wait4(-1, &status, 0, nullptr);
    if (r < 0) {
      if (errno == EINTR) continue;
      ::_exit(126);  // cannot happen while `child` is alive; the supervisor sees a missing exit record
    }
    if (r == child) {
      ChildMsg m;
      m.type = kMsgExitStatus;
      m.status = status;
      Send(kSyncFd, m);
      ::_exit(0);
    }
  }
}

}  // namespace

int SendFdToSupervisor(int sock, int32_t msg_type, int fd) {
  ChildMsg m;
  m.type = msg_type;
  char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof(control));
  iovec iov{&m, sizeof(m)};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&hdr);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  while (::sendmsg(sock, &hdr, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

void SetFailStepForTest(int32_t step) { g_fail_step = step; }
int32_t FailStepForTest() { return g_fail_step; }

void ChildMain(const ChildPlan& p) {
  const int sync = p.sync_fd;
  // Fault injection (tests): the named step fails as if the kernel had refused it.
  auto injected = [&p](int32_t step) { return p.fail_at_step == step; };
  // 0. Into the task cgroup before anything else, so every process of the task is counted and limited. The
  //    supervisor opened the `tasks` files; a thread moving itself takes no global lock (sandbox.md C.5).
  for (int fd : p.cgroup_fds) {
    if (fd < 0) continue;
    if (::write(fd, "0", 1) != 1) Fail(sync, kStepCgroupAttach, errno ? errno : EIO);
    ::close(fd);
  }
  // 6 (early). A new session: no controlling terminal, so TIOCSTI has no terminal to push into. It comes this
  //    early because with autogroup scheduling setsid moves us into a new task group and gives up the CPU; here
  //    that overlaps the supervisor writing our id maps instead of delaying the setup.
  if (::setsid() < 0) Fail(sync, kStepSetsid, errno);
  // 1. Wait until the supervisor has written the id maps.
  char go = 0;
  if (::read(sync, &go, 1) != 1) Fail(sync, kStepSync, errno ? errno : EPIPE);
  // If the supervisor dies during setup, so do we (its pidfd-based kill would be gone).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // 2. Become uid/gid 1000 (mapped to an unprivileged host uid) while keeping the namespace capabilities the
  //    mount steps need: files created from here on belong to the sandbox user.
  if (injected(kStepIdentity)) Fail(sync, kStepIdentity, EPERM);
  if (int e = BecomeSandboxUserInChild(); e != 0) Fail(sync, kStepIdentity, e);
  // 3. A cgroup namespace rooted at the task cgroup we were just moved into (hides the host's cgroup paths).
  if (injected(kStepCgroupNs) || ::unshare(CLONE_NEWCGROUP) != 0) Fail(sync, kStepCgroupNs, errno ? errno : EPERM);
  // 4. The filesystem view, pivot_root into it and make the root read-only.
  int32_t step = 0;
  if (int e = ApplyMountsInChild(*p.mounts, &step); e != 0) Fail(sync, step, e);
  // 5. A hostname that says nothing about the host.
  if (::sethostname("sandbox", 7) != 0) Fail(sync, kStepHostname, errno);
  // 7. rlimits before anything the program can influence; they only ever go down.
  if (int e = ApplyRlimitsInChild(*p.rlimits); e != 0) Fail(sync, kStepRlimits, e);
  // 7b. Profile "net" only: loopback up and the proxy's listener made here, inside the netns, while the namespace
  //     capabilities last; it goes to the supervisor before step 8 closes every other fd (net_bridge.cpp).
  if (p.net_proxy) {
    if (int e = SetUpProxyListenerInChild(sync); e != 0) Fail(sync, kStepNet, e);
  }
  // 8. stdio are the supervisor's pipes; every other inherited fd is closed.
  if (int e = SetUpFds(p); e != 0) Fail(sync, kStepFds, e);
  // 9. No capabilities in any set, bounding set emptied; then no_new_privs and not dumpable.
  if (int e = DropCapsInChild(); e != 0) Fail(kSyncFd, kStepCaps, e);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(kSyncFd, kStepNoNewPrivs, errno);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) Fail(kSyncFd, kStepNoNewPrivs, errno);
  if (::chdir("/workspace") != 0) Fail(kSyncFd, kStepChdir, errno);
  // 10. Landlock (defence in depth; skipped when the kernel has none, which the result reports).
  if (injected(kStepLandlock)) Fail(kSyncFd, kStepLandlock, EPERM);
  if (int e = ApplyLandlockInChild(*p.landlock); e != 0) Fail(kSyncFd, kStepLandlock, e);
  // 11. Seccomp last: the allowlist, then the report filter whose listener goes to the supervisor.
  if (injected(kStepSeccomp)) Fail(kSyncFd, kStepSeccomp, EPERM);
  bool notify = false;
  int listener = ApplySeccompInChild(*p.seccomp, &notify);
  if (listener < 0) Fail(kSyncFd, kStepSeccomp, -listener);
  if (notify) {
    if (int e = SendFdToSupervisor(kSyncFd, kMsgListener, listener); e != 0) Fail(kSyncFd, kStepListener, e);
    ::close(listener);
  }
  // 12. Where the supervisor attaches us (v2), wait until it has (it does that while we set up); then pid 1
  //     becomes the init and the program its child.
  if (p.wait_for_attach && ::read(kSyncFd, &go, 1) != 1) Fail(kSyncFd, kStepSync, errno ? errno : EPIPE);
  RunInit(p);
}

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
    default: return "unknown step";
  }
}

}  // namespace warden::sandbox::detail
