// Loading whole model folders: every fixture folder, per-Linear formats against the fixtures' own quant files
// (parsed here independently, with fnmatch(3) for exclusions), summaries and memory estimates, and checkpoints
// tampered with in a temp dir (missing / unexpected / mis-shaped tensors, scales missing, declarations that
// contradict the weights, shards, text-only and tied variants).
#include "runtime/engine/weights/model_info.h"

#include <fnmatch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/weights_test_util.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using namespace warden::engine::testing;
using nlohmann::json;
using warden::Status;
using warden::testing::TempDir;

namespace {

const char* kFolders[] = {"qwen3_5-tiny-a/model", "qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-c/model",
                          "qwen3_5-tiny-c/model-mixed", "qwen3_5-tiny-c/model-nvfp4"};

json ReadJson(const std::filesystem::path& p) { return json::parse(ReadBytes(p)); }

// The format the fixture's hf_quant_config.json declares for `module`, computed without product code.
std::string DeclaredInFile(const json& hfq, const std::string& module) {
  const json& q = hfq["quantization"];
  if (q["quant_algo"] == "MIXED_PRECISION") {
    auto it = q["quantized_layers"].find(module);
    return it == q["quantized_layers"].end() ? "BF16" : (*it)["quant_algo"].get<std::string>();
  }
  for (const auto& pat : q["exclude_modules"]) {
    std::string prefix = module;
    for (;;) {
      if (fnmatch(pat.get<std::string>().c_str(), prefix.c_str(), 0) == 0) return "BF16";
      auto dot = prefix.rfind('.');
      if (dot == std::string::npos) break;
      prefix.resize(dot);
    }
  }
  return q["quant_algo"].get<std::string>();
}

Status LoadStatus(const std::filesystem::path& dir) {
  auto m = ModelFiles::Load(dir);
  return m.status();
}

void EditJson(const std::filesystem::path& p, const std::function<void(json&)>& edit) {
  json j = ReadJson(p);
  edit(j);
  WriteBytes(p, j.dump(2));
}

}  // namespace

TEST_CASE("every fixture model folder loads and matches its config", "[engine][weights]") {
  int64_t params_c = -1, params_a = -1;
  for (const char* rel : kFolders) {
    INFO(rel);
    auto m = ModelFiles::Load(Fixture(rel));
    REQUIRE(m.ok());
    CHECK(m->expected().text_prefix == "model.language_model.");
    CHECK(m->linears().size() == m->expected().linears.size());
    ModelInfo info = Summarize(*m, 4096);
    CHECK(info.architecture == "Qwen3_5ForConditionalGeneration");
    CHECK(info.layer_pattern == "[L L L F] x 2");
    CHECK(info.num_full_attention_layers == 2);
    CHECK(info.num_linear_attention_layers == 6);
    CHECK(info.has_vision);
    CHECK_FALSE(info.has_mtp);
    CHECK(info.num_tensors == static_cast<int64_t>(m->checkpoint().tensors().size()));
    CHECK(info.parameters == m->expected().ParameterCount());
    // Bytes by format add up to the checkpoint.
    uint64_t bytes = 0;
    for (const auto& [name, fs] : info.formats) bytes += fs.bytes;
    CHECK(bytes == info.checkpoint_bytes);
    // Logical parameters do not depend on how the weights are stored.
    int64_t& same = std::string(rel).find("tiny-c") != std::string::npos ? params_c : params_a;
    if (same < 0) same = info.parameters;
    CHECK(info.parameters == same);
  }
  // The unquantised folder's parameter count is the plain element count of its tensors.
  auto plain = ModelFiles::Load(Fixture("qwen3_5-tiny-c/model"));
  REQUIRE(plain.ok());
  int64_t elements = 0;
  for (const auto& t : plain->checkpoint().tensors()) elements += t.num_elements();
  CHECK(params_c == elements);
}

