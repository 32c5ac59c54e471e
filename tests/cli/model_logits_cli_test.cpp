// `warden model logits` end to end on the tiny fixtures: the file interface other golden checks drive.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

namespace {

std::vector<float> Read(const std::filesystem::path& file, const std::string& name) {
  auto f = SafetensorsFile::Open(file);
  REQUIRE(f.ok());
  const TensorView* t = f->Find(name);
  REQUIRE(t != nullptr);
  return ToFloat(*t);
}

double MaxNormalisedError(const std::vector<float>& got, const std::vector<float>& ref, size_t offset = 0) {
  double mx = 0, mr = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    mx = std::max(mx, std::fabs(static_cast<double>(got[i]) - ref[offset + i]));
    mr = std::max(mr, std::fabs(static_cast<double>(ref[offset + i])));
  }
  return mx / mr;
}

}  // namespace

TEST_CASE("model logits: one call and a prefix split reproduce the fixture", "[cli][engine][model]") {
  TempDir tmp;
  auto expected = SharedPath("fixtures/qwen3_5-tiny-c/expected.safetensors");
  auto ids_f = Read(expected, "text.input_ids");
  std::vector<int32_t> ids(ids_f.begin(), ids_f.end());
  auto in = tmp.path() / "in.safetensors";
  REQUIRE(WriteSafetensors(in, {{"input_ids", DType::kI32, {150}, BytesOf(ids)},
                                {"prefix_len", DType::kI32, {}, BytesOf(std::vector<int32_t>{100})}})
              .ok());
  auto out = tmp.path() / "out.safetensors";
  auto r = RunWarden({"model", "logits", "--model", SharedPath("fixtures/qwen3_5-tiny-c/model").string(), "--inputs",
                      in.string(), "--out", out.string(), "--hidden-states", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["calls"] == nlohmann::json::array({100, 50}));
  auto logits = Read(out, "logits");
  REQUIRE(logits.size() == 150 * 2048);
  CHECK(MaxNormalisedError(logits, Read(expected, "text.logits")) < 1e-3);
  std::vector<float> tail(logits.begin() + 100 * 2048, logits.end());
  CHECK(MaxNormalisedError(tail, Read(expected, "continue.logits")) < 1e-3);
  CHECK(Read(out, "hidden_states").size() == 9 * 150 * 128);
}

TEST_CASE("model logits: bad inputs fail naming the file and tensor", "[cli][engine][model]") {
  TempDir tmp;
  auto model = SharedPath("fixtures/qwen3_5-tiny-c/model").string();
  auto out = (tmp.path() / "out.safetensors").string();
  auto no_ids = tmp.path() / "no_ids.safetensors";
  REQUIRE(WriteSafetensors(no_ids, {{"tokens", DType::kI32, {1}, BytesOf(std::vector<int32_t>{1})}}).ok());
  auto r = RunWarden({"model", "logits", "--model", model, "--inputs", no_ids.string(), "--out", out});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no_ids.safetensors") && Catch::Contains("input_ids"));
  auto big = tmp.path() / "big.safetensors";
  REQUIRE(WriteSafetensors(big, {{"input_ids", DType::kI32, {2}, BytesOf(std::vector<int32_t>{5, 4096})}}).ok());
  r = RunWarden({"model", "logits", "--model", model, "--inputs", big.string(), "--out", out});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("4096") && Catch::Contains("vocabulary"));
  CHECK_FALSE(std::filesystem::exists(out));  // nothing half-written
  r = RunWarden({"model", "logits", "--model", model, "--inputs", big.string(), "--out", out, "--backend", "tpu"});
  CHECK(r.exit_code == 2);
}
