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
long InitDropCaps(void);
long InitApplyMounts(const InitPlan* p, int32_t* step);
long InitApplyRlimits(const InitPlan* p);
long InitSetUpProxyListener(int sync_fd);
long InitApplyLandlock(const InitPlan* p);
long InitApplySeccomp(const InitPlan* p, int* notify);

#endif /* WARDEN_SANDBOX_INIT_INIT_LAYERS_H_ */