TEST_CASE("per-Linear formats are what the fixtures' quant configs say", "[engine][weights]") {
  for (const char* rel : {"qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-c/model-mixed", "qwen3_5-tiny-c/model-nvfp4"}) {
    INFO(rel);
    auto m = ModelFiles::Load(Fixture(rel));
    REQUIRE(m.ok());
    const json hfq = ReadJson(Fixture(std::string(rel) + "/hf_quant_config.json"));
    std::map<std::string, int> counts;
    for (const auto& lin : m->linears()) {
      INFO(lin.spec.module);
      CHECK(std::string(LinearFormatName(lin.format)) == DeclaredInFile(hfq, lin.spec.module));
      counts[std::string(LinearFormatName(lin.format))]++;
      if (lin.format == LinearFormat::kNVFP4 || lin.format == LinearFormat::kFP8) CHECK(lin.input_scale != nullptr);
      if (lin.format == LinearFormat::kW4A16NVFP4) CHECK(lin.input_scale == nullptr);
    }
    if (hfq["quantization"]["quant_algo"] == "MIXED_PRECISION") {
      int w4 = 0, fp8 = 0;
      for (const auto& [k, v] : hfq["quantization"]["quantized_layers"].items()) (v["quant_algo"] == "FP8" ? fp8 : w4)++;
      CHECK(counts["W4A16_NVFP4"] == w4);
      CHECK(counts["FP8"] == fp8);
      CHECK(m->quant().is_kv_cache_fp8());
    }
  }
  // tiny-c mixed follows the NVIDIA recipe of docs/model.md §5.4.
  auto m = ModelFiles::Load(Fixture("qwen3_5-tiny-c/model-mixed"));
  REQUIRE(m.ok());
  CHECK(m->FindLinear("model.language_model.layers.0.mlp.gate_proj")->format == LinearFormat::kW4A16NVFP4);
  CHECK(m->FindLinear("lm_head")->format == LinearFormat::kW4A16NVFP4);
  CHECK(m->FindLinear("model.language_model.layers.3.self_attn.o_proj")->format == LinearFormat::kFP8);
  CHECK(m->FindLinear("model.language_model.layers.4.linear_attn.in_proj_z")->format == LinearFormat::kFP8);
  CHECK(m->FindLinear("model.language_model.layers.4.linear_attn.in_proj_a")->format == LinearFormat::kBF16);
  CHECK(m->FindLinear("model.visual.merger.linear_fc2")->format == LinearFormat::kBF16);
}

TEST_CASE("memory estimates follow docs/model.md §1.5", "[engine][weights]") {
  auto m = ModelFiles::Load(Fixture("qwen3_5-tiny-c/model-mixed"));
  REQUIRE(m.ok());
  ModelInfo info = Summarize(*m, 1000);
  CHECK(info.memory.kv_dtype == "fp8");
  CHECK(info.memory.kv_bytes_per_token == 2u * 2u * 2u * 64u * 1u);  // 2 full layers × K,V × 2 heads × 64 × 1 B
  CHECK(info.memory.kv_cache_bytes == 512000u);
  CHECK(info.memory.deltanet_state_bytes == 6u * (3u * 320u * 2u + 6u * 32u * 32u * 4u));
  CHECK(info.memory.total_bytes == info.checkpoint_bytes + 512000u + info.memory.deltanet_state_bytes);
  auto plain = ModelFiles::Load(Fixture("qwen3_5-tiny-a/model"));
  REQUIRE(plain.ok());
  CHECK(Summarize(*plain, 1).memory.kv_dtype == "float32");

  // The released 27B: 64 KiB/token BF16, 32 KiB FP8, ≈154 MB of DeltaNet state.
  ModelConfig c = plain->config();
  c.dtype = "bfloat16";
  c.text.num_hidden_layers = 64;
  c.text.layer_types.clear();
  for (int i = 0; i < 64; ++i)
    c.text.layer_types.push_back((i + 1) % 4 == 0 ? LayerType::kFullAttention : LayerType::kLinearAttention);
  c.text.num_key_value_heads = 4;
  c.text.head_dim = 256;
  c.text.linear_num_key_heads = 16;
  c.text.linear_num_value_heads = 48;
  c.text.linear_key_head_dim = 128;
  c.text.linear_value_head_dim = 128;
  QuantConfig none;
  auto e = EstimateMemory(c, none, 0, 262144);
  CHECK(e.kv_bytes_per_token == 65536u);
  CHECK(e.kv_cache_bytes == 16ull << 30);
  CHECK(e.deltanet_state_bytes == 153'944'064u);
  QuantConfig fp8kv;
  fp8kv.kv_cache_quant_algo = "FP8";
  CHECK(EstimateMemory(c, fp8kv, 0, 1).kv_bytes_per_token == 32768u);
}

