// Multimodal prompts (multimodal.h): placeholder expansion as the HF processor does it (image pads, video
// timestamps per temporal group), and mixes the fixtures do not cover run through the tiny-a model: two images in
// one prompt, an image followed by a video, text after media. Batched encoding must equal encoding each medium
// alone (attention never crosses images or frames), and decode after media must continue at the rope delta.
#include "runtime/engine/vision/multimodal.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/engine/vision/mrope_index.h"
#include "tests/support/test_support.h"

using namespace warden::engine;

namespace {

MediaItem Item(MediaKind kind, GridThw grid, std::vector<double> ts = {}) {
  MediaItem m;
  m.kind = kind;
  m.grid = grid;
  m.timestamps = std::move(ts);
  return m;
}

std::vector<float> Random(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) - 0.5f;
  }
  return v;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("multimodal: placeholders expand to pads and video timestamps", "[vision][prompt]") {
  const std::vector<MediaItem> media = {Item(MediaKind::kImage, {1, 4, 6}),
                                        Item(MediaKind::kVideo, {2, 4, 4}, {0.25, 1.75})};
  const std::string text =
      "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>and<|vision_start|><|video_pad|><|vision_end|>"
      "what?<|im_end|>\n";
  auto out = ExpandMediaPlaceholders(text, media, 2);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  std::string pads6, pads4;
  for (int i = 0; i < 6; ++i) pads6 += "<|image_pad|>";
  for (int i = 0; i < 4; ++i) pads4 += "<|video_pad|>";
  CHECK(*out == "<|im_start|>user\n<|vision_start|>" + pads6 + "<|vision_end|>and<0.2 seconds><|vision_start|>" +
                    pads4 + "<|vision_end|><1.8 seconds><|vision_start|>" + pads4 + "<|vision_end|>what?<|im_end|>\n");
  // Count and kind mismatches are refused.
  CHECK(!ExpandMediaPlaceholders(text, std::span<const MediaItem>(media.data(), 1), 2).ok());
  const std::vector<MediaItem> swapped = {media[1], media[0]};
  CHECK(!ExpandMediaPlaceholders(text, swapped, 2).ok());
}

TEST_CASE("multimodal: batched media encode exactly as each alone", "[vision][prompt]") {
  auto files = ModelFiles::Load(warden::testing::SharedPath("fixtures/qwen3_5-tiny-a/model"));
  REQUIRE(files.ok());
  auto tower = VisionTower::Load(*files);
  REQUIRE(tower.ok());
  const GridThw a{1, 4, 6}, b{1, 2, 2}, v{2, 4, 4};
  const auto pa = Random(24 * 1536, 1), pb = Random(4 * 1536, 2), pv = Random(32 * 1536, 3);
  auto encode = [&](std::vector<float> px, std::vector<GridThw> grids) {
    auto t = (*tower)->Encode(px, grids);
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    return *(*tower)->backend().DownloadF32(*t);
  };
  const auto ea = encode(pa, {a}), eb = encode(pb, {b}), ev = encode(pv, {v});
  std::vector<float> all = pa;
  all.insert(all.end(), pb.begin(), pb.end());
  all.insert(all.end(), pv.begin(), pv.end());
  const auto batched = encode(all, {a, b, v});  // two images, then a video
  std::vector<float> expect = ea;
  expect.insert(expect.end(), eb.begin(), eb.end());
  expect.insert(expect.end(), ev.begin(), ev.end());
  CHECK(MaxAbsDiff(batched, expect) < 1e-5);
  // A video's frames attend only within themselves: the second frame alone, as a one-frame video, matches.
  const std::vector<float> frame2(pv.begin() + 16 * 1536, pv.end());
  const auto e2 = encode(frame2, {{1, 4, 4}});
  CHECK(MaxAbsDiff(std::vector<float>(ev.begin() + 4 * 64, ev.end()), e2) < 1e-5);
}

