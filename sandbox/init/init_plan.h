/* The contract between the supervisor (C++, init_launch.cpp) and the in-sandbox init (freestanding C, this folder):
 * the setup steps a failure can name, the fixed-size records the init sends back on the sync socket, and the plan.
 *
 * The init starts with nothing but its end of the sync socket (argv[1]) and waits for one "go" message on it: an
 * InitGo record carrying, by SCM_RIGHTS, the plan's memfd first and then every fd the plan names (stdio pipes, cgroup
 * files, detached mount trees). The plan names those fds by their index in that array, so an init started ahead of
 * time (before the task was known) and one started for the task read the same message. The plan is one flat buffer
 * without pointers: strings are NUL-terminated bytes at an offset from its start, arrays are (offset, count) of fixed
 * records; the init checks every offset, terminator and fd index before it uses one (sandbox.md C.1; docs/sandbox.md
 * "The init").
 *
 * C and C++ both include this file; in C++ its names live in warden::sandbox::detail. */
#ifndef WARDEN_SANDBOX_INIT_INIT_PLAN_H_
#define WARDEN_SANDBOX_INIT_INIT_PLAN_H_

#include <stdint.h>

#ifdef __cplusplus
namespace warden::sandbox::detail {
#endif

/* The setup steps, in the order the init runs them; a failure names one of them in the result's setup_error. */
enum {
  kStepSync = 1, kStepIdentity, kStepCgroupNs, kStepMountPrivate, kStepRootTmpfs, kStepSkeleton, kStepBind,
  kStepDev, kStepTmp, kStepProc, kStepPivot, kStepRemountRoot, kStepHostname, kStepSetsid, kStepRlimits,
  kStepFds, kStepCaps, kStepNoNewPrivs, kStepLandlock, kStepSeccomp, kStepListener, kStepFork, kStepExec,
  kStepChdir, kStepCgroupAttach, kStepNet, kStepStartInit, kStepPlan, kStepSignals,
};

/* Records on the sync socket from the init to the supervisor. */
enum { kMsgSetupError = 1, kMsgListener = 2, kMsgExitStatus = 3, kMsgProxyListener = 5 };
typedef struct ChildMsg {
  int32_t type;
  int32_t step;   /* kMsgSetupError */
  int32_t err;    /* errno for kMsgSetupError */
  int32_t status; /* wait status of the program for kMsgExitStatus */
} ChildMsg;

/* The uid and gid the program has inside; mapped to an unprivileged host uid (sandbox.md C.7). */
enum { kSandboxUid = 1000, kSandboxGid = 1000 };

enum { kInitPlanMagic = 0x57494e33 /* "WIN3" */, kInitPlanMaxBytes = 4 << 20, kInitMaxFds = 128 };

/* The go message's data; its SCM_RIGHTS array holds `fds` descriptors, the plan's memfd at index 0. */
typedef struct InitGo { uint32_t magic, fds; } InitGo;
enum {
  kPlanNetProxy = 1, kPlanWaitForAttach = 2, kPlanRootTree = 4,
  /* A view plan: the init joins the cgroup, switches uid, builds the filesystem view up to pivot_root (the root
   * stays writable when it is a tmpfs) and waits for a task plan, whose mount lists are then paths after the pivot
   * (the view's mount points, the task's binds) and which remounts the root read-only at the end. Sent ahead of the
   * task for a prestarted init (init_launch.cpp); a plan without it does everything for one task. */
  kPlanStageView = 8,
  kPlanRemountTmp = 16, /* task plan after a view: /tmp gets the task's tmp_options (size, inodes) */
};

typedef struct InitList { uint32_t off, count; } InitList;
/* A detached tree (fd index) moved to target; or, with fdi -1, `source` cloned by the init (before pivot_root) with
 * attr_set/attr_clr applied (mount_setattr), for a supervisor that may not clone the host's trees (not root). */
typedef struct InitBind { int32_t fdi; uint32_t target, source, pad; uint64_t attr_set, attr_clr; } InitBind;
typedef struct InitLink { uint32_t path, target; } InitLink;
typedef struct InitFile { uint32_t path, content, len, pad; } InitFile;
typedef struct InitRlimit { int32_t resource, pad; uint64_t cur, max; } InitRlimit;
typedef struct InitRule { uint64_t access; uint32_t path, pad; } InitRule;  /* landlock path-beneath */
typedef struct InitFilter { uint16_t code; uint8_t jt, jf; uint32_t k; } InitFilter; /* struct sock_filter */

typedef struct InitPlan {
  uint32_t magic, size;          /* size: bytes of the whole buffer */
  int32_t fail_at_step;          /* tests: this step fails with EPERM (SetFailStepForTest) */
  uint32_t flags;                /* kPlan* */
  /* fd indexes into the go message's array; -1 = none */
  int32_t stdin_fdi, stdout_fdi, stderr_fdi;
  int32_t cgroup_fdi[2];         /* v1 `tasks` files the init writes "0" into first */
  int32_t root_tree_fdi;         /* kPlanRootTree: a read-only skeleton tree moved to staging */
  uint32_t hostname;
  uint32_t staging, root_options, tmp_options, tmp_target, proc_target;
  InitList dirs;                 /* uint32_t string offsets, parents first */
  InitList links, files, binds, rlimits;
  int32_t landlock_abi, pad;
  uint64_t handled_fs, handled_net, scoped;
  InitList rules;
  InitList connect_ports;        /* uint32_t TCP ports */
  InitList allowlist, report, report_errno; /* InitFilter programs */
  uint32_t exec_path, workdir;
  InitList argv, envp;           /* uint32_t string offsets */
} InitPlan;

#ifdef __cplusplus
}  // namespace warden::sandbox::detail
#endif

#endif /* WARDEN_SANDBOX_INIT_INIT_PLAN_H_ */