TEST_CASE("tensors that do not match the config are reported by name", "[engine][weights]") {
  TempDir tmp;
  const auto dir = tmp.path() / "m";
  CopyFolder(Fixture("qwen3_5-tiny-c/model"), dir);
  SECTION("mis-shaped") {
    EditJson(dir / "config.json", [](json& j) { j["text_config"]["intermediate_size"] = 240; });
    auto s = LoadStatus(dir);
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("mis-shaped") &&
                                Catch::Contains("model.language_model.layers.0.mlp.down_proj.weight: expected [128, 240]"));
  }
  SECTION("missing") {
    RewriteModelSafetensors(dir, [](StTensor& t) { return t.name != "model.language_model.layers.2.linear_attn.A_log"; });
    auto s = LoadStatus(dir);
    CHECK_THAT(s.message(), Catch::Contains("1 missing") &&
                                Catch::Contains("model.language_model.layers.2.linear_attn.A_log [6]"));
  }
  SECTION("unexpected") {
    RewriteModelSafetensors(dir, [](StTensor&) { return true; },
                            {{"model.language_model.layers.0.extra.weight", "F32", {1}, F32Bytes({1})}});
    auto s = LoadStatus(dir);
    CHECK_THAT(s.message(), Catch::Contains("1 unexpected") &&
                                Catch::Contains("model.language_model.layers.0.extra.weight"));
  }
  SECTION("non-float dtype for a norm") {
    RewriteModelSafetensors(dir, [](StTensor& t) {
      if (t.name == "model.language_model.norm.weight") {
        t.dtype = "I16";
      }
      return true;
    });
    auto s = LoadStatus(dir);
    CHECK_THAT(s.message(), Catch::Contains("model.language_model.norm.weight: expected a float [128], got I16"));
  }
  SECTION("quantised weights without a declaration") {
    RewriteModelSafetensors(dir, [](StTensor& t) {
      if (t.name == "model.language_model.layers.0.mlp.up_proj.weight") {
        t.dtype = "U8";
        t.shape = {256, 256};  // same byte count as BF16 [256, 128]
      }
      return true;
    });
    auto s = LoadStatus(dir);
    CHECK_THAT(s.message(), Catch::Contains("layers.0.mlp.up_proj") && Catch::Contains("packed NVFP4"));
  }
  SECTION("tied embeddings") {
    EditJson(dir / "config.json", [](json& j) { j["tie_word_embeddings"] = true; });
    CHECK_THAT(LoadStatus(dir).message(), Catch::Contains("unexpected") && Catch::Contains("lm_head.weight"));
    RewriteModelSafetensors(dir, [](StTensor& t) { return t.name != "lm_head.weight"; });
    auto m = ModelFiles::Load(dir);
    REQUIRE(m.ok());
    CHECK(m->FindLinear("lm_head") == nullptr);
  }
  SECTION("text-only qwen3_5_text folder with model. prefix") {
    json cfg = ReadJson(dir / "config.json")["text_config"];
    cfg["architectures"] = {"Qwen3_5ForCausalLM"};
    WriteBytes(dir / "config.json", cfg.dump());
    RewriteModelSafetensors(dir, [](StTensor& t) {
      if (t.name.rfind("model.visual.", 0) == 0) return false;
      const std::string p = "model.language_model.";
      if (t.name.rfind(p, 0) == 0) t.name = "model." + t.name.substr(p.size());
      return true;
    });
    auto m = ModelFiles::Load(dir);
    REQUIRE(m.ok());
    CHECK(m->expected().text_prefix == "model.");
    CHECK(m->config().model_type == "qwen3_5_text");
    CHECK(m->FindLinear("model.layers.3.self_attn.q_proj") != nullptr);
    CHECK_FALSE(Summarize(*m, 1).has_vision);
  }
  SECTION("no config.json") {
    std::filesystem::remove(dir / "config.json");
    auto s = LoadStatus(dir);
    CHECK(s.code() == Status::Code::kNotFound);
    CHECK_THAT(s.message(), Catch::Contains("config.json"));
  }
}

