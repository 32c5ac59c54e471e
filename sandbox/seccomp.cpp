// The two stacked seccomp filters of sandbox.md C.2, built with libseccomp once per profile and kept as raw BPF so
// the child only calls seccomp(2).
//
// Filter 1 (allowlist): default ERRNO(ENOSYS) so libc falls back from calls it does not know (clone3, ...); every
// non-x86_64 ABI (i386 int 0x80, x32 numbers) kills the process. It ALLOWS the reported set: with stacked filters
// the most severe action wins, so an ERRNO here would hide filter 2's NOTIFY (B.3 #3).
// Filter 2 (deny and report): default ALLOW; dangerous calls and argument patterns go to the supervisor through
// SECCOMP_RET_USER_NOTIF, which records them and answers EPERM (EAFNOSUPPORT for socket families). It is a
// separate filter because an unconditional ALLOW in the same filter silently drops conditional rules for that
// syscall (B.3 #2). Every compare on a 32-bit argument is MASKED_EQ with 0xffffffff: libseccomp's SCMP_Ax_32
// macros still compare the upper half, which let (junk<<32)|TIOCSTI through (B.3 #1, CVE-2019-10063).
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

// Ordinary calls a Python, shell or C program needs (sandbox.md C.2 filter 1). Absent on purpose: clone3 (its
// flags sit behind a pointer), legacy AIO, mbind/migrate, mq_*, the chown family and everything of kReported.
const char* const kAllowed[] = {
    "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "mprotect", "munmap",
    "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv", "writev",
    "access", "pipe", "select", "sched_yield", "mremap", "msync", "mincore", "madvise", "shmget", "shmat",
    "shmctl", "dup", "dup2", "pause", "nanosleep", "getitimer", "alarm", "setitimer", "getpid", "sendfile",
    "socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind", "listen",
    "getsockname", "getpeername", "socketpair", "setsockopt", "getsockopt", "clone", "fork", "vfork", "execve",
    "exit", "wait4", "kill", "uname", "semget", "semop", "semctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
    "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate", "getdents", "getcwd", "chdir", "fchdir",
    "rename", "mkdir", "rmdir", "creat", "link", "unlink", "symlink", "readlink", "chmod", "fchmod", "umask",
    "gettimeofday", "getrlimit", "getrusage", "sysinfo", "times", "getuid", "getgid", "geteuid", "getegid",
    "setpgid", "getppid", "getpgrp", "setsid", "getgroups", "getresuid", "getresgid", "getpgid", "getsid",
    "capget", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "utime",
    "statfs", "fstatfs", "getpriority", "setpriority", "sched_setparam", "sched_getparam", "sched_setscheduler",
    "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "mlock",
    "munlock", "mlockall", "munlockall", "prctl", "arch_prctl", "setrlimit", "sync", "gettid", "readahead",
    "setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "tkill", "time", "futex", "sched_setaffinity",
    "sched_getaffinity", "epoll_create", "getdents64", "set_tid_address", "restart_syscall", "semtimedop",
    "fadvise64", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    "clock_gettime", "clock_getres", "clock_nanosleep", "exit_group", "epoll_wait", "epoll_ctl", "tgkill",
    "utimes", "waitid", "inotify_init", "inotify_add_watch", "inotify_rm_watch", "openat", "mkdirat", "futimesat",
    "newfstatat", "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat",
    "pselect6", "ppoll", "set_robust_list", "get_robust_list", "splice", "tee", "sync_file_range", "utimensat",
    "epoll_pwait", "signalfd", "timerfd_create", "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime",
    "accept4", "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv", "pwritev",
    "rt_tgsigqueueinfo", "recvmmsg", "prlimit64", "syncfs", "sendmmsg", "getcpu", "sched_setattr",
    "sched_getattr", "renameat2", "getrandom", "memfd_create", "execveat", "membarrier", "copy_file_range",
    "preadv2", "pwritev2", "pkey_mprotect", "pkey_alloc", "pkey_free", "statx", "rseq", "pidfd_open",
    "pidfd_send_signal", "close_range", "openat2", "faccessat2", "epoll_pwait2", "mlock2", "futex_waitv",
    "mknod", "mknodat", "personality",
};

// Reported unconditionally by filter 2 (and allowed by filter 1 so the report fires).
const char* const kReported[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "mount", "umount2", "pivot_root",
    "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl",
    "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "open_by_handle_at", "name_to_handle_at", "reboot", "swapon", "swapoff", "acct", "syslog", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "modify_ldt", "pidfd_getfd",
    "process_madvise", "seccomp", "sethostname", "setdomainname", "quotactl", "lookup_dcookie", "vmsplice",
    "uselib", "fanotify_init", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
    "setfsgid", "setgroups", "capset", "chown", "fchown", "lchown", "fchownat", "landlock_create_ruleset",
    "landlock_add_rule", "landlock_restrict_self",
};

