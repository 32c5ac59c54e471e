// ModelOpt declarations: both hf_quant_config.json shapes, config.json's quantization_config, exclusion
// wildcards, and refusal of everything else by name.
#include "runtime/engine/weights/quant_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/weights_test_util.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using namespace warden::engine::testing;
using nlohmann::json;
using warden::testing::TempDir;

namespace {
std::string Hf(const json& quantization) {
  return json{{"producer", {{"name", "modelopt"}, {"version", "0.45.0"}}}, {"quantization", quantization}}.dump();
}
}  // namespace

TEST_CASE("fnmatch-style wildcards", "[engine][weights]") {
  CHECK(GlobMatch("lm_head", "lm_head"));
  CHECK_FALSE(GlobMatch("lm_head", "lm_head2"));
  CHECK(GlobMatch("model.visual*", "model.visual.blocks.0.attn.qkv"));
  CHECK(GlobMatch("*linear_attn.in_proj_a*", "model.language_model.layers.4.linear_attn.in_proj_a"));
  CHECK_FALSE(GlobMatch("*linear_attn.in_proj_a*", "model.language_model.layers.4.linear_attn.in_proj_qkv"));
  CHECK(GlobMatch("*layers.?.mlp*", "m.layers.3.mlp.up_proj"));
  CHECK_FALSE(GlobMatch("*layers.?.mlp*", "m.layers.13.mlp.up_proj"));
  CHECK(GlobMatch("*.[qk]_proj", "a.q_proj"));
  CHECK_FALSE(GlobMatch("*.[!qk]_proj", "a.q_proj"));
  CHECK(GlobMatch("*.[a-c]", "x.b"));
  CHECK(GlobMatch("*", ""));
  CHECK_FALSE(GlobMatch("a*b*c", "aXbX"));
  CHECK(GlobMatch("a*b*c", "aXbXc"));
}

TEST_CASE("uniform NVFP4 declarations of the fixtures", "[engine][weights]") {
  for (const char* dir : {"qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-c/model-nvfp4"}) {
    INFO(dir);
    auto q = QuantConfig::LoadFromDir(Fixture(dir));
    REQUIRE(q.ok());
    CHECK(q->kind == QuantConfig::Kind::kUniform);
    CHECK(q->quant_algo == "NVFP4");
    CHECK_THAT(q->source, Catch::EndsWith("hf_quant_config.json"));
    CHECK_FALSE(q->is_kv_cache_fp8());
    CHECK(q->producer_name == "modelopt");
    CHECK(q->DeclaredFormat("lm_head") == LinearFormat::kBF16);
    CHECK(q->DeclaredFormat("model.visual.blocks.0.attn.qkv") == LinearFormat::kBF16);
    CHECK(q->DeclaredFormat("model.language_model.layers.0.linear_attn.in_proj_a") == LinearFormat::kBF16);
    CHECK(q->DeclaredFormat("model.language_model.layers.0.linear_attn.in_proj_qkv") == LinearFormat::kNVFP4);
    CHECK(q->DeclaredFormat("model.language_model.layers.3.self_attn.q_proj") == LinearFormat::kNVFP4);
  }
  // config.json alone (the "ignore" spelling) says the same.
  auto text = ReadBytes(Fixture("qwen3_5-tiny-c/model-nvfp4/config.json"));
  auto c = QuantConfig::FromConfigJson(text, "config.json");
  REQUIRE(c.ok());
  CHECK(c->kind == QuantConfig::Kind::kUniform);
  CHECK(c->exclude_modules.size() == 6);
  CHECK(c->DeclaredFormat("mtp.fc") == LinearFormat::kBF16);
}

TEST_CASE("MIXED_PRECISION declaration of tiny-c", "[engine][weights]") {
  auto q = QuantConfig::LoadFromDir(Fixture("qwen3_5-tiny-c/model-mixed"));
  REQUIRE(q.ok());
  CHECK(q->kind == QuantConfig::Kind::kMixed);
  CHECK(q->kv_cache_quant_algo == "FP8");
  CHECK(q->DeclaredFormat("lm_head") == LinearFormat::kW4A16NVFP4);
  CHECK(q->DeclaredFormat("model.language_model.layers.3.self_attn.q_proj") == LinearFormat::kFP8);
  CHECK(q->DeclaredFormat("model.language_model.layers.0.linear_attn.in_proj_b") == LinearFormat::kBF16);
  auto c = QuantConfig::FromConfigJson(ReadBytes(Fixture("qwen3_5-tiny-c/model-mixed/config.json")), "config.json");
  REQUIRE(c.ok());
  CHECK(c->quantized_layers == q->quantized_layers);
  CHECK(c->is_kv_cache_fp8());
}

TEST_CASE("unquantised folders have no declaration", "[engine][weights]") {
  auto q = QuantConfig::LoadFromDir(Fixture("qwen3_5-tiny-c/model"));
  REQUIRE(q.ok());
  CHECK(q->kind == QuantConfig::Kind::kNone);
  CHECK(q->DeclaredFormat("lm_head") == LinearFormat::kBF16);
}

