/* The init's filesystem step (sandbox.md C.3; the plan is made by mounts.cpp PrepareMounts): private propagation,
 * the new root (a read-only skeleton tree, or a tmpfs filled here), /tmp, the bind trees the supervisor cloned and
 * flagged (one move_mount each), /proc, pivot_root, the old root detached, the root read-only. */
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/mount.h>

#include "sandbox/init/init_layers.h"
#include "sandbox/init/init_sys.h"

#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif

static long WriteAll(int fd, const char* data, uint32_t len) {
  uint32_t off = 0;
  while (off < len) {
    long w = SYS3(__NR_write, fd, data + off, len - off);
    if (w == -EINTR) continue;
    if (w < 0) return w;
    off += (uint32_t)w;
  }
  return 0;
}

static long MoveTree(int fd, const char* target) {
  long r = SYS5(__NR_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
  SYS1(__NR_close, fd);  /* our copy; the supervisor closes its own */
  return r;
}

/* Mount points, links and files of the plan (parents first). */
static long MakeEntries(const InitPlan* p, int32_t* step) {
  long r;
  *step = kStepSkeleton;
  const uint32_t* dirs = InitU32List(p, &p->dirs);
  for (uint32_t i = 0; i < p->dirs.count; ++i) {
    if ((r = SYS3(__NR_mkdirat, AT_FDCWD, InitStr(p, dirs[i]), 0755)) != 0 && r != -EEXIST) return r;
  }
  const InitLink* links = (const InitLink*)InitList_(p, &p->links);
  for (uint32_t i = 0; i < p->links.count; ++i) {
    r = SYS3(__NR_symlinkat, InitStr(p, links[i].target), AT_FDCWD, InitStr(p, links[i].path));
    if (r != 0 && r != -EEXIST) return r;
  }
  const InitFile* files = (const InitFile*)InitList_(p, &p->files);
  for (uint32_t i = 0; i < p->files.count; ++i) {
    long fd = SYS4(__NR_openat, AT_FDCWD, InitStr(p, files[i].path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fd;
    r = WriteAll((int)fd, (const char*)p + files[i].content, files[i].len);
    SYS1(__NR_close, fd);
    if (r != 0) return r;
  }
  return 0;
}

/* A tree the init clones itself (supervisor without CAP_SYS_ADMIN over the host's mounts): from our copy of the
 * host's mounts, flagged like the supervisor's would be. */
static long CloneSource(const InitBind* b, const InitPlan* p) {
  /* The supervisor canonicalised the source, so it holds no symlink: one found now was swapped in since (by another
   * process of the same user) and is refused rather than followed. */
  struct { uint64_t flags, mode, resolve; } how = {O_PATH | O_CLOEXEC, 0, 0x04 /* RESOLVE_NO_SYMLINKS */};
  long at = SYS4(__NR_openat2, AT_FDCWD, InitStr(p, b->source), &how, sizeof(how));
  if (at < 0) return at;
  long fd = SYS3(__NR_open_tree, at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  SYS1(__NR_close, at);
  if (fd < 0) return fd;
  struct { uint64_t attr_set, attr_clr, propagation, userns_fd; } attr = {b->attr_set, b->attr_clr, 0, 0};
  long r = SYS5(__NR_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
  if (r != 0) {
    SYS1(__NR_close, fd);
    return r;
  }
  return fd;
}

/* The trees cloned by path, by bind index; made before anything is mounted over the staging folder, which may hide
 * a source (the host's /tmp). */
static int g_cloned[kInitMaxFds];

static long CloneSources(const InitPlan* p) {
  const InitBind* binds = (const InitBind*)InitList_(p, &p->binds);
  for (uint32_t i = 0; i < p->binds.count && i < kInitMaxFds; ++i) {
    g_cloned[i] = -1;
    if (binds[i].fdi >= 0) continue;
    long fd = CloneSource(&binds[i], p);
    if (fd < 0) return fd;
    g_cloned[i] = (int)fd;
  }
  return p->binds.count <= kInitMaxFds ? 0 : -E2BIG;
}

/* Each bind is a tree the supervisor (or CloneSources) already cloned and flagged: one move_mount, no remount. */
static long MoveBinds(const InitPlan* p, int32_t* step) {
  long r;
  *step = kStepBind;
  const InitBind* binds = (const InitBind*)InitList_(p, &p->binds);
  for (uint32_t i = 0; i < p->binds.count; ++i) {
    int fd = binds[i].fdi >= 0 ? InitFd(binds[i].fdi) : g_cloned[i];
    if ((r = MoveTree(fd, InitStr(p, binds[i].target))) != 0) return r;
  }
  return 0;
}

/* A skeleton tree is read-only, nosuid, nodev and noexec already (mount_setattr in the supervisor); a tmpfs root is
 * made read-only once everything is mounted on it. */
static long RemountRootReadOnly(const InitPlan* p, int32_t* step) {
  *step = kStepRemountRoot;
  if (p->flags & kPlanRootTree) return 0;
  return SYS5(__NR_mount, 0, "/", 0, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
}

long InitApplyMounts(const InitPlan* p, int32_t* step) {
  long r;
  const char* staging = InitStr(p, p->staging);
  *step = kStepMountPrivate;
  /* Nothing we mount may propagate back to the host. */
  if ((r = SYS5(__NR_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0)) != 0) return r;
  *step = kStepBind;
  if ((r = CloneSources(p)) != 0) return r;
  *step = kStepRootTmpfs;
  if (p->flags & kPlanRootTree) {
    if ((r = MoveTree(InitFd(p->root_tree_fdi), staging)) != 0) return r;
  } else if ((r = SYS5(__NR_mount, "tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, InitStr(p, p->root_options))) !=
             0) {
    return r;
  }
  /* /tmp first, so extra paths that live under the host's /tmp get their mount points inside the new tmpfs. */
  *step = kStepTmp;
  const char* tmp = InitStr(p, p->tmp_target);
  if ((r = SYS3(__NR_mkdirat, AT_FDCWD, tmp, 0755)) != 0 && r != -EEXIST) return r;
  if ((r = SYS5(__NR_mount, "tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, InitStr(p, p->tmp_options))) != 0) return r;
  if ((r = MakeEntries(p, step)) != 0) return r;
  if ((r = MoveBinds(p, step)) != 0) return r;
  *step = kStepProc;
  /* A procfs of our pid namespace showing only processes (no /proc/sys, sysrq-trigger, kcore ...). */
  if ((r = SYS5(__NR_mount, "proc", InitStr(p, p->proc_target), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "subset=pid,hidepid=invisible")) != 0) {
    return r;
  }
  *step = kStepPivot;
  if ((r = SYS1(__NR_chdir, staging)) != 0) return r;
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the new view. */
  if ((r = SYS2(__NR_pivot_root, ".", ".")) != 0) return r;
  if ((r = SYS2(__NR_umount2, ".", MNT_DETACH)) != 0) return r;
  if ((r = SYS1(__NR_chdir, "/")) != 0) return r;
  if (p->flags & kPlanStageView) return 0;  /* the task plan finishes the root */
  return RemountRootReadOnly(p, step);
}

long InitApplyTaskMounts(const InitPlan* p, int32_t* step) {
  long r;
  *step = kStepTmp;
  if ((p->flags & kPlanRemountTmp) &&
      (r = SYS5(__NR_mount, "tmpfs", "/tmp", "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, InitStr(p, p->tmp_options))) !=
          0) {
    return r;
  }
  if ((r = MakeEntries(p, step)) != 0) return r;
  *step = kStepBind;
  if ((r = CloneSources(p)) != 0) return r;  /* none in practice: no view is built without tree cloning */
  if ((r = MoveBinds(p, step)) != 0) return r;
  return RemountRootReadOnly(p, step);
}
