// The workspace and extra binds (issue 7): a read-only workspace (Spec::workspace_readonly, a skill with
// permissions.workspace = "read") refuses writes with EROFS and says so in the result's layers, and bind sources
// under folders the sandbox's uid could not search (a workspace in a 0700 home) work, because the supervisor
// resolves and clones them before the child drops its rights.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sandbox/probe_test_util.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace warden::sandbox::testing;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE("a read-only workspace refuses writes with EROFS and reads still work", "[sandbox][workspace]") {
  warden::testing::TempDir ws;
  { std::ofstream(ws.path() / "input.txt") << "data"; }
  Spec s = ProbeSpec({"write", "/workspace/input.txt"});
  s.workspace = ws.path().string();
  s.workspace_readonly = true;
  auto w = MustRun(s);
  CHECK(Answer(w) == "EROFS");
  CHECK(w.layers["workspace"] == "ro");
  CHECK(w.ToJson()["layers"]["workspace"] == "ro");
  CHECK(ReadText(ws.path() / "input.txt") == "data");  // not truncated by the O_TRUNC open
  s.argv = {ProbePath(), "write", "/workspace/new.txt"};
  CHECK(Answer(MustRun(s)) == "EROFS");
  CHECK_FALSE(fs::exists(ws.path() / "new.txt"));
  s.argv = {ProbePath(), "read", "/workspace/input.txt"};
  CHECK(Answer(MustRun(s)) == "ok");
  s.argv = {ProbePath(), "write", "/tmp/scratch"};  // scratch space stays writable
  CHECK(Answer(MustRun(s)) == "ok");
  // A shell reports the failure the way a skill would see it.
  Spec sh;
  sh.workspace = ws.path().string();
  sh.workspace_readonly = true;
  sh.argv = {"sh", "-c", "echo x > /workspace/out.txt"};
  auto r = MustRun(sh);
  CHECK(r.exit_code != 0);
  CHECK(r.stderr_data.find("Read-only file system") != std::string::npos);
}

TEST_CASE("the workspace is read-write by default and says so", "[sandbox][workspace]") {
  warden::testing::TempDir ws;
  Spec s = ProbeSpec({"write", "/workspace/out.txt"});
  s.workspace = ws.path().string();
  auto r = MustRun(s);
  CHECK(Answer(r) == "ok");
  CHECK(r.layers["workspace"] == "rw");
  CHECK(ReadText(ws.path() / "out.txt") == "x");
}

TEST_CASE("as root, the task's uid gets every file of the workspace but never a symlink's target",
          "[sandbox][workspace]") {
  if (::geteuid() != 0) SUCCEED("only root gives each task its own uid");
  if (::geteuid() != 0) return;
  warden::testing::TempDir ws, outside;
  fs::create_directories(ws.path() / "a" / "b" / "c");
  std::ofstream(ws.path() / "a" / "b" / "c" / "deep.txt") << "x";
  std::ofstream(ws.path() / "top.txt") << "x";
  std::ofstream(outside.path() / "host.txt") << "x";
  fs::create_symlink(outside.path() / "host.txt", ws.path() / "a" / "link");
  fs::create_directory_symlink(outside.path(), ws.path() / "a" / "dirlink");
  Spec s;
  s.argv = {"sh", "-c", "echo y >> a/b/c/deep.txt && echo y >> top.txt && mkdir a/b/c/new && echo ok"};
  s.workspace = ws.path().string();
  auto r = MustRun(s);
  INFO(r.stderr_data);
  CHECK(r.stdout_data == "ok\n");
  struct stat deep {}, host {}, link {}, dir {};
  REQUIRE(::lstat((ws.path() / "a" / "b" / "c" / "deep.txt").c_str(), &deep) == 0);
  REQUIRE(::lstat((ws.path() / "a" / "link").c_str(), &link) == 0);
  REQUIRE(::stat((outside.path() / "host.txt").c_str(), &host) == 0);
  REQUIRE(::stat(outside.path().c_str(), &dir) == 0);
  CHECK(deep.st_uid != 0);
  CHECK(link.st_uid == deep.st_uid);  // the link itself
  CHECK(host.st_uid == 0);            // never its target
  CHECK(dir.st_uid == 0);             // nor a linked folder
}

TEST_CASE("a workspace and a read-only path under a 0700 folder of another user work", "[sandbox][workspace]") {
  if (::geteuid() != 0) SUCCEED("needs root to make a folder owned by another user");
  warden::testing::TempDir base;
  fs::path home = base.path() / "home";
  fs::create_directories(home / "ws");
  fs::create_directories(home / "data");
  { std::ofstream(home / "data" / "in.txt") << "secret-ish"; }
  REQUIRE(::chown(home.c_str(), 4242, 4242) == 0);
  REQUIRE(::chmod(home.c_str(), 0700) == 0);
  Spec s = ProbeSpec({"write", "/workspace/out.txt"});
  s.workspace = (home / "ws").string();
  s.ro_paths.push_back((home / "data").string());
  auto w = MustRun(s);
  CHECK(Answer(w) == "ok");
  CHECK(ReadText(home / "ws" / "out.txt") == "x");
  s.argv = {ProbePath(), "read", (home / "data" / "in.txt").string()};
  CHECK(Answer(MustRun(s)) == "ok");
  s.argv = {ProbePath(), "write", (home / "data" / "in.txt").string()};
  CHECK(Answer(MustRun(s)) == "EROFS");
  // The folder above stays invisible: only the bound folders exist inside, not their siblings.
  { std::ofstream(home / "private.txt") << "p"; }
  s.argv = {ProbePath(), "exists", (home / "private.txt").string()};
  CHECK(Answer(MustRun(s)) == "ENOENT");
}

TEST_CASE("without a workspace, /workspace is an empty read-only folder and nothing of the caller's shows",
          "[sandbox][run]") {
  warden::testing::TempDir ws;
  std::ofstream(ws.path() / "secret.txt") << "caller's file\n";
  REQUIRE(::chmod(ws.path().c_str(), 0777) == 0);
  Spec s;
  s.argv = {"sh", "-c", "ls -A /workspace | wc -l; touch /workspace/x 2>/dev/null || echo ro; pwd"};
  s.workspace = ws.path().string();
  s.workspace_none = true;
  std::filesystem::create_directories(ws.path() / "outputs");
  std::ofstream(ws.path() / "outputs" / "old.txt") << "not this task's\n";
  auto r = MustRun(s);
  INFO(r.stderr_data);
  CHECK(r.stdout_data == "0\nro\n/workspace\n");
  CHECK(r.layers["workspace"] == "none");
  CHECK(r.artifacts.empty());
  CHECK_FALSE(std::filesystem::exists(ws.path() / "x"));
}

}  // namespace
}  // namespace warden::sandbox
