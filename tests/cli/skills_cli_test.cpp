// End-to-end runs of `warden skills list|search|show|validate|import|reindex` (issue 8, CLI): --catalog
// precedence, --json shapes, --explain, --queries JSON lines, exit codes for rejects and usage errors, reindex --audit.
#include <catch2/catch.hpp>
#include <sstream>

#include "runtime/base/file_util.h"
#include "skills/skills_test_util.h"
#include "tests/support/test_support.h"

namespace warden::skills {
namespace {

namespace fs = std::filesystem;
using testing::RunWarden;
using testing::TempDir;

struct CliCatalog {
  TempDir home, dir;
  std::vector<std::string> env;
  CliCatalog() {
    env = {"WARDEN_HOME=" + home.path().string()};
    testutil::WriteSkillMd(dir.path(), "csv-to-json", "Convert a CSV file to JSON records", "metadata:\n  tags: csv, json\n");
    testutil::WriteSkillMd(dir.path(), "word-count", "Count words and lines of a text file");
    testutil::WriteSkillMd(dir.path(), "sha256-hash", "Compute the SHA-256 hash of a file");
  }
  testing::ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), "skills");
    return RunWarden(args, "", env);
  }
};

TEST_CASE("skills search ranks with scores, with --json and --explain", "[skills][cli]") {
  CliCatalog c;
  auto r = c.Run({"search", "convert csv to json", "--catalog", c.dir.path().string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("1.") != std::string::npos);
  CHECK(r.out.find("csv-to-json") < r.out.find("\n"));
  r = c.Run({"search", "hash a file", "-k", "2", "--explain", "--json", "--catalog", c.dir.path().string()});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][0]["name"] == "sha256-hash");
  CHECK(j["results"][0]["score"].get<double>() > j["results"][1]["score"].get<double>());
  CHECK(j["results"][0]["fields"].contains("description"));
  CHECK(j["results"][0]["terms"].contains("hash"));
}

