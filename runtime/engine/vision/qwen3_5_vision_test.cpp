// Golden tests of the vision path against Hugging Face transformers (fixtures/qwen3_5-tiny-a, -c; see
// ../shared/fixtures/README.md): the vision tower alone, M-RoPE ids, whole-model logits with an image or a video,
// and greedy decode after an image (the rope delta carried into decode). Tolerances are max|Δ| / max|ref| as in the
// text-model tests (~1e-4 is what fp32 reaches against HF's float64-with-fp32-islands reference).
#include "runtime/engine/vision/qwen3_5_vision.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/engine/vision/mrope_index.h"
#include "runtime/engine/vision/multimodal.h"
#include "runtime/engine/weights/safetensors.h"
#include "tests/support/golden.h"
#include "tests/support/golden_tensors.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::NormalisedError;

namespace {

using warden::testing::Golden;
using warden::testing::LoadGolden;

GridThw Grid(const Golden& g, const std::string& name) {
  auto v = g.I(name);
  REQUIRE(v.size() == 3);
  return {v[0], v[1], v[2]};
}

struct Loaded {
  std::unique_ptr<ModelFiles> files;
  std::unique_ptr<Qwen35TextModel> model;
  std::unique_ptr<VisionTower> tower;
};

Loaded Load(const std::string& fixture) {
  auto files = ModelFiles::Load(warden::testing::SharedPath("fixtures/" + fixture + "/model"));
  INFO(files.status().ToString());
  REQUIRE(files.ok());
  Loaded l;
  l.files = std::make_unique<ModelFiles>(std::move(files).value());
  auto model = Qwen35TextModel::Load(*l.files);
  INFO(model.status().ToString());
  REQUIRE(model.ok());
  l.model = std::move(model).value();
  auto tower = VisionTower::Load(*l.files);
  INFO(tower.status().ToString());
  REQUIRE(tower.ok());
  l.tower = std::move(tower).value();
  return l;
}

ForwardResult RunMedia(const Loaded& l, SequenceState& seq, const std::vector<int32_t>& ids, const MediaBatch& media) {
  MultimodalRequest req;
  req.ids = ids;
  req.media = &media;
  auto r = ForwardMultimodal(*l.model, l.tower.get(), l.files->config(), seq, req);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

size_t ArgMax(const float* row, size_t n) { return static_cast<size_t>(std::max_element(row, row + n) - row); }

}  // namespace

TEST_CASE("tiny-a: the vision tower alone reproduces image.embeds", "[vision][golden]") {
  const Golden g = LoadGolden("qwen3_5-tiny-a");
  const Loaded l = Load("qwen3_5-tiny-a");
  const std::vector<GridThw> grids = {Grid(g, "image.grid_thw")};
  auto out = l.tower->Encode(g.F("image.pixel_values"), grids);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  auto host = l.tower->backend().DownloadF32(*out);
  REQUIRE(host.ok());
  const auto ref = g.F("image.embeds");
  REQUIRE(host->size() == ref.size());
  CHECK(NormalisedError(host->data(), ref.data(), ref.size(), "image.embeds") < 1e-4);
}

TEST_CASE("tiny-a: M-RoPE ids for the image prompt equal image.position_ids", "[vision][golden]") {
  const Golden g = LoadGolden("qwen3_5-tiny-a");
  const Loaded l = Load("qwen3_5-tiny-a");
  const auto ids = g.I("image.input_ids");
  const std::vector<GridThw> grids = {Grid(g, "image.grid_thw")};
  MropeInput in;
  in.ids = ids;
  in.image_grids = grids;
  in.image_token_id = static_cast<int32_t>(*l.files->config().image_token_id);
  in.video_token_id = static_cast<int32_t>(*l.files->config().video_token_id);
  auto p = ComputeMropePositions(in);
  REQUIRE(p.ok());
  const auto ref = g.I("image.position_ids");
  REQUIRE(p->ids.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) CHECK(p->ids[i] == ref[i]);
  CHECK(p->next_position - static_cast<int64_t>(ids.size()) == -3);  // model.md §3 worked example
}

TEST_CASE("tiny-a: logits with an image and with a video (two frame groups)", "[vision][golden]") {
  const Golden g = LoadGolden("qwen3_5-tiny-a");
  const Loaded l = Load("qwen3_5-tiny-a");
  const size_t V = static_cast<size_t>(l.model->config().vocab_size);
  {
    MediaBatch media;
    media.image_pixels = g.F("image.pixel_values");
    media.image_grids = {Grid(g, "image.grid_thw")};
    auto seq = l.model->NewSequence();
    const auto r = RunMedia(l, *seq, g.I("image.input_ids"), media);
    const auto ref = g.F("image.logits");
    REQUIRE(r.logits.size() == ref.size());
    CHECK(NormalisedError(r.logits.data(), ref.data(), ref.size(), "image.logits") < 1e-3);
    CHECK(seq->rope_delta == -3);
  }
  {
    MediaBatch media;
    media.video_pixels = g.F("video.pixel_values");
    media.video_grids = {Grid(g, "video.grid_thw")};
    auto seq = l.model->NewSequence();
    const auto r = RunMedia(l, *seq, g.I("video.input_ids"), media);
    const auto ref = g.F("video.logits");
    REQUIRE(r.logits.size() == ref.size());
    CHECK(NormalisedError(r.logits.data(), ref.data(), ref.size(), "video.logits") < 1e-3);
  }
  (void)V;
}

TEST_CASE("tiny-c: image logits, then 8 greedy decode steps through the rope delta", "[vision][golden]") {
  const Golden g = LoadGolden("qwen3_5-tiny-c");
  const Loaded l = Load("qwen3_5-tiny-c");
  const size_t V = static_cast<size_t>(l.model->config().vocab_size);
  MediaBatch media;
  media.image_pixels = g.F("image.pixel_values");
  media.image_grids = {Grid(g, "image.grid_thw")};
  auto seq = l.model->NewSequence();
  const auto ids = g.I("image.input_ids");
  const auto r = RunMedia(l, *seq, ids, media);
  const auto ref = g.F("image.logits");
  REQUIRE(r.logits.size() == ref.size());
  CHECK(NormalisedError(r.logits.data(), ref.data(), ref.size(), "image.logits") < 1e-3);

  const auto step_ref = g.F("image.greedy_step_logits");
  const auto greedy = g.I("image.greedy_ids");
  REQUIRE(step_ref.size() == greedy.size() * V);
  std::vector<float> last(r.logits.end() - static_cast<long>(V), r.logits.end());
  for (size_t s = 0; s < greedy.size(); ++s) {
    CHECK(NormalisedError(last.data(), step_ref.data() + s * V, V, "step " + std::to_string(s)) < 1e-2);
    CHECK(static_cast<int32_t>(ArgMax(last.data(), V)) == greedy[s]);
    if (s + 1 == greedy.size()) break;
    const int32_t next = greedy[s];
    auto d = l.model->Forward(*seq, {.ids = std::span<const int32_t>(&next, 1)});
    REQUIRE(d.ok());
    last = d->logits;
  }
}
