// NormalisedError (golden.h).
#include "tests/support/golden.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace warden::testing {

double NormalisedError(const float* got, const float* ref, size_t n, const std::string& what) {
  double max_diff = 0, max_ref = 0;
  size_t worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (d > max_diff) {
      max_diff = d;
      worst = i;
    }
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  const double err = max_diff / std::max(max_ref, 1e-30);
  if (n > 0) {
    UNSCOPED_INFO(what << ": normalised error " << err << " (worst at " << worst << ": got " << got[worst]
                       << ", ref " << ref[worst] << ")");
  }
  // scripts/gpu-check.sh: every comparison of a golden test, by test name (the tolerance is the test's own).
  if (const char* path = std::getenv("WARDEN_GPU_CHECK_REPORT"); path != nullptr && *path != '\0') {
    std::ofstream(path, std::ios::app) << "golden " << Catch::getResultCapture().getCurrentTestName() << " / " << what
                                       << "|" << err << "|-|-\n";
  }
  return err;
}

double NormalisedError(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what) {
  REQUIRE(got.size() == ref.size());
  return NormalisedError(got.data(), ref.data(), got.size(), what);
}

}  // namespace warden::testing
