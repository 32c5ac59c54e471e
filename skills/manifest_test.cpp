// Manifest loading and validation (issue 8 "Manifest"): SKILL.md frontmatter, skill.json, NAME.skill.json, the
// precise rejection of each kind of mistake, and the 142 published SKILL.md files of ../shared/fixtures.
#include <catch2/catch.hpp>

#include "skills/skills_test_util.h"
#include "tests/support/test_support.h"

namespace warden::skills {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Rejection Rejected(const fs::path& p) {
  Skill s;
  Rejection r;
  REQUIRE_FALSE(ValidateSkill(p, &s, &r));
  return r;
}

void WriteJson(const fs::path& p, const nlohmann::json& j) { REQUIRE(WriteFileAtomic(p, j.dump(2)).ok()); }

nlohmann::json ExecManifest() {
  return {{"version", "1.2.0"},
          {"entrypoint", {"python3", "scripts/main.py"}},
          {"arguments",
           {{"type", "object"},
            {"properties", {{"path", {{"type", "string"}, {"description", "CSV file in the workspace"}}}}},
            {"required", {"path"}}}},
          {"output", "json"},
          {"permissions", {{"workspace", "read"}, {"read_paths", nlohmann::json::array()}, {"hosts", {"example.com:443"}}}},
          {"limits", {{"timeout_s", 5}}},
          {"tags", {"csv", "json"}}};
}

TEST_CASE("An instruction-only SKILL.md loads with all optional fields", "[skills][manifest]") {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "pdf-tools", "Extract text from PDF files. Use when a PDF must be read.",
                         "license: Apache-2.0\ncompatibility: needs poppler-utils\nmetadata:\n  author: someone\n"
                         "  tags: pdf, text\nallowed-tools: Read Bash(pdftotext:*)\n");
  auto s = LoadSkill(dir.path() / "pdf-tools");
  INFO((s.ok() ? std::string() : s.status().ToString()));
  REQUIRE(s.ok());
  CHECK(s->name == "pdf-tools");
  CHECK_FALSE(s->executable);
  CHECK(s->license == "Apache-2.0");
  CHECK(s->metadata.at("author") == "someone");
  CHECK(s->tags == std::vector<std::string>{"pdf", "text"});
  CHECK(s->allowed_tools == std::vector<std::string>{"Read", "Bash(pdftotext:*)"});
  CHECK(s->instructions.find("Instructions for pdf-tools.") != std::string::npos);
}

TEST_CASE("skill.json makes a skill executable and resolves scripts/", "[skills][manifest]") {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "csv-stats", "Column statistics of a CSV file.");
  fs::create_directories(dir.path() / "csv-stats" / "scripts");
  REQUIRE(WriteFileAtomic(dir.path() / "csv-stats" / "scripts" / "main.py", "print(1)\n").ok());
  WriteJson(dir.path() / "csv-stats" / "skill.json", ExecManifest());
  auto s = LoadSkill(dir.path() / "csv-stats");
  INFO((s.ok() ? std::string() : s.status().ToString()));
  REQUIRE(s.ok());
  CHECK(s->executable);
  CHECK(s->version == "1.2.0");
  CHECK(s->entrypoint[1] == (dir.path() / "csv-stats" / "scripts" / "main.py").string());
  CHECK(s->permissions.workspace == "read");
  CHECK(s->limits.timeout_s == 5);
  CHECK(s->limits.memory_mb == 256);  // default
  CHECK(s->tags == std::vector<std::string>{"csv", "json"});
}

TEST_CASE("A single-file NAME.skill.json loads", "[skills][manifest]") {
  TempDir dir;
  nlohmann::json j = ExecManifest();
  j["entrypoint"] = {"/usr/bin/wc", "-l"};
  j["name"] = "line-count";
  j["description"] = "Count lines of a file.";
  WriteJson(dir.path() / "line-count.skill.json", j);
  auto s = LoadSkill(dir.path() / "line-count.skill.json");
  INFO((s.ok() ? std::string() : s.status().ToString()));
  REQUIRE(s.ok());
  CHECK(s->executable);
  CHECK(s->name == "line-count");
}

