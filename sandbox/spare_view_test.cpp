// The next run's spares made ahead on the cleanup thread (spare_view.cpp, TaskCgroup::MakeSpare; issue 7, spawn
// cost): every run moves its own copies of the system trees (never one of another run), a spare that may be stale
// (host mounts changed, a template folder removed) is not used and the run builds its own view, and a spare
// cgroup pair carries the last limits while each run still gets exactly its own. The inits started ahead (whose
// views are built from these spares) are off here so each case sees the spares alone; spawn_test.cpp covers them.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sandbox/probe_test_util.h"
#include "sandbox/sandbox_internal.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace warden::sandbox::testing;

// Mount ids (mountinfo field 1) of the view's system mounts, as the program sees them.
Spec SystemMountIds() {
  Spec s;
  s.argv = {"sh", "-c", "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ /(usr|etc|etc/alternatives|dev/null|dev/urandom) ' "
                        "/proc/self/mountinfo | cut -d' ' -f1"};
  return s;
}

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

// Inits started ahead would take the spares for their views: off for the cases of this file.
struct NoPrestart {
  NoPrestart() { detail::SetPrestartForBench(false); }
  ~NoPrestart() { detail::SetPrestartForBench(true); }
};

TEST_CASE("each run moves its own copies of the system trees, after the first they are made ahead",
          "[sandbox][spawn]") {
  NoPrestart off;
  for (int i = 0; i < 4; ++i) {
    auto r = MustRun(SystemMountIds());  // a copy moved twice would fail the second run's setup
    INFO(r.stdout_data);
    CHECK(Lines(r.stdout_data).size() == 5);
    // Back to back (odd i) the spare may still be in the making: the run then opens its own, as the first does.
    if (i == 0) CHECK(r.layers["view_made"] == "at_run");
    if (i == 2) CHECK(r.layers["view_made"] == "ahead");
    if (i % 2 == 0) detail::DrainCleanupForTest();
  }
  // Turned off, every view is built inline.
  detail::SetSpareViewEnabled(false);
  detail::DrainCleanupForTest();
  auto cold = MustRun(SystemMountIds());
  detail::DrainCleanupForTest();
  CHECK(cold.layers["view_made"] == "at_run");
  CHECK(MustRun(SystemMountIds()).layers["view_made"] == "at_run");
  detail::SetSpareViewEnabled(true);
}

// The kernel's never-reused id of the mount `fd` (a detached tree) is on; 0 where statx cannot say.
uint64_t UniqueMountId(int fd) {
  constexpr unsigned kMntIdUnique = 0x4000;  // STATX_MNT_ID_UNIQUE (Linux 6.8), newer than Debian 12's headers
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH, kMntIdUnique, &sx) != 0 || !(sx.stx_mask & kMntIdUnique)) return 0;
  return sx.stx_mnt_id;
}

TEST_CASE("a spare view is taken once, for its profile only, and every spare holds new copies", "[sandbox][spawn]") {
  NoPrestart off;
  detail::DrainCleanupForTest();
  std::set<uint64_t> ids;
  size_t total = 0;
  for (int i = 0; i < 2; ++i) {
    detail::MakeSpareView("default");
    CHECK(detail::TakeSpareView("net") == nullptr);  // another profile's view lacks /etc/ssl: dropped
    detail::MakeSpareView("default");
    auto trees = detail::TakeSpareView("default");
    REQUIRE(trees != nullptr);
    CHECK(detail::TakeSpareView("default") == nullptr);  // taken whole, once
    std::vector<int> fds = {trees->usr.tree.get()};
    for (const auto& b : trees->devices) fds.push_back(b.tree.get());
    for (const auto& b : trees->etc_binds) fds.push_back(b.tree.get());
    for (int fd : fds) {
      uint64_t id = UniqueMountId(fd);
      if (id == 0) SUCCEED("statx gives no unique mount id on this kernel");
      if (id == 0) return;
      ids.insert(id);
      ++total;
    }
  }
  CHECK(ids.size() == total);  // no copy is in two spares
}