constexpr uint64_t kLow32 = 0xffffffffull;

Status Check(int rc, const std::string& what) {
  if (rc == 0) return Status::Ok();
  return Status::Internal("libseccomp: " + what + ": " + std::strerror(-rc));
}

class Ctx {
 public:
  explicit Ctx(uint32_t def) : ctx_(seccomp_init(def)) {}
  ~Ctx() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

Status CommonAttrs(scmp_filter_ctx ctx) {
  if (ctx == nullptr) return Status::Internal("libseccomp: seccomp_init failed");
  WARDEN_RETURN_IF_ERROR(Check(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "badarch"));
  // A binary search over syscall numbers instead of libseccomp's default linear chain. Spawn cost: at attach the
  // kernel runs the filter once per syscall number of both ABIs (~900) to fill its constant-action cache, so the
  // chain's length is paid per number; the tree needs ~log2(n) compares each.
  WARDEN_RETURN_IF_ERROR(Check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  // We set no_new_privs ourselves before loading; the exported program does not depend on this attribute.
  return Check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "nnp");
}

Status BuildAllowlist(scmp_filter_ctx ctx) {
  WARDEN_RETURN_IF_ERROR(CommonAttrs(ctx));
  auto allow = [&](const char* name) -> Status {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0) return Status::Ok();  // not on this architecture
    return Check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0), std::string("allow ") + name);
  };
  for (const char* n : kAllowed) WARDEN_RETURN_IF_ERROR(allow(n));
  for (const char* n : kReported) WARDEN_RETURN_IF_ERROR(allow(n));
  return Status::Ok();
}

// `deny` is SCMP_ACT_NOTIFY or SCMP_ACT_ERRNO(EPERM); socket families use `deny_af`.
Status BuildReport(scmp_filter_ctx ctx, uint32_t deny, uint32_t deny_af) {
  WARDEN_RETURN_IF_ERROR(CommonAttrs(ctx));
  for (const char* n : kReported) {
    int nr = seccomp_syscall_resolve_name(n);
    if (nr == __NR_SCMP_ERROR || nr < 0) continue;
    WARDEN_RETURN_IF_ERROR(Check(seccomp_rule_add(ctx, deny, nr, 0), std::string("report ") + n));
  }
  auto masked = [&](uint32_t act, int nr, unsigned arg, uint64_t mask, uint64_t value, const char* what) {
    scmp_arg_cmp cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
    return Check(seccomp_rule_add_array(ctx, act, nr, 1, &cmp), what);
  };
  // ioctl: pushing input into a terminal (cmd is an unsigned int: mask the upper half away).
  WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(ioctl), 1, kLow32, TIOCSTI, "ioctl TIOCSTI"));
  WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(ioctl), 1, kLow32, TIOCLINUX, "ioctl TIOCLINUX"));
  // clone: any namespace bit (one rule per bit: mask = value = the bit). CLONE_NEWTIME shares clone()'s exit
  // signal byte, so it can only be asked for through unshare/clone3, both of which are handled elsewhere.
  for (uint64_t bit : {uint64_t{CLONE_NEWNS}, uint64_t{CLONE_NEWCGROUP}, uint64_t{CLONE_NEWUTS},
                       uint64_t{CLONE_NEWIPC}, uint64_t{CLONE_NEWUSER}, uint64_t{CLONE_NEWPID},
                       uint64_t{CLONE_NEWNET}}) {
    WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(clone), 0, bit, bit, "clone namespace bit"));
  }
  WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(prctl), 0, kLow32, PR_SET_MM, "prctl PR_SET_MM"));
  // personality: every call goes to the supervisor, which lets the query (0xffffffff) and PER_LINUX (0) continue
  // and denies the rest (notify.cpp). The argument is a value, not a pointer, so deciding on it has no TOCTOU
  // window; libseccomp cannot express "neither 0 nor 0xffffffff" as one rule (two compares on one argument).
  WARDEN_RETURN_IF_ERROR(Check(seccomp_rule_add(ctx, deny, SCMP_SYS(personality), 0), "personality"));
  // mknod of character and block devices (FIFOs and regular files stay allowed).
  for (uint64_t type : {uint64_t{S_IFCHR}, uint64_t{S_IFBLK}}) {
    WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(mknod), 1, S_IFMT, type, "mknod device"));
    WARDEN_RETURN_IF_ERROR(masked(deny, SCMP_SYS(mknodat), 2, S_IFMT, type, "mknodat device"));
  }
  // socket: every address family except AF_UNIX (1), AF_INET (2), AF_INET6 (10). One masked rule per family costs
  // ~90 instructions; instead 64-bit compares send 0, 3-9 and everything above 10 to the supervisor, which judges the
  // low half (junk in the upper half lands in "> 10") and lets the three families continue (notify.cpp).
  static_assert(AF_UNIX == 1 && AF_INET == 2 && AF_INET6 == 10, "socket rules assume Linux family numbers");
  for (uint64_t af : {0, 3, 4, 5, 6, 7, 8, 9}) {
    scmp_arg_cmp cmp{0, SCMP_CMP_EQ, af, 0};
    WARDEN_RETURN_IF_ERROR(Check(seccomp_rule_add_array(ctx, deny_af, SCMP_SYS(socket), 1, &cmp), "socket family"));
  }
  {
    scmp_arg_cmp cmp{0, SCMP_CMP_GT, 10, 0};
    WARDEN_RETURN_IF_ERROR(Check(seccomp_rule_add_array(ctx, deny_af, SCMP_SYS(socket), 1, &cmp), "socket family"));
  }
  return Status::Ok();
}