TEST_CASE("Each manifest mistake is rejected with file, field and expectation", "[skills][manifest]") {
  TempDir dir;
  SECTION("name differs from the folder") {
    testutil::WriteSkillMd(dir.path(), "good-name", "x");
    fs::rename(dir.path() / "good-name", dir.path() / "other");
    auto r = Rejected(dir.path() / "other");
    CHECK(r.field == "name");
    CHECK(r.line == 2);
    CHECK(r.message.find("\"other\"") != std::string::npos);
    CHECK(r.file == dir.path() / "other" / "SKILL.md");
  }
  SECTION("invalid name characters") {
    fs::create_directories(dir.path() / "Bad--Name");
    REQUIRE(WriteFileAtomic(dir.path() / "Bad--Name" / "SKILL.md", "---\nname: Bad--Name\ndescription: d\n---\n").ok());
    CHECK(Rejected(dir.path() / "Bad--Name").field == "name");
  }
  SECTION("missing description") {
    fs::create_directories(dir.path() / "a");
    REQUIRE(WriteFileAtomic(dir.path() / "a" / "SKILL.md", "---\nname: a\n---\nbody\n").ok());
    auto r = Rejected(dir.path() / "a");
    CHECK(r.field == "description");
    CHECK(r.message.find("missing") != std::string::npos);
  }
  SECTION("description too long") {
    testutil::WriteSkillMd(dir.path(), "a", std::string(1025, 'x'));
    CHECK(Rejected(dir.path() / "a").message.find("1025") != std::string::npos);
  }
  SECTION("no frontmatter") {
    fs::create_directories(dir.path() / "a");
    REQUIRE(WriteFileAtomic(dir.path() / "a" / "SKILL.md", "# Just markdown\n").ok());
    CHECK(Rejected(dir.path() / "a").message.find("---") != std::string::npos);
  }
  SECTION("broken YAML names its line") {
    fs::create_directories(dir.path() / "a");
    REQUIRE(WriteFileAtomic(dir.path() / "a" / "SKILL.md", "---\nname: a\ndescription: [unclosed\n---\n").ok());
    auto r = Rejected(dir.path() / "a");
    CHECK(r.message.find("invalid YAML") != std::string::npos);
    CHECK(r.line >= 3);
  }
  SECTION("metadata values must be strings") {
    testutil::WriteSkillMd(dir.path(), "a", "d", "metadata:\n  nested:\n    x: y\n");
    CHECK(Rejected(dir.path() / "a").field == "metadata.nested");
  }
  SECTION("skill.json errors name the field") {
    testutil::WriteSkillMd(dir.path(), "a", "d");
    auto check = [&](nlohmann::json j, const std::string& field) {
      WriteJson(dir.path() / "a" / "skill.json", j);
      auto r = Rejected(dir.path() / "a");
      CHECK(r.field == field);
      CHECK(r.file == dir.path() / "a" / "skill.json");
    };
    auto j = ExecManifest();
    j["entrypoint"] = {"python3", "scripts/missing.py"};
    check(j, "entrypoint[1]");
    j = ExecManifest();
    j["entrypoint"] = {"/bin/true"};
    j["version"] = "1.2";
    check(j, "version");
    j["version"] = "1.0.0";
    j["permissions"]["workspace"] = "rw";
    check(j, "permissions.workspace");
    j["permissions"]["workspace"] = "read";
    j["permissions"]["hosts"] = {"example.com:443", "nohost"};
    check(j, "permissions.hosts[1]");
    j["permissions"]["hosts"] = nlohmann::json::array();
    j["limits"] = {{"timeout_s", 0}};
    check(j, "limits.timeout_s");
    j.erase("limits");
    j["tags"] = {"CSV"};
    check(j, "tags[0]");
    j.erase("tags");
    j["output"] = "xml";
    check(j, "output");
    j["output"] = "text";
    j["arguments"] = {{"type", "object"}, {"properties", {{"p", {{"type", "strin"}}}}}};
    check(j, "arguments.properties.p.type");
    j["arguments"] = {{"type", "object"}, {"oneOf", nlohmann::json::array()}};
    check(j, "arguments.oneOf");
    j.erase("arguments");
    j["entrypont"] = {"x"};
    check(j, "entrypont");
    j.erase("entrypont");
    j["entrypoint"] = {"bin/tool"};
    check(j, "entrypoint[0]");
  }
  SECTION("invalid JSON reports a line") {
    testutil::WriteSkillMd(dir.path(), "a", "d");
    REQUIRE(WriteFileAtomic(dir.path() / "a" / "skill.json", "{\n\"version\": \"1.0.0\",\n oops\n}").ok());
    auto r = Rejected(dir.path() / "a");
    CHECK(r.line == 3);
    CHECK(r.message.find("invalid JSON") != std::string::npos);
  }
  SECTION("a folder without SKILL.md") {
    fs::create_directories(dir.path() / "a");
    WriteJson(dir.path() / "a" / "skill.json", ExecManifest());
    CHECK(Rejected(dir.path() / "a").message.find("SKILL.md") != std::string::npos);
  }
}

TEST_CASE("Unknown frontmatter keys are accepted with a warning", "[skills][manifest]") {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "a", "d", "author: someone\n");
  auto s = LoadSkill(dir.path() / "a");
  INFO((s.ok() ? std::string() : s.status().ToString()));
  REQUIRE(s.ok());
  REQUIRE(s->warnings.size() == 1);
  CHECK(s->warnings[0].find("author") != std::string::npos);
}

TEST_CASE("All 142 published SKILL.md fixtures load or are rejected for a stated reason", "[skills][manifest]") {
  const fs::path root = testing::SharedPath("fixtures/agent-skills");
  int loaded = 0, total = 0;
  std::vector<std::string> rejected;
  for (const auto& group : fs::directory_iterator(root)) {
    if (!group.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(group.path())) {
      if (!fs::exists(entry.path() / "SKILL.md")) continue;
      ++total;
      Skill s;
      Rejection r;
      if (ValidateSkill(entry.path(), &s, &r)) {
        ++loaded;
        CHECK(s.name == entry.path().filename().string());
        CHECK_FALSE(s.description.empty());
        CHECK_FALSE(s.instructions.empty());
      } else {
        rejected.push_back(r.ToString());
      }
    }
  }
  CHECK(total == 142);
  // The published set breaks the manifest rules in exactly two ways: descriptions over 1024 characters and
  // metadata values that are lists. Those are rejected, naming the field; everything else loads.
  for (const auto& r : rejected) {
    INFO(r);
    const bool long_description = r.find("field description: expected 1-1024 characters") != std::string::npos;
    const bool list_metadata = r.find("field metadata.") != std::string::npos &&
                               r.find("expected a string value, got a list") != std::string::npos;
    CHECK((long_description || list_metadata));
  }
  CHECK(rejected.size() == 4);
  CHECK(loaded == 138);
}

}  // namespace
}  // namespace warden::skills
