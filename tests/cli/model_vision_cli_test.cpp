// `warden model logits` with pixel values and grids, and `warden model preprocess`, end to end on the fixtures
// (model.md §3–4): the logits CLI reproduces tiny-a image/video and tiny-c image logits, preprocess reproduces the
// preprocess fixture and writes a file logits accepts, and bad media or inputs fail naming the file.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"
#include "tests/support/golden.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::NormalisedError;
using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

namespace {

std::vector<float> Read(const std::filesystem::path& file, const std::string& name) {
  auto f = SafetensorsFile::Open(file);
  REQUIRE(f.ok());
  const TensorView* t = f->Find(name);
  if (t == nullptr) FAIL("missing tensor " << name << " in " << file);
  return ToFloat(*t);
}

std::vector<int32_t> Ints(const std::vector<float>& f) { return std::vector<int32_t>(f.begin(), f.end()); }

// Writes the fixture's `<prefix>.*` media prompt as `warden model logits` inputs.
std::filesystem::path MediaInputs(const TempDir& tmp, const std::string& fixture, const std::string& prefix,
                                  bool video, bool with_positions = false) {
  const auto expected = SharedPath("fixtures/" + fixture + "/expected.safetensors");
  const auto ids = Ints(Read(expected, prefix + ".input_ids"));
  const auto px = Read(expected, prefix + ".pixel_values");
  const auto grid = Ints(Read(expected, prefix + ".grid_thw"));
  std::vector<TensorToWrite> t = {
      {"input_ids", DType::kI32, {1, static_cast<int64_t>(ids.size())}, BytesOf(ids)},
      {video ? "pixel_values_videos" : "pixel_values", DType::kF32, {static_cast<int64_t>(px.size() / 1536), 1536},
       BytesOf(px)},
      {video ? "video_grid_thw" : "image_grid_thw", DType::kI32, {1, 3}, BytesOf(grid)}};
  if (with_positions) {
    const auto pos = Ints(Read(expected, prefix + ".position_ids"));
    t.push_back({"position_ids", DType::kI32, {3, static_cast<int64_t>(ids.size())}, BytesOf(pos)});
  }
  auto path = tmp.path() / (fixture + prefix + ".safetensors");
  REQUIRE(WriteSafetensors(path, t).ok());
  return path;
}

}  // namespace

