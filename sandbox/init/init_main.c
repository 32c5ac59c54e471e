/* The in-sandbox init (sandbox.md C.1 steps 4-12): the first process of every sandbox, a small freestanding
 * executable the supervisor starts with clone(CLONE_VM|CLONE_VFORK|CLONE_NEW*) + execveat, so no copy of the
 * supervisor's address space is ever made (a fork of a large, multithreaded runtime costs page-table copies and
 * copy-on-write faults on both sides; a fork of a process holding a GPU context is not even safe). It reads its plan
 * (init_plan.h) from a memfd, applies every layer in the one order this file fixes, starts the program as its only
 * child, reaps everything and reports the program's wait status.
 *
 * INVARIANT: the program never runs unless every mandatory step before kStepExec succeeded.
 * INVARIANT: the init (pid 1 of the namespace) carries the same filters and no capabilities as the program, is not
 * dumpable, and exits as soon as the program exits, which makes the kernel kill every process left in the namespace.
 * A failure is one ChildMsg (step, errno) on the sync socket, then exit. */
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>

#include "sandbox/init/init_layers.h"
#include "sandbox/init/init_plan.h"
#include "sandbox/init/init_sys.h"

enum { kSyncFd = 3 };  /* where the sync socket sits after the fd cleanup */

static unsigned char g_plan[kInitPlanMaxBytes] __attribute__((aligned(16)));

void InitSend(int fd, int32_t type, int32_t step, int32_t err, int32_t status) {
  ChildMsg m;
  m.type = type;
  m.step = step;
  m.err = err;
  m.status = status;
  while (SYS4(__NR_sendto, fd, &m, sizeof(m), 0x4000 /* MSG_NOSIGNAL */) == -EINTR) {
  }
}

void InitFail(int fd, int32_t step, long err) {
  InitSend(fd, kMsgSetupError, step, (int32_t)(err < 0 ? -err : err), 0);
  SYS1(__NR_exit_group, 127);
  __builtin_unreachable();
}

static long ParseFd(const char* s) {
  long v = 0;
  if (s == 0 || *s == 0) return -1;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > 1 << 20) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

/* The fds of the go message, in order; the plan names them by index. */
static int g_fds[kInitMaxFds];
static uint32_t g_nfds;

int InitFd(int32_t fdi) { return fdi >= 0 && (uint32_t)fdi < g_nfds ? g_fds[fdi] : -1; }
uint32_t InitFdCount(void) { return g_nfds; }

/* Waits for the go message (init_plan.h). 0, -EPIPE when the supervisor went away, or another negative errno. */
static long ReceiveGo(int sync) {
  struct { uint64_t len; int32_t level, type; int32_t fds[kInitMaxFds]; } control;
  InitGo go;
  struct InitIovec iov = {&go, sizeof(go)};
  struct InitMsghdr h;
  memset(&h, 0, sizeof(h));
  memset(&control, 0, sizeof(control));
  h.iov = &iov;
  h.iovlen = 1;
  h.control = &control;
  h.controllen = sizeof(control);
  long n;
  while ((n = SYS3(__NR_recvmsg, sync, &h, 0)) == -EINTR) {
  }
  if (n == 0) return -EPIPE;
  if (n < 0) return n;
  if (n != sizeof(go) || go.magic != kInitPlanMagic || (h.flags & (0x8 /* MSG_CTRUNC */ | 0x20 /* MSG_TRUNC */))) {
    return -EPROTO;
  }
  if (h.controllen < 16 || control.level != 1 /* SOL_SOCKET */ || control.type != 1 /* SCM_RIGHTS */) return -EPROTO;
  uint32_t got = (uint32_t)((control.len - 16) / sizeof(int32_t));
  if (got != go.fds || got == 0 || got > kInitMaxFds) return -EPROTO;
  for (uint32_t i = 0; i < got; ++i) g_fds[i] = control.fds[i];
  g_nfds = got;
  return 0;
}

