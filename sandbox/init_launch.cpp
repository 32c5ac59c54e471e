// Starting the in-sandbox init (sandbox/init/, docs/sandbox.md "The init"): clone(CLONE_VM|CLONE_VFORK|CLONE_NEW*)
// runs a few raw system calls on a private stack in our address space (raise the ambient capabilities the init
// needs, keep its end of the sync socket open across exec, execveat the init image) while this thread waits; then
// the supervisor writes the id maps. The init then waits for its go message: the plan (init_plan.h) in a memfd and
// the fds it names, sent over the sync socket. Because nothing task-specific is needed to start it, the cleanup
// thread starts the next task's init ahead of time (prestart), and a run that finds one only sends the go message. No copy of the supervisor's address space is ever made: a fork of a large, multithreaded runtime
// costs page-table copies and copy-on-write faults on both sides for as long as the child lives (and a process
// holding a GPU context must not fork at all).
//
// The image is compiled into this library (cmake/EmbedBinary.cmake) and put once per process into a sealed memfd;
// where the kernel refuses to execute memfds (vm.memfd_noexec = 2) it is written once into a private 0700 folder.
#include <fcntl.h>
#include <poll.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <map>
#include <mutex>
#include <string_view>
#include <set>
#include <algorithm>

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
    bool ok = ::write(w, warden_sandbox_init_image, warden_sandbox_init_image_size) ==
              static_cast<ssize_t>(warden_sandbox_init_image_size);
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
  // The bytes of `s` and a NUL: strings, and file contents, which may hold NULs themselves (their length is kept).
  uint32_t Str(std::string_view s) {
    uint32_t off = static_cast<uint32_t>(buf_.size());
    buf_.append(s.data(), s.size());
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

// What the vfork child needs; lives on the starting thread's stack, which sleeps until the execveat.
struct StartArgs {
  int image_fd = -1;
  int sync_fd = -1;
  char* argv[3] = {};
};

// The vfork child: runs on a private stack in our address space while the calling thread sleeps until the
// execveat. Raw system calls only and no sanitizer instrumentation (the stack is not one the sanitizers know).
//
// execve recomputes capabilities, and our uid is not root in the new user namespace (it is not even mapped yet), so
// the init would start with none. Ambient capabilities survive an execve of a plain file: the child raises the ones
// the init needs for its setup (mounts, the uid switch, the bounding-set drop, lo up), which the init drops with all
// others before the program starts (init_layers.c InitDropCaps).
__attribute__((no_sanitize("address", "undefined"))) int StartInitChild(void* arg) {
  const StartArgs* a = static_cast<const StartArgs*>(arg);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[2] = {};
  bool ok = ::syscall(SYS_capget, &header, caps) == 0;
  caps[0].inheritable = caps[0].permitted;
  caps[1].inheritable = caps[1].permitted;
  ok = ok && ::syscall(SYS_capset, &header, caps) == 0;
  for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
                  CAP_NET_ADMIN, CAP_SYS_ADMIN}) {
    ok = ok && ::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0;
  }
  // The init inherits nothing but the sync socket: an init started ahead may wait a long time, and must not keep a
  // caller's pipe (or anything else the supervisor opened without O_CLOEXEC) open meanwhile. Our fd table is the
  // child's own copy (no CLONE_FILES).
  ok = ok && ::syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
  ok = ok && ::syscall(SYS_fcntl, a->sync_fd, F_SETFD, 0) == 0;
  if (ok) {
    char* envp[] = {nullptr};
    ::syscall(SYS_execveat, a->image_fd, "", a->argv, envp, AT_EMPTY_PATH);
  }
  ChildMsg m{};
  m.type = kMsgSetupError;
  m.step = kStepStartInit;
  m.err = errno;
  ::syscall(SYS_sendto, a->sync_fd, &m, sizeof(m), MSG_NOSIGNAL, nullptr, 0);
  ::syscall(SYS_exit, 127);
  return 127;
}