TEST_CASE("model logits: image and video prompts reproduce the fixtures", "[cli][vision]") {
  TempDir tmp;
  struct Case {
    std::string fixture, prefix;
    bool video, positions;
  };
  for (const Case& c : {Case{"qwen3_5-tiny-a", "image", false, false}, Case{"qwen3_5-tiny-a", "image", false, true},
                        Case{"qwen3_5-tiny-a", "video", true, false}, Case{"qwen3_5-tiny-c", "image", false, false}}) {
    INFO(c.fixture << " " << c.prefix << (c.positions ? " with position_ids" : ""));
    const auto in = MediaInputs(tmp, c.fixture, c.prefix, c.video, c.positions);
    const auto out = tmp.path() / "out.safetensors";
    auto r = RunWarden({"model", "logits", "--model", SharedPath("fixtures/" + c.fixture + "/model").string(),
                        "--inputs", in.string(), "--out", out.string(), "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc[c.video ? "videos" : "images"] == 1);
    const auto ref = Read(SharedPath("fixtures/" + c.fixture + "/expected.safetensors"), c.prefix + ".logits");
    CHECK(NormalisedError(Read(out, "logits"), ref, "logits") < 1e-3);
  }
}

TEST_CASE("model logits: bad vision inputs fail naming the file and tensor", "[cli][vision]") {
  TempDir tmp;
  const auto expected = SharedPath("fixtures/qwen3_5-tiny-a/expected.safetensors");
  const auto ids = Ints(Read(expected, "image.input_ids"));
  const auto px = Read(expected, "image.pixel_values");
  const std::string model = SharedPath("fixtures/qwen3_5-tiny-a/model").string();
  auto run = [&](const std::vector<TensorToWrite>& t) {
    const auto in = tmp.path() / "bad.safetensors";
    REQUIRE(WriteSafetensors(in, t).ok());
    return RunWarden({"model", "logits", "--model", model, "--inputs", in.string(), "--out",
                      (tmp.path() / "o.safetensors").string()});
  };
  const TensorToWrite id_t{"input_ids", DType::kI32, {static_cast<int64_t>(ids.size())}, BytesOf(ids)};
  const TensorToWrite px_t{"pixel_values", DType::kF32, {24, 1536}, BytesOf(px)};
  // Pixel values without their grid.
  auto r = run({id_t, px_t});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("image_grid_thw") != std::string::npos);
  // A grid that does not cover the rows.
  r = run({id_t, px_t, {"image_grid_thw", DType::kI32, {1, 3}, BytesOf(std::vector<int32_t>{1, 4, 4})}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("patches") != std::string::npos);
  // Pad tokens that do not match the grid.
  std::vector<int32_t> fewer(ids.begin(), ids.end());
  fewer.erase(std::find(fewer.begin(), fewer.end(), 1000));
  r = run({{"input_ids", DType::kI32, {static_cast<int64_t>(fewer.size())}, BytesOf(fewer)}, px_t,
           {"image_grid_thw", DType::kI32, {1, 3}, BytesOf(std::vector<int32_t>{1, 4, 6})}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.safetensors") != std::string::npos);
}

TEST_CASE("model preprocess: fixture PNG, a file logits accepts, and bad files", "[cli][vision]") {
  TempDir tmp;
  const auto out = tmp.path() / "px.safetensors";
  auto r = RunWarden({"model", "preprocess", "--image", SharedPath("fixtures/preprocess/img_75x50.png").string(),
                      "--min-pixels", "65536", "--max-pixels", "262144", "--out", out.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["grid_thw"] == nlohmann::json::array({1, 14, 20}));
  CHECK(doc["llm_tokens"] == 70);
  const auto got = Read(out, "pixel_values");
  const auto ref = Read(SharedPath("fixtures/preprocess/expected.safetensors"), "img_75x50.png.pixel_values");
  REQUIRE(got.size() == ref.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - ref[i]));
  CHECK(worst <= 2.0 / 255.0);
  CHECK(Read(out, "image_grid_thw") == std::vector<float>{1, 14, 20});

  // Text output and exit codes.
  r = RunWarden({"model", "preprocess", "--image", SharedPath("fixtures/preprocess/img_640x480.png").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("300 pad tokens") != std::string::npos);
  CHECK(RunWarden({"model", "preprocess"}).exit_code == 2);
  const auto junk = tmp.path() / "junk.jpg";
  std::ofstream(junk) << "definitely not a jpeg";
  r = RunWarden({"model", "preprocess", "--image", junk.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("junk.jpg") != std::string::npos);
  const auto empty = tmp.path() / "empty.png";
  std::ofstream(empty).close();
  r = RunWarden({"model", "preprocess", "--image", empty.string(), "--json"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("empty.png") != std::string::npos);
  const auto clip = tmp.path() / "bad.mp4";
  std::ofstream(clip) << std::string(2048, '\x01');
  r = RunWarden({"model", "preprocess", "--video", clip.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.mp4") != std::string::npos);
}

TEST_CASE("model preprocess: a video gives temporal groups and timestamps", "[cli][vision]") {
  TempDir tmp;
  const auto clip = tmp.path() / "clip.y4m";
  {
    std::string s = "YUV4MPEG2 W96 H64 F8:1 Ip A1:1 C420jpeg\n";
    for (int k = 0; k < 16; ++k) {
      s += "FRAME\n" + std::string(96 * 64, static_cast<char>(10 * k)) + std::string(96 * 64 / 2, '\x80');
    }
    std::ofstream(clip, std::ios::binary) << s;
  }
  auto r = RunWarden({"model", "preprocess", "--video", clip.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  // 2 s at 8 fps sampled at 2 fps → 4 frames → 2 temporal groups.
  CHECK(doc["grid_thw"][0] == 2);
  CHECK(doc["total_frames"] == 16);
  REQUIRE(doc["timestamps"].size() == 2);
  CHECK(doc["llm_tokens"].get<int64_t>() ==
        doc["grid_thw"][0].get<int64_t>() * doc["grid_thw"][1].get<int64_t>() * doc["grid_thw"][2].get<int64_t>() / 4);
}

TEST_CASE("model generate --image: the first greedy token equals model logits on the same media", "[cli][vision]") {
  TempDir tmp;
  const std::string model = SharedPath("fixtures/qwen3_5-tiny-a/model").string();
  const std::string png = SharedPath("fixtures/preprocess/img_75x50.png").string();
  const auto px = tmp.path() / "px.safetensors";
  auto r = RunWarden({"model", "preprocess", "--image", png, "--model", model, "--out", px.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const int64_t pads = nlohmann::json::parse(r.out)["llm_tokens"].get<int64_t>();
  std::vector<int32_t> ids = {5, 6, 1002};
  for (int64_t i = 0; i < pads; ++i) ids.push_back(1000);
  for (int32_t t : {1003, 7, 8, 9}) ids.push_back(t);
  const auto in = tmp.path() / "ids.safetensors";
  REQUIRE(WriteSafetensors(in, {{"input_ids", DType::kI32, {static_cast<int64_t>(ids.size())}, BytesOf(ids)}}).ok());
  r = RunWarden({"model", "generate", "--model", model, "--inputs", in.string(), "--image", png, "--temperature", "0",
                 "--max-new-tokens", "3", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto out_ids = nlohmann::json::parse(r.out)["output_ids"];
  REQUIRE(out_ids.size() == 3);

  const auto grid = Read(px, "image_grid_thw");
  const auto pixels = Read(px, "pixel_values");
  const auto with_media = tmp.path() / "media.safetensors";
  const std::vector<int32_t> g(grid.begin(), grid.end());
  REQUIRE(WriteSafetensors(with_media,
                           {{"input_ids", DType::kI32, {static_cast<int64_t>(ids.size())}, BytesOf(ids)},
                            {"pixel_values", DType::kF32, {static_cast<int64_t>(pixels.size() / 1536), 1536},
                             BytesOf(pixels)},
                            {"image_grid_thw", DType::kI32, {1, 3}, BytesOf(g)}})
              .ok());
  const auto logits_out = tmp.path() / "logits.safetensors";
  r = RunWarden({"model", "logits", "--model", model, "--inputs", with_media.string(), "--out", logits_out.string()});
  REQUIRE(r.exit_code == 0);
  const auto logits = Read(logits_out, "logits");
  const size_t V = 1024;
  const auto last = logits.end() - static_cast<long>(V);
  CHECK(std::max_element(last, logits.end()) - last == out_ids[0].get<int64_t>());
  // Pads that do not match the attached image are refused.
  const auto wrong = tmp.path() / "wrong.safetensors";
  std::vector<int32_t> few = {5, 1002, 1000, 1003};
  REQUIRE(WriteSafetensors(wrong, {{"input_ids", DType::kI32, {4}, BytesOf(few)}}).ok());
  r = RunWarden({"model", "generate", "--model", model, "--inputs", wrong.string(), "--image", png,
                 "--max-new-tokens", "1"});
  CHECK(r.exit_code == 1);
  CHECK(!r.err.empty());
}
