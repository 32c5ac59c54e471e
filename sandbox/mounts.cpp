// The filesystem view of sandbox.md C.3: a read-only root holding only mount points and links, a curated /etc, /usr
// (and the merged-/usr links) read-only, the workspace at /workspace (read-write, or read-only on request), the
// caller's extra read-only paths at their own path, a size-limited private /tmp, a /dev with
// null/zero/full/random/urandom only and a pid-only /proc.
//
// Binds: the supervisor canonicalises each source, clones its mount tree detached (open_tree OPEN_TREE_CLONE,
// AT_RECURSIVE, no symlink following) and sets the final flags on the copy (mount_setattr: read-only, nosuid, nodev,
// recursively); the child moves each copy into place with one move_mount. So sources are resolved with the
// supervisor's rights (a workspace under a 0700 home needs no search permission for the sandbox uid), a symlink
// swapped in after the check cannot redirect a bind, submounts of a read-only source are read-only too, and no
// remount pass runs in the child (issue 7, spawn cost).
//
// Spawn cost: the curated /etc is written once per process into a private template folder on the host
// (etc template below) and bound read-only as /etc like /usr, so a spawn copies no file contents (~140 KB of
// ld.so.cache, mime.types, services ... into tmpfs cost ~0.2 ms CPU per spawn); where the template cannot be made
// the files are written into the root tmpfs as before. The root becomes read-only with one bind remount; the only
// mounts are root, /usr, /etc, /workspace, the extra paths, /tmp, /proc and five device nodes.
//
// The copies that do not depend on the spec (SystemTrees: /usr, /bin.., /etc, device nodes, a root template copy)
// are usually made ahead for the next run on the cleanup thread (spare_view.cpp); PrepareMounts takes them when
// SystemTreesCurrent says nothing changed since, else opens them here (OpenSystemTrees) exactly as before.
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "runtime/base/file_util.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

namespace {

namespace fs = std::filesystem;

// A template folder private to this process: $TMPDIR/warden-<what>-XXXXXX made 0700 by mkdtemp, so no other uid can
// enter it, holding view/ (0755: the sandbox uid is another host uid when the supervisor runs as root), which is what
// gets bound. The supervisor reaches view/ only through an fd on the parent held from creation, never by the path
// again: if a tmp cleaner removes the folder and another user recreates the name in a shared /tmp, their folder is
// never bound (the clone then fails and the caller falls back). Removed when the process exits normally.
class TemplateDir {
 public:
  static std::unique_ptr<TemplateDir> Make(const char* what) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/warden-" + what + "-XXXXXX";
    if (::mkdtemp(path.data()) == nullptr) return nullptr;
    auto t = std::make_unique<TemplateDir>(std::move(path));
    if (t->fd_.get() < 0 || ::mkdir(t->view().c_str(), 0755) != 0 || ::chmod(t->view().c_str(), 0755) != 0) {
      return nullptr;
    }
    return t;
  }
  ~TemplateDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  // Use Make(); public only so std::make_unique can reach it.
  explicit TemplateDir(std::string path)
      : path_(std::move(path)), fd_(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) {}
  TemplateDir(const TemplateDir&) = delete;
  TemplateDir& operator=(const TemplateDir&) = delete;

  // Where to write the template's entries (only while it is being made).
  fs::path view() const { return fs::path(path_) / "view"; }
  // A detached clone of view/, resolved from the held fd; -1 with errno when it is gone.
  int CloneView() const {
    return static_cast<int>(::syscall(SYS_open_tree, fd_.get(), "view",
                                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW));
  }
  // Whether `tree` (a CloneView made earlier) is still a copy of view/ as CloneView would reach it now: the same
  // inode, found through the held fd. False once a tmp cleaner removed view/ or the folder holding it.
  bool Holds(int tree) const {
    struct stat now {}, copy {};
    return ::fstatat(fd_.get(), "view", &now, AT_SYMLINK_NOFOLLOW) == 0 && ::fstat(tree, &copy) == 0 &&
           S_ISDIR(now.st_mode) && now.st_dev == copy.st_dev && now.st_ino == copy.st_ino;
  }

 private:
  std::string path_;
  OwnedFd fd_;
};

