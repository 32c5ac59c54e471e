// Starting the in-sandbox init (sandbox/init/, docs/sandbox.md "The init"): the supervisor writes the init's plan
// (init_plan.h) into a memfd, then clone(CLONE_VM|CLONE_VFORK|CLONE_NEW*) runs a few raw system calls on a private
// stack in our address space (clear FD_CLOEXEC on the fds the init inherits, execveat the init image) while this
// thread waits. No copy of the supervisor's address space is ever made: a fork of a large, multithreaded runtime
// costs page-table copies and copy-on-write faults on both sides for as long as the child lives (and a process
// holding a GPU context must not fork at all).
//
// The image is compiled into this library (cmake/EmbedBinary.cmake) and put once per process into a sealed memfd;
// where the kernel refuses to execute memfds (vm.memfd_noexec = 2) it is written once into a private 0700 folder.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/base/file_util.h"
#include "sandbox/net_proxy.h"
#include "sandbox/sandbox_internal.h"

extern const unsigned char warden_sandbox_init_image[];
extern const std::size_t warden_sandbox_init_image_size;

namespace warden::sandbox::detail {
namespace {

static_assert(kProxyPort == 3128, "sandbox/init/init_layers.c listens on 3128 inside the netns");
static_assert(sizeof(InitFilter) == sizeof(sock_filter), "InitFilter mirrors struct sock_filter");

constexpr size_t kStartStackBytes = 64 * 1024;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

// The image in an fd we can execveat, made once per process. Error text says why not.
struct InitImage {
  int fd = -1;
  std::string source;  // "memfd", "file", or why neither worked
};

int SealedMemfd() {
  // MFD_EXEC: kernels with vm.memfd_noexec default to non-executable memfds unless asked; older kernels reject the
  // unknown flag, so try without it.
  int fd = static_cast<int>(::syscall(SYS_memfd_create, "warden-sandbox-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (fd < 0 && errno == EINVAL) {
    fd = static_cast<int>(::syscall(SYS_memfd_create, "warden-sandbox-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  }
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < warden_sandbox_init_image_size) {
    ssize_t w = ::write(fd, warden_sandbox_init_image + off, warden_sandbox_init_image_size - off);
    if (w <= 0) {
      ::close(fd);
      return -1;
    }
    off += static_cast<size_t>(w);
  }
  // Sealed: nothing, not even this process, can change what every later sandbox executes.
  if (::fchmod(fd, 0555) != 0 ||
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Where memfds cannot be executed: the image written once into $TMPDIR/warden-init-XXXXXX (0700), opened O_PATH and
// the folder removed again, so the open fd is the only way to it.
int ImageFile(std::string* why) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/warden-init-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    *why = "cannot create " + dir + ": " + std::strerror(errno);
    return -1;
  }
  std::string path = dir + "/warden-sandbox-init";
  int fd = -1;
  int w = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500);
  if (w >= 0) {
    std::string bytes(reinterpret_cast<const char*>(warden_sandbox_init_image), warden_sandbox_init_image_size);
    bool ok = ::write(w, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(w);
    if (ok) fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  }
  if (fd < 0) *why = "cannot write " + path + ": " + std::strerror(errno);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
  return fd;
}

const InitImage& Image() {
  static const InitImage image = [] {
    InitImage i;
    i.fd = SealedMemfd();
    if (i.fd >= 0) {
      i.source = "memfd";
      return i;
    }
    std::string why;
    i.fd = ImageFile(&why);
    i.source = i.fd >= 0 ? "file" : "unavailable: memfd refused and " + why;
    return i;
  }();
  return image;
}

// Builds the flat plan of init_plan.h: a header, then strings and 8-byte-aligned record arrays.
class PlanWriter {
 public:
  PlanWriter() : buf_(sizeof(InitPlan), '\0') {}
  uint32_t Str(const std::string& s) { return Str(s.c_str()); }
  uint32_t Str(const char* s) {
    uint32_t off = static_cast<uint32_t>(buf_.size());
    buf_.append(s);
    buf_.push_back('\0');
    return off;
  }
  template <class T>
  InitList Array(const std::vector<T>& v) {
    while (buf_.size() % 8 != 0) buf_.push_back('\0');
    InitList l{static_cast<uint32_t>(buf_.size()), static_cast<uint32_t>(v.size())};
    buf_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    return l;
  }
  InitList Strings(char* const* list) {
    std::vector<uint32_t> offs;
    for (; list != nullptr && *list != nullptr; ++list) offs.push_back(Str(*list));
    return Array(offs);
  }
  std::string Finish(InitPlan plan) {
    plan.magic = kInitPlanMagic;
    plan.size = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data(), &plan, sizeof(plan));
    return std::move(buf_);
  }
  size_t size() const { return buf_.size(); }

 private:
  std::string buf_;
};

std::vector<InitFilter> Filters(const std::vector<sock_filter>& v) {
  std::vector<InitFilter> out(v.size());
  std::memcpy(out.data(), v.data(), v.size() * sizeof(sock_filter));
  return out;
}

// The vfork child: runs on InitLaunch::stack in our address space while the calling thread sleeps until the
// execveat. Raw system calls only and no sanitizer instrumentation (the stack is not one the sanitizers know).
//
// execve recomputes capabilities, and our uid is not root in the new user namespace (it is not even mapped yet), so
// the init would start with none. Ambient capabilities survive an execve of a plain file: the child raises the ones
// the init needs for its setup (mounts, the uid switch, the bounding-set drop, lo up), which the init drops with all
// others before the program starts (init_layers.c InitDropCaps).
__attribute__((no_sanitize("address", "undefined"))) int StartInitChild(void* arg) {
  const InitLaunch* l = static_cast<const InitLaunch*>(arg);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[2] = {};
  if (::syscall(SYS_capget, &header, caps) == 0) {
    caps[0].inheritable = caps[0].permitted;
    caps[1].inheritable = caps[1].permitted;
    if (::syscall(SYS_capset, &header, caps) == 0) {
      for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SETGID, CAP_SETUID,
                      CAP_SETPCAP, CAP_NET_ADMIN, CAP_SYS_ADMIN}) {
        ::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
      }
    }
  }
  for (int fd : l->keep_fds) ::syscall(SYS_fcntl, fd, F_SETFD, 0);
  char* envp[] = {nullptr};
  ::syscall(SYS_execveat, l->image_fd, "", l->argv.data(), envp, AT_EMPTY_PATH);
  ChildMsg m{};
  m.type = kMsgSetupError;
  m.step = kStepStartInit;
  m.err = errno;
  ::syscall(SYS_sendto, l->sync_fd, &m, sizeof(m), MSG_NOSIGNAL, nullptr, 0);
  ::syscall(SYS_exit, 127);
  return 127;
}

}  // namespace

std::string InitImageSource() { return Image().source; }

Result<std::unique_ptr<InitLaunch>> InitLaunch::Prepare(const ChildPlan& c) {
  const InitImage& image = Image();
  if (image.fd < 0) {
    return Status::Unavailable("sandbox: cannot start the sandbox init (" + image.source +
                               "); allow executable memfds (vm.memfd_noexec < 2) or set TMPDIR to an exec mount");
  }
  auto l = std::make_unique<InitLaunch>();
  l->image_fd = image.fd;
  l->sync_fd = c.sync_fd;
  const MountPlan& m = *c.mounts;
  PlanWriter w;
  InitPlan p{};
  p.fail_at_step = c.fail_at_step;
  p.flags = (c.net_proxy ? kPlanNetProxy : 0) | (c.wait_for_attach ? kPlanWaitForAttach : 0) |
            (m.root_tree.get() >= 0 ? kPlanRootTree : 0);
  p.sync_fd = c.sync_fd;
  p.stdin_fd = c.stdin_fd;
  p.stdout_fd = c.stdout_fd;
  p.stderr_fd = c.stderr_fd;
  p.cgroup_fds[0] = c.cgroup_fds[0];
  p.cgroup_fds[1] = c.cgroup_fds[1];
  p.root_tree_fd = m.root_tree.get();
  p.hostname = w.Str("sandbox");
  p.staging = w.Str(m.staging);
  p.root_options = w.Str(m.root_options);
  p.tmp_options = w.Str(m.tmp_options);
  p.tmp_target = w.Str(m.tmp_target);
  p.proc_target = w.Str(m.proc_target);
  p.exec_path = w.Str(c.exec_path);
  p.workdir = w.Str("/workspace");
  std::vector<uint32_t> dirs;
  for (const auto& d : m.dirs) dirs.push_back(w.Str(d));
  std::vector<InitLink> links;
  for (const auto& k : m.links) links.push_back({w.Str(k.path), w.Str(k.target)});
  std::vector<InitFile> files;
  for (const auto& f : m.files) {
    uint32_t path = w.Str(f.path);
    uint32_t content = static_cast<uint32_t>(w.size());
    w.Str(f.content);  // NUL-terminated like the rest; len excludes it
    files.push_back({path, content, static_cast<uint32_t>(f.content.size()), 0});
  }
  std::vector<InitBind> binds;
  for (const auto& b : m.binds) binds.push_back({b.tree.get(), w.Str(b.target)});
  std::vector<InitRlimit> rlimits;
  for (const auto& r : *c.rlimits) {
    rlimits.push_back({r.resource, 0, static_cast<uint64_t>(r.value.rlim_cur), static_cast<uint64_t>(r.value.rlim_max)});
  }
  const LandlockPlan& ll = *c.landlock;
  p.landlock_abi = ll.abi;
  p.handled_fs = ll.handled_fs;
  p.handled_net = ll.handled_net;
  p.scoped = ll.scoped;
  std::vector<InitRule> rules;
  for (const auto& r : ll.rules) rules.push_back({r.access, w.Str(r.path), 0});
  std::vector<uint32_t> ports(ll.connect_ports.begin(), ll.connect_ports.end());
  p.argv = w.Strings(c.argv);
  p.envp = w.Strings(c.envp);
  p.dirs = w.Array(dirs);
  p.links = w.Array(links);
  p.files = w.Array(files);
  p.binds = w.Array(binds);
  p.rlimits = w.Array(rlimits);
  p.rules = w.Array(rules);
  p.connect_ports = w.Array(ports);
  p.allowlist = w.Array(Filters(c.seccomp->allowlist));
  p.report = w.Array(Filters(c.seccomp->report));
  p.report_errno = w.Array(Filters(c.seccomp->report_errno));
  if (p.argv.count >= 4096 || p.envp.count >= 4096) {
    return Status::InvalidArgument("sandbox: at most 4095 arguments and 4095 environment entries");
  }
  if (w.size() > kInitPlanMaxBytes) {
    return Status::InvalidArgument("sandbox: arguments, environment and files come to " + std::to_string(w.size()) +
                                   " bytes; the limit is " + std::to_string(kInitPlanMaxBytes));
  }
  std::string bytes = w.Finish(p);

  l->plan_fd = OwnedFd(static_cast<int>(::syscall(SYS_memfd_create, "warden-sandbox-plan", MFD_CLOEXEC)));
  if (l->plan_fd.get() < 0) return Status::IoError("sandbox: memfd_create for the init's plan", errno);
  if (::write(l->plan_fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    return Status::IoError("sandbox: writing the init's plan", errno);
  }
  l->keep_fds = {c.sync_fd, c.stdin_fd, c.stdout_fd, c.stderr_fd, l->plan_fd.get()};
  for (int fd : c.cgroup_fds) {
    if (fd >= 0) l->keep_fds.push_back(fd);
  }
  if (m.root_tree.get() >= 0) l->keep_fds.push_back(m.root_tree.get());
  for (const auto& b : m.binds) l->keep_fds.push_back(b.tree.get());
  l->arg_plan = std::to_string(l->plan_fd.get());
  l->arg_sync = std::to_string(c.sync_fd);
  static char kName[] = "warden-sandbox-init";
  l->argv = {kName, l->arg_plan.data(), l->arg_sync.data(), nullptr};
  l->stack = std::make_unique<char[]>(kStartStackBytes);
  return l;
}

long InitLaunch::Start(unsigned long ns_flags, int* pidfd) {
  // No supervisor signal handler may run in the child while it shares our memory; the init resets the mask.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int raw_pidfd = -1;
  long pid = ::clone(StartInitChild, stack.get() + kStartStackBytes,
                     static_cast<int>(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | ns_flags | SIGCHLD), this, &raw_pidfd);
  long err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return -err;
  *pidfd = raw_pidfd;
  return pid;
}

}  // namespace warden::sandbox::detail
