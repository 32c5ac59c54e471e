// Preprocessing against transformers' Qwen2VLImageProcessor (fixtures/preprocess: three PNGs, their pixel values
// and grids), plus smart-resize edge cases and video frame sampling (model.md §4.1, §4.5).
#include "runtime/engine/vision/preprocess.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/engine/vision/media_decode.h"
#include "runtime/engine/weights/safetensors.h"
#include "tests/support/test_support.h"

using namespace warden::engine;

namespace {

// The fixture's processor settings (fixtures/preprocess/expected.json).
PreprocessorConfig FixtureConfig() {
  PreprocessorConfig c;
  c.min_pixels = 65536;
  c.max_pixels = 262144;
  return c;
}

}  // namespace

TEST_CASE("preprocess fixture: pixel values within 2/255 and exact grids", "[vision][preprocess]") {
  auto golden = SafetensorsFile::Open(warden::testing::SharedPath("fixtures/preprocess/expected.safetensors"));
  REQUIRE(golden.ok());
  for (const char* name : {"img_75x50.png", "img_640x480.png", "img_37x300.png"}) {
    INFO(name);
    auto image = DecodeImageFile(warden::testing::SharedPath(std::string("fixtures/preprocess/") + name));
    INFO(image.status().ToString());
    REQUIRE(image.ok());
    auto out = PreprocessImage(*image, FixtureConfig());
    REQUIRE(out.ok());
    const auto grid = ToFloat(*golden->Find(std::string(name) + ".grid_thw"));
    CHECK(out->grid.t == static_cast<int64_t>(grid[0]));
    CHECK(out->grid.h == static_cast<int64_t>(grid[1]));
    CHECK(out->grid.w == static_cast<int64_t>(grid[2]));
    const auto ref = ToFloat(*golden->Find(std::string(name) + ".pixel_values"));
    REQUIRE(out->pixel_values.size() == ref.size());
    double worst = 0;
    size_t off_by_one = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double d = std::fabs(static_cast<double>(out->pixel_values[i]) - ref[i]);
      worst = std::max(worst, d);
      if (d > 1e-4) ++off_by_one;
    }
    UNSCOPED_INFO(name << ": worst " << worst * 127.5 << " levels, " << off_by_one << " of " << ref.size()
                       << " values differ");
    CHECK(worst <= 2.0 / 255.0 + 1e-6);
  }
}

TEST_CASE("smart resize: spec examples, tiny and extreme sizes", "[vision][preprocess]") {
  auto r = SmartResize(1080, 1920, 32, 65536, 16777216);
  REQUIRE(r.ok());
  CHECK(r->first == 1088);
  CHECK(r->second == 1920);
  r = SmartResize(224, 224, 32, 65536, 16777216);
  REQUIRE(r.ok());
  CHECK(r->first == 256);
  CHECK(r->second == 256);
  r = SmartResize(1, 1, 32, 65536, 16777216);  // upscaled to the minimum
  REQUIRE(r.ok());
  CHECK(r->first == 256);
  CHECK(r->second == 256);
  r = SmartResize(100000, 90000, 32, 65536, 262144);  // downscaled within max pixels
  REQUIRE(r.ok());
  CHECK(r->first * r->second <= 262144);
  CHECK(!SmartResize(10, 10000, 32, 65536, 262144).ok());  // aspect ratio 1000 > 200
  CHECK(!SmartResize(0, 10, 32, 65536, 262144).ok());
}

TEST_CASE("video frame sampling follows fps and frame limits", "[vision][preprocess]") {
  VideoPreprocessorConfig c;
  // 10 s at 30 fps, sampled at 2 fps → 20 frames spread over the clip.
  auto idx = SampleFrameIndices(300, 30.0, c);
  REQUIRE(idx.size() == 20);
  CHECK(idx.front() == 0);
  CHECK(idx.back() == 299);
  // Short clips still give min_frames, never more than exist.
  CHECK(SampleFrameIndices(10, 30.0, c).size() == 4);
  CHECK(SampleFrameIndices(3, 30.0, c).size() == 3);
  c.max_frames = 6;
  CHECK(SampleFrameIndices(3000, 30.0, c).size() == 6);
}