Status WriteProcFile(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path, errno);
  ssize_t w = ::write(fd, text.data(), text.size());
  int e = errno;
  ::close(fd);
  if (w != static_cast<ssize_t>(text.size())) return Status::IoError("write " + path, e);
  return Status::Ok();
}

// The inits kept for the next tasks (prestart). Two, so that a caller running tasks back to back finds one ready
// while the cleanup thread starts the next beside its task (with one, every such call would wait for it).
// Kept per profile (a view is a profile's), so a caller alternating profiles does not throw away the other's.
constexpr size_t kPrestartKept = 2;
std::mutex g_prestart_mu;
std::vector<std::unique_ptr<StartedInit>> g_prestarted;  // guarded by g_prestart_mu; oldest first
std::map<std::string, Spec> g_prestart_like;              // guarded by g_prestart_mu: per profile, the last task
std::set<std::string> g_prestart_queued;                  // guarded by g_prestart_mu: profiles with a job queued or running
std::atomic<bool> g_prestart_enabled{true};

size_t KeptFor(const std::string& profile) {  // g_prestart_mu held
  size_t n = 0;
  for (const auto& i : g_prestarted) n += i->view_profile == profile;
  return n;
}

// Sends a started init the view of `like`'s profile (PrepareViewMounts) in its task cgroup, so that a task like the
// last one only adds its own binds. False: the init must not be used (it may be half set up).
bool SendView(StartedInit* init, const Spec& like) {
  auto cgroup = TaskCgroup::Create(like);
  if (!cgroup.ok()) return false;
  if (*cgroup != nullptr && (*cgroup)->SelfAttachFds().empty() && !(*cgroup)->AddProcess(init->pid).ok()) return false;
  auto mounts = PrepareViewMounts(like);
  auto programs = GetSeccompPrograms(like.profile);
  if (!mounts.ok() || !programs.ok()) return false;
  ChildPlan plan;
  plan.stage = ChildPlan::Stage::kView;
  plan.mounts = &*mounts;
  plan.seccomp = *programs;
  if (*cgroup != nullptr) {
    const auto& fds = (*cgroup)->SelfAttachFds();
    for (size_t i = 0; i < fds.size() && i < 2; ++i) plan.cgroup_fds[i] = fds[i];
  }
  auto go = PrepareInitGo(plan);
  if (!go.ok() || !SendInitGo(init->sync.get(), *go).ok()) return false;
  if (*cgroup != nullptr) (*cgroup)->CloseSelfAttachFds();
  init->view_profile = like.profile;
  init->cgroup = std::move(*cgroup);
  init->view = std::make_unique<MountPlan>(std::move(*mounts));
  return true;
}

bool MakePrestartedInit(const Spec& like) {
  // A view's task binds come after pivot_root, where an init can no longer clone host paths itself.
  if (!g_prestart_enabled || !CanCloneTrees()) return false;
  auto [uid, gid] = NextHostIdentity();
  auto init = StartInit(uid, gid);
  if (!init.ok()) return false;  // the next run starts its own and reports what fails
  (*init)->prestarted = true;
  // A view that could not be sent may have left the init half set up (in a cgroup that is gone): not kept.
  if (!SendView(init->get(), like)) return false;
  std::unique_ptr<StartedInit> extra;  // reaped outside the lock
  std::lock_guard<std::mutex> lock(g_prestart_mu);
  if (KeptFor(like.profile) < kPrestartKept && g_prestart_enabled) {
    g_prestarted.push_back(std::move(*init));
  } else {
    extra = std::move(*init);
  }
  return true;
}

}  // namespace

std::string InitImageSource() { return Image().source; }

StartedInit::~StartedInit() {
  sync = OwnedFd();  // an init still waiting for its plan exits on EOF
  if (pid > 0) {
    // By pidfd only when there is one: a pid may have been reaped elsewhere and reused.
    if (pidfd.get() >= 0) {
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    } else {
      ::kill(pid, SIGKILL);
    }
    ::waitpid(pid, nullptr, __WALL);
  }
  for (int fd : held_ns) ::close(fd);
}

