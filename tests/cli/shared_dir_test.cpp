// The shared fixtures folder must be reachable: every fixture suite depends on it.
#include <catch2/catch.hpp>

#include "tests/support/test_support.h"

TEST_CASE("the shared folder passed in by the build exists", "[shared]") {
  auto root = warden::testing::SharedPath();
  CHECK(std::filesystem::exists(root / "README.md"));
  CHECK(std::filesystem::is_directory(root / "fixtures"));
}