// Host /etc entries the view copies or links; everything else in the host /etc stays invisible.
struct EtcCache {
  std::vector<FilePlan> files;  // relative to /etc
  std::vector<LinkPlan> links;  // relative to /etc
  // The same entries written once into a private template (TemplateDir), plus the empty mount points alternatives/
  // and ssl/; null when it could not be made.
  std::unique_ptr<TemplateDir> etc_template;
};

// Writes `c`'s entries into a private template folder. The folder is only ever bound read-only. Returns null on
// any failure: the caller then writes the files per spawn.
std::unique_ptr<TemplateDir> MakeEtcTemplate(const EtcCache& c) {
  auto t = TemplateDir::Make("etc");
  if (t == nullptr) return nullptr;
  const fs::path dir = t->view();
  for (const char* sub : {"alternatives", "ssl"}) {
    if (::mkdir((dir / sub).c_str(), 0755) != 0) return nullptr;
  }
  for (const auto& f : c.files) {
    if (!WriteFileAtomic(dir / f.path, f.content).ok() || ::chmod((dir / f.path).c_str(), 0444) != 0) return nullptr;
  }
  for (const auto& l : c.links) {
    if (::symlink(l.target.c_str(), (dir / l.path).c_str()) != 0) return nullptr;
  }
  return t;
}

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
    c.etc_template = MakeEtcTemplate(c);
    return c;
  }();
  return cache;
}

// Root templates: the skeleton of the view (mount points, links, empty files that device nodes and --ro files are
// bound over) written once per process and distinct skeleton into a folder of the supervisor's, and bound
// read-only as the root, so a spawn mounts no tmpfs root and creates no file there (issue 7, spawn cost). A few
// distinct skeletons only (each set of --ro paths has its own); beyond that, or when a folder cannot be made, the
// tmpfs root as before. Removed when the process exits normally.
constexpr size_t kMaxRootTemplates = 16;

struct RootTemplates {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<TemplateDir>> dirs;  // skeleton (below) -> template; null = could not be made
  std::string last;  // the skeleton the last run used: the next spare carries a copy of its template
};

RootTemplates& Templates() {
  static RootTemplates t;
  return t;
}

std::unique_ptr<TemplateDir> MakeRootTemplate(const std::string& staging, const std::vector<std::string>& dirs,
                                              const std::vector<LinkPlan>& links, const std::vector<FilePlan>& files) {
  auto t = TemplateDir::Make("root");
  if (t == nullptr) return nullptr;
  const std::string view = t->view().string();
  auto inside = [&](const std::string& staged) { return view + staged.substr(staging.size()); };
  for (const auto& d : dirs) {
    if (::mkdir(inside(d).c_str(), 0755) != 0) return nullptr;
  }
  for (const auto& l : links) {
    if (::symlink(l.target.c_str(), inside(l.path).c_str()) != 0) return nullptr;
  }
  for (const auto& f : files) {
    int fd = ::open(inside(f.path).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return nullptr;
    ::close(fd);
  }
  return t;
}

// Clones a root template's view/ with the root's flags (read-only, nosuid, nodev, noexec); empty when it is gone.
OwnedFd CloneRootTemplate(const TemplateDir& t) {
  OwnedFd tree(t.CloneView());
  if (tree.get() < 0) return tree;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return OwnedFd();
  }
  return tree;
}

// Moves the plan's skeleton into a root template where it can: everything outside /tmp (entries under /tmp are
// made in the task's private /tmp at run time, as before). Files with content (the /etc fallback) keep the tmpfs.
// `ahead` (from the spare) is used when it is a current copy of this skeleton's template.
void UseRootTemplate(MountPlan* p, SystemTrees* ahead) {
  const std::string under_tmp = p->tmp_target + "/";
  std::vector<std::string> dirs, tmp_dirs;
  std::vector<LinkPlan> links, tmp_links;
  std::vector<FilePlan> files, tmp_files;
  std::string key;
  for (const auto& d : p->dirs) {
    if (d.rfind(under_tmp, 0) == 0) {
      tmp_dirs.push_back(d);
    } else {
      dirs.push_back(d);
      key += "d " + d + '\n';
    }
  }
  for (const auto& l : p->links) {
    if (l.path.rfind(under_tmp, 0) == 0) {
      tmp_links.push_back(l);
    } else {
      links.push_back(l);
      key += "l " + l.path + ' ' + l.target + '\n';
    }
  }
  for (const auto& f : p->files) {
    if (f.path.rfind(under_tmp, 0) == 0) {
      tmp_files.push_back(f);
    } else {
      if (!f.content.empty()) return;
      files.push_back(f);
      key += "f " + f.path + '\n';
    }
  }
  OwnedFd tree;
  {
    RootTemplates& t = Templates();
    std::lock_guard<std::mutex> lock(t.mu);
    auto it = t.dirs.find(key);
    if (it == t.dirs.end()) {
      if (t.dirs.size() >= kMaxRootTemplates) return;
      it = t.dirs.emplace(key, MakeRootTemplate(p->staging, dirs, links, files)).first;
    }
    t.last = key;
    if (it->second != nullptr) {
      if (ahead != nullptr && ahead->root_tree.get() >= 0 && ahead->root_key == key &&
          it->second->Holds(ahead->root_tree.get())) {
        tree = std::move(ahead->root_tree);
      } else {
        tree = CloneRootTemplate(*it->second);
      }
    }
  }
  if (tree.get() < 0) return;  // none, or removed by a tmp cleaner, say: the tmpfs root still works
  p->root_tree = std::move(tree);
  p->dirs = std::move(tmp_dirs);
  p->links = std::move(tmp_links);
  p->files = std::move(tmp_files);
}