TEST_CASE("quantisation declarations that contradict the tensors are refused", "[engine][weights]") {
  TempDir tmp;
  const auto nv = tmp.path() / "nv";
  const auto mixed = tmp.path() / "mixed";
  CopyFolder(Fixture("qwen3_5-tiny-c/model-nvfp4"), nv);
  CopyFolder(Fixture("qwen3_5-tiny-c/model-mixed"), mixed);
  SECTION("NVFP4 Linear without its block scales") {
    RewriteModelSafetensors(nv, [](StTensor& t) {
      return t.name != "model.language_model.layers.0.mlp.up_proj.weight_scale";
    });
    auto s = LoadStatus(nv);
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("\"model.language_model.layers.0.mlp.up_proj\" is NVFP4") &&
                                Catch::Contains("weight_scale\" is missing"));
  }
  SECTION("NVFP4 (W4A4) Linear without input_scale") {
    RewriteModelSafetensors(nv, [](StTensor& t) {
      return t.name != "model.language_model.layers.3.self_attn.k_proj.input_scale";
    });
    CHECK_THAT(LoadStatus(nv).message(), Catch::Contains("layers.3.self_attn.k_proj") && Catch::Contains("input_scale"));
  }
  SECTION("a module declared NVFP4 but stored in BF16") {
    for (const char* f : {"hf_quant_config.json", "config.json"}) {
      EditJson(nv / f, [](json& j) {
        json& list = j.contains("quantization") ? j["quantization"]["exclude_modules"] : j["quantization_config"]["ignore"];
        json kept = json::array();
        for (const auto& p : list)
          if (p != "*linear_attn.in_proj_a*") kept.push_back(p);
        list = kept;
      });
    }
    auto s = LoadStatus(nv);
    CHECK_THAT(s.message(), Catch::Contains("linear_attn.in_proj_a\" is declared NVFP4") &&
                                Catch::Contains("hf_quant_config.json"));
  }
  SECTION("block scales of the wrong dtype") {
    RewriteModelSafetensors(nv, [](StTensor& t) {
      if (t.name == "model.language_model.layers.1.mlp.down_proj.weight_scale") {
        t.dtype = "U8";
      }
      return true;
    });
    CHECK_THAT(LoadStatus(nv).message(),
               Catch::Contains("layers.1.mlp.down_proj.weight_scale: expected F8_E4M3 [128, 16], got U8"));
  }
  SECTION("a non-positive global scale") {
    RewriteModelSafetensors(nv, [](StTensor& t) {
      if (t.name == "model.language_model.layers.1.mlp.down_proj.weight_scale_2") t.bytes = F32Bytes({0.0f});
      return true;
    });
    CHECK_THAT(LoadStatus(nv).message(), Catch::Contains("layers.1.mlp.down_proj.weight_scale_2"));
  }
  SECTION("FP8 Linear without input_scale") {
    RewriteModelSafetensors(mixed, [](StTensor& t) {
      return t.name != "model.language_model.layers.3.self_attn.q_proj.input_scale";
    });
    CHECK_THAT(LoadStatus(mixed).message(),
               Catch::Contains("\"model.language_model.layers.3.self_attn.q_proj\" is FP8") &&
                   Catch::Contains("input_scale"));
  }
  SECTION("FP8 weight declared W4A16_NVFP4") {
    for (const char* f : {"hf_quant_config.json", "config.json"}) {
      EditJson(mixed / f, [](json& j) {
        json& q = j.contains("quantization") ? j["quantization"] : j["quantization_config"];
        q["quantized_layers"]["model.language_model.layers.3.self_attn.q_proj"] = {{"quant_algo", "W4A16_NVFP4"},
                                                                                   {"group_size", 16}};
      });
    }
    CHECK_THAT(LoadStatus(mixed).message(),
               Catch::Contains("layers.3.self_attn.q_proj\" is stored as FP8") && Catch::Contains("W4A16_NVFP4"));
  }
  SECTION("quantized_layers naming a module the model does not have") {
    for (const char* f : {"hf_quant_config.json", "config.json"}) {
      EditJson(mixed / f, [](json& j) {
        json& q = j.contains("quantization") ? j["quantization"] : j["quantization_config"];
        q["quantized_layers"]["model.language_model.layers.9.mlp.up_proj"] = {{"quant_algo", "FP8"}};
      });
    }
    CHECK_THAT(LoadStatus(mixed).message(), Catch::Contains("\"model.language_model.layers.9.mlp.up_proj\""));
  }
  SECTION("unknown quant_algo in the folder") {
    EditJson(mixed / "hf_quant_config.json", [](json& j) { j["quantization"]["quant_algo"] = "W4A8_NVFP4_FP8"; });
    CHECK_THAT(LoadStatus(mixed).message(), Catch::Contains("\"W4A8_NVFP4_FP8\""));
  }
  SECTION("KV scales are accepted") {
    RewriteModelSafetensors(mixed, [](StTensor&) { return true; },
                            {{"model.language_model.layers.3.self_attn.k_proj.k_scale", "F32", {}, F32Bytes({1.0f})},
                             {"model.language_model.layers.7.self_attn.v_scale", "F32", {}, F32Bytes({2.0f})}});
    auto m = ModelFiles::Load(mixed);
    REQUIRE(m.ok());
    const ResolvedLinear* k3 = m->FindLinear("model.language_model.layers.3.self_attn.k_proj");
    const ResolvedLinear* v7 = m->FindLinear("model.language_model.layers.7.self_attn.v_proj");
    REQUIRE(k3->kv_scale != nullptr);
    CHECK(k3->kv_scale->name == "model.language_model.layers.3.self_attn.k_proj.k_scale");
    REQUIRE(v7->kv_scale != nullptr);
    CHECK(ToFloat(*v7->kv_scale) == std::vector<float>{2.0f});
    CHECK(m->FindLinear("model.language_model.layers.3.self_attn.v_proj")->kv_scale == nullptr);  // means 1.0
    CHECK(m->FindLinear("model.language_model.layers.3.self_attn.q_proj")->kv_scale == nullptr);
  }
}

