// config.json / generation_config.json / preprocessor_config.json: the fixtures, the released 27B layout from
// docs/model.md §1 (its parameter counts are checked against §1.4), legacy field places, and bad configs that must
// fail naming the field.
#include "runtime/engine/weights/model_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/model_tensors.h"
#include "runtime/engine/weights/weights_test_util.h"

using namespace warden::engine;
using namespace warden::engine::testing;
using nlohmann::json;

namespace {

// Qwen3.6-27B's config.json as docs/model.md §1.1–1.3 lists it.
json Config27B() {
  json layer_types = json::array();
  for (int i = 0; i < 64; ++i) layer_types.push_back((i + 1) % 4 == 0 ? "full_attention" : "linear_attention");
  return {{"architectures", {"Qwen3_5ForConditionalGeneration"}},
          {"model_type", "qwen3_5"},
          {"image_token_id", 248056},
          {"video_token_id", 248057},
          {"vision_start_token_id", 248053},
          {"vision_end_token_id", 248054},
          {"tie_word_embeddings", false},
          {"language_model_only", false},
          {"text_config",
           {{"model_type", "qwen3_5_text"},
            {"vocab_size", 248320},
            {"hidden_size", 5120},
            {"intermediate_size", 17408},
            {"num_hidden_layers", 64},
            {"layer_types", layer_types},
            {"full_attention_interval", 4},
            {"num_attention_heads", 24},
            {"num_key_value_heads", 4},
            {"head_dim", 256},
            {"attn_output_gate", true},
            {"output_gate_type", "swish"},
            {"partial_rotary_factor", 0.25},
            {"rope_parameters",
             {{"rope_type", "default"},
              {"rope_theta", 10000000},
              {"partial_rotary_factor", 0.25},
              {"mrope_section", {11, 11, 10}},
              {"mrope_interleaved", true}}},
            {"linear_num_key_heads", 16},
            {"linear_num_value_heads", 48},
            {"linear_key_head_dim", 128},
            {"linear_value_head_dim", 128},
            {"linear_conv_kernel_dim", 4},
            {"mamba_ssm_dtype", "float32"},
            {"hidden_act", "silu"},
            {"rms_norm_eps", 1e-6},
            {"attention_bias", false},
            {"max_position_embeddings", 262144},
            {"mtp_num_hidden_layers", 1},
            {"mtp_use_dedicated_embeddings", false},
            {"bos_token_id", 248044},
            {"eos_token_id", 248044},
            {"dtype", "bfloat16"}}},
          {"vision_config",
           {{"model_type", "qwen3_5"},
            {"depth", 27},
            {"hidden_size", 1152},
            {"num_heads", 16},
            {"intermediate_size", 4304},
            {"hidden_act", "gelu_pytorch_tanh"},
            {"in_channels", 3},
            {"patch_size", 16},
            {"temporal_patch_size", 2},
            {"spatial_merge_size", 2},
            {"out_hidden_size", 5120},
            {"num_position_embeddings", 2304},
            {"deepstack_visual_indexes", json::array()}}}};
}

// Expects an InvalidArgument that names `field` (and the file label "config.json").
void ExpectBad(const json& j, const std::string& field, const std::string& also = "") {
  auto r = ModelConfig::FromJson(j.dump(), "config.json");
  INFO("expected an error naming " << field);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == warden::Status::Code::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::StartsWith("config.json: ") && Catch::Contains(field) && Catch::Contains(also));
}

