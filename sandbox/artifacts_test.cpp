// Artifact collection (issue 7; sandbox.md C.9 probes 33 and 35): files under the workspace's outputs/ folder are
// listed with size and SHA-256, capped, and the walk never leaves the workspace (symlinks listed, not followed;
// a folder swapped for a link to / by a leftover process is never read through).
#include <filesystem>
#include <fstream>

#include "sandbox/probe_test_util.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace warden::sandbox::testing;

Spec Shell(const warden::testing::TempDir& ws, const std::string& script) {
  Spec s;
  s.workspace = ws.path().string();
  s.argv = {"sh", "-c", script};
  s.timeout_s = 10;
  return s;
}

TEST_CASE("artifacts: files under outputs/ are listed with size and SHA-256, sorted", "[sandbox][artifacts]") {
  warden::testing::TempDir ws;
  auto r = MustRun(Shell(ws, "mkdir -p outputs/sub && printf hello > outputs/a.txt && "
                             "printf '' > outputs/sub/empty && echo not-listed > top.txt"));
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.artifacts.size() == 2);
  CHECK(r.artifacts_total == 2);
  CHECK_FALSE(r.artifacts_truncated);
  CHECK(r.artifacts[0].path == "a.txt");
  CHECK(r.artifacts[0].type == "file");
  CHECK(r.artifacts[0].bytes == 5);
  CHECK(r.artifacts[0].sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  CHECK(r.artifacts[1].path == "sub/empty");
  CHECK(r.artifacts[1].sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto j = r.ToJson();
  CHECK(j["artifacts"][0]["path"] == "a.txt");
  CHECK(j["artifacts"][0]["bytes"] == 5);
  CHECK(j["artifacts_total"] == 2);
  // No folder, no artifacts; collection can be turned off.
  warden::testing::TempDir empty;
  CHECK(MustRun(Shell(empty, "true")).artifacts.empty());
  Spec off = Shell(ws, "true");
  off.artifacts_dir = "";
  CHECK(MustRun(off).artifacts.empty());
}

TEST_CASE("probe 33: symlinks under outputs/ are listed, never followed", "[sandbox][artifacts]") {
  warden::testing::TempDir ws;
  auto r = MustRun(Shell(ws, "mkdir outputs && ln -s /etc/passwd outputs/pw && ln -s / outputs/root && "
                             "ln -s ../.. outputs/up"));
  REQUIRE(r.artifacts.size() == 3);
  for (const auto& a : r.artifacts) {
    INFO(a.path);
    CHECK(a.type == "symlink");
    CHECK(a.sha256.empty());
    CHECK(a.bytes == 0);
  }
  CHECK(r.artifacts[0].path == "pw");
  CHECK(r.artifacts[0].link == "/etc/passwd");
  // The folder itself replaced by a link to the host root: nothing is read through it.
  warden::testing::TempDir ws2;
  auto s = MustRun(Shell(ws2, "ln -s / outputs"));
  CHECK(s.artifacts.empty());
  CHECK(s.artifacts_total == 0);
}

TEST_CASE("probe 35: a folder swapped with a link to / by a leftover process is never walked", "[sandbox][artifacts]") {
  warden::testing::TempDir ws;
  // A background loop keeps swapping outputs/d between a folder and a symlink to /, and the program exits while it
  // runs: the namespace dies with the program, then the walk starts.
  auto r = MustRun(Shell(ws, "mkdir outputs; (while :; do rm -rf outputs/d; mkdir outputs/d; : > outputs/d/f; "
                             "rm -rf outputs/d; ln -s / outputs/d; done) & sleep 0.2; exit 0"));
  for (const auto& a : r.artifacts) {
    INFO(a.path);
    CHECK((a.path == "d" || a.path == "d/f"));
    if (a.path == "d") CHECK(a.type == "symlink");
  }
  CHECK(r.artifacts.size() <= 1);
}

TEST_CASE("artifact listing is capped by count and by hashed bytes", "[sandbox][artifacts]") {
  warden::testing::TempDir ws;
  Spec s = Shell(ws, "mkdir outputs && for i in 1 2 3 4 5; do printf abcde > outputs/f$i; done");
  s.max_artifacts = 3;
  s.max_artifact_hash_bytes = 12;  // two 5-byte files fit, the third does not
  auto r = MustRun(s);
  CHECK(r.artifacts.size() == 3);
  CHECK(r.artifacts_total == 5);
  CHECK(r.artifacts_truncated);
  CHECK_FALSE(r.artifacts[0].sha256.empty());
  CHECK_FALSE(r.artifacts[1].sha256.empty());
  CHECK(r.artifacts[2].sha256.empty());
  CHECK(r.artifacts[2].bytes == 5);
  CHECK(r.ToJson()["artifacts"][2]["sha256"].is_null());
}

TEST_CASE("an artifacts folder outside the workspace is refused, and odd names stay valid JSON", "[sandbox][artifacts]") {
  warden::testing::TempDir ws;
  Spec up = Shell(ws, "true");
  up.artifacts_dir = "../x";
  CHECK(Run(up).status().code() == Status::Code::kInvalidArgument);
  up.artifacts_dir = "/etc";
  CHECK(Run(up).status().code() == Status::Code::kInvalidArgument);
  auto r = MustRun(Shell(ws, "mkdir outputs && : > \"$(printf 'outputs/bad\\377name')\""));
  REQUIRE(r.artifacts.size() == 1);
  std::string doc = r.ToJson().dump();
  CHECK(doc.find("bad\\\\xffname") != std::string::npos);
}

}  // namespace
}  // namespace warden::sandbox
