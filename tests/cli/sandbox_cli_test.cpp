// End-to-end runs of `warden sandbox run` (issue 7): output then result, --json result document, stdin forwarded as
// a pipe, exit codes (program's own, 5 for a sandbox kill, 2 for usage), and `warden doctor` naming the layers.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_support.h"

namespace warden {
namespace {

using testing::RunWarden;

TEST_CASE("sandbox run prints the program's output and exits with its code", "[sandbox][cli]") {
  auto r = RunWarden({"sandbox", "run", "--", "sh", "-c", "echo hello; echo oops >&2; exit 7"});
  CHECK(r.exit_code == 7);
  CHECK(r.out == "hello\n");
  CHECK(r.err.find("oops\n") == 0);
  CHECK(r.err.find("sandbox: exited 7") != std::string::npos);
}

TEST_CASE("sandbox run --json forwards stdin and prints only the result", "[sandbox][cli]") {
  testing::TempDir ws;
  auto r = RunWarden({"--json", "sandbox", "run", "--workspace", ws.path().string(), "--", "python3", "-c",
                      "import json,sys; a=json.load(sys.stdin); print(a['n']+1)"},
                     R"({"n": 41})");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["exit"]["kind"] == "exited");
  CHECK(j["output"]["stdout"]["text"] == "42\n");
  CHECK(j["layers"]["pidns"] == true);
}

TEST_CASE("sandbox run --workspace-ro mounts the workspace read-only and reports the failed write", "[sandbox][cli]") {
  testing::TempDir ws;
  auto r = RunWarden({"--json", "sandbox", "run", "--workspace", ws.path().string(), "--workspace-ro", "--", "sh",
                      "-c", "echo x > /workspace/out.txt"});
  INFO(r.out << r.err);
  CHECK(r.exit_code != 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["layers"]["workspace"] == "ro");
  CHECK(j["output"]["stderr"]["text"].get<std::string>().find("Read-only file system") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(ws.path() / "out.txt"));
  auto help = RunWarden({"sandbox", "run", "--help"});
  CHECK(help.out.find("--workspace-ro") != std::string::npos);
}

TEST_CASE("sandbox run --no-workspace shows an empty read-only /workspace and refuses --workspace beside it",
          "[sandbox][cli]") {
  auto r = RunWarden({"--json", "sandbox", "run", "--no-workspace", "--", "sh", "-c",
                      "ls -A /workspace | wc -l; touch /workspace/x 2>/dev/null || echo ro"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["layers"]["workspace"] == "none");
  CHECK(j["output"]["stdout"]["text"] == "0\nro\n");
  testing::TempDir ws;
  auto both = RunWarden({"sandbox", "run", "--no-workspace", "--workspace", ws.path().string(), "--", "true"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--no-workspace") != std::string::npos);
}

TEST_CASE("sandbox run works for an unprivileged caller (the init clones the binds itself)", "[sandbox][cli]") {
  if (::geteuid() != 0) SUCCEED("already unprivileged: every other case here covers it");
  if (::geteuid() != 0) return;
  if (::access("/usr/bin/setpriv", X_OK) != 0) SUCCEED("no setpriv (util-linux) to drop to an unprivileged uid");
  if (::access("/usr/bin/setpriv", X_OK) != 0) return;
  testing::TempDir ws;
  std::ofstream(ws.path() / "in.txt") << "caller's file\n";
  REQUIRE(::chown(ws.path().c_str(), 65534, 65534) == 0);
  REQUIRE(::chown((ws.path() / "in.txt").c_str(), 65534, 65534) == 0);
  auto r = testing::RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                                "HOME=" + ws.path().string(), "TMPDIR=" + ws.path().string(),
                                testing::WardenBinary().string(), "--json", "sandbox", "run", "--workspace",
                                ws.path().string(), "--", "sh", "-c",
                                "id -u; cat /workspace/in.txt; echo out > /workspace/out.txt; touch /usr/x 2>/dev/null "
                                "|| echo usr-ro"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["output"]["stdout"]["text"] == "1000\ncaller's file\nusr-ro\n");
  CHECK(std::filesystem::exists(ws.path() / "out.txt"));
  CHECK(j["layers"]["caps"] == "none");
}

TEST_CASE("sandbox run exits 5 when the sandbox kills the program", "[sandbox][cli]") {
  auto r = RunWarden({"--json", "sandbox", "run", "--timeout", "0.3", "--", "sleep", "30"});
  CHECK(r.exit_code == 5);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["exit"]["kind"] == "timeout");
  CHECK(j["limits_hit"][0] == "wall_time");
}

TEST_CASE("sandbox run records violations and keeps the program's own exit code", "[sandbox][cli]") {
  auto r = RunWarden({"--json", "sandbox", "run", "--", "python3", "-c",
                      "import os\ntry:\n  os.setuid(0)\nexcept PermissionError:\n  print('denied')"});
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["output"]["stdout"]["text"] == "denied\n");
  REQUIRE(j["violations"].size() >= 1);
  CHECK(j["violations"][0]["syscall"] == "setuid");
  CHECK(j["violations"][0]["action"] == "EPERM");
}

TEST_CASE("sandbox run usage errors exit 2 and say what to do", "[sandbox][cli]") {
  auto none = RunWarden({"sandbox", "run"});
  CHECK(none.exit_code == 2);
  auto mem = RunWarden({"sandbox", "run", "--memory", "12X", "--", "true"});
  CHECK(mem.exit_code == 2);
  CHECK(mem.err.find("unknown unit") != std::string::npos);
  auto help = RunWarden({"sandbox", "run", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--workspace") != std::string::npos);
  auto bad_ro = RunWarden({"sandbox", "run", "--ro", "/nonexistent/x", "--", "true"});
  CHECK(bad_ro.exit_code == 1);
  CHECK(bad_ro.err.find("--ro /nonexistent/x") != std::string::npos);
}

TEST_CASE("doctor lists the sandbox layers", "[sandbox][cli]") {
  auto r = RunWarden({"--json", "doctor"});
  auto j = nlohmann::json::parse(r.out);
  int layers = 0;
  for (const auto& c : j["checks"]) {
    if (c["section"] == "sandbox") ++layers;
  }
  CHECK(layers >= 8);
}

}  // namespace
}  // namespace warden
