#include "runtime/config.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/test_support.h"

using warden::Config;
using warden::DefaultConfig;
using warden::ParseConfigText;

TEST_CASE("default config text parses to the defaults", "[runtime][config]") {
  Config base = DefaultConfig("/h");
  auto c = ParseConfigText(warden::DefaultConfigText(), "warden.toml", base);
  REQUIRE(c.ok());
  CHECK(c->skills_dir == "/h/skills");
  CHECK(c->policies_dir == "/h/policies");
  CHECK(c->audit_db == "/h/audit/audit.db");
  CHECK(c->models_dir == "/h/models");
  CHECK(c->log_level == "warn");
  CHECK(c->log_format == "text");
}

TEST_CASE("relative paths are under home, absolute ones kept", "[runtime][config]") {
  auto c = ParseConfigText("[paths]\nskills = \"cat\"\nmodels = \"/srv/models\"\n", "f.toml", DefaultConfig("/h"));
  REQUIRE(c.ok());
  CHECK(c->skills_dir == "/h/cat");
  CHECK(c->models_dir == "/srv/models");
  CHECK(c->policies_dir == "/h/policies");
}

TEST_CASE("bad config files name file, line and key", "[runtime][config]") {
  struct Case { const char* text; const char* needle; };
  const Case cases[] = {
      {"[paths]\nskils = \"x\"\n", "f.toml:2: unknown key \"paths.skils\""},
      {"[paths]\nskills = 3\n", "f.toml:2: paths.skills: expected a string path"},
      {"[log]\nlevel = \"loud\"\n", "f.toml:2: log.level: expected"},
      {"[log]\nformat = \"xml\"\n", "got \"xml\""},
      {"[network]\n", "unknown section [network]"},
      {"top = 1\n", "f.toml:1: unknown key \"top\""},
      {"[paths\n", "f.toml:1:"},
      {"[paths]\nskills = \"\"\n", "path is empty"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfigText(c.text, "f.toml", DefaultConfig("/h"));
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == warden::Status::Code::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains(c.needle));
  }
}

TEST_CASE("LoadConfig: absent default file is fine, absent explicit file is not", "[runtime][config]") {
  warden::testing::TempDir tmp;
  auto c = warden::LoadConfig(tmp.path(), "");
  REQUIRE(c.ok());
  CHECK_FALSE(c->config_file_exists);
  auto missing = warden::LoadConfig(tmp.path(), tmp.path() / "nope.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == warden::Status::Code::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("nope.toml"));
}

TEST_CASE("LoadConfig reads the file", "[runtime][config]") {
  warden::testing::TempDir tmp;
  std::ofstream(tmp.path() / "warden.toml") << "[log]\nlevel = \"debug\"\n";
  auto c = warden::LoadConfig(tmp.path(), "");
  REQUIRE(c.ok());
  CHECK(c->config_file_exists);
  CHECK(c->log_level == "debug");
}