int64_t PartParams(const ModelTensors& m, ModelPart part) {
  int64_t n = 0;
  for (const auto& l : m.linears)
    if (l.part == part) n += l.out_features * l.in_features + (l.has_bias ? l.out_features : 0);
  for (const auto& t : m.others) {
    if (t.part != part) continue;
    int64_t e = 1;
    for (int64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

}  // namespace

TEST_CASE("fixture configs load with every field", "[engine][weights]") {
  auto a = ModelConfig::FromFile(Fixture("qwen3_5-tiny-a/model/config.json"));
  REQUIRE(a.ok());
  CHECK(a->architecture == "Qwen3_5ForConditionalGeneration");
  CHECK(a->model_type == "qwen3_5");
  CHECK(a->dtype == "float32");
  CHECK(a->text.hidden_size == 64);
  CHECK(a->text.head_dim == 32);
  CHECK(a->text.rope_parameters.rope_theta == 1e7);
  CHECK(a->text.rope_parameters.mrope_section == std::vector<int64_t>{2, 1, 1});
  CHECK(a->text.rotary_dim() == 8);
  CHECK(a->text.num_layers_of(LayerType::kFullAttention) == 2);
  CHECK(a->text.layer_types[3] == LayerType::kFullAttention);
  CHECK(a->image_token_id == 1000);
  CHECK(a->vision_end_token_id == 1003);
  REQUIRE(a->vision.has_value());
  CHECK(a->vision->hidden_size == 32);
  CHECK(a->vision->head_dim() == 16);
  CHECK_FALSE(a->has_quantization_config);

  auto c = ModelConfig::FromFile(Fixture("qwen3_5-tiny-c/model/config.json"));
  REQUIRE(c.ok());
  CHECK(c->dtype == "bfloat16");
  CHECK(c->text.vocab_size == 2048);
  CHECK(c->text.rope_parameters.rope_theta == 1e4);
  CHECK(c->text.rope_parameters.mrope_section == std::vector<int64_t>{3, 3, 2});
  CHECK(c->text.rotary_dim() == 16);
  CHECK(c->text.linear_conv_dim() == 320);
  CHECK(c->text.linear_value_dim() == 192);
  CHECK(c->vision->out_hidden_size == 128);
  CHECK(c->vision->patch_input_dim() == 1536);
  CHECK_FALSE(c->tie_word_embeddings);

  auto mixed = ModelConfig::FromFile(Fixture("qwen3_5-tiny-c/model-mixed/config.json"));
  REQUIRE(mixed.ok());
  CHECK(mixed->has_quantization_config);
  CHECK(mixed->text.hidden_size == 128);
}

TEST_CASE("the 27B config: derived sizes and the parameter counts of docs/model.md §1.4", "[engine][weights]") {
  auto c = ModelConfig::FromJson(Config27B().dump(), "config.json");
  REQUIRE(c.ok());
  CHECK(c->text.linear_key_dim() == 2048);
  CHECK(c->text.linear_value_dim() == 6144);
  CHECK(c->text.linear_conv_dim() == 10240);
  CHECK(c->text.rotary_dim() == 64);
  CHECK(c->text.num_layers_of(LayerType::kFullAttention) == 16);
  CHECK(c->text.mtp_num_hidden_layers == 1);
  CHECK(c->vision->head_dim() == 72);
  CHECK(c->vision->model_type == "qwen3_5");  // the released file's spelling is accepted
  auto m = ExpectedTensors(*c, "model.language_model.", true);
  CHECK(PartParams(m, ModelPart::kText) == 26'895'998'464);
  CHECK(PartParams(m, ModelPart::kVision) == 460'730'096);
  CHECK(PartParams(m, ModelPart::kMtp) == 424'699'392);
  CHECK(m.ParameterCount() == 27'781'427'952);
  int visual = 0, mtp = 0;
  auto add = [&](ModelPart p, int n) {
    if (p == ModelPart::kVision) visual += n;
    if (p == ModelPart::kMtp) mtp += n;
  };
  for (const auto& l : m.linears) add(l.part, l.has_bias ? 2 : 1);
  for (const auto& t : m.others) add(t.part, 1);
  CHECK(visual == 333);  // §2.8
  CHECK(mtp == 15);      // §2.6
}

TEST_CASE("layer_types from full_attention_interval, flat text configs, legacy rope fields", "[engine][weights]") {
  json j = Config27B();
  j["text_config"].erase("layer_types");
  j["text_config"]["num_hidden_layers"] = 6;
  j["text_config"]["full_attention_interval"] = 3;
  auto c = ModelConfig::FromJson(j.dump(), "config.json");
  REQUIRE(c.ok());
  REQUIRE(c->text.layer_types.size() == 6);
  CHECK(c->text.layer_types[2] == LayerType::kFullAttention);
  CHECK(c->text.layer_types[5] == LayerType::kFullAttention);
  CHECK(c->text.layer_types[3] == LayerType::kLinearAttention);

  json t = Config27B()["text_config"];
  t["architectures"] = {"Qwen3_5ForCausalLM"};
  t.erase("rope_parameters");
  t["rope_theta"] = 5e6;
  t["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", {11, 11, 10}}, {"mrope_interleaved", true}};
  t["eos_token_id"] = {248044, 248046};
  auto flat = ModelConfig::FromJson(t.dump(), "config.json");
  REQUIRE(flat.ok());
  CHECK(flat->model_type == "qwen3_5_text");
  CHECK(flat->architecture == "Qwen3_5ForCausalLM");
  CHECK_FALSE(flat->vision.has_value());
  CHECK(flat->text.rope_parameters.rope_theta == 5e6);
  CHECK(flat->text.eos_token_id == std::vector<int64_t>{248044, 248046});
  auto m = ExpectedTensors(*flat, "model.", false);
  CHECK(m.linears.front().module == "model.layers.0.linear_attn.in_proj_qkv");
}

TEST_CASE("integers written as floats, language_model_only", "[engine][weights]") {
  json j = Config27B();
  j["text_config"]["hidden_size"] = 5120.0;
  j["language_model_only"] = true;
  auto c = ModelConfig::FromJson(j.dump(), "config.json");
  REQUIRE(c.ok());
  CHECK(c->text.hidden_size == 5120);
  CHECK(c->language_model_only);
  auto m = ExpectedTensors(*c, "model.language_model.", false);
  for (const auto& t : m.others) CHECK(t.part == ModelPart::kText);
  j["text_config"]["hidden_size"] = 1e300;
  ExpectBad(j, "text_config.hidden_size", "expected an integer");
  j["text_config"]["hidden_size"] = 5120.5;
  ExpectBad(j, "text_config.hidden_size", "expected an integer");
}

TEST_CASE("bad configs fail naming the field", "[engine][weights]") {
  json j = Config27B();
  SECTION("unknown model_type") {
    j["model_type"] = "llama";
    ExpectBad(j, "model_type", "\"llama\"");
  }
  SECTION("unknown architecture") {
    j["architectures"] = {"Qwen3NextForCausalLM"};
    ExpectBad(j, "architectures", "Qwen3NextForCausalLM");
  }
  SECTION("kv heads do not divide heads") {
    j["text_config"]["num_key_value_heads"] = 5;
    ExpectBad(j, "text_config.num_key_value_heads");
  }
  SECTION("linear value heads not a multiple of key heads") {
    j["text_config"]["linear_num_value_heads"] = 20;
    ExpectBad(j, "text_config.linear_num_value_heads");
  }
  SECTION("wrong types") {
    j["text_config"]["hidden_size"] = "5120";
    ExpectBad(j, "text_config.hidden_size", "expected an integer");
  }
  SECTION("bool where a bool belongs") {
    j["tie_word_embeddings"] = "no";
    ExpectBad(j, "tie_word_embeddings", "true or false");
  }
  SECTION("zero or negative sizes") {
    j["text_config"]["num_hidden_layers"] = 0;
    ExpectBad(j, "text_config.num_hidden_layers", ">= 1");
  }
  SECTION("implausibly large sizes") {
    j["text_config"]["num_hidden_layers"] = 100000000;
    ExpectBad(j, "text_config.num_hidden_layers", "implausibly large");
  }
  SECTION("missing required field") {
    j["text_config"].erase("vocab_size");
    ExpectBad(j, "text_config.vocab_size", "required");
  }
  SECTION("layer_types length") {
    j["text_config"]["layer_types"].erase(0);
    ExpectBad(j, "text_config.layer_types", "63 entries");
  }
  SECTION("layer_types values") {
    j["text_config"]["layer_types"][5] = "sliding_attention";
    ExpectBad(j, "text_config.layer_types", "sliding_attention");
  }
  SECTION("mrope_section does not cover the rotary slice") {
    j["text_config"]["rope_parameters"]["mrope_section"] = {16, 24, 24};
    ExpectBad(j, "text_config.rope_parameters.mrope_section", "sums to 64");
  }
  SECTION("rope scaling refused by name") {
    j["text_config"]["rope_parameters"]["rope_type"] = "yarn";
    ExpectBad(j, "text_config.rope_parameters.rope_type", "yarn");
  }
  SECTION("partial_rotary_factor disagreement") {
    j["text_config"]["partial_rotary_factor"] = 0.5;
    ExpectBad(j, "partial_rotary_factor", "disagrees");
  }
  SECTION("vision hidden size not divisible by heads") {
    j["vision_config"]["num_heads"] = 7;
    ExpectBad(j, "vision_config.hidden_size", "not divisible");
  }
  SECTION("vision output width differs from the text hidden size") {
    j["vision_config"]["out_hidden_size"] = 4096;
    ExpectBad(j, "vision_config.out_hidden_size");
  }
  SECTION("token id beyond the vocabulary") {
    j["image_token_id"] = 300000;
    ExpectBad(j, "image_token_id", "vocab_size");
  }
  SECTION("missing text_config") {
    j.erase("text_config");
    ExpectBad(j, "text_config", "missing");
  }
  SECTION("unsupported activation and biases") {
    j["text_config"]["hidden_act"] = "gelu";
    ExpectBad(j, "text_config.hidden_act", "gelu");
  }
  SECTION("attention biases") {
    j["text_config"]["attention_bias"] = true;
    ExpectBad(j, "text_config.attention_bias");
  }
  SECTION("dtype") {
    j["dtype"] = "int4";
    ExpectBad(j, "dtype", "int4");
  }
  SECTION("deepstack") {
    j["vision_config"]["deepstack_visual_indexes"] = {8, 16};
    ExpectBad(j, "vision_config.deepstack_visual_indexes");
  }
  SECTION("text model_type") {
    j["text_config"]["model_type"] = "qwen3_next";
    ExpectBad(j, "text_config.model_type", "qwen3_next");
  }
  auto not_json = ModelConfig::FromJson("{", "config.json");
  CHECK_THAT(not_json.status().message(), Catch::Contains("config.json") && Catch::Contains("not valid JSON"));
}

TEST_CASE("generation_config.json", "[engine][weights]") {
  auto g = GenerationConfig::FromFile(Fixture("qwen3_5-tiny-c/model/generation_config.json"));
  REQUIRE(g.ok());
  CHECK(g->eos_token_id.empty());
  CHECK_FALSE(g->temperature.has_value());
  auto r = GenerationConfig::FromJson(
      R"({"bos_token_id": 248044, "eos_token_id": [248046, 248044], "do_sample": true, "temperature": 0.6,
          "top_p": 0.95, "top_k": 20, "pad_token_id": 248044})",
      "generation_config.json");
  REQUIRE(r.ok());
  CHECK(r->eos_token_id == std::vector<int64_t>{248046, 248044});
  CHECK(r->do_sample == true);
  CHECK(r->temperature == 0.6);
  CHECK(r->top_k == 20);
  auto single = GenerationConfig::FromJson(R"({"eos_token_id": 7})", "generation_config.json");
  REQUIRE(single.ok());
  CHECK(single->eos_token_id == std::vector<int64_t>{7});
  auto bad = GenerationConfig::FromJson(R"({"top_p": "high"})", "generation_config.json");
  CHECK_THAT(bad.status().message(), Catch::Contains("generation_config.json: field top_p"));
  auto bad_eos = GenerationConfig::FromJson(R"({"eos_token_id": ["x"]})", "generation_config.json");
  CHECK_THAT(bad_eos.status().message(), Catch::Contains("field eos_token_id"));
}

TEST_CASE("preprocessor_config.json", "[engine][weights]") {
  auto p = PreprocessorConfig::FromJson(
      R"({"patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5,0.5,0.5],
          "image_std": [0.5,0.5,0.5], "size": {"shortest_edge": 65536, "longest_edge": 16777216},
          "image_processor_type": "Qwen2VLImageProcessorFast"})",
      "preprocessor_config.json");
  REQUIRE(p.ok());
  CHECK(p->min_pixels == 65536);
  CHECK(p->max_pixels == 16777216);
  CHECK(p->image_processor_type == "Qwen2VLImageProcessorFast");
  auto old = PreprocessorConfig::FromJson(R"({"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14})",
                                          "preprocessor_config.json");
  REQUIRE(old.ok());
  CHECK(old->min_pixels == 3136);
  CHECK(old->patch_size == 14);
  auto bad = PreprocessorConfig::FromJson(R"({"image_std": [0.5, 0.5]})", "preprocessor_config.json");
  CHECK_THAT(bad.status().message(), Catch::Contains("field image_std"));
  auto inverted = PreprocessorConfig::FromJson(R"({"min_pixels": 100, "max_pixels": 10})", "preprocessor_config.json");
  CHECK_THAT(inverted.status().message(), Catch::Contains("field min_pixels"));
}
