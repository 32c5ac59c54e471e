// Comparing a computed tensor with a golden reference, the one way every golden test does it: max|got − ref| divided
// by max|ref| (model.md §8), with the worst element printed so a failure shows where it went wrong.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace warden::testing {

// Returns the normalised error of `got` against `ref` (n elements each) and logs it under `what`. When
// $WARDEN_GPU_CHECK_REPORT names a file, the comparison is also appended there for scripts/gpu-check.sh's table.
double NormalisedError(const float* got, const float* ref, size_t n, const std::string& what);
// The same for two vectors, which must have equal sizes.
double NormalisedError(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what);

}  // namespace warden::testing