TEST_CASE("unsupported quantisation is refused by name", "[engine][weights]") {
  SECTION("top-level quant_algo") {
    auto q = QuantConfig::FromHfQuantConfig(Hf({{"quant_algo", "NVFP4_AWQ"}}), "hf_quant_config.json");
    REQUIRE_FALSE(q.ok());
    CHECK_THAT(q.status().message(), Catch::Contains("hf_quant_config.json: field quantization.quant_algo") &&
                                         Catch::Contains("\"NVFP4_AWQ\""));
  }
  SECTION("per-layer quant_algo") {
    auto q = QuantConfig::FromHfQuantConfig(
        Hf({{"quant_algo", "MIXED_PRECISION"},
            {"quantized_layers", {{"model.language_model.layers.0.mlp.up_proj", {{"quant_algo", "W4A8_AWQ"}}}}}}),
        "hf_quant_config.json");
    REQUIRE_FALSE(q.ok());
    CHECK_THAT(q.status().message(), Catch::Contains("layers.0.mlp.up_proj") && Catch::Contains("\"W4A8_AWQ\""));
  }
  SECTION("FP8 per-channel") {
    auto q = QuantConfig::FromHfQuantConfig(Hf({{"quant_algo", "FP8_PER_CHANNEL_PER_TOKEN"}}), "h.json");
    CHECK_THAT(q.status().message(), Catch::Contains("FP8_PER_CHANNEL_PER_TOKEN"));
  }
  SECTION("KV cache algo") {
    auto q = QuantConfig::FromHfQuantConfig(Hf({{"quant_algo", "FP8"}, {"kv_cache_quant_algo", "NVFP4"}}), "h.json");
    CHECK_THAT(q.status().message(), Catch::Contains("kv_cache_quant_algo") && Catch::Contains("\"NVFP4\""));
  }
  SECTION("group size") {
    auto q = QuantConfig::FromHfQuantConfig(Hf({{"quant_algo", "NVFP4"}, {"group_size", 32}}), "h.json");
    CHECK_THAT(q.status().message(), Catch::Contains("group_size") && Catch::Contains("32"));
  }
  SECTION("quant_method other than modelopt") {
    auto q = QuantConfig::FromConfigJson(R"({"quantization_config": {"quant_method": "gptq", "bits": 4}})", "config.json");
    CHECK_THAT(q.status().message(), Catch::Contains("quantization_config.quant_method") && Catch::Contains("\"gptq\""));
  }
  SECTION("mixed without layers") {
    auto q = QuantConfig::FromHfQuantConfig(Hf({{"quant_algo", "MIXED_PRECISION"}}), "h.json");
    CHECK_THAT(q.status().message(), Catch::Contains("quantized_layers"));
  }
  SECTION("missing quantization object") {
    auto q = QuantConfig::FromHfQuantConfig(R"({"producer": {}})", "h.json");
    CHECK_THAT(q.status().message(), Catch::Contains("field quantization"));
  }
}

TEST_CASE("hf_quant_config.json and config.json must agree", "[engine][weights]") {
  TempDir tmp;
  CopyFolder(Fixture("qwen3_5-tiny-c/model-nvfp4"), tmp.path());
  WriteBytes(tmp.path() / "hf_quant_config.json", Hf({{"quant_algo", "FP8"}}));
  auto q = QuantConfig::LoadFromDir(tmp.path());
  REQUIRE_FALSE(q.ok());
  CHECK_THAT(q.status().message(), Catch::Contains("hf_quant_config.json") && Catch::Contains("config.json") &&
                                       Catch::Contains("\"FP8\" vs \"NVFP4\""));
}

TEST_CASE("config_groups and kv_cache_scheme in quantization_config", "[engine][weights]") {
  json qc = {{"quantization_config",
              {{"quant_method", "modelopt"},
               {"quant_algo", "MIXED_PRECISION"},
               {"kv_cache_scheme", {{"dynamic", false}, {"num_bits", 8}, {"type", "float"}}},
               {"config_groups",
                {{"group_0",
                  {{"targets", {"model.language_model.layers.0.mlp.up_proj"}},
                   {"weights", {{"num_bits", 4}, {"type", "float"}, {"group_size", 16}}}}},
                 {"group_1",
                  {{"targets", {"model.language_model.layers.3.self_attn.q_proj"}},
                   {"weights", {{"num_bits", 8}, {"type", "float"}}},
                   {"input_activations", {{"num_bits", 8}, {"type", "float"}}}}}}}}}};
  auto q = QuantConfig::FromConfigJson(qc.dump(), "config.json");
  REQUIRE(q.ok());
  CHECK(q->is_kv_cache_fp8());
  CHECK(q->DeclaredFormat("model.language_model.layers.0.mlp.up_proj") == LinearFormat::kW4A16NVFP4);
  CHECK(q->DeclaredFormat("model.language_model.layers.3.self_attn.q_proj") == LinearFormat::kFP8);
  qc["quantization_config"]["config_groups"]["group_0"]["weights"]["num_bits"] = 2;
  auto bad = QuantConfig::FromConfigJson(qc.dump(), "config.json");
  CHECK_THAT(bad.status().message(), Catch::Contains("config_groups.group_0.weights.num_bits"));
}
