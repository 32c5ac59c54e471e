// The executor runs ordinary programs unharmed (python3, sh, a compiled C tool), wires stdin/stdout/stderr and the
// workspace, and reports the layers and the result document of sandbox.md C.8.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sandbox/probe_test_util.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

using namespace warden::sandbox::testing;

TEST_CASE("python3 runs unharmed, reads JSON on stdin and writes the workspace", "[sandbox][run]") {
  warden::testing::TempDir ws;
  Spec s;
  s.workspace = ws.path().string();
  s.argv = {"python3", "-c",
            "import json,sys,os,subprocess; a=json.load(sys.stdin); open('out.txt','w').write(a['x']*2);"
            "print(os.getcwd(), sorted(os.listdir('/'))[:3], subprocess.run(['echo','sub'],capture_output=True)"
            ".stdout.decode().strip())"};
  s.stdin_data = R"({"x": "ab"})";
  auto r = MustRun(s);
  INFO(r.stderr_data);
  CHECK(r.exit_kind == "exited");
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == "/workspace ['bin', 'dev', 'etc'] sub\n");
  CHECK(r.violations.empty());
  std::ifstream in(ws.path() / "out.txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "abab");
}

TEST_CASE("sh and coreutils run unharmed, exit code and stderr come back", "[sandbox][run]") {
  Spec s;
  s.argv = {"sh", "-c", "ls /usr/bin/env >/dev/null && echo out && echo err >&2 && cat /etc/passwd | wc -l && "
                        "mkdir -p /tmp/a/b && touch /tmp/a/b/c && ls /tmp/a/b && id -u && exit 3"};
  auto r = MustRun(s);
  CHECK(r.exit_kind == "exited");
  CHECK(r.exit_code == 3);
  CHECK(r.stdout_data == "out\n3\nc\n1000\n");
  CHECK(r.stderr_data == "err\n");
  CHECK(r.violations.empty());
}

TEST_CASE("/etc holds only the curated entries, read-only, with the host's loader cache", "[sandbox][run]") {
  Spec s;
  // /etc is bound from a template written once per process (mounts.cpp); a second run sees the same view.
  s.argv = {"sh", "-c", "ls -A /etc | tr '\\n' ' '; cat /etc/hostname; grep -c sandbox /etc/passwd; "
                        "cmp -s /etc/ld.so.cache /workspace/host.cache && echo same; touch /etc/x 2>/dev/null || "
                        "echo ro"};
  warden::testing::TempDir ws;
  s.workspace = ws.path().string();
  std::filesystem::copy_file("/etc/ld.so.cache", ws.path() / "host.cache");
  for (int i = 0; i < 2; ++i) {
    auto r = MustRun(s);
    INFO(r.stderr_data);
    CHECK(r.exit_code == 0);
    const std::string& out = r.stdout_data;
    for (const char* name : {"passwd ", "group ", "hosts ", "nsswitch.conf ", "hostname ", "ld.so.cache "}) {
      CHECK(out.find(name) != std::string::npos);
    }
    CHECK(out.find("shadow") == std::string::npos);
    CHECK(out.find("sudoers") == std::string::npos);
    INFO(out);
    CHECK(out.find("sandbox\n1\nsame\nro\n") != std::string::npos);
  }
}

TEST_CASE("the root holds only mount points and links, whichever read-only paths a run adds", "[sandbox][run]") {
  // Each distinct set of --ro paths has its own root skeleton (mounts.cpp, root templates); runs with different
  // sets, interleaved, must each see exactly their own.
  Spec probe_dir = ProbeSpec({"exit", "7"});  // the probes' folder outside /tmp: its mount point is in the skeleton
  Spec file_only = ProbeSpec({"exit", "8"});
  file_only.ro_paths = {ProbePath()};  // a single file, bound over an empty file of the skeleton
  warden::testing::TempDir extra;     // under the host's /tmp: its mount point lives in the task's /tmp
  Spec with_tmp = ProbeSpec({"exists", extra.path().string()});
  with_tmp.ro_paths.push_back(extra.path().string());
  Spec listing;
  listing.argv = {"sh", "-c", "ls -A / | tr '\\n' ' '; touch /x 2>/dev/null || echo ro"};
  for (int i = 0; i < 2; ++i) {
    CHECK(MustRun(probe_dir).exit_code == 7);
    CHECK(MustRun(file_only).exit_code == 8);
    CHECK(Answer(MustRun(with_tmp)) == "ok");
    auto r = MustRun(listing);
    INFO(r.stdout_data);
    for (const char* name : {"bin ", "dev ", "etc ", "proc ", "tmp ", "usr ", "workspace "}) {
      CHECK(r.stdout_data.find(name) != std::string::npos);
    }
    for (const char* name : {"home", "root ", "var ", "srv ", "warden-"}) {
      CHECK(r.stdout_data.find(name) == std::string::npos);
    }
    CHECK(r.stdout_data.find(" ro\n") != std::string::npos);
  }
}

