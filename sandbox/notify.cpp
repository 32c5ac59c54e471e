// The supervisor side of filter 2 (sandbox.md C.2 "Supervisor notify loop"): receive one seccomp user
// notification, turn it into a violation record (syscall name, number, six raw arguments, a path argument when the
// call has one) and answer it with an error. The answer never depends on pointer arguments, which the caller can
// change after we read them (the user-notification TOCTOU caveat): reading a path is for the record only.
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

// Which argument of a reported call is a path (for the record).
int PathArg(const std::string& name) {
  static const std::map<std::string, int> kPathArgs = {
      {"mount", 1},  {"umount2", 0}, {"pivot_root", 0}, {"chroot", 0},   {"mknod", 0}, {"mknodat", 1},
      {"swapon", 0}, {"swapoff", 0}, {"acct", 0},       {"uselib", 0},   {"chown", 0}, {"lchown", 0},
      {"fchownat", 1}, {"name_to_handle_at", 1}, {"open_tree", 1}, {"fspick", 1}, {"move_mount", 3},
  };
  auto it = kPathArgs.find(name);
  return it == kPathArgs.end() ? -1 : it->second;
}

std::string ReadString(pid_t pid, uint64_t addr) {
  if (addr == 0) return "";
  char buf[512];
  iovec local{buf, sizeof(buf) - 1};
  iovec remote{reinterpret_cast<void*>(addr), sizeof(buf) - 1};
  ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n <= 0) return "";
  buf[n] = 0;
  return std::string(buf, ::strnlen(buf, static_cast<size_t>(n)));
}

}  // namespace

bool HandleNotification(int listener, double t_ms, Violation* out) {
  seccomp_notif req;
  std::memset(&req, 0, sizeof(req));
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
    // ENOENT: the caller died between the wake-up and the receive; nothing to answer.
    return errno == ENOENT || errno == EINTR;
  }
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof(resp));
  resp.id = req.id;
  const std::string name = SyscallName(req.data.nr);
  // personality takes an unsigned int: the kernel ignores the upper half, so we do too.
  const uint64_t persona = req.data.args[0] & 0xffffffffu;
  const uint64_t family = req.data.args[0] & 0xffffffffu;  // socket's domain is an int, too
  if ((name == "personality" && (persona == 0xffffffffu || persona == 0)) ||
      (name == "socket" && (family == AF_UNIX || family == AF_INET || family == AF_INET6))) {
    // The query and PER_LINUX change nothing; the three socket families are allowed (only junk in the upper half
    // brought them here). Both are values, not pointers, so continuing has no TOCTOU window.
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    return true;
  }
  Violation v;
  v.kind = "seccomp";
  v.t_ms = t_ms;
  v.pid = static_cast<int>(req.pid);
  v.nr = req.data.nr;
  v.syscall = name;
  for (auto a : req.data.args) v.args.push_back(a);
  int error = EPERM;
  if (v.syscall == "socket") {
    error = EAFNOSUPPORT;
    v.detail = "address family " + std::to_string(req.data.args[0] & 0xffffffffu) + " is not allowed";
  } else {
    v.detail = "denied by the sandbox policy";
  }
  int path_arg = PathArg(v.syscall);
  if (path_arg >= 0) v.path = ReadString(static_cast<pid_t>(req.pid), req.data.args[path_arg]);
  v.action = error == EPERM ? "EPERM" : "EAFNOSUPPORT";
  resp.error = -error;
  ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT = the caller is gone; the record still stands
  *out = std::move(v);
  return true;
}

}  // namespace warden::sandbox::detail