std::pair<uid_t, gid_t> NextHostIdentity() {
  if (::geteuid() != 0) return {::getuid(), ::getgid()};
  static std::atomic<uint32_t> counter{0};
  uint32_t id = 200000 + ((static_cast<uint32_t>(::getpid()) & 0xffff) << 8) + (counter++ & 0xff);
  return {id, id};
}

Result<std::unique_ptr<StartedInit>> StartInit(uid_t host_uid, gid_t host_gid) {
  const InitImage& image = Image();
  if (image.fd < 0) {
    return Status::Unavailable("sandbox: cannot start the sandbox init (" + image.source +
                               "); allow executable memfds (vm.memfd_noexec < 2) or set TMPDIR to an exec mount");
  }
  auto init = std::make_unique<StartedInit>();
  init->host_uid = host_uid;
  init->host_gid = host_gid;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return Status::IoError("socketpair", errno);
  init->sync = OwnedFd(sv[0]);
  OwnedFd child_end(sv[1]);
  StartArgs args;
  args.image_fd = image.fd;
  args.sync_fd = child_end.get();
  std::string sync_arg = std::to_string(child_end.get());
  static char kName[] = "warden-sandbox-init";
  args.argv[0] = kName;
  args.argv[1] = sync_arg.data();
  auto stack = std::make_unique<char[]>(kStartStackBytes);

  const unsigned long ns_flags =
      CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
  // No supervisor signal handler may run in the child while it shares our memory; the init resets the mask.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int raw_pidfd = -1;
  long pid = ::clone(StartInitChild, stack.get() + kStartStackBytes,
                     static_cast<int>(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | ns_flags | SIGCHLD), &args, &raw_pidfd);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    return Status::Unavailable(std::string("sandbox: cannot create the namespaces (clone: ") +
                               std::strerror(clone_errno) + "); run `warden doctor` to see which layer is missing");
  }
  init->pid = static_cast<pid_t>(pid);
  init->pidfd = OwnedFd(raw_pidfd);
  // Hold the task's mount and network namespaces: when the init exits it then drops only a reference, and the
  // teardown (unmounting the whole view waits for an RCU grace period) runs on the cleanup thread once we let go.
  for (const char* ns : {"mnt", "net"}) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) init->held_ns.push_back(fd);
  }
  // An init that failed to start sent a record and exited; the id-map writes then fail and the caller reads it.
  Status maps = WriteProcFile(init->pid, "setgroups", "deny");
  if (maps.ok()) {
    maps = WriteProcFile(init->pid, "gid_map", std::to_string(kSandboxGid) + " " + std::to_string(host_gid) + " 1");
  }
  if (maps.ok()) {
    maps = WriteProcFile(init->pid, "uid_map", std::to_string(kSandboxUid) + " " + std::to_string(host_uid) + " 1");
  }
  if (!maps.ok()) {
    ChildMsg m{};
    if (::recv(init->sync.get(), &m, sizeof(m), MSG_DONTWAIT) == sizeof(m) && m.type == kMsgSetupError) {
      std::string hint;
      if (m.step == kStepStartInit && m.err == EACCES) {
        hint = Image().source == "file" ? "; the init is a file under $TMPDIR, which is mounted noexec: set TMPDIR to a "
                                          "folder on a filesystem that allows execution"
                                        : "; executing the init's memfd was refused (vm.memfd_noexec?)";
      }
      return Status::Unavailable(std::string("sandbox: ") + StepName(m.step) + ": " + std::strerror(m.err) + hint);
    }
    return Status::Unavailable("sandbox: writing the id maps of the sandbox init: " + maps.message());
  }
  return init;
}

