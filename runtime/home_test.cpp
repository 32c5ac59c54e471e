#include "runtime/home.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "runtime/base/file_util.h"
#include "tests/support/test_support.h"

TEST_CASE("InitHome creates everything once and never overwrites", "[runtime][init]") {
  warden::testing::TempDir tmp;
  auto config = warden::DefaultConfig(tmp.path() / "home");
  auto first = warden::InitHome(config);
  REQUIRE(first.ok());
  CHECK(std::filesystem::is_directory(config.skills_dir));
  CHECK(std::filesystem::is_directory(config.policies_dir));
  CHECK(std::filesystem::is_directory(config.models_dir));
  CHECK(std::filesystem::is_directory(config.audit_db.parent_path()));
  REQUIRE(std::filesystem::exists(config.config_file));
  CHECK(first->created.size() == 6);

  // A user edit must survive a second init.
  std::ofstream(config.config_file) << "[log]\nlevel = \"info\"\n";
  auto second = warden::InitHome(config);
  REQUIRE(second.ok());
  CHECK(second->created.empty());
  CHECK(*warden::ReadFile(config.config_file) == "[log]\nlevel = \"info\"\n");
}

TEST_CASE("InitHome refuses a file where a folder belongs", "[runtime][init]") {
  warden::testing::TempDir tmp;
  auto config = warden::DefaultConfig(tmp.path());
  std::ofstream(config.skills_dir) << "not a folder";
  auto r = warden::InitHome(config);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("skills") && Catch::Contains("not a folder"));
  CHECK(*warden::ReadFile(config.skills_dir) == "not a folder");
}