// Mount attributes the source mount has that the copy keeps (a noexec source stays noexec).
uint64_t KeptAttrs(int fd) {
  struct statvfs sv {};
  if (::fstatvfs(fd, &sv) != 0) return 0;
  uint64_t a = 0;
  if (sv.f_flag & ST_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (sv.f_flag & ST_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (sv.f_flag & ST_NODEV) a |= MOUNT_ATTR_NODEV;
  return a;
}

// Takes `fd`, a detached clone (open_tree) of the mount tree at `host`, and sets its final attributes; -1 reports
// open_tree's errno. `host` was canonicalised by the caller; a symlink here means it was swapped in since: refuse.
// `device` keeps device nodes usable (no nodev).
Result<BindPlan> OpenTree(int fd, const fs::path& host, const std::string& target, bool writable, bool device = false) {
  if (fd < 0) {
    int e = errno;
    if (e == ENOSYS) {
      return Status::Unavailable("the kernel has no open_tree(2) (Linux 5.2+ with mount_setattr, 5.12+), which the "
                                 "sandbox needs to bind " + host.string());
    }
    return Status::IoError("cannot bind " + host.string() + " into the sandbox view", e);
  }
  OwnedFd tree(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
    return Status::InvalidArgument(host.string() + " changed into a symlink while the sandbox was prepared");
  }
  mount_attr attr{};
  attr.attr_set = KeptAttrs(fd) | MOUNT_ATTR_NOSUID | (device ? 0 : MOUNT_ATTR_NODEV) | (writable ? 0 : MOUNT_ATTR_RDONLY);
  if (device) attr.attr_clr = MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return Status::IoError("cannot set the sandbox's flags on the copy of " + host.string(), errno);
  }
  BindPlan b;
  b.source = host.string();
  b.target = target;
  b.tree = std::move(tree);
  b.is_dir = S_ISDIR(st.st_mode);
  b.writable = writable;
  return b;
}

// Without CAP_SYS_ADMIN over the host's mounts: a bind the init clones by path (BindPlan::attr_set).
Result<BindPlan> PathBind(const fs::path& host, const std::string& target, bool writable, bool device) {
  struct stat st {};
  struct statvfs sv {};
  if (::lstat(host.c_str(), &st) != 0 || ::statvfs(host.c_str(), &sv) != 0) {
    return Status::IoError("cannot bind " + host.string() + " into the sandbox view", errno);
  }
  if (S_ISLNK(st.st_mode)) return Status::InvalidArgument(host.string() + " changed into a symlink");
  BindPlan b;
  b.source = host.string();
  b.target = target;
  b.is_dir = S_ISDIR(st.st_mode);
  b.writable = writable;
  // As OpenTree: the source's own restrictions kept (a locked nodev could not be cleared in the init's user
  // namespace anyway), nosuid always, nodev except for device nodes, read-only unless writable.
  b.attr_set = ((sv.f_flag & ST_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0) | ((sv.f_flag & ST_NODEV) ? MOUNT_ATTR_NODEV : 0) |
               MOUNT_ATTR_NOSUID | (device ? 0 : MOUNT_ATTR_NODEV) | (writable ? 0 : MOUNT_ATTR_RDONLY);
  return b;
}

}  // namespace

bool CanCloneTrees() {
  static const bool can = [] {
    OwnedFd probe(static_cast<int>(
        ::syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW)));
    return probe.get() >= 0 || errno != EPERM;
  }();
  return can;
}