Result<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  int fd = ::memfd_create("warden-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Status::IoError("memfd_create for the seccomp export", errno);
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc != 0) {
    ::close(fd);
    return Check(rc, "export bpf");
  }
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t got = ::pread(fd, prog.data(), prog.size() * sizeof(sock_filter), 0);
  ::close(fd);
  if (got != static_cast<ssize_t>(prog.size() * sizeof(sock_filter))) {
    return Status::IoError("reading back the exported seccomp program", errno);
  }
  return prog;
}

Result<std::string> ExportPfc(scmp_filter_ctx ctx) {
  int fd = ::memfd_create("warden-seccomp-pfc", MFD_CLOEXEC);
  if (fd < 0) return Status::IoError("memfd_create for the seccomp export", errno);
  int rc = seccomp_export_pfc(ctx, fd);
  if (rc != 0) {
    ::close(fd);
    return Check(rc, "export pfc");
  }
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::string text(static_cast<size_t>(size), '\0');
  ssize_t got = ::pread(fd, text.data(), text.size(), 0);
  ::close(fd);
  if (got != size) return Status::IoError("reading back the seccomp pseudo-code", errno);
  return text;
}

Result<SeccompPrograms> Build() {
  SeccompPrograms p;
  {
    Ctx ctx(SCMP_ACT_ERRNO(ENOSYS));
    WARDEN_RETURN_IF_ERROR(BuildAllowlist(ctx.get()));
    WARDEN_ASSIGN_OR_RETURN(p.allowlist, ExportBpf(ctx.get()));
  }
  {
    Ctx ctx(SCMP_ACT_ALLOW);
    WARDEN_RETURN_IF_ERROR(BuildReport(ctx.get(), SCMP_ACT_NOTIFY, SCMP_ACT_NOTIFY));
    WARDEN_ASSIGN_OR_RETURN(p.report, ExportBpf(ctx.get()));
  }
  {
    Ctx ctx(SCMP_ACT_ALLOW);
    WARDEN_RETURN_IF_ERROR(BuildReport(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_ACT_ERRNO(EAFNOSUPPORT)));
    WARDEN_ASSIGN_OR_RETURN(p.report_errno, ExportBpf(ctx.get()));
  }
  return p;
}

}  // namespace

Result<const SeccompPrograms*> GetSeccompPrograms(const std::string& profile) {
  // Both profiles share one program today (the network difference is the netns + Landlock port rule); the cache
  // is keyed by profile so a profile with its own syscall groups only adds a case here.
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<SeccompPrograms>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(profile);
  if (it != cache.end()) return it->second.get();
  WARDEN_ASSIGN_OR_RETURN(auto built, Build());
  auto owned = std::make_unique<SeccompPrograms>(std::move(built));
  const SeccompPrograms* raw = owned.get();
  cache.emplace(profile, std::move(owned));
  return raw;
}

Result<std::string> ExportSeccompPfc(const std::string& /*profile*/) {
  std::string out;
  {
    Ctx ctx(SCMP_ACT_ERRNO(ENOSYS));
    WARDEN_RETURN_IF_ERROR(BuildAllowlist(ctx.get()));
    WARDEN_ASSIGN_OR_RETURN(auto text, ExportPfc(ctx.get()));
    out += "# filter 1: allowlist\n" + text;
  }
  {
    Ctx ctx(SCMP_ACT_ALLOW);
    WARDEN_RETURN_IF_ERROR(BuildReport(ctx.get(), SCMP_ACT_NOTIFY, SCMP_ACT_NOTIFY));
    WARDEN_ASSIGN_OR_RETURN(auto text, ExportPfc(ctx.get()));
    out += "# filter 2: deny and report\n" + text;
  }
  return out;
}


std::string SyscallName(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (name == nullptr) return "syscall_" + std::to_string(nr);
  std::string out(name);
  std::free(name);
  return out;
}

std::vector<std::string> ReportedSyscalls() {
  std::vector<std::string> out(std::begin(kReported), std::end(kReported));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace warden::sandbox::detail