/* Reads the whole plan from the memfd at index 0; 0 or a negative errno. */
static long ReadPlan(uint32_t* size) {
  int fd = InitFd(0);
  uint32_t got = 0;
  for (;;) {
    long n = SYS4(__NR_pread64, fd, g_plan + got, sizeof(g_plan) - got, got);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    if (n == 0) break;
    got += (uint32_t)n;
    if (got == sizeof(g_plan)) return -E2BIG;
  }
  SYS1(__NR_close, fd);
  *size = got;
  return 0;
}

/* Moves the three pipes to 0-2 and the sync socket to fd 3, then closes everything else (no inherited host fd
 * survives, sandbox.md A.4 "fd leaks"). */
static long SetUpFds(const InitPlan* p, int sync_fd) {
  /* Lift every source above 3 first so the dup3 calls below cannot clobber one another. */
  long in = SYS3(__NR_fcntl, InitFd(p->stdin_fdi), F_DUPFD, 10), out = SYS3(__NR_fcntl, InitFd(p->stdout_fdi), F_DUPFD, 10);
  long err = SYS3(__NR_fcntl, InitFd(p->stderr_fdi), F_DUPFD, 10), sync = SYS3(__NR_fcntl, sync_fd, F_DUPFD, 10);
  if (in < 0) return in;
  if (out < 0) return out;
  if (err < 0) return err;
  if (sync < 0) return sync;
  long r;
  if ((r = SYS3(__NR_dup3, in, 0, 0)) < 0 || (r = SYS3(__NR_dup3, out, 1, 0)) < 0 ||
      (r = SYS3(__NR_dup3, err, 2, 0)) < 0 || (r = SYS3(__NR_dup3, sync, kSyncFd, 0)) < 0) {
    return r;
  }
  if ((r = SYS3(__NR_close_range, kSyncFd + 1, ~0U, 0)) < 0) return r;
  /* The program must not inherit the sync socket; the init keeps it across the program's start. */
  return SYS3(__NR_fcntl, kSyncFd, F_SETFD, FD_CLOEXEC);
}

/* The program gets default signal dispositions and an empty mask, whatever the supervisor had (exec keeps ignored
 * signals and the mask: a supervisor ignoring SIGPIPE must not make every skill ignore it). */
static long ResetSignals(void) {
  struct { void* handler; unsigned long flags; void* restorer; uint64_t mask; } dfl;
  memset(&dfl, 0, sizeof(dfl));
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == 9 || sig == 19) continue;  /* SIGKILL, SIGSTOP cannot be changed */
    long r = SYS4(__NR_rt_sigaction, sig, &dfl, 0, 8);
    if (r < 0 && r != -EINVAL) return r;
  }
  uint64_t empty = 0;
  return SYS4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &empty, 0, 8);
}

/* The program's side of the vfork: execve, or report and exit. Its own frame, below the init's (which is suspended
 * until the execve), so it never writes the init's locals. */
static void __attribute__((noinline, noreturn)) ExecProgram(const char* path, char** argv, char** envp) {
  long e = SYS3(__NR_execve, path, argv, envp);
  InitSend(kSyncFd, kMsgSetupError, kStepExec, (int32_t)-e, 0);
  SYS1(__NR_exit_group, 127);
  __builtin_unreachable();
}

/* Start the program (vfork semantics: no page-table copy; the init sleeps until the execve), reap everything,
 * report the program's wait status, exit. */
static void __attribute__((noreturn)) RunInit(const InitPlan* p) {
  static char* argv[4096];
  static char* envp[4096];
  const uint32_t* a = InitU32List(p, &p->argv);
  const uint32_t* e = InitU32List(p, &p->envp);
  for (uint32_t i = 0; i < p->argv.count; ++i) argv[i] = (char*)InitStr(p, a[i]);
  argv[p->argv.count] = 0;
  for (uint32_t i = 0; i < p->envp.count; ++i) envp[i] = (char*)InitStr(p, e[i]);
  envp[p->envp.count] = 0;
  const char* path = InitStr(p, p->exec_path);
  long child = sys6(__NR_clone, CLONE_VM | CLONE_VFORK | 17 /* SIGCHLD */, 0, 0, 0, 0, 0);
  if (child == 0) ExecProgram(path, argv, envp);
  if (child < 0) InitFail(kSyncFd, kStepFork, child);
  for (;;) {
    int status = 0;
    long r = SYS4(__NR_wait4, -1, &status, 0x40000000 /* __WALL */, 0);
    if (r == -EINTR) continue;
    if (r < 0) SYS1(__NR_exit_group, 126);  /* cannot happen while the program lives; no exit record follows */
    if (r == child) {
      InitSend(kSyncFd, kMsgExitStatus, 0, 0, status);
      SYS1(__NR_exit_group, 0);
    }
  }
}

