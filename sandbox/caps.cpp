// Identity and capabilities inside the sandbox (sandbox.md C.1 steps 4 and 9, C.7). The child starts with every
// capability of its new user namespace; it switches to uid/gid 1000 early (so what it creates in the new root
// belongs to the sandbox user) but keeps those capabilities until the mounts are done, then drops all of them.
// Runs between clone and exec: raw system calls only.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {

int BecomeSandboxUserInChild() {
  // Our uid at clone time is not mapped into the new namespace, so the kernel's "leaving uid 0 clears the
  // capabilities" rule does not apply; KEEPCAPS makes that explicit rather than incidental.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno;
  // Raw syscalls, not glibc's setresgid/setresuid: in a multi-threaded supervisor (the network proxy, an agent
  // loop) glibc's wrappers signal every thread it believes exists and wait for them, including one being created
  // at the moment of clone; none of them exists in the child, so it hung forever (caps_test.cpp).
  if (::syscall(SYS_setresgid, kSandboxGid, kSandboxGid, kSandboxGid) != 0) return errno;
  if (::syscall(SYS_setresuid, kSandboxUid, kSandboxUid, kSandboxUid) != 0) return errno;
  return 0;
}

int DropCapsInChild() {
  // The bounding set first (dropping needs CAP_SETPCAP, which goes away with the capset below).
  for (int cap = 0; cap < 64; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past the last capability this kernel knows
      return errno;
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return errno;
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace warden::sandbox::detail
