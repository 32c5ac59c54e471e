// M-RoPE position ids for prompt mixes the fixtures do not cover (model.md §3): two images, an image then a
// video, text after media, and a continuation after a cached prefix.
#include "runtime/engine/vision/mrope_index.h"

#include <catch2/catch.hpp>

using namespace warden::engine;

namespace {
constexpr int32_t kImg = 900, kVid = 901, kStart = 902, kEnd = 903;

std::vector<int64_t> Axis(const MropePositions& p, size_t axis, size_t T) {
  return std::vector<int64_t>(p.ids.begin() + static_cast<long>(axis * T), p.ids.begin() + static_cast<long>((axis + 1) * T));
}
}  // namespace

TEST_CASE("mrope: two images, text after media", "[vision][mrope]") {
  // t0 t1 S [img 2×2 merged: 4] E t S [img 1×3 merged: 3] E t
  std::vector<int32_t> ids = {5, 6, kStart, kImg, kImg, kImg, kImg, kEnd, 7, kStart, kImg, kImg, kImg, kEnd, 8};
  const std::vector<GridThw> grids = {{1, 4, 4}, {1, 2, 6}};
  MropeInput in{.ids = ids, .image_grids = grids, .image_token_id = kImg, .video_token_id = kVid};
  auto p = ComputeMropePositions(in);
  REQUIRE(p.ok());
  const size_t T = ids.size();
  CHECK(Axis(*p, 0, T) == std::vector<int64_t>{0, 1, 2, 3, 3, 3, 3, 5, 6, 7, 8, 8, 8, 11, 12});
  CHECK(Axis(*p, 1, T) == std::vector<int64_t>{0, 1, 2, 3, 3, 4, 4, 5, 6, 7, 8, 8, 8, 11, 12});
  CHECK(Axis(*p, 2, T) == std::vector<int64_t>{0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(p->next_position == 13);
}

TEST_CASE("mrope: an image followed by a video of two frame groups", "[vision][mrope]") {
  // S [img 1×2] E  <ts> S [frame 1×1] E <ts> S [frame 1×1] E t
  std::vector<int32_t> ids = {kStart, kImg, kImg, kEnd, 40, kStart, kVid, kEnd, 41, kStart, kVid, kEnd, 9};
  const std::vector<GridThw> images = {{1, 2, 4}}, videos = {{2, 2, 2}};
  MropeInput in{.ids = ids, .image_grids = images, .video_grids = videos, .image_token_id = kImg,
                .video_token_id = kVid};
  auto p = ComputeMropePositions(in);
  REQUIRE(p.ok());
  const size_t T = ids.size();
  CHECK(Axis(*p, 0, T) == std::vector<int64_t>{0, 1, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(Axis(*p, 2, T) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(p->next_position == 13);
}

TEST_CASE("mrope: continuation starts at the given position, bad counts are refused", "[vision][mrope]") {
  std::vector<int32_t> ids = {1, 2, 3};
  MropeInput in{.ids = ids, .image_token_id = kImg, .video_token_id = kVid, .first_position = 27};
  auto p = ComputeMropePositions(in);
  REQUIRE(p.ok());
  CHECK(p->ids == std::vector<int64_t>{27, 28, 29, 27, 28, 29, 27, 28, 29});
  std::vector<int32_t> short_run = {kImg, kImg, 5};
  const std::vector<GridThw> grids = {{1, 4, 4}};
  MropeInput bad{.ids = short_run, .image_grids = grids, .image_token_id = kImg, .video_token_id = kVid};
  CHECK(!ComputeMropePositions(bad).ok());
  MropeInput missing{.ids = ids, .image_grids = grids, .image_token_id = kImg, .video_token_id = kVid};
  CHECK(!ComputeMropePositions(missing).ok());
}