TEST_CASE("multimodal: two images, then a video, then text, and decode after media", "[vision][prompt]") {
  auto files = ModelFiles::Load(warden::testing::SharedPath("fixtures/qwen3_5-tiny-a/model"));
  REQUIRE(files.ok());
  auto model = Qwen35TextModel::Load(*files);
  REQUIRE(model.ok());
  auto tower = VisionTower::Load(*files);
  REQUIRE(tower.ok());
  const ModelConfig& cfg = files->config();
  const int32_t S = static_cast<int32_t>(*cfg.vision_start_token_id), E = static_cast<int32_t>(*cfg.vision_end_token_id),
                I = static_cast<int32_t>(*cfg.image_token_id), V = static_cast<int32_t>(*cfg.video_token_id);
  const std::vector<MediaItem> media = {
      [&] { auto m = Item(MediaKind::kImage, {1, 4, 6}); m.pixel_values = Random(24 * 1536, 4); return m; }(),
      [&] { auto m = Item(MediaKind::kImage, {1, 2, 2}); m.pixel_values = Random(4 * 1536, 5); return m; }(),
      [&] { auto m = Item(MediaKind::kVideo, {2, 2, 4}, {0, 1}); m.pixel_values = Random(16 * 1536, 6); return m; }()};
  // text, img(6), text, img(1), ts text, frame(2), ts text, frame(2), text
  std::vector<int32_t> ids = {10, 11, S, I, I, I, I, I, I, E, 12, S, I, E, 40, S, V, V, E, 41, S, V, V, E, 13, 14};
  const MediaBatch batch = MediaBatch::From(media);
  auto seq = (*model)->NewSequence();
  MultimodalRequest req;
  req.ids = ids;
  req.media = &batch;
  auto r = ForwardMultimodal(**model, tower->get(), cfg, *seq, req);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  for (float x : r->logits) REQUIRE(std::isfinite(x));
  // Positions: 0,1 text; S 2; img 3..(2×3 merged → +3) ; E 6; 12 7; S 8; img 9 (+1); E 10; 40 11; S 12; frame 13
  // (1×2 → +2); E 15; 41 16; S 17; frame 18 (+2); E 20; 13 21; 14 22 → next 23, delta 23 − 26 = −3.
  CHECK(seq->rope_delta == -3);
  // Decode continues at the rope delta: one more token through the sequence equals the same token appended to the
  // prompt with its explicit position.
  const int32_t next = 15;
  auto d = (*model)->Forward(*seq, {.ids = std::span<const int32_t>(&next, 1)});
  REQUIRE(d.ok());
  std::vector<int32_t> ids2 = ids;
  ids2.push_back(next);
  MropeInput mi{.ids = ids2, .image_grids = batch.image_grids, .video_grids = batch.video_grids,
                .image_token_id = I, .video_token_id = V};
  auto pos = ComputeMropePositions(mi);
  REQUIRE(pos.ok());
  CHECK(pos->ids[ids.size()] == 23);
  auto seq2 = (*model)->NewSequence();
  MultimodalRequest req2;
  req2.ids = ids2;
  req2.media = &batch;
  auto r2 = ForwardMultimodal(**model, tower->get(), cfg, *seq2, req2);
  REQUIRE(r2.ok());
  const size_t vocab = r2->vocab_size;
  const std::vector<float> last(r2->logits.end() - static_cast<long>(vocab), r2->logits.end());
  CHECK(MaxAbsDiff(last, d->logits) < 1e-3);
  // Media with a missing pad run are refused before the model runs.
  std::vector<int32_t> short_ids(ids.begin(), ids.begin() + 8);
  MultimodalRequest bad;
  bad.ids = short_ids;
  bad.media = &batch;
  auto seq3 = (*model)->NewSequence();
  CHECK(!ForwardMultimodal(**model, tower->get(), cfg, *seq3, bad).ok());
  CHECK(seq3->length() == 0);
}