TEST_CASE("a spare view is not used after the host's mounts changed", "[sandbox][spawn]") {
  NoPrestart off;
  if (::geteuid() != 0) SUCCEED("only root can change the host's mounts here");
  Spec s;
  s.argv = {"sh", "-c", "cat /etc/hostname; ls /usr/bin/sh"};
  MustRun(s);
  detail::DrainCleanupForTest();  // a spare is ready now
  warden::testing::TempDir dir;
  REQUIRE(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k") == 0);
  REQUIRE(::umount2(dir.path().c_str(), 0) == 0);
  auto r = MustRun(s);
  CHECK(r.stdout_data == "sandbox\n/usr/bin/sh\n");
  CHECK(r.layers["view_made"] == "at_run");
  detail::DrainCleanupForTest();
  CHECK(MustRun(s).layers["view_made"] == "ahead");  // the next spare is made after the change
}

TEST_CASE("a spare view is not used once a tmp cleaner removed the /etc and root templates", "[sandbox][spawn]") {
  NoPrestart off;
  // ctest runs each case in its own process, so the templates (made at this process's first run) land here.
  warden::testing::TempDir tmp;
  REQUIRE(::setenv("TMPDIR", tmp.path().c_str(), 1) == 0);
  Spec s;
  s.argv = {"sh", "-c", "cat /etc/hostname; ls -A / | grep -c workspace; touch /x 2>/dev/null || echo ro"};
  CHECK(MustRun(s).stdout_data == "sandbox\n1\nro\n");
  detail::DrainCleanupForTest();  // under load the spare may still be in the making
  CHECK(MustRun(s).layers["view_made"] == "ahead");  // the spare carries copies of both templates
  detail::DrainCleanupForTest();
  std::vector<fs::path> templates;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    if (e.path().filename().string().rfind("warden-", 0) == 0) templates.push_back(e.path());
  }
  CHECK(templates.size() == 2);
  for (const auto& t : templates) fs::remove_all(t);
  // The spare's copies of the removed folders are refused; the run falls back as without a spare.
  auto r = MustRun(s);
  INFO(r.stderr_data);
  CHECK(r.stdout_data == "sandbox\n1\nro\n");
  CHECK(r.layers["view_made"] == "at_run");
  detail::DrainCleanupForTest();
  auto again = MustRun(s);
  CHECK(again.stdout_data == "sandbox\n1\nro\n");
  ::unsetenv("TMPDIR");
}

// The v1 task groups of this process that exist now.
std::vector<std::string> TaskGroups(const std::string& controller) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (line.substr(a + 1, b - a - 1) != controller) continue;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup/" + controller + line.substr(b + 1), ec)) {
      if (e.path().filename().string().rfind("warden-" + std::to_string(::getpid()) + "-", 0) == 0) {
        out.push_back(e.path().string());
      }
    }
  }
  return out;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string v;
  in >> v;
  return v;
}

TEST_CASE("a spare cgroup pair carries the last limits, each task still gets exactly its own", "[sandbox][spawn]") {
  NoPrestart off;
  if (detail::TaskCgroup::Available() != "v1") SUCCEED("no v1 cgroup backend here");
  if (detail::TaskCgroup::Available() != "v1") return;
  detail::DrainCleanupForTest();
  detail::TaskCgroup::MakeSpare(64ull << 20, 16);
  REQUIRE(TaskGroups("memory").size() == 1);
  CHECK(ReadTrimmed(TaskGroups("memory")[0] + "/memory.limit_in_bytes") == std::to_string(64ull << 20));
  CHECK(ReadTrimmed(TaskGroups("pids")[0] + "/pids.max") == "16");
  // Raised (memory+swap, where it exists, moves first), then lowered, then the same as the spare's.
  for (auto [memory, pids] : {std::pair<uint64_t, uint64_t>{256ull << 20, 32}, {32ull << 20, 32}}) {
    Spec spec;
    spec.memory_bytes = memory;
    spec.pids = pids;
    auto cg = detail::TaskCgroup::Create(spec);
    REQUIRE(cg.ok());
    REQUIRE(*cg != nullptr);
    CHECK((*cg)->SelfAttachFds().size() == 2);
    REQUIRE(TaskGroups("memory").size() == 1);
    CHECK(ReadTrimmed(TaskGroups("memory")[0] + "/memory.limit_in_bytes") == std::to_string(memory));
    CHECK(ReadTrimmed(TaskGroups("pids")[0] + "/pids.max") == std::to_string(pids));
    cg->reset();
    detail::TaskCgroup::MakeSpare(memory, pids);
  }
}

TEST_CASE("task groups left by a supervisor that died are removed by the next one", "[sandbox][spawn]") {
  if (detail::TaskCgroup::Available() != "v1") SUCCEED("no v1 cgroup backend here");
  if (detail::TaskCgroup::Available() != "v1") return;
  // A pid that existed and is gone now.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  // Our own groups' parent, from where this process's first run made its group.
  auto own = TaskGroups("memory");
  REQUIRE(own.empty());  // nothing made yet in this process (each case runs in its own)
  std::ifstream in("/proc/self/cgroup");
  std::string parent;
  for (std::string line; std::getline(in, line);) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (line.substr(a + 1, b - a - 1) == "memory") parent = "/sys/fs/cgroup/memory" + line.substr(b + 1);
  }
  REQUIRE(!parent.empty());
  struct stat ns {};
  REQUIRE(::stat("/proc/self/ns/pid", &ns) == 0);
  const std::string stale = parent + "/warden-" + std::to_string(dead) + "-0-" + std::to_string(ns.st_ino);
  REQUIRE(::mkdir(stale.c_str(), 0755) == 0);
  // Another pid namespace's group: its pid means nothing here, so it is left alone.
  const std::string foreign = parent + "/warden-" + std::to_string(dead) + "-0-1";
  REQUIRE(::mkdir(foreign.c_str(), 0755) == 0);
  Spec s;
  s.argv = {"/bin/true"};
  MustRun(s);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(foreign));
  ::rmdir(foreign.c_str());
}

}  // namespace
}  // namespace warden::sandbox