/* Waits for the next go message and returns its checked plan; exits quietly when the supervisor went away first (an
 * init started ahead and never used). */
static const InitPlan* NextPlan(int sync) {
  long r = ReceiveGo(sync);
  if (r == -EPIPE) SYS1(__NR_exit_group, 0);
  if (r != 0) InitFail(sync, kStepSync, r);
  uint32_t size = 0;
  if ((r = ReadPlan(&size)) < 0) InitFail(sync, kStepPlan, r);
  const InitPlan* p = (const InitPlan*)g_plan;
  if ((r = InitCheckPlan(p, size)) != 0) InitFail(sync, kStepPlan, r);
  return p;
}

void InitMain(long argc, char** argv) {
  /* argv: [name, sync fd]. Without a usable sync fd nothing can be reported: exit is all we can do. */
  long sync_arg = argc >= 2 ? ParseFd(argv[1]) : -1;
  if (sync_arg < 0) SYS1(__NR_exit_group, 125);
  const int sync = (int)sync_arg;
  long r;
  /* If the supervisor dies, so do we (its pidfd-based kill would be gone); a supervisor that died before this line
   * closed the socket, which ends the wait below. */
  SYS2(__NR_prctl, PR_SET_PDEATHSIG, 9 /* SIGKILL */);
  /* 6 (early). A new session: no controlling terminal, so TIOCSTI has no terminal to push into. It comes first
   *    because with autogroup scheduling setsid moves us into a new task group and gives up the CPU; here that
   *    overlaps the supervisor writing our id maps (or happens long before the task, for an init started ahead). */
  if ((r = SYS0(__NR_setsid)) < 0) InitFail(sync, kStepSetsid, r);
  /* 1. Wait for the go message: the supervisor has written the id maps, and sends the plan and its fds. */
  const InitPlan* p = NextPlan(sync);
  int32_t step = 0;
  const int viewed = (p->flags & kPlanStageView) != 0;
#define INJECTED(step) (p->fail_at_step == (step))
  /* 0. Into the task cgroup before anything else the task does, so every process of the task is counted and
   *    limited. The supervisor opened the `tasks` files; a thread moving itself takes no global lock (sandbox.md C.5). */
  for (int i = 0; i < 2; ++i) {
    int fd = InitFd(p->cgroup_fdi[i]);
    if (fd < 0) continue;
    if ((r = SYS3(__NR_write, fd, "0", 1)) != 1) InitFail(sync, kStepCgroupAttach, r < 0 ? r : -EIO);
    SYS1(__NR_close, fd);
  }
  /* 2. Become uid/gid 1000 (mapped to an unprivileged host uid) while keeping the namespace capabilities the
   *    mount steps need: files created from here on belong to the sandbox user. */
  if (INJECTED(kStepIdentity)) InitFail(sync, kStepIdentity, -EPERM);
  if ((r = InitBecomeSandboxUser()) != 0) InitFail(sync, kStepIdentity, r);
  /* 3. A cgroup namespace rooted at the task cgroup we were just moved into (hides the host's cgroup paths). */
  if (INJECTED(kStepCgroupNs)) InitFail(sync, kStepCgroupNs, -EPERM);
  if ((r = SYS1(__NR_unshare, CLONE_NEWCGROUP)) != 0) InitFail(sync, kStepCgroupNs, r);
  /* 4. The filesystem view and pivot_root into it (for a view plan: then wait for the task's plan, which adds the
   *    task's binds); the root read-only. */
  if ((r = InitApplyMounts(p, &step)) != 0) InitFail(sync, step, r);
  /* 5. A hostname that says nothing about the host. */
  const char* host = InitStr(p, p->hostname);
  if ((r = SYS2(__NR_sethostname, host, strlen(host))) != 0) InitFail(sync, kStepHostname, r);
  /* 9a. The bounding set (only limits what an execve could add; the setup keeps its capabilities until step 9). */
  if ((r = InitDropBoundingSet()) != 0) InitFail(sync, kStepCaps, r);
  /* 10b. Default dispositions for every signal and an empty mask, for the program (and for us: SIGCHLD must reach
   *      wait4). */
  if ((r = ResetSignals()) != 0) InitFail(sync, kStepSignals, r);
  /* 11a. Filter 1, the allowlist, as soon as the view is built: every call the rest of the setup makes is on it, and
   *      for an init started ahead of time its cost is paid before the task. Filter 2, which reports the setup's own
   *      calls (mount, capset, landlock ...), comes last. Without no_new_privs yet, attaching needs CAP_SYS_ADMIN in
   *      our user namespace, which we hold. */
  if (INJECTED(kStepSeccomp)) InitFail(sync, kStepSeccomp, -EPERM);
  if ((r = InitApplyAllowlist(p)) != 0) InitFail(sync, kStepSeccomp, r);
  if (viewed) {
    p = NextPlan(sync);
    /* A task plan after a view may not claim another root (the view's tmpfs root must end read-only). */
    if (p->flags & (kPlanStageView | kPlanRootTree)) InitFail(sync, kStepPlan, -EPROTO);
    if ((r = InitApplyTaskMounts(p, &step)) != 0) InitFail(sync, step, r);
  }
  /* 7. rlimits before anything the program can influence; they only ever go down. */
  if ((r = InitApplyRlimits(p)) != 0) InitFail(sync, kStepRlimits, r);
  /* 7b. Profile "net" only: loopback up and the proxy's listener made here, inside the netns, while the namespace
   *     capabilities last; it goes to the supervisor before step 8 closes every other fd. */
  if ((p->flags & kPlanNetProxy) && (r = InitSetUpProxyListener(sync)) != 0) InitFail(sync, kStepNet, r);
  /* 8. stdio are the supervisor's pipes; every other inherited fd is closed. */
  if ((r = SetUpFds(p, sync)) != 0) InitFail(sync, kStepFds, r);
  /* 9. No capabilities in any set (the bounding set is empty since 9a); then no_new_privs and not dumpable. */
  if ((r = InitDropCaps()) != 0) InitFail(kSyncFd, kStepCaps, r);
  if ((r = SYS5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) != 0) InitFail(kSyncFd, kStepNoNewPrivs, r);
  if ((r = SYS5(__NR_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0)) != 0) InitFail(kSyncFd, kStepNoNewPrivs, r);
  if ((r = SYS1(__NR_chdir, InitStr(p, p->workdir))) != 0) InitFail(kSyncFd, kStepChdir, r);
  /* 10. Landlock (defence in depth; skipped when the kernel has none, which the result reports). */
  if (INJECTED(kStepLandlock)) InitFail(kSyncFd, kStepLandlock, -EPERM);
  if ((r = InitApplyLandlock(p)) != 0) InitFail(kSyncFd, kStepLandlock, r);
  /* 11. Seccomp last: the report filter, whose listener goes to the supervisor. */
  int notify = 0;
  long listener = InitApplyReportFilter(p, &notify);
  if (listener < 0) InitFail(kSyncFd, kStepSeccomp, listener);
  if (notify) {
    if ((r = InitSendFd(kSyncFd, kMsgListener, (int)listener)) != 0) InitFail(kSyncFd, kStepListener, r);
    SYS1(__NR_close, listener);
  }
  /* 12. Where the supervisor attaches us (v2), wait until it has (it does that while we set up); then pid 1 stays
   *     the init and the program becomes its child. */
  char go = 0;
  if ((p->flags & kPlanWaitForAttach) && (r = SYS3(__NR_read, kSyncFd, &go, 1)) != 1) {
    InitFail(kSyncFd, kStepSync, r < 0 ? r : -EPIPE);
  }
  RunInit(p);
}