TEST_CASE("skills search --queries answers one JSON line per query", "[skills][cli]") {
  CliCatalog c;
  const fs::path q = c.home.path() / "q.jsonl";
  REQUIRE(WriteFileAtomic(q, "{\"id\": \"a\", \"query\": \"count words\"}\n\n{\"id\": 7, \"query\": \"sha hash\"}\n").ok());
  auto r = c.Run({"search", "--catalog", c.dir.path().string(), "--queries", q.string(), "-k", "10", "--json"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string l1, l2, l3;
  std::getline(lines, l1);
  std::getline(lines, l2);
  CHECK_FALSE(std::getline(lines, l3));
  auto a = nlohmann::json::parse(l1), b = nlohmann::json::parse(l2);
  CHECK(a["id"] == "a");
  CHECK(a["results"][0]["name"] == "word-count");
  CHECK(a["results"][0].contains("score"));
  CHECK(b["id"] == 7);
  CHECK(b["results"][0]["name"] == "sha256-hash");
  REQUIRE(WriteFileAtomic(q, "{\"id\": 1}\n").ok());
  r = c.Run({"search", "--catalog", c.dir.path().string(), "--queries", q.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(":1: field query") != std::string::npos);
}

TEST_CASE("skills search usage errors exit 2", "[skills][cli]") {
  CliCatalog c;
  CHECK(c.Run({"search", "--catalog", c.dir.path().string()}).exit_code == 2);
  CHECK(c.Run({"search", "x", "-k", "0", "--catalog", c.dir.path().string()}).exit_code == 2);
  CHECK(c.Run({"search", "x", "--catalog", (c.dir.path() / "nope").string()}).exit_code == 1);
  CHECK(c.Run({"search", "--help"}).exit_code == 0);
}

TEST_CASE("skills list, show and the --catalog precedence", "[skills][cli]") {
  CliCatalog c;
  TempDir project;
  testutil::WriteSkillMd(project.path(), "word-count", "Project override: count tokens");
  testutil::WriteSkillMd(project.path(), "broken", std::string(1100, 'x'));
  auto r = c.Run({"list", "--json", "--catalog", c.dir.path().string(), "--catalog", project.path().string()});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["skills"] == 3);
  CHECK(j["rejected"].size() == 1);
  CHECK(j["rejected"][0]["field"] == "description");
  r = c.Run({"show", "word-count", "--catalog", c.dir.path().string(), "--catalog", project.path().string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Project override") != std::string::npos);
  r = c.Run({"show", "nope", "--catalog", c.dir.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no skill named") != std::string::npos);
  // Without --catalog the configured folder (<home>/skills) is used.
  testutil::WriteSkillMd(c.home.path() / "skills", "home-skill", "From the home folder");
  r = c.Run({"list"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("home-skill") != std::string::npos);
}

TEST_CASE("skills validate reports file, field and expectation", "[skills][cli]") {
  CliCatalog c;
  auto r = c.Run({"validate", (c.dir.path() / "word-count").string()});
  CHECK(r.exit_code == 0);
  fs::create_directories(c.dir.path() / "bad-skill");
  REQUIRE(WriteFileAtomic(c.dir.path() / "bad-skill" / "SKILL.md", "---\nname: other\ndescription: d\n---\n").ok());
  r = c.Run({"validate", c.dir.path().string(), "--json"});
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["valid"].size() == 3);
  REQUIRE(j["rejected"].size() == 1);
  CHECK(j["rejected"][0]["field"] == "name");
  CHECK(j["rejected"][0]["line"] == 2);
  r = c.Run({"validate", (c.dir.path() / "bad-skill").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("SKILL.md:2: field name: expected the folder/file name \"bad-skill\"") != std::string::npos);
}

TEST_CASE("skills import turns JSON lines into searchable skills and reindex reports", "[skills][cli]") {
  CliCatalog c;
  const fs::path jsonl = c.home.path() / "tools.jsonl";
  REQUIRE(WriteFileAtomic(jsonl,
                          "{\"name\": \"getWeatherForecast\", \"description\": \"Weather forecast for a city\", "
                          "\"tags\": [\"Weather\"], \"parameters\": {\"type\": \"object\", \"properties\": "
                          "{\"city_name\": {\"type\": \"string\", \"description\": \"name of the town\"}}, "
                          "\"required\": [\"city_name\"]}}\nnot json\n")
              .ok());
  const fs::path into = c.home.path() / "imported";
  auto r = c.Run({"import", "--from-jsonl", jsonl.string(), "--into", into.string(), "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["imported"] == 1);
  CHECK(j["renamed"]["getWeatherForecast"] == "get-weather-forecast");
  CHECK(j["errors"].size() == 1);
  // Parameter descriptions and tags are indexed: "town" only appears in a parameter description.
  r = c.Run({"search", "which town", "--json", "--catalog", into.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["results"][0]["name"] == "get-weather-forecast");
  r = c.Run({"reindex", "--json", "--catalog", into.string(), "--catalog", c.dir.path().string()});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["skills"] == 4);
  CHECK(c.Run({"import", "--into", into.string()}).exit_code == 2);
}

TEST_CASE("skills reindex --audit records the reload and each rejected manifest", "[skills][cli]") {
  CliCatalog c;
  testutil::WriteSkillMd(c.dir.path(), "bad-skill", "x", "license: [not, a, string]\n");
  const fs::path db = c.home.path() / "audit.db";
  auto r = c.Run({"reindex", "--json", "--audit", "--db", db.string(), "--catalog", c.dir.path().string()});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["skills"] == 3);
  CHECK(j["audit_seqs"].size() == 2);
  auto q = RunWarden({"audit", "query", "--db", db.string(), "--format", "json"}, "", c.env);
  REQUIRE(q.exit_code == 0);
  auto rows = nlohmann::json::parse(q.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["kind"] == "skill.rejected");
  CHECK(rows[0]["body"]["field"] == "license");
  CHECK(rows[1]["kind"] == "catalog.reload");
  CHECK(rows[1]["body"]["added"] == 3);
  CHECK(rows[1]["body"]["rejected"] == 1);
  CHECK(rows[1]["body"]["generation"] == 1);
  // With a signing key beside the database the events are covered by a signed checkpoint, as `skills run`'s are.
  REQUIRE(RunWarden({"audit", "keygen", "--db", db.string()}, "", c.env).exit_code == 0);
  REQUIRE(c.Run({"reindex", "--audit", "--db", db.string(), "--catalog", c.dir.path().string()}).exit_code == 0);
  auto v = RunWarden({"--json", "audit", "verify", "--db", db.string()}, "", c.env);
  REQUIRE(v.exit_code == 0);
  auto report = nlohmann::json::parse(v.out);
  CHECK(report["checkpoints"].get<int>() >= 1);
  CHECK(report["unanchored_tail"] == 0);
  const size_t rows_now = report["rows"].get<size_t>();
  // Without --audit nothing is written.
  REQUIRE(c.Run({"reindex", "--json", "--db", db.string(), "--catalog", c.dir.path().string()}).exit_code == 0);
  v = RunWarden({"--json", "audit", "verify", "--db", db.string()}, "", c.env);
  CHECK(nlohmann::json::parse(v.out)["rows"].get<size_t>() == rows_now);
}

}  // namespace
}  // namespace warden::skills
