// A transformers golden file (fixtures/<name>/expected.safetensors) as the golden tests read it: tensors by name as
// floats or ints, a missing tensor failing the test with its name. Shared by the text-model and vision golden tests.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/engine/weights/safetensors.h"
#include "tests/support/test_support.h"

namespace warden::testing {

struct Golden {
  engine::SafetensorsFile file;
  std::vector<float> F(const std::string& name) const {
    const engine::TensorView* t = file.Find(name);
    if (t == nullptr) FAIL("fixture tensor missing: " << name);
    return engine::ToFloat(*t);
  }
  std::vector<int32_t> I(const std::string& name) const {
    auto f = F(name);
    return std::vector<int32_t>(f.begin(), f.end());
  }
};

inline Golden LoadGolden(const std::string& fixture) {
  auto f = engine::SafetensorsFile::Open(SharedPath("fixtures/" + fixture + "/expected.safetensors"));
  REQUIRE(f.ok());
  return Golden{std::move(f).value()};
}

}  // namespace warden::testing