std::unique_ptr<StartedInit> TakePrestartedInit(const std::string& profile) {
  for (;;) {
    std::unique_ptr<StartedInit> init;
    {
      std::lock_guard<std::mutex> lock(g_prestart_mu);
      auto it = std::find_if(g_prestarted.begin(), g_prestarted.end(),
                             [&profile](const auto& i) { return i->view_profile == profile; });
      if (it == g_prestarted.end()) return nullptr;
      init = std::move(*it);  // the oldest of this profile
      g_prestarted.erase(it);
    }
    // Still waiting? (Something may have killed it meanwhile: its pidfd is readable once it exited.) A dead one is
    // reaped on the cleanup thread and the next is tried.
    pollfd p{init->pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return init;
    DeferCleanup([dead = std::shared_ptr<StartedInit>(std::move(init))] {});
  }
}

// One init for `profile` per job, then the job queues itself again while the profile has fewer than kPrestartKept:
// the cleanup thread's rule that waiting teardowns eventually go first applies between jobs, so one job must not
// loop while a fast caller keeps taking what it makes.
void PrestartJob(const std::string& profile) {
  Spec latest;
  {
    std::lock_guard<std::mutex> lock(g_prestart_mu);
    latest = g_prestart_like[profile];
  }
  const bool made = MakePrestartedInit(latest);
  std::lock_guard<std::mutex> lock(g_prestart_mu);
  if (made && g_prestart_enabled && KeptFor(profile) < kPrestartKept) {
    DeferAhead([profile] { PrestartJob(profile); });
  } else {
    g_prestart_queued.erase(profile);
  }
}

void QueueNextInit(const Spec& spec) {
  // Without tree cloning (not root) a view's task binds could not be made after pivot_root: nothing ahead.
  if (g_prestart_enabled && CanCloneTrees()) {
    // What the next task's view depends on: its profile, /tmp size and limits (taken from this one).
    Spec like;
    like.profile = spec.profile;
    like.tmp_size_bytes = spec.tmp_size_bytes;
    like.tmp_inodes = spec.tmp_inodes;
    like.memory_bytes = spec.memory_bytes;
    like.pids = spec.pids;
    {
      // One job per profile at a time: a caller running tasks faster than inits are made must not pile jobs up
      // (they run ahead of the teardowns, which would then wait).
      std::lock_guard<std::mutex> lock(g_prestart_mu);
      g_prestart_like[like.profile] = like;
      if (KeptFor(like.profile) >= kPrestartKept || !g_prestart_queued.insert(like.profile).second) return;
    }
    DeferAhead([profile = like.profile] { PrestartJob(profile); });
  }
}

}  // namespace warden::sandbox::detail

namespace warden::sandbox {
// One switch for everything made ahead of the next task: inits, network namespace, system trees, cgroup pair, pipes.
void SetPrestart(bool on) {
  detail::SetPrestartForBench(on);
  detail::SetSpareViewEnabled(on);
}
}  // namespace warden::sandbox

