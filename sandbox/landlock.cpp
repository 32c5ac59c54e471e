// Landlock layer (sandbox.md C.1 step 10): defence in depth under the mount view. Handles every access right the
// running kernel's ABI knows, so anything not granted below is denied: read everywhere in the (already curated)
// view, read+execute on the system folders and the extra read-only paths, full access except device creation on
// /workspace and /tmp, read/write on /dev; ABI >= 4: no TCP bind, TCP connect only to the proxy port; ABI >= 6:
// abstract Unix sockets and signals scoped to the sandbox. The constants past ABI 3 are defined here because
// Debian 12's kernel headers predate them.
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "sandbox/net_proxy.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

constexpr uint64_t kFsExecute = 1ull << 0, kFsWriteFile = 1ull << 1, kFsReadFile = 1ull << 2,
                   kFsReadDir = 1ull << 3, kFsMakeChar = 1ull << 6, kFsMakeBlock = 1ull << 11,
                   kFsRefer = 1ull << 13, kFsTruncate = 1ull << 14, kFsIoctlDev = 1ull << 15;
constexpr uint64_t kNetBindTcp = 1ull << 0, kNetConnectTcp = 1ull << 1;
constexpr uint64_t kScopeAbstractUnix = 1ull << 0, kScopeSignal = 1ull << 1;
constexpr int kRuleNetPort = 2;

struct RulesetAttr {  // landlock_ruleset_attr as of ABI 6
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct NetPortAttr {  // landlock_net_port_attr (ABI 4)
  uint64_t allowed_access;
  uint64_t port;
};
struct __attribute__((packed)) PathBeneathAttr {  // landlock_path_beneath_attr
  uint64_t allowed_access;
  int32_t parent_fd;
};

uint64_t FsRightsFor(int abi) {
  uint64_t all = (1ull << 13) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) all |= kFsRefer;
  if (abi >= 3) all |= kFsTruncate;
  if (abi >= 5) all |= kFsIoctlDev;
  return all;
}

}  // namespace

int LandlockAbi() {
  static const int abi = [] {
    long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : static_cast<int>(v);
  }();
  return abi;
}

LandlockPlan PrepareLandlock(const Spec& spec) {
  LandlockPlan p;
  p.abi = LandlockAbi();
  if (p.abi <= 0) return p;
  const uint64_t all = FsRightsFor(p.abi);
  p.handled_fs = all;
  const uint64_t read = kFsReadFile | kFsReadDir;
  // Read on "/" keeps os.listdir("/") working (sandbox.md B.3 #6); the view itself is the allowlist.
  p.rules.push_back({"/", read});
  p.rules.push_back({"/usr", read | kFsExecute});
  p.rules.push_back({"/etc", read});
  for (const auto& ro : spec.ro_paths) {
    // A rule on a file may carry file rights only (read_dir there is EINVAL, which failed the whole setup).
    std::error_code ec;
    const bool dir = std::filesystem::is_directory(ro, ec);
    p.rules.push_back({ro, (dir ? read : kFsReadFile) | kFsExecute});
  }
  const uint64_t rw = all & ~(kFsMakeChar | kFsMakeBlock | kFsIoctlDev);
  p.rules.push_back({"/workspace", spec.workspace_none       ? read
                                   : spec.workspace_readonly ? (read | kFsExecute)
                                                             : rw});
  p.rules.push_back({"/tmp", rw});
  p.rules.push_back({"/dev", (read | kFsWriteFile | kFsIoctlDev | kFsTruncate) & all});
  if (p.abi >= 4) p.handled_net = kNetBindTcp | kNetConnectTcp;
  // Profile "net": TCP connect only to the proxy's port on loopback (net_proxy.h); bind stays denied.
  if (p.abi >= 4 && spec.profile == "net") p.connect_ports.push_back(kProxyPort);
  if (p.abi >= 6) p.scoped = kScopeAbstractUnix | kScopeSignal;
  return p;
}


}  // namespace warden::sandbox::detail
