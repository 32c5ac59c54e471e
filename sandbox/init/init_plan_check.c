/* Checks the plan the supervisor wrote (init_plan.h) before the init uses any of it: the magic, the size, every
 * string offset NUL-terminated inside the buffer and every list inside it, so a truncated or stale plan is a clean
 * kStepPlan failure rather than a wild read. */
#include "sandbox/init/init_layers.h"
#include "sandbox/init/init_sys.h"

static uint32_t g_size;

const char* InitStr(const InitPlan* p, uint32_t off) { return (const char*)p + off; }
const void* InitList_(const InitPlan* p, const InitList* l) { return (const unsigned char*)p + l->off; }

static int StrOk(const InitPlan* p, uint32_t off) {
  if (off < sizeof(InitPlan) || off >= g_size) return 0;
  const char* s = (const char*)p;
  for (uint32_t i = off; i < g_size; ++i) {
    if (s[i] == 0) return 1;
  }
  return 0;
}

static int ListOk(const InitList* l, uint32_t record) {
  if (l->count == 0) return 1;
  if (l->off < sizeof(InitPlan) || l->off % 4 != 0 || l->off > g_size) return 0;
  return (uint64_t)l->count * record <= (uint64_t)(g_size - l->off);
}

static int StrListOk(const InitPlan* p, const InitList* l) {
  if (!ListOk(l, sizeof(uint32_t))) return 0;
  const uint32_t* v = InitU32List(p, l);
  for (uint32_t i = 0; i < l->count; ++i) {
    if (!StrOk(p, v[i])) return 0;
  }
  return 1;
}

long InitCheckPlan(const InitPlan* p, uint32_t size) {
  if (size < sizeof(InitPlan) || p->magic != kInitPlanMagic || p->size != size) return -EINVAL;
  g_size = size;
  if (!StrOk(p, p->hostname) || !StrOk(p, p->staging) || !StrOk(p, p->root_options) ||
      !StrOk(p, p->tmp_options) || !StrOk(p, p->tmp_target) || !StrOk(p, p->proc_target) ||
      !StrOk(p, p->exec_path) || !StrOk(p, p->workdir)) {
    return -EINVAL;
  }
  if (!StrListOk(p, &p->dirs) || !StrListOk(p, &p->argv) || !StrListOk(p, &p->envp)) return -EINVAL;
  if ((p->argv.count == 0 && !(p->flags & kPlanStageView)) || p->argv.count >= 4096 || p->envp.count >= 4096) {
    return -E2BIG;
  }
  if (!ListOk(&p->links, sizeof(InitLink)) || !ListOk(&p->files, sizeof(InitFile)) ||
      !ListOk(&p->binds, sizeof(InitBind)) || !ListOk(&p->rlimits, sizeof(InitRlimit)) ||
      !ListOk(&p->rules, sizeof(InitRule)) || !ListOk(&p->connect_ports, sizeof(uint32_t)) ||
      !ListOk(&p->allowlist, sizeof(InitFilter)) || !ListOk(&p->report, sizeof(InitFilter)) ||
      !ListOk(&p->report_errno, sizeof(InitFilter))) {
    return -EINVAL;
  }
  const InitLink* links = (const InitLink*)InitList_(p, &p->links);
  for (uint32_t i = 0; i < p->links.count; ++i) {
    if (!StrOk(p, links[i].path) || !StrOk(p, links[i].target)) return -EINVAL;
  }
  const InitFile* files = (const InitFile*)InitList_(p, &p->files);
  for (uint32_t i = 0; i < p->files.count; ++i) {
    if (!StrOk(p, files[i].path) || files[i].content > size || files[i].len > size - files[i].content) return -EINVAL;
  }
  /* Every fd index the plan names must be one the go message carried (index 0 is the plan itself). */
  const uint32_t nfds = InitFdCount();
#define FDI_OK(i) ((i) > 0 && (uint32_t)(i) < nfds)
  if (!(p->flags & kPlanStageView) && (!FDI_OK(p->stdin_fdi) || !FDI_OK(p->stdout_fdi) || !FDI_OK(p->stderr_fdi))) {
    return -EBADF;
  }
  for (int i = 0; i < 2; ++i) {
    if (p->cgroup_fdi[i] != -1 && !FDI_OK(p->cgroup_fdi[i])) return -EBADF;
  }
  if ((p->flags & kPlanRootTree) && !FDI_OK(p->root_tree_fdi)) return -EBADF;
  const InitBind* binds = (const InitBind*)InitList_(p, &p->binds);
  for (uint32_t i = 0; i < p->binds.count; ++i) {
    if (!StrOk(p, binds[i].target)) return -EINVAL;
    if (binds[i].fdi == -1 ? !StrOk(p, binds[i].source) : !FDI_OK(binds[i].fdi)) return -EBADF;
  }
  const InitRule* rules = (const InitRule*)InitList_(p, &p->rules);
  for (uint32_t i = 0; i < p->rules.count; ++i) {
    if (!StrOk(p, rules[i].path)) return -EINVAL;
  }
  if (p->allowlist.count > 0xffff || p->report.count > 0xffff || p->report_errno.count > 0xffff) return -E2BIG;
  return 0;
}
