// `warden model generate` end to end: greedy decoding through the binary reproduces transformers' generate().
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

namespace {

std::vector<int32_t> Ints(const std::filesystem::path& file, const std::string& name) {
  auto f = SafetensorsFile::Open(file);
  REQUIRE(f.ok());
  const TensorView* t = f->Find(name);
  REQUIRE(t != nullptr);
  auto v = ToFloat(*t);
  return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("model generate: greedy ids equal transformers' generate", "[cli][engine][generate]") {
  TempDir tmp;
  auto expected = SharedPath("fixtures/qwen3_5-tiny-c/expected.safetensors");
  auto prompt = Ints(expected, "greedy.prompt_ids");
  auto want = Ints(expected, "greedy.output_ids");
  auto in = tmp.path() / "prompt.safetensors";
  REQUIRE(WriteSafetensors(in, {{"input_ids", DType::kI32, {static_cast<int64_t>(prompt.size())}, BytesOf(prompt)}})
              .ok());
  auto out = tmp.path() / "gen.safetensors";
  auto r = RunWarden({"--json", "model", "generate", "--model", SharedPath("fixtures/qwen3_5-tiny-c/model").string(),
                      "--inputs", in.string(), "--max-new-tokens", std::to_string(want.size()), "--temperature", "0",
                      "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["output_ids"].get<std::vector<int32_t>>() == want);
  CHECK(doc["finish_reason"] == "length");
  CHECK(doc["prompt_tokens"] == prompt.size());
  CHECK(Ints(out, "output_ids") == want);
  auto f = SafetensorsFile::Open(out);
  REQUIRE(f.ok());
  CHECK(f->Find("step_logits")->shape == std::vector<int64_t>{static_cast<int64_t>(want.size()), 2048});

  // Sampling with a seed is repeatable, and a different seed gives a different continuation.
  auto sample = [&](const std::string& seed) {
    auto s = RunWarden({"--json", "model", "generate", "--model", SharedPath("fixtures/qwen3_5-tiny-c/model").string(),
                        "--inputs", in.string(), "--max-new-tokens", "12", "--temperature", "1.5", "--seed", seed});
    REQUIRE(s.exit_code == 0);
    return nlohmann::json::parse(s.out)["output_ids"].get<std::vector<int32_t>>();
  };
  CHECK(sample("1") == sample("1"));
  CHECK(sample("1") != sample("2"));
}

TEST_CASE("model generate: usage and missing pieces are clear errors", "[cli][engine][generate]") {
  auto model = SharedPath("fixtures/qwen3_5-tiny-c/model").string();
  auto none = RunWarden({"model", "generate", "--model", model});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("--prompt"));
  // The tiny fixture ships no tokenizer: a text prompt cannot be tokenized.
  auto text = RunWarden({"model", "generate", "--model", model, "--prompt", "hello"});
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.err, Catch::Contains("tokenizer"));
}
