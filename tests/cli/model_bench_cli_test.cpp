// `warden model bench --synthetic` end to end on the CPU backend (the CUDA run is scripts/gpu-check.sh's), and
// `--backend cuda` refusing clearly where no GPU exists.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/engine/engine.h"
#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

TEST_CASE("model bench: a synthetic mixed-precision model runs on the CPU", "[cli][engine][cuda]") {
  auto r = RunWarden({"--json", "model", "bench", "--synthetic",
                      SharedPath("fixtures/qwen3_5-tiny-c/model-mixed/config.json").string(), "--prompt-tokens",
                      "70", "--decode-tokens", "3"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["backend"] == "cpu");
  CHECK(doc["quant"] == "MIXED_PRECISION");  // hf_quant_config.json beside the config was read
  CHECK(doc["layers"] == 8);
  CHECK(doc["prompt_tokens"] == 70);
  CHECK(doc["decode_tokens"] == 3);
  CHECK(doc["finite"] == true);
  CHECK(doc["prefill_tokens_per_second"].get<double>() > 0);
  // Mixed FP8/NVFP4 weights take fewer bytes than the BF16 model of the same config.
  auto bf16 = RunWarden({"--json", "model", "bench", "--synthetic",
                         SharedPath("fixtures/qwen3_5-tiny-c/model/config.json").string(), "--prompt-tokens", "4",
                         "--decode-tokens", "0"});
  REQUIRE(bf16.exit_code == 0);
  auto bdoc = nlohmann::json::parse(bf16.out);
  CHECK(bdoc["quant"] == "none");
  CHECK(doc["planned_weight_bytes"].get<uint64_t>() < bdoc["planned_weight_bytes"].get<uint64_t>());
}

TEST_CASE("model bench: usage errors and a missing GPU are clear", "[cli][engine][cuda]") {
  auto config = SharedPath("fixtures/qwen3_5-tiny-c/model/config.json").string();
  CHECK(RunWarden({"model", "bench"}).exit_code == 2);  // --synthetic is required
  CHECK(RunWarden({"model", "bench", "--synthetic", config, "--prompt-tokens", "0"}).exit_code == 2);
  auto help = RunWarden({"model", "bench", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--gpu-memory-utilization") != std::string::npos);
  TempDir tmp;
  std::ofstream(tmp.path() / "config.json") << "{\"model_type\": \"qwen3_5_text\"}";
  auto bad = RunWarden({"model", "bench", "--synthetic", (tmp.path() / "config.json").string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("config.json") != std::string::npos);
  if (warden::engine::ListGpus().ok()) return;  // a GPU machine runs the CUDA path in scripts/gpu-check.sh
  auto cuda = RunWarden({"model", "bench", "--synthetic", config, "--backend", "cuda"});
  CHECK(cuda.exit_code != 0);
  CHECK((cuda.err.find("no CUDA device found") != std::string::npos ||
         cuda.err.find("built without CUDA") != std::string::npos));
  CHECK(cuda.err.find("--backend cpu") != std::string::npos);
}
