// `warden skills run` end to end: a fresh home with the default policies, the built-in catalog, the sandbox and the
// audit trail, through the binary as a user runs it.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace {

using nlohmann::json;
using warden::testing::RunWarden;

struct Home {
  warden::testing::TempDir tmp;
  std::string home = (tmp.path() / "home").string();
  std::string ws = (tmp.path() / "ws").string();
  Home() {
    // The sandbox's unprivileged user binds the workspace, so the folders above it must be reachable.
    std::filesystem::permissions(tmp.path(), std::filesystem::perms::others_read | std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::add);
    std::filesystem::create_directories(ws);
    REQUIRE(RunWarden({"--home", home, "init"}).exit_code == 0);
  }
};

TEST_CASE("skills run: an allowed skill prints its output and leaves two verified audit rows", "[cli][agent]") {
  Home h;
  std::ofstream(h.ws + "/t.csv") << "a,b\n1,2\n";
  auto r = RunWarden({"--home", h.home, "skills", "run", "csv-to-json", "--args", R"({"path": "t.csv"})",
                      "--workspace", h.ws});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["rows"][0]["b"] == 2);
  CHECK(r.err.find("audit seq 1-2") != std::string::npos);
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  REQUIRE(q.exit_code == 0);
  auto rows = json::parse(q.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["kind"] == "policy.decision");
  CHECK(rows[1]["kind"] == "sandbox.run");
  CHECK(RunWarden({"--home", h.home, "audit", "verify"}).exit_code == 0);
}

TEST_CASE("skills run: a denied network skill exits 3 and --json explains it", "[cli][agent]") {
  Home h;
  auto r = RunWarden({"--home", h.home, "--json", "skills", "run", "http-fetch", "--args",
                      R"({"url": "https://example.com/"})", "--workspace", h.ws});
  CHECK(r.exit_code == 3);
  auto doc = json::parse(r.out);
  CHECK(doc["verdict"] == "denied");
  CHECK_FALSE(doc.contains("result"));
  CHECK(doc["decisions"][0]["request"]["skill"]["permissions"]["scope"] == "network");
}

TEST_CASE("skills run: a manifest the catalog rejected is audited before the call's decisions", "[cli][agent]") {
  Home h;
  const auto bad = std::filesystem::path(h.home) / "skills" / "broken-skill";
  std::filesystem::create_directories(bad);
  std::ofstream(bad / "SKILL.md") << "---\nname: other-name\ndescription: x\n---\n";
  auto r = RunWarden({"--home", h.home, "--json", "skills", "run", "http-fetch", "--args",
                      R"({"url": "https://example.com/"})", "--workspace", h.ws});
  CHECK(r.exit_code == 3);
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  REQUIRE(q.exit_code == 0);
  auto rows = json::parse(q.out);
  REQUIRE(rows.size() >= 2);
  CHECK(rows[0]["kind"] == "skill.rejected");
  CHECK(rows[0]["body"]["field"] == "name");
  CHECK(rows[0]["principal_id"] == "local/user/cli");
  CHECK(rows[1]["kind"] == "policy.decision");
  for (size_t i = 1; i < rows.size(); ++i) CHECK(rows[i]["kind"] != "catalog.reload");
}

TEST_CASE("skills run: bad arguments are refused before anything is decided", "[cli][agent]") {
  Home h;
  auto not_json = RunWarden({"--home", h.home, "skills", "run", "csv-to-json", "--args", "{oops", "--workspace", h.ws});
  CHECK(not_json.exit_code == 2);
  auto wrong_type = RunWarden({"--home", h.home, "skills", "run", "csv-to-json", "--args", R"({"path": 3})",
                               "--workspace", h.ws});
  CHECK(wrong_type.exit_code == 1);
  CHECK(wrong_type.err.find("$.path: expected string, got integer") != std::string::npos);
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  CHECK((q.exit_code != 0 || json::parse(q.out).empty()));  // no database yet, or an empty one
}

TEST_CASE("skills run: a skill with permissions.workspace = read gets a read-only workspace", "[cli][agent]") {
  Home h;
  std::ofstream(h.ws + "/notes.txt") << "alpha\nbeta\n";
  auto r = RunWarden({"--home", h.home, "skills", "run", "file-grep", "--args", R"({"pattern": "beta"})",
                      "--workspace", h.ws});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("notes.txt") != std::string::npos);
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  REQUIRE(q.exit_code == 0);
  auto rows = json::parse(q.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["kind"] == "sandbox.run");
  CHECK(rows[1]["body"]["layers"]["workspace"] == "ro");
}

}  // namespace
