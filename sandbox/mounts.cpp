// The filesystem view of sandbox.md C.3: a fresh tmpfs root holding only mount points and a curated /etc, /usr
// (and the merged-/usr links) read-only, the workspace read-write at /workspace, the caller's extra read-only
// paths at their own path, a size-limited private /tmp, a /dev with null/zero/full/random/urandom only and a
// pid-only /proc. The supervisor validates every bind source (canonical, not a symlink) before clone; the child
// reopens it with openat2(RESOLVE_NO_SYMLINKS) and binds through /proc/self/fd/N, so a symlink swapped in after
// validation cannot redirect a bind.
//
// Spawn cost: /etc is written into the root tmpfs (no mount per file) and the root becomes read-only with one
// bind remount; the only mounts are root, /usr, /workspace, the extra paths, /tmp, /proc and five device nodes.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "runtime/base/file_util.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

namespace fs = std::filesystem;

// Host /etc entries the view copies or links; everything else in the host /etc stays invisible.
struct EtcCache {
  std::vector<FilePlan> files;  // relative to /etc
  std::vector<LinkPlan> links;  // relative to /etc
};

const EtcCache& HostEtc() {
  static const EtcCache cache = [] {
    EtcCache c;
    c.files.push_back({"passwd",
                       "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                       "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
                       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"});
    c.files.push_back({"group", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n"});
    c.files.push_back({"hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n"});
    c.files.push_back({"nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"});
    c.files.push_back({"hostname", "sandbox\n"});
    for (const char* name : {"ld.so.cache", "ld.so.conf", "mime.types", "protocols", "services"}) {
      auto text = ReadFile(std::string("/etc/") + name);
      if (text.ok() && text->size() <= (1u << 20)) c.files.push_back({name, *text});
    }
    std::error_code ec;
    for (const char* name : {"localtime", "os-release"}) {
      fs::path p = fs::path("/etc") / name;
      if (fs::is_symlink(p, ec)) c.links.push_back({name, fs::read_symlink(p, ec).string()});
    }
    return c;
  }();
  return cache;
}

unsigned long MountFlagsOf(int fd) {
  struct statvfs sv {};
  if (::fstatvfs(fd, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

// Opens a bind source. O_PATH does not follow a final symlink only with O_NOFOLLOW; the path was canonicalised
// first, so a symlink here means it was swapped in since: refuse.
Result<BindPlan> OpenSource(const fs::path& host, const std::string& target, bool writable) {
  int fd = ::open(host.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::IoError("cannot open " + host.string() + " for the sandbox view", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(host.string() + " changed into a symlink while the sandbox was prepared");
  }
  BindPlan b;
  b.source = host.string();
  b.target = target;
  b.is_dir = S_ISDIR(st.st_mode);
  b.writable = writable;
  b.keep_flags = MountFlagsOf(fd);
  ::close(fd);
  return b;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

Result<MountPlan> PrepareMounts(const Spec& spec, const std::string& workspace) {
  MountPlan p;
  const std::string& s = p.staging;
  p.root_options = "size=8m,nr_inodes=4096,mode=0755";
  p.tmp_options = "size=" + std::to_string(spec.tmp_size_bytes) + ",nr_inodes=" + std::to_string(spec.tmp_inodes) +
                  ",mode=1777";
  p.tmp_target = s + "/tmp";
  p.proc_target = s + "/proc";
  p.dev_target = s + "/dev";
  std::set<std::string> made;
  auto mkdir_p = [&](const std::string& inside) {
    std::string acc;
    for (const auto& part : fs::path(inside).relative_path()) {
      acc.push_back('/');
      acc.append(part.string());
      if (made.insert(acc).second) p.dirs.push_back(s + acc);
    }
  };
  for (const char* d : {"/usr", "/etc", "/etc/alternatives", "/dev", "/proc", "/tmp", "/workspace"}) mkdir_p(d);

  auto fail = [](Status st) -> Result<MountPlan> { return st; };
  // Merged-/usr hosts get links; others get the real directories bound read-only.
  std::error_code ec;
  for (const char* d : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    fs::path host = fs::path("/") / d;
    if (fs::is_symlink(host, ec)) {
      auto target = fs::read_symlink(host, ec);
      if (!ec && fs::exists(host, ec)) p.links.push_back({s + "/" + d, target.string()});
    } else if (fs::is_directory(host, ec)) {
      mkdir_p(std::string("/") + d);
      auto b = OpenSource(host, s + "/" + d, false);
      if (!b.ok()) return fail(b.status());
      p.binds.push_back(std::move(*b));
    }
  }
  {
    auto b = OpenSource("/usr", s + "/usr", false);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  const EtcCache& etc = HostEtc();
  for (const auto& f : etc.files) p.files.push_back({s + "/etc/" + f.path, f.content});
  for (const auto& l : etc.links) p.links.push_back({s + "/etc/" + l.path, l.target});
  // Debian reaches awk, editor, pager ... through /etc/alternatives links into /usr: one read-only bind costs less
  // than recreating hundreds of links per spawn, and the folder holds nothing but links.
  if (fs::is_directory("/etc/alternatives", ec)) {
    auto b = OpenSource("/etc/alternatives", s + "/etc/alternatives", false);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  if (spec.profile == "net" && fs::is_directory("/etc/ssl", ec)) {
    mkdir_p("/etc/ssl");
    auto b = OpenSource("/etc/ssl", s + "/etc/ssl", false);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  {
    auto b = OpenSource(workspace, s + "/workspace", true);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  for (const auto& raw : spec.ro_paths) {
    fs::path given(raw);
    if (!given.is_absolute()) return fail(Status::InvalidArgument("--ro " + raw + ": give an absolute path"));
    for (const auto& part : given) {
      if (part == "..") return fail(Status::InvalidArgument("--ro " + raw + ": '..' is not allowed in a path"));
    }
    fs::path canon = fs::canonical(given, ec);
    if (ec) return fail(Status::NotFound("--ro " + raw + ": " + ec.message()));
    std::string c = canon.string();
    for (const char* denied : {"/proc", "/sys", "/dev", "/run", "/boot"}) {
      if (IsUnder(c, denied) || c == "/") {
        return fail(Status::InvalidArgument("--ro " + raw + " resolves to " + c +
                                            ", which the sandbox never exposes; bind a narrower folder"));
      }
    }
    if (IsUnder(c, "/usr")) continue;  // already visible read-only
    if (fs::is_directory(canon, ec)) {
      mkdir_p(c);
    } else {
      mkdir_p(canon.parent_path().string());
      p.files.push_back({s + c, ""});
    }
    auto b = OpenSource(canon, s + c, false);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  if (p.binds.size() + 5 > kMaxBinds) {
    return Status::InvalidArgument("too many --ro paths (at most " + std::to_string(kMaxBinds - 16) + ")");
  }
  // Device nodes: bound over empty files; their source mount (devtmpfs) is not nodev, the rest of the view is.
  for (const char* dev : {"null", "zero", "full", "random", "urandom"}) {
    std::string target = s + "/dev/" + dev;
    p.files.push_back({target, ""});
    auto b = OpenSource(std::string("/dev/") + dev, target, true);
    if (!b.ok()) return fail(b.status());
    p.binds.push_back(std::move(*b));
  }
  for (const auto& [name, target] : std::vector<std::pair<std::string, std::string>>{
           {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
           {"stderr", "/proc/self/fd/2"}}) {
    p.links.push_back({s + "/dev/" + name, target});
  }
  return p;
}

// "/proc/self/fd/N" into `buf` without allocating (async-signal-safe).
static void ProcFdPath(int fd, char* buf) {
  const char prefix[] = "/proc/self/fd/";
  std::memcpy(buf, prefix, sizeof(prefix) - 1);
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  char* out = buf + sizeof(prefix) - 1;
  while (n > 0) *out++ = digits[--n];
  *out = 0;
}

int ApplyMountsInChild(const MountPlan& p, int32_t* step) {
  *step = kStepMountPrivate;
  // Nothing we mount may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  // Open every bind source before the staging tmpfs covers any of them (a workspace under /tmp, say).
  *step = kStepBind;
  int fds[kMaxBinds];
  const size_t nb = p.binds.size();
  for (size_t i = 0; i < nb; ++i) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    fds[i] = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, p.binds[i].source.c_str(), &how, sizeof(how)));
    if (fds[i] < 0) return errno;
  }
  *step = kStepRootTmpfs;
  if (::mount("tmpfs", p.staging.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, p.root_options.c_str()) != 0) return errno;
  // /tmp first, so extra paths that live under the host's /tmp get their mount points inside the new tmpfs.
  *step = kStepTmp;
  if (::mkdir(p.tmp_target.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  if (::mount("tmpfs", p.tmp_target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, p.tmp_options.c_str()) != 0) return errno;
  *step = kStepSkeleton;
  for (const auto& d : p.dirs) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  }
  for (const auto& l : p.links) {
    if (::symlink(l.target.c_str(), l.path.c_str()) != 0 && errno != EEXIST) return errno;
  }
  for (const auto& f : p.files) {
    int fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    size_t off = 0;
    while (off < f.content.size()) {
      ssize_t w = ::write(fd, f.content.data() + off, f.content.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return e;
      }
      off += static_cast<size_t>(w);
    }
    ::close(fd);
  }
  *step = kStepBind;
  for (size_t i = 0; i < nb; ++i) {
    const BindPlan& b = p.binds[i];
    const int fd = fds[i];
    char source[40];
    ProcFdPath(fd, source);
    int rc = ::mount(source, b.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
    int e = errno;
    ::close(fd);
    if (rc != 0) return e;
    // Devices keep their source flags (a nodev remount would make them useless); everything else is
    // nosuid+nodev, read-only unless writable, and keeps the flags the user namespace locked on the source.
    if (!b.is_dir && b.writable && b.target.compare(0, p.dev_target.size(), p.dev_target) == 0) continue;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | b.keep_flags;
    if (!b.writable) flags |= MS_RDONLY;
    if (::mount(nullptr, b.target.c_str(), nullptr, flags, nullptr) != 0) return errno;
  }
  *step = kStepProc;
  // A procfs of our pid namespace showing only processes (no /proc/sys, sysrq-trigger, kcore ...).
  if (::mount("proc", p.proc_target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "subset=pid,hidepid=invisible") != 0) {
    return errno;
  }
  *step = kStepPivot;
  if (::chdir(p.staging.c_str()) != 0) return errno;
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the new view.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  if (::umount2(".", MNT_DETACH) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  *step = kStepRemountRoot;
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace warden::sandbox::detail