TEST_CASE("runs still work when a tmp cleaner removed the /etc and root templates, and never bind a recreated one", "[sandbox][run]") {
  // ctest runs each case in its own process, so the templates (made at this process's first run) land here.
  warden::testing::TempDir tmp;
  REQUIRE(::setenv("TMPDIR", tmp.path().c_str(), 1) == 0);
  Spec s;
  s.argv = {"sh", "-c", "cat /etc/hostname; ls -A / | grep -c workspace; touch /x 2>/dev/null || echo ro"};
  CHECK(MustRun(s).stdout_data == "sandbox\n1\nro\n");
  size_t removed = 0;
  std::vector<std::string> removed_names;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    if (e.path().filename().string().rfind("warden-", 0) == 0) removed_names.push_back(e.path().filename());
  }
  for (const auto& name : removed_names) removed += std::filesystem::remove_all(tmp.path() / name);
  CHECK(removed > 0);  // both templates were made under $TMPDIR
  // Whoever recreates a removed template's name (in a shared /tmp: another user) is never bound: the supervisor
  // reaches its templates through fds held from creation, not by path.
  for (const auto& name : removed_names) {
    std::filesystem::create_directories(tmp.path() / name / "view");
    std::ofstream(tmp.path() / name / "view" / "hostname") << "planted\n";
  }
  auto r = MustRun(s);  // falls back to the tmpfs root with the /etc files written per spawn
  INFO(r.stderr_data);
  CHECK(r.stdout_data == "sandbox\n1\nro\n");
  // Files written per spawn carry their bytes whole (the loader cache holds NULs).
  warden::testing::TempDir ws;
  std::filesystem::copy_file("/etc/ld.so.cache", ws.path() / "host.cache");
  REQUIRE(::chmod(ws.path().c_str(), 0777) == 0);
  REQUIRE(::chmod((ws.path() / "host.cache").c_str(), 0644) == 0);
  Spec same;
  same.workspace = ws.path().string();
  same.argv = {"sh", "-c", "cmp /etc/ld.so.cache /workspace/host.cache && echo same"};
  auto c = MustRun(same);
  INFO(c.stderr_data);
  CHECK(c.stdout_data == "same\n");
  ::unsetenv("TMPDIR");
}

TEST_CASE("a compiled C tool bound read-only runs and sees its own sandbox", "[sandbox][run]") {
  auto r = RunProbe({"hostname"});
  CHECK(r.exit_kind == "exited");
  CHECK(r.stdout_data == "hostname sandbox\n");
  auto t = RunProbe({"threads_fork"});
  CHECK(Answer(t) == "ok");  // probe 8: threads and fork still work
  auto e = RunProbe({"exit", "42"});
  CHECK(e.exit_code == 42);
}

TEST_CASE("stdin bytes reach the program through a pipe", "[sandbox][run]") {
  Spec s = ProbeSpec({"echo_stdin"});
  s.stdin_data = std::string(200000, 'z') + "end";
  auto r = MustRun(s);
  CHECK(r.stdout_data == s.stdin_data);
}

TEST_CASE("result document carries exit, limits, layers and output sizes", "[sandbox][run]") {
  auto r = RunProbe({"exit", "0"});
  auto j = r.ToJson();
  CHECK(j["exit"]["kind"] == "exited");
  CHECK(j["exit"]["code"] == 0);
  CHECK(j["layers"]["userns"] == true);
  CHECK(j["layers"]["seccomp"] == "allowlist+notify");
  CHECK(j["layers"]["landlock_abi"].get<int>() >= 0);
  CHECK(j["setup_error"].is_null());
  bool has_memory = false;
  for (const auto& l : j["limits"]) {
    if (l["name"] == "memory") {
      has_memory = true;
      CHECK(l["mechanisms"].size() >= 1);
    }
  }
  CHECK(has_memory);
  CHECK(j["output"]["truncated"] == false);
  CHECK(r.wall_ms > 0);
}

TEST_CASE("unusable specs are refused before anything runs", "[sandbox][run]") {
  Spec empty;
  CHECK(Run(empty).status().code() == Status::Code::kInvalidArgument);
  Spec bad_ws = ProbeSpec({"exit", "0"});
  bad_ws.workspace = "/nonexistent/ws";
  CHECK(Run(bad_ws).status().code() == Status::Code::kNotFound);
  // Probe 52: path traversal and relative paths in extra binds are rejected, never normalised.
  Spec dotdot = ProbeSpec({"exit", "0"});
  dotdot.ro_paths.push_back(ProbeDir() + "/../../etc");
  auto d = Run(dotdot);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("'..'") != std::string::npos);
  Spec rel = ProbeSpec({"exit", "0"});
  rel.ro_paths.push_back("etc");
  CHECK(Run(rel).status().code() == Status::Code::kInvalidArgument);
  Spec proc = ProbeSpec({"exit", "0"});
  proc.ro_paths.push_back("/proc/self");
  CHECK(Run(proc).status().code() == Status::Code::kInvalidArgument);
  Spec missing;
  missing.argv = {"no-such-program-xyz"};
  CHECK(Run(missing).status().code() == Status::Code::kNotFound);
}

TEST_CASE("a program that cannot be executed is a setup error naming execve", "[sandbox][run]") {
  Spec s;
  s.argv = {"/workspace/missing"};
  auto r = Run(s);
  REQUIRE(r.ok());
  CHECK(r->exit_kind == "setup_error");
  CHECK(r->setup_error.find("execve") != std::string::npos);
}

TEST_CASE("layers report lists every mandatory layer", "[sandbox][run]") {
  auto layers = ProbeLayers();
  std::map<std::string, bool> ok;
  for (const auto& l : layers) ok[l.name] = l.ok;
  for (const char* name : {"layer.userns", "layer.mntns", "layer.pidns", "layer.netns", "layer.seccomp",
                           "layer.no_new_privs", "layer.landlock", "layer.cgroup", "layer.seccomp_programs",
                           "layer.net_proxy", "layer.init"}) {
    INFO(name);
    CHECK(ok.count(name) == 1);
  }
  CHECK(ok["layer.seccomp_programs"]);
  CHECK(ok["layer.init"]);
}

}  // namespace
}  // namespace warden::sandbox
