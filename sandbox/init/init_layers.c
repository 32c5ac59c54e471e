/* The init's other layers (sandbox.md C.1 steps 4, 7, 9-11, C.4): identity, capabilities, rlimits, the proxy
 * listener of profile "net", Landlock and seccomp, each as the raw system calls the supervisor planned. The
 * constants past Landlock ABI 3 are spelled out because Debian 12's kernel headers predate them. */
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/landlock.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>

#include "sandbox/init/init_layers.h"
#include "sandbox/init/init_sys.h"

long InitBecomeSandboxUser(void) {
  long r;
  /* Our uid at clone time is not mapped into the new namespace, so the kernel's "leaving uid 0 clears the
   * capabilities" rule does not apply; KEEPCAPS makes that explicit rather than incidental. */
  if ((r = SYS5(__NR_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0)) != 0) return r;
  if ((r = SYS3(__NR_setresgid, kSandboxGid, kSandboxGid, kSandboxGid)) != 0) return r;
  return SYS3(__NR_setresuid, kSandboxUid, kSandboxUid, kSandboxUid);
}

long InitDropBoundingSet(void) {
  /* Dropping needs CAP_SETPCAP, which goes away with InitDropCaps. The bounding set only limits what an execve
   * could add, so the setup keeps every capability it holds until InitDropCaps. */
  for (int cap = 0; cap < 64; ++cap) {
    long r = SYS5(__NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (r == -EINVAL) break;  /* past the last capability this kernel knows */
    if (r != 0) return r;
  }
  return 0;
}

long InitDropCaps(void) {
  long r = SYS5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (r != 0 && r != -EINVAL) return r;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if ((r = SYS2(__NR_capset, &header, data)) != 0) return r;
  return SYS5(__NR_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

long InitApplyRlimits(const InitPlan* p) {
  const InitRlimit* v = (const InitRlimit*)InitList_(p, &p->rlimits);
  for (uint32_t i = 0; i < p->rlimits.count; ++i) {
    uint64_t lim[2] = {v[i].cur, v[i].max};
    long r = SYS4(__NR_prlimit64, 0, v[i].resource, lim, 0);
    if (r != 0) return r;
  }
  return 0;
}

/* ---- SCM_RIGHTS ---- */
struct InitCmsg { size_t len; int level, type; int fd; int pad; };

long InitSendFd(int sock, int32_t type, int fd) {
  ChildMsg m;
  memset(&m, 0, sizeof(m));
  m.type = type;
  struct InitIovec iov = {&m, sizeof(m)};
  struct InitCmsg c = {16 + sizeof(int), 1 /* SOL_SOCKET */, 1 /* SCM_RIGHTS */, fd, 0};
  struct InitMsghdr h;
  memset(&h, 0, sizeof(h));
  h.iov = &iov;
  h.iovlen = 1;
  h.control = &c;
  h.controllen = sizeof(c);
  long r;
  while ((r = SYS3(__NR_sendmsg, sock, &h, 0x4000 /* MSG_NOSIGNAL */)) == -EINTR) {
  }
  return r < 0 ? r : 0;
}

/* ---- profile "net" (net_bridge in sandbox.md C.4, B.2 "fd-passed TCP listener") ---- */
enum { kProxyPortInside = 3128 };  /* must equal net_proxy.h kProxyPort (checked there with a static_assert) */

long InitSetUpProxyListener(int sync_fd) {
  /* Bring `lo` up: SIOCGIFFLAGS / SIOCSIFFLAGS on an ifreq (16-byte name, then the flags). */
  long s = SYS3(__NR_socket, 2 /* AF_INET */, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);
  if (s < 0) return s;
  struct { char name[16]; short flags; char pad[22]; } ifr;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.name, "lo", 3);
  long r = SYS3(__NR_ioctl, s, 0x8913 /* SIOCGIFFLAGS */, &ifr);
  if (r == 0) {
    ifr.flags = (short)(ifr.flags | 0x1 /* IFF_UP */ | 0x40 /* IFF_RUNNING */);
    r = SYS3(__NR_ioctl, s, 0x8914 /* SIOCSIFFLAGS */, &ifr);
  }
  SYS1(__NR_close, s);
  if (r != 0) return r;
  long fd = SYS3(__NR_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0);
  if (fd < 0) return fd;
  struct { uint16_t family, port; uint32_t addr; unsigned char zero[8]; } addr;
  memset(&addr, 0, sizeof(addr));
  addr.family = 2;
  addr.port = (uint16_t)(((kProxyPortInside & 0xff) << 8) | (kProxyPortInside >> 8));  /* network order */
  addr.addr = 0x0100007f;  /* 127.0.0.1 in network order on a little-endian host */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  addr.port = kProxyPortInside;
  addr.addr = 0x7f000001;
#endif
  r = SYS3(__NR_bind, fd, &addr, sizeof(addr));
  if (r == 0) r = SYS2(__NR_listen, fd, 64);
  if (r == 0) r = InitSendFd(sync_fd, kMsgProxyListener, (int)fd);
  SYS1(__NR_close, fd);  /* the supervisor's copy is the only one; the program cannot accept on it */
  return r;
}

/* ---- Landlock (sandbox.md C.1 step 10; rules made by landlock.cpp PrepareLandlock) ---- */
struct InitRulesetAttr { uint64_t handled_fs, handled_net, scoped; };
struct __attribute__((packed)) InitPathBeneath { uint64_t allowed; int32_t parent_fd; };
struct InitNetPort { uint64_t allowed, port; };

long InitApplyLandlock(const InitPlan* p) {
  if (p->landlock_abi <= 0) return 0;
  struct InitRulesetAttr attr = {p->handled_fs, p->handled_net, p->scoped};
  size_t size = p->landlock_abi >= 6 ? sizeof(attr) : (p->landlock_abi >= 4 ? 16 : 8);
  long ruleset = SYS3(__NR_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0) return ruleset;
  long err = 0;
  const InitRule* rules = (const InitRule*)InitList_(p, &p->rules);
  for (uint32_t i = 0; i < p->rules.count && err == 0; ++i) {
    long fd = SYS4(__NR_openat, AT_FDCWD, InitStr(p, rules[i].path), O_PATH | O_CLOEXEC, 0);
    if (fd == -ENOENT) continue;  /* an extra path under /usr was not re-bound; its parent rule covers it */
    if (fd < 0) {
      err = fd;
      break;
    }
    struct InitPathBeneath pb = {rules[i].access & p->handled_fs, (int32_t)fd};
    err = SYS4(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    SYS1(__NR_close, fd);
  }
  const uint32_t* ports = InitU32List(p, &p->connect_ports);
  for (uint32_t i = 0; i < p->connect_ports.count && err == 0 && p->landlock_abi >= 4; ++i) {
    struct InitNetPort np = {1ull << 1 /* CONNECT_TCP */, ports[i]};
    err = SYS4(__NR_landlock_add_rule, ruleset, 2 /* LANDLOCK_RULE_NET_PORT */, &np, 0);
  }
  if (err == 0) err = SYS2(__NR_landlock_restrict_self, ruleset, 0);
  SYS1(__NR_close, ruleset);
  return err;
}

/* ---- seccomp (sandbox.md C.2; programs compiled once per profile by seccomp.cpp) ---- */
struct InitFprog { unsigned short len; const InitFilter* filter; };

long InitApplyAllowlist(const InitPlan* p) {
  struct InitFprog allow = {(unsigned short)p->allowlist.count, (const InitFilter*)InitList_(p, &p->allowlist)};
  return SYS3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow);
}

long InitApplyReportFilter(const InitPlan* p, int* notify) {
  struct InitFprog report = {(unsigned short)p->report.count, (const InitFilter*)InitList_(p, &p->report)};
  long fd = SYS3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &report);
  if (fd >= 0) {
    *notify = 1;
    return fd;
  }
  /* No user notification on this kernel: deny without a record rather than not deny (FAIL-CLOSED). */
  struct InitFprog deny = {(unsigned short)p->report_errno.count, (const InitFilter*)InitList_(p, &p->report_errno)};
  long r = SYS3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &deny);
  if (r != 0) return r;
  *notify = 0;
  return 0;
}