namespace {

Result<BindPlan> OpenSource(const fs::path& host, const std::string& target, bool writable, bool device = false) {
  if (!CanCloneTrees()) return PathBind(host, target, writable, device);
  return OpenTree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, host.c_str(),
                                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW)),
                  host, target, writable, device);
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

Result<SystemTrees> OpenSystemTrees(const std::string& profile) {
  SystemTrees t;
  t.profile = profile;
  // Opened before the first copy: a host mount change from here on is pending on it (SystemTreesCurrent).
  t.mounts_watch = OwnedFd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  const std::string s = MountPlan().staging;
  // Merged-/usr hosts get links; others get the real directories bound read-only.
  std::error_code ec;
  for (const char* d : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    fs::path host = fs::path("/") / d;
    if (fs::is_symlink(host, ec)) {
      auto target = fs::read_symlink(host, ec);
      if (!ec && fs::exists(host, ec)) t.links.push_back({s + "/" + d, target.string()});
    } else if (fs::is_directory(host, ec)) {
      WARDEN_ASSIGN_OR_RETURN(BindPlan b, OpenSource(host, s + "/" + d, false));
      t.lib_binds.push_back(std::move(b));
    }
  }
  WARDEN_ASSIGN_OR_RETURN(t.usr, OpenSource("/usr", s + "/usr", false));
  const EtcCache& etc = HostEtc();
  // The template, when it is still there (a tmp cleaner may have removed it), else the files written per spawn.
  if (etc.etc_template != nullptr) {
    auto b = OpenTree(etc.etc_template->CloneView(), "/etc template", s + "/etc", false);
    if (b.ok()) {
      t.etc_binds.push_back(std::move(*b));
      t.etc_from_template = true;
    }
  }
  // Debian reaches awk, editor, pager ... through /etc/alternatives links into /usr: one read-only bind costs less
  // than recreating hundreds of links per spawn, and the folder holds nothing but links.
  if (fs::is_directory("/etc/alternatives", ec)) {
    WARDEN_ASSIGN_OR_RETURN(BindPlan b, OpenSource("/etc/alternatives", s + "/etc/alternatives", false));
    t.etc_binds.push_back(std::move(b));
  }
  if (profile == "net" && fs::is_directory("/etc/ssl", ec)) {
    WARDEN_ASSIGN_OR_RETURN(BindPlan b, OpenSource("/etc/ssl", s + "/etc/ssl", false));
    t.etc_binds.push_back(std::move(b));
  }
  // Device nodes: bound over empty files; their source mount (devtmpfs) is not nodev, the rest of the view is.
  for (const char* dev : {"null", "zero", "full", "random", "urandom"}) {
    WARDEN_ASSIGN_OR_RETURN(BindPlan b,
                            OpenSource(std::string("/dev/") + dev, s + "/dev/" + dev, true, /*device=*/true));
    t.devices.push_back(std::move(b));
  }
  return t;
}

void AddRootTreeAhead(SystemTrees* trees) {
  RootTemplates& t = Templates();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.dirs.find(t.last);
  if (it == t.dirs.end() || it->second == nullptr) return;
  trees->root_tree = CloneRootTemplate(*it->second);
  if (trees->root_tree.get() >= 0) trees->root_key = t.last;
}

namespace {

// No mount or unmount on the host since `fd` (/proc/self/mountinfo) was opened.
bool MountsQuiet(int fd) {
  pollfd watch{fd, POLLPRI, 0};
  return fd >= 0 && ::poll(&watch, 1, 0) >= 0 && (watch.revents & (POLLPRI | POLLERR | POLLNVAL)) == 0;
}

// A folder or node removed since (replaced by a new one at its path) would be a copy of the old one.
bool Linked(const BindPlan& b) {
  struct stat st {};
  return ::fstat(b.tree.get(), &st) == 0 && st.st_nlink > 0;
}

// The /etc template as PrepareMounts would find it now (the root template is checked where it is used).
bool EtcCurrent(bool from_template, const BindPlan* etc_bind) {
  const EtcCache& etc = HostEtc();
  if (from_template) {
    return etc_bind != nullptr && etc.etc_template != nullptr && etc.etc_template->Holds(etc_bind->tree.get());
  }
  if (etc.etc_template == nullptr) return true;
  // Made without the template (it was gone, or the clone failed): current only while the inline path would fail too.
  OwnedFd now(etc.etc_template->CloneView());
  return now.get() < 0;
}

}  // namespace

