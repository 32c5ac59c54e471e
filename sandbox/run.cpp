// The supervisor (sandbox.md C.1 steps 1-3, C.5, C.6, C.8): takes an init started ahead (or starts one:
// init_launch.cpp), prepares every layer, sends the init its plan, then runs one poll loop over the output pipes,
// the sync socket (setup errors, the seccomp listener, the program's exit status), the seccomp listener and the
// init's pidfd until the init exits, enforcing the wall timeout, the output caps and the violation budget. It turns
// what it saw into a RunResult.
//
// State of one run: STARTED (an init in its namespaces, id maps written, waiting on the sync socket) -> PREPARED
// (plan built) -> RELEASED (go message sent; with cgroup v2 the attach while the init sets up, then the run byte)
// -> RUNNING (program started) -> EXITED (init reaped) -> DRAINED (pipes at EOF).
// A kill (timeout, output cap, violation budget) can happen in RELEASED or RUNNING; its reason wins over the
// wait status when the result is classified.
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sandbox/net_proxy.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace detail;

constexpr size_t kKeptViolations = 64;
constexpr const char* kSandboxPath = "/usr/local/bin:/usr/bin:/bin";

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void Reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Gives the task's host uid everything in its workspace (root only). Walks with directory fds and getdents64
// (openat O_NOFOLLOW, fchownat AT_SYMLINK_NOFOLLOW): a symlink is chowned itself and never followed, no path is
// resolved twice, and the walk costs a few syscalls per folder (std::filesystem's iterator cost ~25 us per run on
// an empty workspace, on the path to clone). One fd is open per level below the root.
Status ChownTree(const std::string& root, uid_t uid, gid_t gid) {
  struct Level {
    OwnedFd dir;
    std::vector<std::string> subdirs;
    size_t next = 0;
  };
  alignas(8) char buf[4096];
  // Chowns the entries of `fd` and notes its folders.
  auto list = [&](int fd, std::vector<std::string>* subdirs) {
    for (long n; (n = ::syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0;) {
      for (long off = 0; off < n;) {
        struct Dirent64 {
          ino64_t d_ino;
          off64_t d_off;
          unsigned short d_reclen;
          unsigned char d_type;
          char d_name[1];
        };
        const auto* e = reinterpret_cast<const Dirent64*>(buf + off);
        off += e->d_reclen;
        const char* name = e->d_name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
        ::fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
        if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) subdirs->push_back(name);
      }
    }
  };
  OwnedFd top(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (top.get() < 0 || ::fchown(top.get(), uid, gid) != 0) return Status::IoError("chown " + root, errno);
  std::vector<Level> stack;
  stack.push_back({std::move(top), {}, 0});
  list(stack.back().dir.get(), &stack.back().subdirs);
  while (!stack.empty()) {
    Level& at = stack.back();
    if (at.next == at.subdirs.size()) {
      stack.pop_back();
      continue;
    }
    int sub = ::openat(at.dir.get(), at.subdirs[at.next++].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;  // not a folder after all (DT_UNKNOWN), or gone
    stack.push_back({OwnedFd(sub), {}, 0});
    list(sub, &stack.back().subdirs);
  }
  return Status::Ok();
}

Result<std::string> ResolveProgram(const std::string& name, const std::vector<std::string>& ro_paths) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = kSandboxPath;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  (void)ro_paths;
  return Status::NotFound("program '" + name + "' is not on the sandbox PATH (" + std::string(kSandboxPath) +
                          "); give its full path (it must be under /usr or an --ro folder)");
}

bool IsProxyVariable(const std::string& name) {
  std::string n = name;
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n == "http_proxy" || n == "https_proxy" || n == "all_proxy" || n == "no_proxy";
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Receives one ChildMsg, and an fd when one is attached.
bool RecvMsg(int sock, ChildMsg* msg, int* fd) {
  char control[CMSG_SPACE(sizeof(int))];
  iovec iov{msg, sizeof(*msg)};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  // A child that exits with our unread sync byte in its queue leaves ECONNRESET pending on our end, and the kernel
  // reports that error once BEFORE the records still queued (its last one is often the setup error): read on.
  if (n < 0 && errno == ECONNRESET) n = ::recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n != sizeof(*msg)) return false;
  *fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(fd, CMSG_DATA(c), sizeof(int));
  }
  return true;
}