TEST_CASE("a sharded copy loads the same as the single file", "[engine][weights]") {
  TempDir tmp;
  const auto dir = tmp.path() / "sharded";
  CopyFolder(Fixture("qwen3_5-tiny-c/model-mixed"), dir);
  ShardModel(dir, 3);
  auto sharded = ModelFiles::Load(dir);
  REQUIRE(sharded.ok());
  auto single = ModelFiles::Load(Fixture("qwen3_5-tiny-c/model-mixed"));
  REQUIRE(single.ok());
  CHECK(sharded->checkpoint().shard_paths().size() == 3);
  REQUIRE(sharded->checkpoint().tensors().size() == single->checkpoint().tensors().size());
  for (size_t i = 0; i < single->checkpoint().tensors().size(); ++i) {
    const auto& a = single->checkpoint().tensors()[i];
    const auto& b = sharded->checkpoint().tensors()[i];
    CHECK(a.name == b.name);
    CHECK((a.size_bytes == b.size_bytes && std::memcmp(a.data, b.data, a.size_bytes) == 0));
  }
  ModelInfo a = Summarize(*single, 10), b = Summarize(*sharded, 10);
  CHECK(a.linear_formats == b.linear_formats);
  CHECK(a.parameters == b.parameters);
  CHECK(b.num_shards == 3);
}

TEST_CASE("config.json's quantization_config alone resolves the same formats", "[engine][weights]") {
  for (const char* rel : {"qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-c/model-mixed", "qwen3_5-tiny-c/model-nvfp4"}) {
    INFO(rel);
    TempDir tmp;
    CopyFolder(Fixture(rel), tmp.path());
    std::filesystem::remove(tmp.path() / "hf_quant_config.json");
    auto alone = ModelFiles::Load(tmp.path());
    REQUIRE(alone.ok());
    CHECK_THAT(alone->quant().source, Catch::EndsWith("config.json"));
    auto both = ModelFiles::Load(Fixture(rel));
    REQUIRE(both.ok());
    CHECK(Summarize(*alone, 1).linear_formats == Summarize(*both, 1).linear_formats);
    CHECK(alone->quant().is_kv_cache_fp8() == both->quant().is_kv_cache_fp8());
  }
}
