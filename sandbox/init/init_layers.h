/* The init's layer verbs (init_mounts.c, init_layers.c) and plan accessors (init_plan_check.c). Each returns 0 or a
 * negative errno; none allocates. */
#ifndef WARDEN_SANDBOX_INIT_INIT_LAYERS_H_
#define WARDEN_SANDBOX_INIT_INIT_LAYERS_H_

#include "sandbox/init/init_plan.h"

/* Plan access, valid after InitCheckPlan accepted the buffer. */
long InitCheckPlan(const InitPlan* p, uint32_t size);
const char* InitStr(const InitPlan* p, uint32_t off);
const void* InitList_(const InitPlan* p, const InitList* l);
#define InitU32List(p, l) ((const uint32_t*)InitList_((p), (l)))
/* The fd at `fdi` in the go message (init_main.c), or -1. */
int InitFd(int32_t fdi);
uint32_t InitFdCount(void);

/* Reporting (init_main.c). */
void InitSend(int fd, int32_t type, int32_t step, int32_t err, int32_t status);
void InitFail(int fd, int32_t step, long err) __attribute__((noreturn));
long InitSendFd(int sock, int32_t type, int fd);

long InitBecomeSandboxUser(void);
/* The bounding set (while CAP_SETPCAP lasts); then every other set, ambient included. */
long InitDropBoundingSet(void);
long InitDropCaps(void);
/* The whole view (a plan without kPlanStageView: read-only root at the end), or with kPlanStageView everything up to
 * and including pivot_root, the root left as it is. */
long InitApplyMounts(const InitPlan* p, int32_t* step);
/* A task plan after a view: /tmp remount, mount points, binds and links at their paths after the pivot, then the
 * read-only root. */
long InitApplyTaskMounts(const InitPlan* p, int32_t* step);
long InitApplyRlimits(const InitPlan* p);
long InitSetUpProxyListener(int sync_fd);
long InitApplyLandlock(const InitPlan* p);
/* Filter 1 (the allowlist), attached as soon as the view is built: every call the rest of the setup makes is on it. */
long InitApplyAllowlist(const InitPlan* p);
/* Filter 2 (report), last: the listener fd (>= 0, *notify set) or a negative errno. */
long InitApplyReportFilter(const InitPlan* p, int* notify);

#endif /* WARDEN_SANDBOX_INIT_INIT_LAYERS_H_ */