struct HeldNamespaces {
  std::vector<int> fds;
  HeldNamespaces() = default;
  HeldNamespaces(const HeldNamespaces&) = delete;
  HeldNamespaces& operator=(const HeldNamespaces&) = delete;
  ~HeldNamespaces() {
    for (int fd : fds) ::close(fd);
  }
};

struct Stream {
  Fd fd;
  std::string* data = nullptr;
  uint64_t* total = nullptr;
  uint64_t cap = 0;
  bool over = false;
};

}  // namespace

Status CheckNetSpec(const Spec& spec) {
  if (spec.profile != "net") {
    if (!spec.allowed_hosts.empty() || !spec.denied_hosts.empty() || !spec.upstream_proxy.empty()) {
      return Status::InvalidArgument("sandbox: allowed_hosts, denied_hosts and upstream_proxy need profile \"net\" "
                                     "(got \"" + spec.profile + "\"); use --profile net or --allow-net");
    }
    return Status::Ok();
  }
  return NetProxy::Create(spec).status();
}

Result<RunResult> Run(const Spec& spec) {
  if (spec.argv.empty()) return Status::InvalidArgument("sandbox: no program given (Spec.argv is empty)");
  if (spec.profile != "default" && spec.profile != "net") {
    return Status::InvalidArgument("sandbox: unknown profile '" + spec.profile + "'; use default or net");
  }
  WARDEN_RETURN_IF_ERROR(CheckNetSpec(spec));
  if (spec.timeout_s <= 0) return Status::InvalidArgument("sandbox: timeout must be positive");
  if (!spec.artifacts_dir.empty() &&
      (spec.artifacts_dir[0] == '/' || ("/" + spec.artifacts_dir + "/").find("/../") != std::string::npos)) {
    return Status::InvalidArgument("sandbox: artifacts folder '" + spec.artifacts_dir +
                                   "' must be a relative path inside the workspace without '..'");
  }

  // ---- PREPARED: everything that can fail or allocate happens before clone ----
  // An init started ahead of time with this profile's view, if there is one (init_launch.cpp); it fixes the host
  // uid. One whose view is stale (ViewCurrent) is dropped. Fault injection (tests) needs every step done for this
  // run, so it starts its own.
  std::unique_ptr<StartedInit> init;
  if (FailStepForTest() == 0) {
    while ((init = TakePrestartedInit(spec.profile)) != nullptr) {
      if (ViewCurrent(*init->view)) break;
      // Killing it and tearing its namespaces down is not this run's work.
      DeferCleanup([unusable = std::shared_ptr<StartedInit>(std::move(init))] {});
    }
  }
  // Else one is started now, first: its execve and its first steps then run on the other CPU while this thread
  // prepares the plan.
  auto t0 = std::chrono::steady_clock::now();
  if (init == nullptr) {
    auto [uid, gid] = NextHostIdentity();
    WARDEN_ASSIGN_OR_RETURN(init, StartInit(uid, gid));
  }
  // An early return below (a bad spec) leaves the init to the cleanup thread: killing it and tearing its namespaces
  // down is not worth the caller's wait.
  struct InitGuard {
    std::unique_ptr<StartedInit>& init;
    ~InitGuard() {
      if (init != nullptr) DeferCleanup([dropped = std::shared_ptr<StartedInit>(std::move(init))] {});
    }
  } init_guard{init};
  const bool viewed = init->view != nullptr;  // its whole view was built ahead
  const uid_t host_uid = init->host_uid;
  const gid_t host_gid = init->host_gid;
  bool temp_workspace = spec.workspace.empty();
  std::string workspace;
  if (temp_workspace) {
    char tmpl[] = "/tmp/warden-ws-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Status::IoError("cannot create a temporary workspace", errno);
    workspace = tmpl;
  } else {
    std::error_code ec;
    fs::path canon = fs::canonical(spec.workspace, ec);
    if (ec || !fs::is_directory(canon)) {
      return Status::NotFound("workspace " + spec.workspace + " is not an existing folder; create it first");
    }
    workspace = canon.string();
  }
  struct WorkspaceGuard {
    std::string path;
    bool remove;
    ~WorkspaceGuard() {
      std::error_code ec;
      if (remove) fs::remove_all(path, ec);
    }
  } ws_guard{workspace, temp_workspace};
  if (::geteuid() == 0) WARDEN_RETURN_IF_ERROR(ChownTree(workspace, host_uid, host_gid));

  WARDEN_ASSIGN_OR_RETURN(std::string exec_path, ResolveProgram(spec.argv[0], spec.ro_paths));
  WARDEN_ASSIGN_OR_RETURN(const SeccompPrograms* seccomp, GetSeccompPrograms(spec.profile));
  // An init with its view built gets only the task's binds, at their paths after its pivot.
  WARDEN_ASSIGN_OR_RETURN(MountPlan mounts, viewed ? PrepareTaskMounts(spec, workspace) : PrepareMounts(spec, workspace));
  std::vector<RlimitPlan> rlimits = PrepareRlimits(spec);
  LandlockPlan landlock = PrepareLandlock(spec);
  std::unique_ptr<TaskCgroup> cgroup;
  if (viewed) {
    cgroup = std::move(init->cgroup);  // it is in it already
    if (cgroup != nullptr) WARDEN_RETURN_IF_ERROR(cgroup->ApplyLimits(spec));
  } else {
    WARDEN_ASSIGN_OR_RETURN(cgroup, TaskCgroup::Create(spec));
  }
  // Profile "net": the proxy is ready before clone; it starts serving when the child sends its listener.
  std::unique_ptr<NetProxy> proxy;
  if (spec.profile == "net") {
    WARDEN_ASSIGN_OR_RETURN(proxy, NetProxy::Create(spec));
  }

  std::vector<std::string> env_strings = {std::string("PATH=") + kSandboxPath, "HOME=/workspace", "LANG=C.UTF-8",
                                          "TMPDIR=/tmp", "USER=sandbox"};
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos) {
      return Status::InvalidArgument("sandbox: environment name '" + k + "' is empty or contains '='");
    }
    // In profile "net" the proxy variables always name our proxy (net_proxy.h); the caller's are dropped.
    if (proxy && IsProxyVariable(k)) continue;
    env_strings.push_back(k + "=" + v);
  }
  if (proxy) {
    for (auto& e : NetProxy::Environment()) env_strings.push_back(std::move(e));
  }
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  // Made ahead on the cleanup thread when there is a set (spare_view.cpp).
  WARDEN_ASSIGN_OR_RETURN(RunChannels channels, TakeRunChannels());
  Fd in_r(channels.in_r.release()), in_w(channels.in_w.release());
  Fd out_r(channels.out_r.release()), out_w(channels.out_w.release());
  Fd err_r(channels.err_r.release()), err_w(channels.err_w.release());

  ChildPlan plan;
  plan.stdin_fd = in_r.fd;
  plan.stdout_fd = out_w.fd;
  plan.stderr_fd = err_w.fd;
  plan.mounts = &mounts;
  plan.rlimits = &rlimits;
  plan.landlock = &landlock;
  plan.seccomp = seccomp;
  plan.exec_path = exec_path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.net_proxy = proxy != nullptr;
  plan.fail_at_step = FailStepForTest();
  if (viewed) {
    plan.stage = ChildPlan::Stage::kTask;
    plan.remount_tmp = mounts.tmp_options != init->view->tmp_options;
  } else if (cgroup) {
    const auto& fds = cgroup->SelfAttachFds();
    for (size_t i = 0; i < fds.size() && i < 2; ++i) plan.cgroup_fds[i] = fds[i];
    plan.wait_for_attach = fds.empty();
  }

  WARDEN_ASSIGN_OR_RETURN(InitGoMessage go, PrepareInitGo(plan));
  // Every spare of this run is taken: the cleanup thread makes the next run's while this one runs.
  PrepareNextRun(spec);

  // ---- STARTED: an init in its namespaces, id maps written, waiting for its go message ----
  const pid_t pid = init->pid;
  Fd pidfd(init->pidfd.release());
  Fd sync_parent(init->sync.release());
  auto held = std::make_shared<HeldNamespaces>();
  held->fds = init->held_ns;
  const bool prestarted = init->prestarted;
  init->Release();
  init.reset();

  RunResult r;
  r.layers = {{"userns", true},      {"mntns", true},   {"pidns", true},        {"netns", true},
              {"ipcns", true},       {"utsns", true},   {"cgroupns", true},     {"no_new_privs", true},
              {"caps", "none"},      {"landlock_abi", landlock.abi},
              {"cgroup", cgroup ? cgroup->Backend() : "none"}, {"seccomp", "allowlist+notify"},
              {"netns_made", prestarted ? "ahead" : "at_clone"},
              {"init_started", viewed ? "ahead_with_view" : prestarted ? "ahead" : "at_call"},
              {"init", "pid1"},      {"workspace", spec.workspace_none ? "none" : spec.workspace_readonly ? "ro" : "rw"},
              {"net", proxy ? "proxy" : "none"}};
  bool killed = false;
  std::string kill_reason;
  auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(spec.timeout_s));
  auto kill_tree = [&](const std::string& reason) {
    if (!killed) {
      killed = true;
      kill_reason = reason;
      // The init's exit ends the loop; this later deadline only guards against a kernel that never reports it.
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    ::syscall(SYS_pidfd_send_signal, pidfd.fd, SIGKILL, nullptr, 0);
    if (cgroup) cgroup->KillAll();
  };

  // ---- RELEASED: the go message (plan and fds); cgroup attach where the child cannot attach itself ----
  Status release = SendInitGo(sync_parent.fd, go);
  go = InitGoMessage{};  // the init has its copies of the plan and of every fd it names
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();
  if (cgroup) cgroup->CloseSelfAttachFds();
  // Where the child cannot join its cgroup itself (v2), the attach overlaps its setup and a second byte lets the
  // program start.
  if (release.ok() && plan.wait_for_attach) {
    release = cgroup->AddProcess(pid);
    if (release.ok() && ::send(sync_parent.fd, "r", 1, MSG_NOSIGNAL) != 1) release = Status::IoError("sync", errno);
  }
  if (!release.ok()) {
    kill_tree("setup_error");
    ::waitpid(pid, nullptr, 0);
    r.exit_kind = "setup_error";
    r.setup_error = release.message();
    QueueNextInit(spec);
    // The child's own record, when it failed first, names the real cause (our send then only saw EPIPE).
    ChildMsg m{};
    int fd = -1;
    while (RecvMsg(sync_parent.fd, &m, &fd)) {
      if (fd >= 0) ::close(fd);
      if (m.type == kMsgSetupError) {
        r.setup_error = std::string(StepName(m.step)) + ": " + std::strerror(m.err);
        break;
      }
    }
    return r;
  }

  // ---- RUNNING: one poll loop ----
  SetNonBlocking(in_w.fd);
  Stream out{Fd(out_r.fd), &r.stdout_data, &r.stdout_bytes, spec.stdout_cap_bytes};
  Stream err{Fd(err_r.fd), &r.stderr_data, &r.stderr_bytes, spec.stderr_cap_bytes};
  out_r.fd = err_r.fd = -1;
  size_t stdin_off = 0;
  if (spec.stdin_data.empty()) in_w.Reset();
  Fd listener;
  bool have_exit_msg = false, exited = false;
  int program_status = 0, init_status = 0;
  rusage usage{};
  std::string setup_error;
  std::chrono::steady_clock::time_point drain_deadline{};
  char buf[65536];

  while (true) {
    if (exited && out.fd.fd < 0 && err.fd.fd < 0) break;
    pollfd pfds[6];
    int n = 0, i_sync = -1, i_out = -1, i_err = -1, i_in = -1, i_lis = -1, i_pid = -1;
    if (sync_parent.fd >= 0) pfds[i_sync = n++] = {sync_parent.fd, POLLIN, 0};
    if (out.fd.fd >= 0) pfds[i_out = n++] = {out.fd.fd, POLLIN, 0};
    if (err.fd.fd >= 0) pfds[i_err = n++] = {err.fd.fd, POLLIN, 0};
    if (in_w.fd >= 0) pfds[i_in = n++] = {in_w.fd, POLLOUT, 0};
    if (listener.fd >= 0) pfds[i_lis = n++] = {listener.fd, POLLIN, 0};
    if (!exited) pfds[i_pid = n++] = {pidfd.fd, POLLIN, 0};
    auto now = std::chrono::steady_clock::now();
    auto until = exited ? drain_deadline : deadline;
    int timeout_ms = static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1));
    int rc = ::poll(pfds, static_cast<nfds_t>(n), timeout_ms);
    if (rc < 0 && errno != EINTR) break;
    if (rc == 0) {
      if (exited) break;  // leftover writers cannot exist after the namespace died; don't hang on a stuck pipe
      if (killed) break;
      kill_tree("timeout");
      continue;
    }
    if (i_sync >= 0 && pfds[i_sync].revents) {
      ChildMsg m{};
      int fd = -1;
      if (RecvMsg(sync_parent.fd, &m, &fd)) {
        if (m.type == kMsgListener && fd >= 0) listener.fd = fd;
        else if (m.type == kMsgProxyListener && fd >= 0 && proxy) proxy->Start(fd, t0);
        else if (fd >= 0) ::close(fd);
        if (m.type == kMsgSetupError && setup_error.empty()) {
          setup_error = std::string(StepName(m.step)) + ": " + std::strerror(m.err);
        }
        if (m.type == kMsgExitStatus) {
          have_exit_msg = true;
          program_status = m.status;
        }
      } else if (pfds[i_sync].revents & (POLLHUP | POLLERR)) {
        sync_parent.Reset();
      }
    }
    for (auto [idx, s] : {std::pair{i_out, &out}, std::pair{i_err, &err}}) {
      if (idx < 0 || !pfds[idx].revents) continue;
      ssize_t got = ::read(s->fd.fd, buf, sizeof(buf));
      if (got > 0) {
        *s->total += static_cast<uint64_t>(got);
        uint64_t room = s->cap > s->data->size() ? s->cap - s->data->size() : 0;
        s->data->append(buf, static_cast<size_t>(std::min<uint64_t>(room, static_cast<uint64_t>(got))));
        if (*s->total > s->cap && !s->over) {
          // Stop at once: draining a flood to nowhere lets the program burn CPU (sandbox.md C.6).
          s->over = true;
          r.truncated = true;
          kill_tree("output_limit");
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        s->fd.Reset();
      }
    }
    if (i_in >= 0 && pfds[i_in].revents) {
      if (pfds[i_in].revents & (POLLERR | POLLHUP)) {
        in_w.Reset();
      } else {
        ssize_t w = ::write(in_w.fd, spec.stdin_data.data() + stdin_off, spec.stdin_data.size() - stdin_off);
        if (w > 0) stdin_off += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN) || stdin_off >= spec.stdin_data.size()) in_w.Reset();
      }
    }
    if (i_lis >= 0 && pfds[i_lis].revents) {
      if (pfds[i_lis].revents & POLLIN) {
        Violation v;
        if (!HandleNotification(listener.fd, MsSince(t0), &v)) listener.Reset();
        if (!v.kind.empty()) {
          ++r.violations_total;
          if (r.violations.size() < kKeptViolations) r.violations.push_back(std::move(v));
          if (r.violations_total > spec.max_violations) kill_tree("policy_kill");
        }
      } else {
        listener.Reset();  // every filtered process is gone
      }
    }
    if (i_pid >= 0 && pfds[i_pid].revents) {
      if (::wait4(pid, &init_status, WNOHANG, &usage) == pid) {
        exited = true;
        // The namespace is dying; give the pipes a moment to reach EOF.
        drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      }
    }
  }
  r.wall_ms = MsSince(t0);
  // Pick up a last exit record that raced with the pidfd.
  if (sync_parent.fd >= 0) {
    ChildMsg m{};
    int fd = -1;
    while (RecvMsg(sync_parent.fd, &m, &fd)) {
      if (fd >= 0) ::close(fd);
      if (m.type == kMsgExitStatus) {
        have_exit_msg = true;
        program_status = m.status;
      }
      if (m.type == kMsgSetupError && setup_error.empty()) {
        setup_error = std::string(StepName(m.step)) + ": " + std::strerror(m.err);
      }
    }
  }
  // A notification still queued (the program exited right after a denied call) is recorded too.
  while (listener.fd >= 0) {
    pollfd p{listener.fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    Violation v;
    if (!HandleNotification(listener.fd, MsSince(t0), &v) || v.kind.empty()) break;
    ++r.violations_total;
    if (r.violations.size() < kKeptViolations) r.violations.push_back(std::move(v));
  }

  // Profile "net": every request the proxy saw joins the violations as a "net" record, in time order.
  if (proxy) {
    uint64_t net_total = 0;
    std::vector<Violation> net = proxy->Stop(&net_total);
    r.violations_total += net_total;
    for (auto& v : net) {
      if (r.violations.size() < kKeptViolations) r.violations.push_back(std::move(v));
    }
    std::stable_sort(r.violations.begin(), r.violations.end(),
                     [](const Violation& a, const Violation& b) { return a.t_ms < b.t_ms; });
  }

  r.cpu_user_ms = usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3;
  r.cpu_sys_ms = usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
  r.peak_memory_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  if (cgroup) r.peak_memory_bytes = std::max(r.peak_memory_bytes, cgroup->PeakMemoryBytes());

  // ---- limits and their mechanisms ----
  // INVARIANT: no reallocation below; the Limit& handles point into r.limits.
  r.limits.reserve(16);
  auto limit = [&](const std::string& name, uint64_t value, std::vector<std::string> mech) -> Limit& {
    r.limits.push_back({name, value, std::move(mech), false, ""});
    return r.limits.back();
  };
  Limit& wall = limit("wall_time", static_cast<uint64_t>(spec.timeout_s * 1000), {"supervisor:pidfd_kill"});
  Limit& cpu = limit("cpu_time", static_cast<uint64_t>(spec.cpu_time_s * 1000), {"rlimit:RLIMIT_CPU"});
  std::vector<std::string> mem_mech = {"rlimit:RLIMIT_AS"}, pid_mech = {"rlimit:RLIMIT_NPROC"};
  if (cgroup) {
    auto m = cgroup->Mechanisms(spec);
    mem_mech.insert(mem_mech.begin(), m[0].mechanisms[0]);
    pid_mech.insert(pid_mech.begin(), m[1].mechanisms[0]);
  }
  Limit& mem = limit("memory", spec.memory_bytes, mem_mech);
  Limit& pids = limit("pids", spec.pids, pid_mech);
  limit("open_files", spec.open_files, {"rlimit:RLIMIT_NOFILE"});
  Limit& fsize = limit("file_size", spec.file_size_bytes, {"rlimit:RLIMIT_FSIZE"});
  limit("tmp_size", spec.tmp_size_bytes, {"tmpfs:size"});
  Limit& so = limit("stdout", spec.stdout_cap_bytes, {"supervisor:output_cap"});
  Limit& se = limit("stderr", spec.stderr_cap_bytes, {"supervisor:output_cap"});
  Limit& viol = limit("violations", spec.max_violations, {"supervisor:seccomp_notify"});
  auto hit = [&](Limit& l, const std::string& by) {
    l.hit = true;
    l.hit_by = by;
    r.limits_hit.push_back(l.name);
  };

  // ---- classify ----
  int status = have_exit_msg ? program_status : init_status;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  double cpu_ms = r.cpu_user_ms + r.cpu_sys_ms;
  bool oom = cgroup && cgroup->OomKilled();
  if (cgroup && cgroup->PidsLimitHit()) hit(pids, pids.mechanisms[0]);
  if (r.signal == SIGXFSZ) hit(fsize, "rlimit:RLIMIT_FSIZE");
  // Any setup record means the program never ran (the last possible one is execve failing after the init forked;
  // it is sent before the init's exit record, on the same socket).
  if (!setup_error.empty()) {
    r.exit_kind = "setup_error";
    r.setup_error = setup_error;
  } else if (killed && kill_reason == "timeout") {
    r.exit_kind = "timeout";
    hit(wall, "supervisor:pidfd_kill");
  } else if (killed && kill_reason == "output_limit") {
    r.exit_kind = "output_limit";
    hit(out.over ? so : se, "supervisor:output_cap");
    if (out.over && err.over) hit(se, "supervisor:output_cap");
  } else if (killed && kill_reason == "policy_kill") {
    r.exit_kind = "policy_kill";
    hit(viol, "supervisor:seccomp_notify");
  } else if (r.signal == SIGSYS) {
    r.exit_kind = "abi_kill";  // only the bad-arch path kills (sandbox.md C.8)
  } else if (oom && r.signal == SIGKILL) {
    r.exit_kind = "oom";
    hit(mem, mem.mechanisms[0]);
  } else if (r.signal == SIGXCPU || (r.signal == SIGKILL && cpu_ms >= spec.cpu_time_s * 1000)) {
    r.exit_kind = "cpu_limit";
    hit(cpu, "rlimit:RLIMIT_CPU");
  } else if (r.signal != 0) {
    r.exit_kind = "signaled";
  } else {
    r.exit_kind = "exited";
  }
  if (oom && r.exit_kind != "oom") hit(mem, mem.mechanisms[0]);
  // Normally every process of the task is gone by now (the init's exit reaped them); the walk never leaves the
  // workspace either way (artifacts.cpp).
  r.layers["view_made"] = viewed || mounts.system_ahead ? "ahead" : "at_run";
  if (!spec.workspace_none) CollectArtifacts(spec, workspace, &r);
  // The result is known: the cgroup's removal, the namespaces' teardown and a temporary workspace's removal
  // happen on the cleanup thread.
  std::shared_ptr<TaskCgroup> done_cgroup(std::move(cgroup));
  std::string remove_ws;
  if (ws_guard.remove) {
    remove_ws = ws_guard.path;
    ws_guard.remove = false;
  }
  // The next tasks' inits (or, with prestart off, the next network namespace) first: the next run may be waiting.
  QueueNextInit(spec);
  DeferCleanup([done_cgroup, held, remove_ws]() mutable {
    done_cgroup.reset();
    held.reset();
    std::error_code ec;
    if (!remove_ws.empty()) fs::remove_all(remove_ws, ec);
  });
  return r;
}

}  // namespace warden::sandbox