bool SystemTreesCurrent(const SystemTrees& t) {
  // Any mount or unmount on the host since the copies were made (in /usr, /dev, ...): they may no longer be what
  // a copy made now would hold, so the run makes its own.
  if (!MountsQuiet(t.mounts_watch.get()) || !Linked(t.usr)) return false;
  for (const auto* list : {&t.lib_binds, &t.etc_binds, &t.devices}) {
    for (const auto& b : *list) {
      if (!Linked(b)) return false;
    }
  }
  return EtcCurrent(t.etc_from_template, t.etc_from_template ? &t.etc_binds[0] : nullptr);
}

bool ViewCurrent(const MountPlan& view) {
  if (!MountsQuiet(view.mounts_watch.get())) return false;
  const BindPlan* etc = nullptr;
  for (const auto& b : view.binds) {
    if (!Linked(b)) return false;
    if (b.target == view.staging + "/etc") etc = &b;
  }
  return EtcCurrent(view.etc_from_template, etc);
}

namespace {

// Mount points to create, each once, parents first, under the plan's prefix.
class DirSet {
 public:
  DirSet(MountPlan* p, std::string prefix) : p_(p), prefix_(std::move(prefix)) {}
  void Add(const std::string& inside) {
    std::string acc;
    for (const auto& part : fs::path(inside).relative_path()) {
      acc.push_back('/');
      acc.append(part.string());
      if (made_.insert(acc).second) p_->dirs.push_back(prefix_ + acc);
    }
  }