namespace warden::sandbox::detail {

void SetPrestartForBench(bool on) {
  g_prestart_enabled = on;
  if (!on) {
    std::vector<std::unique_ptr<StartedInit>> drop;
    std::lock_guard<std::mutex> lock(g_prestart_mu);
    drop.swap(g_prestarted);
  }
}

Result<InitGoMessage> PrepareInitGo(const ChildPlan& c) {
  InitGoMessage go;
  go.fds.push_back(-1);  // the plan, below
  auto add = [&go](int fd) -> int32_t {
    if (fd < 0) return -1;
    go.fds.push_back(fd);
    return static_cast<int32_t>(go.fds.size() - 1);
  };
  const MountPlan& m = *c.mounts;
  PlanWriter w;
  InitPlan p{};
  p.fail_at_step = c.fail_at_step;
  p.flags = (c.net_proxy ? kPlanNetProxy : 0) | (c.wait_for_attach ? kPlanWaitForAttach : 0) |
            (m.root_tree.get() >= 0 ? kPlanRootTree : 0) | (c.stage == ChildPlan::Stage::kView ? kPlanStageView : 0) |
            (c.remount_tmp ? kPlanRemountTmp : 0);
  p.stdin_fdi = add(c.stdin_fd);
  p.stdout_fdi = add(c.stdout_fd);
  p.stderr_fdi = add(c.stderr_fd);
  p.cgroup_fdi[0] = add(c.cgroup_fds[0]);
  p.cgroup_fdi[1] = add(c.cgroup_fds[1]);
  p.root_tree_fdi = add(m.root_tree.get());
  p.hostname = w.Str("sandbox");
  p.staging = w.Str(m.staging);
  p.root_options = w.Str(m.root_options);
  p.tmp_options = w.Str(m.tmp_options);
  p.tmp_target = w.Str(m.tmp_target);
  p.proc_target = w.Str(m.proc_target);
  p.exec_path = w.Str(c.exec_path != nullptr ? c.exec_path : "");
  p.workdir = w.Str("/workspace");
  std::vector<uint32_t> dirs;
  for (const auto& d : m.dirs) dirs.push_back(w.Str(d));
  std::vector<InitLink> links;
  for (const auto& k : m.links) links.push_back({w.Str(k.path), w.Str(k.target)});
  std::vector<InitFile> files;
  for (const auto& f : m.files) {
    uint32_t path = w.Str(f.path);
    uint32_t content = w.Str(f.content);
    files.push_back({path, content, static_cast<uint32_t>(f.content.size()), 0});
  }
  std::vector<InitBind> binds;
  for (const auto& b : m.binds) {
    const bool by_path = b.tree.get() < 0;
    if (by_path && CanCloneTrees()) {
      return Status::Internal("sandbox: the bind of " + b.source + " has no cloned tree (a bug: refusing to clone it "
                              "by path without its flags)");
    }
    binds.push_back({add(b.tree.get()), w.Str(b.target), by_path ? w.Str(b.source) : 0, 0, b.attr_set, b.attr_clr});
  }
  if (go.fds.size() > kInitMaxFds) {
    return Status::InvalidArgument("sandbox: too many mounts for one task (" + std::to_string(go.fds.size()) + " fds)");
  }
  std::vector<InitRlimit> rlimits;
  static const std::vector<RlimitPlan> kNoRlimits;
  static const LandlockPlan kNoLandlock;
  for (const auto& r : c.rlimits != nullptr ? *c.rlimits : kNoRlimits) {
    rlimits.push_back({r.resource, 0, static_cast<uint64_t>(r.value.rlim_cur), static_cast<uint64_t>(r.value.rlim_max)});
  }
  const LandlockPlan& ll = c.landlock != nullptr ? *c.landlock : kNoLandlock;
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
  if (w.size() >= kInitPlanMaxBytes) {
    return Status::InvalidArgument("sandbox: arguments, environment and files come to " + std::to_string(w.size()) +
                                   " bytes; the limit is " + std::to_string(kInitPlanMaxBytes));
  }
  std::string bytes = w.Finish(p);
  go.plan = OwnedFd(static_cast<int>(::syscall(SYS_memfd_create, "warden-sandbox-plan", MFD_CLOEXEC)));
  if (go.plan.get() < 0) return Status::IoError("sandbox: memfd_create for the init's plan", errno);
  if (::write(go.plan.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    return Status::IoError("sandbox: writing the init's plan", errno);
  }
  go.fds[0] = go.plan.get();
  return go;
}

Status SendInitGo(int sync_fd, const InitGoMessage& go) {
  InitGo head{static_cast<uint32_t>(kInitPlanMagic), static_cast<uint32_t>(go.fds.size())};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * go.fds.size()), 0);
  iovec iov{&head, sizeof(head)};
  msghdr h{};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = control.data();
  h.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * go.fds.size());
  std::memcpy(CMSG_DATA(c), go.fds.data(), sizeof(int) * go.fds.size());
  while (::sendmsg(sync_fd, &h, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Status::IoError("sandbox: sending the init its plan", errno);
  }
  return Status::Ok();
}

}  // namespace warden::sandbox::detail
