// Kernel feature probes for `warden doctor`. Every probe that alters process state (unshare, prctl, seccomp)
// runs in a forked child that reports through its exit status: 0 = works, otherwise the errno it hit. The
// parent is never changed, so doctor can run inside any process.
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sandbox/sandbox.h"

namespace warden::sandbox {
namespace {

// Runs `fn` in a child; returns its exit code (an errno, or 0), or -1 when the child could not run or died.
template <typename Fn>
int InChild(Fn fn) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(fn());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (!WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

FeatureProbe FromExit(std::string name, int code, std::string ok_detail) {
  FeatureProbe p{std::move(name), code == 0, ""};
  if (code == 0) p.detail = std::move(ok_detail);
  else if (code < 0) p.detail = "probe child failed";
  else p.detail = std::strerror(code);
  return p;
}

// Unprivileged callers need a user namespace to get the others; root can unshare them directly.
int UnshareWithUserNs(int flags) {
  if (::geteuid() != 0) flags |= CLONE_NEWUSER;
  return ::unshare(flags) == 0 ? 0 : errno;
}

int ProbePidNamespace() {
  if (int e = UnshareWithUserNs(CLONE_NEWPID); e != 0) return e;
  // The first child forked after unshare(CLONE_NEWPID) must be pid 1 of the new namespace.
  pid_t pid = ::fork();
  if (pid < 0) return errno;
  if (pid == 0) ::_exit(::getpid() == 1 ? 0 : 1);
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return errno;
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : EPERM;
}

int ProbeSeccomp() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return ENOMEM;
  // A filter that makes getppid fail with ENOTSUP: if the call then fails that way, the filter is live.
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTSUP), SCMP_SYS(getppid), 0);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return -rc;
  long r = ::syscall(SYS_getppid);
  return (r == -1 && errno == ENOTSUP) ? 0 : EPERM;
}

int ProbeNoNewPrivs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : EPERM;
}

FeatureProbe ProbeLandlock() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    int e = errno;
    std::string why = e == ENOSYS ? "kernel built without Landlock (ENOSYS)"
                      : e == EOPNOTSUPP ? "Landlock disabled at boot (EOPNOTSUPP; add lsm=landlock,...)"
                                        : std::strerror(e);
    return {"landlock", false, why};
  }
  return {"landlock", true, "ABI " + std::to_string(abi)};
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<FeatureProbe> ProbeCgroups() {
  std::vector<FeatureProbe> out;
  std::ifstream v2("/sys/fs/cgroup/cgroup.controllers");
  if (v2) {
    std::string controllers = ReadFirstLine("/sys/fs/cgroup/cgroup.controllers");
    // Where this process sits ("0::/some/path") tells which folder a sandbox would create its group under.
    std::string self = ReadFirstLine("/proc/self/cgroup");
    std::string group = self.rfind("0::", 0) == 0 ? self.substr(3) : "";
    std::string dir = "/sys/fs/cgroup" + (group == "/" ? std::string() : group);
    std::string probe = dir + "/warden-probe-" + std::to_string(::getpid());
    bool writable = ::mkdir(probe.c_str(), 0755) == 0;
    int e = errno;
    if (writable) ::rmdir(probe.c_str());
    out.push_back({"cgroup_v2", true, "controllers: " + (controllers.empty() ? "(none)" : controllers)});
    out.push_back({"cgroup_v2_delegated", writable,
                   writable ? "can create groups under " + dir
                            : "cannot create a group under " + dir + ": " + std::strerror(e)});
  } else {
    out.push_back({"cgroup_v2", false, "/sys/fs/cgroup/cgroup.controllers not found (no unified hierarchy)"});
  }
  // cgroup v1: /proc/cgroups lists controllers with hierarchy ids; id 0 means not mounted as v1.
  std::ifstream v1("/proc/cgroups");
  std::string line, v1_list;
  while (std::getline(v1, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    int hierarchy = 0, num = 0, enabled = 0;
    fields >> name >> hierarchy >> num >> enabled;
    if (hierarchy != 0 && enabled != 0) v1_list += (v1_list.empty() ? "" : " ") + name;
  }
  out.push_back({"cgroup_v1", !v1_list.empty(), v1_list.empty() ? "no v1 hierarchies mounted" : v1_list});
  return out;
}

}  // namespace

std::vector<FeatureProbe> ProbeKernelFeatures() {
  std::vector<FeatureProbe> probes;
  probes.push_back(FromExit("user_namespace", InChild([] { return ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno; }),
                            "unshare(CLONE_NEWUSER) works"));
  probes.push_back(FromExit("mount_namespace", InChild([] { return UnshareWithUserNs(CLONE_NEWNS); }),
                            "unshare(CLONE_NEWNS) works"));
  probes.push_back(FromExit("pid_namespace", InChild(ProbePidNamespace), "first child is pid 1"));
  probes.push_back(FromExit("net_namespace", InChild([] { return UnshareWithUserNs(CLONE_NEWNET); }),
                            "unshare(CLONE_NEWNET) works"));
  probes.push_back(FromExit("no_new_privs", InChild(ProbeNoNewPrivs), "PR_SET_NO_NEW_PRIVS sticks"));
  probes.push_back(FromExit("seccomp_filter", InChild(ProbeSeccomp), "a libseccomp filter was installed and enforced"));
  probes.push_back(ProbeLandlock());
  for (auto& p : ProbeCgroups()) probes.push_back(std::move(p));
  return probes;
}

std::string SeccompVersion() {
  const scmp_version* v = seccomp_version();
  if (v == nullptr) return "unknown";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

}  // namespace warden::sandbox