 private:
  MountPlan* p_;
  std::string prefix_;
  std::set<std::string> made_;
};

MountPlan EmptyPlan(const Spec& spec) {
  MountPlan p;
  const std::string& s = p.staging;
  p.root_options = "size=8m,nr_inodes=4096,mode=0755";
  p.tmp_options = "size=" + std::to_string(spec.tmp_size_bytes) + ",nr_inodes=" + std::to_string(spec.tmp_inodes) +
                  ",mode=1777";
  p.tmp_target = s + "/tmp";
  p.proc_target = s + "/proc";
  p.dev_target = s + "/dev";
  return p;
}

// The part of the view every task of a profile shares: the skeleton's folders, the merged-/usr links, /usr, /bin..,
// /etc, the device nodes and their links, all at staged paths. Takes everything out of `sys`.
void AddSystemView(MountPlan* p, SystemTrees* sys, DirSet* dirs) {
  const std::string& s = p->staging;
  for (const char* d : {"/usr", "/etc", "/dev", "/proc", "/tmp", "/workspace"}) dirs->Add(d);
  for (auto& l : sys->links) p->links.push_back(std::move(l));
  for (auto& b : sys->lib_binds) {
    dirs->Add(b.target.substr(s.size()));
    p->binds.push_back(std::move(b));
  }
  p->binds.push_back(std::move(sys->usr));
  // Without the /etc template (it could not be made, or a tmp cleaner removed it) the files are written per spawn
  // and the mount points below /etc made here.
  if (!sys->etc_from_template) {
    dirs->Add("/etc/alternatives");
    for (const auto& f : HostEtc().files) p->files.push_back({s + "/etc/" + f.path, f.content});
    for (const auto& l : HostEtc().links) p->links.push_back({s + "/etc/" + l.path, l.target});
  }
  for (auto& b : sys->etc_binds) {
    if (!sys->etc_from_template) dirs->Add(b.target.substr(s.size()));
    p->binds.push_back(std::move(b));
  }
  // Device nodes: bound over empty files of the skeleton.
  for (auto& b : sys->devices) {
    p->files.push_back({b.target, ""});
    p->binds.push_back(std::move(b));
  }
  for (const auto& [name, target] : std::vector<std::pair<std::string, std::string>>{
           {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
           {"stderr", "/proc/self/fd/2"}}) {
    p->links.push_back({s + "/dev/" + name, target});
  }
}

// The task's own binds: the workspace and the --ro paths with their mount points, at `prefix` + their path inside
// (the staging folder, or "" in the task plan of an init whose view is already built and pivoted).
Status AddTaskBinds(MountPlan* p, const Spec& spec, const std::string& workspace, const std::string& prefix,
                    DirSet* dirs) {
  std::error_code ec;
  if (!spec.workspace_none) {
    auto b = OpenSource(workspace, prefix + "/workspace", !spec.workspace_readonly);
    if (!b.ok()) return b.status();
    p->binds.push_back(std::move(*b));
  }
  for (const auto& raw : spec.ro_paths) {
    fs::path given(raw);
    if (!given.is_absolute()) return Status::InvalidArgument("--ro " + raw + ": give an absolute path");
    for (const auto& part : given) {
      if (part == "..") return Status::InvalidArgument("--ro " + raw + ": '..' is not allowed in a path");
    }
    fs::path canon = fs::canonical(given, ec);
    if (ec) return Status::NotFound("--ro " + raw + ": " + ec.message());
    std::string c = canon.string();
    for (const char* denied : {"/proc", "/sys", "/dev", "/run", "/boot"}) {
      if (IsUnder(c, denied) || c == "/") {
        return Status::InvalidArgument("--ro " + raw + " resolves to " + c +
                                       ", which the sandbox never exposes; bind a narrower folder");
      }
    }
    if (IsUnder(c, "/usr")) continue;  // already visible read-only
    if (fs::is_directory(canon, ec)) {
      dirs->Add(c);
    } else {
      dirs->Add(canon.parent_path().string());
      p->files.push_back({prefix + c, ""});
    }
    auto b = OpenSource(canon, prefix + c, false);
    if (!b.ok()) return b.status();
    p->binds.push_back(std::move(*b));
  }
  if (p->binds.size() + 5 > kMaxBinds) {
    return Status::InvalidArgument("too many --ro paths (at most " + std::to_string(kMaxBinds - 16) + ")");
  }
  return Status::Ok();
}

// The profile's system trees: the spare made ahead when it is current (*ahead set), else opened here.
Result<std::unique_ptr<SystemTrees>> TakeSystemTrees(const std::string& profile, bool* ahead) {
  std::unique_ptr<SystemTrees> trees = TakeSpareView(profile);
  *ahead = trees != nullptr;
  if (trees == nullptr) {
    WARDEN_ASSIGN_OR_RETURN(SystemTrees opened, OpenSystemTrees(profile));
    trees = std::make_unique<SystemTrees>(std::move(opened));
  }
  return trees;
}

// A copy of a root template the plan did not use (another skeleton's, or none wanted): dropping a detached tree
// waits for a grace period, so not here.
void DropUnusedRootTree(SystemTrees* trees) {
  if (trees->root_tree.get() >= 0) {
    DeferCleanup([unused = std::make_shared<OwnedFd>(std::move(trees->root_tree))] {});
  }
}

}  // namespace

Result<MountPlan> PrepareMounts(const Spec& spec, const std::string& workspace) {
  MountPlan p = EmptyPlan(spec);
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<SystemTrees> sys, TakeSystemTrees(spec.profile, &p.system_ahead));
  DirSet dirs(&p, p.staging);
  AddSystemView(&p, sys.get(), &dirs);
  WARDEN_RETURN_IF_ERROR(AddTaskBinds(&p, spec, workspace, p.staging, &dirs));
  UseRootTemplate(&p, p.system_ahead ? sys.get() : nullptr);
  DropUnusedRootTree(sys.get());
  return p;
}

Result<MountPlan> PrepareViewMounts(const Spec& spec) {
  // A tmpfs root (no template): the task plan still adds the mount points of its --ro paths.
  MountPlan p = EmptyPlan(spec);
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<SystemTrees> sys, TakeSystemTrees(spec.profile, &p.system_ahead));
  p.mounts_watch = std::move(sys->mounts_watch);
  p.etc_from_template = sys->etc_from_template;
  DirSet dirs(&p, p.staging);
  AddSystemView(&p, sys.get(), &dirs);
  DropUnusedRootTree(sys.get());
  return p;
}

Result<MountPlan> PrepareTaskMounts(const Spec& spec, const std::string& workspace) {
  MountPlan p = EmptyPlan(spec);
  DirSet dirs(&p, "");
  WARDEN_RETURN_IF_ERROR(AddTaskBinds(&p, spec, workspace, "", &dirs));
  return p;
}

}  // namespace warden::sandbox::detail
