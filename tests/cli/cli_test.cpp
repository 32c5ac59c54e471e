// End-to-end tests of the `warden` binary: global flags, exit codes, JSON shapes, init and doctor.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::TempDir;

TEST_CASE("help and version flags", "[cli]") {
  auto help = RunWarden({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("init") && Catch::Contains("doctor") && Catch::Contains("--json"));
  auto version = RunWarden({"--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("warden 0."));
  for (const char* verb : {"init", "doctor"}) {
    auto r = RunWarden({verb, "--help"});
    INFO(verb);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage"));
  }
}

TEST_CASE("usage errors exit 2 with a hint", "[cli]") {
  auto none = RunWarden({});
  CHECK(none.exit_code == 2);
  auto bad = RunWarden({"frobnicate"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("frobnicate") && Catch::Contains("hint:"));
  auto bad_json = RunWarden({"--json", "doctor", "--no-such-flag"});
  CHECK(bad_json.exit_code == 2);
  auto doc = nlohmann::json::parse(bad_json.out);
  CHECK(doc["error"]["code"] == "invalid_argument");
  CHECK(doc["error"]["exit_code"] == 2);
}

TEST_CASE("init creates the home, is idempotent and keeps edits", "[cli][init]") {
  TempDir tmp;
  auto home = (tmp.path() / "h").string();
  auto first = RunWarden({"--home", home, "--json", "init"});
  REQUIRE(first.exit_code == 0);
  auto doc = nlohmann::json::parse(first.out);
  CHECK(doc["home"] == home);
  // warden.toml, the home and its four folders, and the default policy set (policies/default/*.toml).
  size_t default_policies = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path("policies/default")  /* tests run from the source root */)) {
    default_policies += e.path().extension() == ".toml";
  }
  REQUIRE(default_policies > 0);
  CHECK(doc["created"].size() == 6 + default_policies);
  CHECK(std::filesystem::exists(home + "/policies/10-workspace.toml"));
  {
    std::ofstream f(home + "/warden.toml", std::ios::app);
    f << "# my edit\n";
  }
  auto second = RunWarden({"init", "--home", home, "--json"});
  REQUIRE(second.exit_code == 0);
  auto doc2 = nlohmann::json::parse(second.out);
  CHECK(doc2["created"].empty());
  CHECK(doc2["existing"].size() == 6);  // policy files are only installed into an empty policies folder
  std::ifstream f(home + "/warden.toml");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK_THAT(all, Catch::EndsWith("# my edit\n"));
}

TEST_CASE("WARDEN_HOME is the default home", "[cli][init]") {
  TempDir tmp;
  auto r = RunWarden({"init", "--json"}, "", {"WARDEN_HOME=" + tmp.path().string()});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["home"] == tmp.path().string());
}

TEST_CASE("a bad config file is exit 1 naming file and line", "[cli][config]") {
  TempDir tmp;
  std::ofstream(tmp.path() / "warden.toml") << "[paths]\nskills = 42\n";
  auto r = RunWarden({"--home", tmp.path().string(), "init"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("warden.toml:2") && Catch::Contains("paths.skills"));
  auto j = RunWarden({"--home", tmp.path().string(), "--json", "init"});
  CHECK(j.exit_code == 1);
  CHECK(nlohmann::json::parse(j.out)["error"]["code"] == "invalid_argument");
}

TEST_CASE("doctor --json lists every check with a status", "[cli][doctor]") {
  TempDir tmp;
  REQUIRE(RunWarden({"--home", tmp.path().string(), "init"}).exit_code == 0);
  auto r = RunWarden({"--home", tmp.path().string(), "doctor", "--json"});
  auto doc = nlohmann::json::parse(r.out);
  CHECK(r.exit_code == (doc["healthy"].get<bool>() ? 0 : 1));
  std::set<std::string> names;
  for (const auto& c : doc["checks"]) {
    names.insert(c["name"].get<std::string>());
    CHECK((c["status"] == "ok" || c["status"] == "warn" || c["status"] == "missing"));
    CHECK(c.contains("section"));
    CHECK(c.contains("detail"));
  }
  for (const char* n : {"warden", "cuda_backend", "seccomp_filter", "landlock", "sqlite", "lucene++", "libseccomp",
                        "skills_dir", "policies_dir", "models_dir", "config_file"}) {
    INFO(n);
    CHECK(names.count(n) == 1);
  }
  // After init every configured folder exists.
  for (const auto& c : doc["checks"]) {
    if (c["section"] == "config") CHECK(c["status"] == "ok");
  }
}

TEST_CASE("doctor text output is readable", "[cli][doctor]") {
  TempDir tmp;
  auto r = RunWarden({"--home", tmp.path().string(), "doctor"});
  CHECK_THAT(r.out, Catch::Contains("kernel") && Catch::Contains("seccomp_filter") && Catch::Contains("sqlite"));
}

TEST_CASE("log format json writes one JSON object per log line on stderr", "[cli][logging]") {
  TempDir tmp;
  auto r = RunWarden({"--home", tmp.path().string(), "--log-level", "debug", "--log-format", "json", "doctor"});
  int lines = 0;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    INFO(line);
    auto doc = nlohmann::json::parse(line);  // throws (fails the test) on invalid JSON
    CHECK(doc.contains("level"));
    CHECK(doc.contains("msg"));
    ++lines;
  }
  CHECK(lines >= 9);  // one debug line per kernel probe at least
  auto quiet = RunWarden({"--home", tmp.path().string(), "doctor"});
  CHECK(quiet.err.empty());
  auto verbose = RunWarden({"--home", tmp.path().string(), "-vv", "doctor"});
  CHECK_THAT(verbose.err, Catch::Contains("warden [debug] probe seccomp_filter"));
}

TEST_CASE("the config file's log level applies unless a flag overrides it", "[cli][logging][config]") {
  TempDir tmp;
  std::ofstream(tmp.path() / "warden.toml") << "[log]\nlevel = \"debug\"\n";
  auto from_file = RunWarden({"--home", tmp.path().string(), "doctor"});
  CHECK_THAT(from_file.err, Catch::Contains("[debug] probe"));
  auto flag = RunWarden({"--home", tmp.path().string(), "--log-level", "error", "doctor"});
  CHECK(flag.err.empty());
  auto env = RunWarden({"--home", tmp.path().string(), "doctor"}, "", {"WARDEN_LOG_LEVEL=off"});
  CHECK(env.err.empty());
}
