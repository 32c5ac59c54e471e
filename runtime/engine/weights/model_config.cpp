// Reading and validating config.json, generation_config.json and preprocessor_config.json (docs/model.md §1, §4.1).
// Defaults for absent fields follow transformers 5.17's Qwen3_5TextConfig / Qwen3_5VisionConfig; anything the
// engine cannot run (another model_type, a rope scaling type, biases, a different activation) is refused by name
// rather than guessed, because a silently wrong config produces plausible-looking garbage.
#include "runtime/engine/weights/model_config.h"

#include <cmath>

#include "runtime/base/file_util.h"
#include "runtime/engine/weights/json_fields.h"

namespace warden::engine {

using detail::JsonFields;

std::string_view LayerTypeName(LayerType t) {
  return t == LayerType::kFullAttention ? "full_attention" : "linear_attention";
}

int64_t TextConfig::rotary_dim() const {
  return static_cast<int64_t>(std::llround(static_cast<double>(head_dim) * rope_parameters.partial_rotary_factor));
}

int64_t TextConfig::num_layers_of(LayerType t) const {
  int64_t n = 0;
  for (LayerType x : layer_types) n += x == t;
  return n;
}

namespace {

Status ReadRope(const nlohmann::json& text_json, const JsonFields& f, TextConfig* t) {
  RopeParameters& rp = t->rope_parameters;
  const nlohmann::json* params = f.Get("rope_parameters");
  const nlohmann::json* scaling = f.Get("rope_scaling");
  if (params != nullptr && !params->is_object()) return f.Error("rope_parameters", "expected an object");
  if (scaling != nullptr && !scaling->is_object()) return f.Error("rope_scaling", "expected an object");
  // Older exports keep rope_theta / partial_rotary_factor beside the other fields and the M-RoPE layout in
  // rope_scaling; transformers ≥5 moves all of it into rope_parameters. Read the new place first.
  const nlohmann::json* primary = params != nullptr ? params : scaling;
  JsonFields top(&text_json, f.file(), f.Path(""));
  std::string prefix = f.Path(params != nullptr ? "rope_parameters." : "rope_scaling.");
  static const nlohmann::json kEmpty = nlohmann::json::object();
  JsonFields rf(primary != nullptr ? primary : &kEmpty, f.file(), prefix);

  std::string type_key = rf.Has("rope_type") ? "rope_type" : "type";
  WARDEN_ASSIGN_OR_RETURN(rp.rope_type, rf.String(type_key, std::string("default")));
  if (rp.rope_type != "default" && rp.rope_type != "mrope")
    return rf.Error(type_key, "rope type \"" + rp.rope_type +
                                  "\" is not supported (only the default M-RoPE of Qwen3.5; remove YaRN/dynamic scaling)");
  rp.rope_type = "default";

  WARDEN_ASSIGN_OR_RETURN(double theta_top, top.Double("rope_theta", 0.0));
  WARDEN_ASSIGN_OR_RETURN(rp.rope_theta, rf.Double("rope_theta", theta_top > 0 ? theta_top : 10000.0));
  if (!(rp.rope_theta > 1.0) || !std::isfinite(rp.rope_theta))
    return rf.Error("rope_theta", "expected a number > 1, got " + std::to_string(rp.rope_theta));

  WARDEN_ASSIGN_OR_RETURN(double prf_top, top.Double("partial_rotary_factor", -1.0));
  WARDEN_ASSIGN_OR_RETURN(rp.partial_rotary_factor, rf.Double("partial_rotary_factor", prf_top > 0 ? prf_top : 0.25));
  if (prf_top > 0 && rf.Has("partial_rotary_factor") && prf_top != rp.partial_rotary_factor)
    return rf.Error("partial_rotary_factor", "disagrees with " + f.Path("partial_rotary_factor") + " (" +
                                                 std::to_string(rp.partial_rotary_factor) + " vs " +
                                                 std::to_string(prf_top) + ")");
  if (!(rp.partial_rotary_factor > 0.0 && rp.partial_rotary_factor <= 1.0))
    return rf.Error("partial_rotary_factor", "expected a number in (0, 1]");

  const nlohmann::json* sec = rf.Get("mrope_section");
  if (sec == nullptr) sec = top.Get("mrope_section");
  if (sec != nullptr) {
    if (!sec->is_array() || sec->size() != 3)
      return rf.Error("mrope_section", "expected 3 integers (t, h, w frequencies), got " + JsonFields::Short(*sec));
    rp.mrope_section.clear();
    for (const auto& e : *sec) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0)
        return rf.Error("mrope_section", "expected non-negative integers, got " + JsonFields::Short(*sec));
      rp.mrope_section.push_back(e.get<int64_t>());
    }
  }
  WARDEN_ASSIGN_OR_RETURN(bool inter_top, top.Bool("mrope_interleaved", true));
  WARDEN_ASSIGN_OR_RETURN(rp.mrope_interleaved, rf.Bool("mrope_interleaved", inter_top));
  if (!rp.mrope_interleaved)
    return rf.Error("mrope_interleaved", "false is not supported: Qwen3.5/3.6 use interleaved M-RoPE (docs/model.md §3)");

  const double rot = static_cast<double>(t->head_dim) * rp.partial_rotary_factor;
  if (rot != std::floor(rot) || static_cast<int64_t>(rot) % 2 != 0 || rot < 2)
    return rf.Error("partial_rotary_factor", "head_dim " + std::to_string(t->head_dim) + " × " +
                                                 std::to_string(rp.partial_rotary_factor) +
                                                 " is not an even whole number of rotary dims");
  int64_t sum = 0;
  for (int64_t s : rp.mrope_section) sum += s;
  if (sum * 2 != static_cast<int64_t>(rot))
    return rf.Error("mrope_section", "sums to " + std::to_string(sum) + " frequencies but the rotary slice has " +
                                         std::to_string(static_cast<int64_t>(rot) / 2) + " (head_dim × " +
                                         "partial_rotary_factor / 2)");
  return Status::Ok();
}

Result<TextConfig> ReadText(const nlohmann::json& j, const std::string& file, const std::string& prefix) {
  JsonFields f(&j, file, prefix);
  TextConfig t;
  WARDEN_ASSIGN_OR_RETURN(t.model_type, f.String("model_type", std::string("qwen3_5_text")));
  if (t.model_type != "qwen3_5_text")
    return f.Error("model_type", "expected \"qwen3_5_text\", got \"" + t.model_type + "\"");
  WARDEN_ASSIGN_OR_RETURN(t.vocab_size, f.Int("vocab_size", std::nullopt));
  WARDEN_ASSIGN_OR_RETURN(t.hidden_size, f.Int("hidden_size", std::nullopt));
  WARDEN_ASSIGN_OR_RETURN(t.intermediate_size, f.Int("intermediate_size", std::nullopt));
  WARDEN_ASSIGN_OR_RETURN(t.num_hidden_layers, f.Int("num_hidden_layers", std::nullopt, 1, 4096));
  WARDEN_ASSIGN_OR_RETURN(t.num_attention_heads, f.Int("num_attention_heads", std::nullopt, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.num_key_value_heads, f.Int("num_key_value_heads", std::nullopt, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.head_dim, f.Int("head_dim", 256, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.hidden_act, f.String("hidden_act", std::string("silu")));
  WARDEN_ASSIGN_OR_RETURN(t.rms_norm_eps, f.Double("rms_norm_eps", 1e-6));
  WARDEN_ASSIGN_OR_RETURN(t.attention_bias, f.Bool("attention_bias", false));
  WARDEN_ASSIGN_OR_RETURN(t.attn_output_gate, f.Bool("attn_output_gate", true));
  WARDEN_ASSIGN_OR_RETURN(t.max_position_embeddings, f.Int("max_position_embeddings", 32768));
  WARDEN_ASSIGN_OR_RETURN(t.tie_word_embeddings, f.Bool("tie_word_embeddings", false));
  WARDEN_ASSIGN_OR_RETURN(t.full_attention_interval, f.Int("full_attention_interval", 4, 1, 4096));
  WARDEN_ASSIGN_OR_RETURN(t.linear_num_key_heads, f.Int("linear_num_key_heads", 16, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.linear_num_value_heads, f.Int("linear_num_value_heads", 32, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.linear_key_head_dim, f.Int("linear_key_head_dim", 128, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.linear_value_head_dim, f.Int("linear_value_head_dim", 128, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(t.linear_conv_kernel_dim, f.Int("linear_conv_kernel_dim", 4, 1, 1024));
  WARDEN_ASSIGN_OR_RETURN(t.mamba_ssm_dtype, f.String("mamba_ssm_dtype", std::string("float32")));
  WARDEN_ASSIGN_OR_RETURN(t.mtp_num_hidden_layers, f.Int("mtp_num_hidden_layers", 0, 0, 64));
  WARDEN_ASSIGN_OR_RETURN(t.mtp_use_dedicated_embeddings, f.Bool("mtp_use_dedicated_embeddings", false));
  WARDEN_ASSIGN_OR_RETURN(t.bos_token_id, f.OptInt("bos_token_id"));
  WARDEN_ASSIGN_OR_RETURN(t.pad_token_id, f.OptInt("pad_token_id"));
  WARDEN_ASSIGN_OR_RETURN(t.eos_token_id, f.IntOrIntList("eos_token_id"));

  if (t.hidden_act != "silu")
    return f.Error("hidden_act", "\"" + t.hidden_act + "\" is not supported (Qwen3.5 uses \"silu\")");
  if (t.attention_bias) return f.Error("attention_bias", "true is not supported (Qwen3.5 has no attention biases)");
  if (!(t.rms_norm_eps > 0.0) || t.rms_norm_eps >= 1.0) return f.Error("rms_norm_eps", "expected a small positive number");
  if (t.num_attention_heads % t.num_key_value_heads != 0)
    return f.Error("num_key_value_heads", std::to_string(t.num_key_value_heads) + " does not divide num_attention_heads " +
                                              std::to_string(t.num_attention_heads) + " (grouped-query attention)");
  if (t.linear_num_value_heads % t.linear_num_key_heads != 0)
    return f.Error("linear_num_value_heads", std::to_string(t.linear_num_value_heads) +
                                                 " is not a multiple of linear_num_key_heads " +
                                                 std::to_string(t.linear_num_key_heads));
  if (t.head_dim % 2 != 0) return f.Error("head_dim", "must be even, got " + std::to_string(t.head_dim));
  if (t.mamba_ssm_dtype != "float32" && t.mamba_ssm_dtype != "bfloat16" && t.mamba_ssm_dtype != "float16")
    return f.Error("mamba_ssm_dtype", "expected float32, bfloat16 or float16, got \"" + t.mamba_ssm_dtype + "\"");

  if (const nlohmann::json* lt = f.Get("layer_types")) {
    if (!lt->is_array()) return f.Error("layer_types", "expected a list of \"linear_attention\"/\"full_attention\"");
    for (size_t i = 0; i < lt->size(); ++i) {
      const auto& e = (*lt)[i];
      if (e == "linear_attention") {
        t.layer_types.push_back(LayerType::kLinearAttention);
      } else if (e == "full_attention") {
        t.layer_types.push_back(LayerType::kFullAttention);
      } else {
        return f.Error("layer_types", "entry " + std::to_string(i) + " is " + JsonFields::Short(e) +
                                          "; expected \"linear_attention\" or \"full_attention\"");
      }
    }
    if (static_cast<int64_t>(t.layer_types.size()) != t.num_hidden_layers)
      return f.Error("layer_types", "has " + std::to_string(t.layer_types.size()) + " entries but num_hidden_layers is " +
                                        std::to_string(t.num_hidden_layers));
  } else {
    for (int64_t i = 0; i < t.num_hidden_layers; ++i)
      t.layer_types.push_back((i + 1) % t.full_attention_interval == 0 ? LayerType::kFullAttention
                                                                       : LayerType::kLinearAttention);
  }
  WARDEN_RETURN_IF_ERROR(ReadRope(j, f, &t));
  for (int64_t id : t.eos_token_id)
    if (id >= t.vocab_size) return f.Error("eos_token_id", std::to_string(id) + " is not below vocab_size");
  if (t.bos_token_id && *t.bos_token_id >= t.vocab_size)
    return f.Error("bos_token_id", std::to_string(*t.bos_token_id) + " is not below vocab_size");
  return t;
}

Result<VisionConfig> ReadVision(const nlohmann::json& j, const std::string& file) {
  JsonFields f(&j, file, "vision_config.");
  VisionConfig v;
  WARDEN_ASSIGN_OR_RETURN(v.model_type, f.String("model_type", std::string("qwen3_5_vision")));
  // Early Qwen3.5 files write "qwen3_5" here; transformers remaps it.
  if (v.model_type != "qwen3_5_vision" && v.model_type != "qwen3_5")
    return f.Error("model_type", "expected \"qwen3_5_vision\", got \"" + v.model_type + "\"");
  WARDEN_ASSIGN_OR_RETURN(v.depth, f.Int("depth", 27, 0, 1024));
  WARDEN_ASSIGN_OR_RETURN(v.hidden_size, f.Int("hidden_size", 1152));
  WARDEN_ASSIGN_OR_RETURN(v.hidden_act, f.String("hidden_act", std::string("gelu_pytorch_tanh")));
  WARDEN_ASSIGN_OR_RETURN(v.intermediate_size, f.Int("intermediate_size", 4304));
  WARDEN_ASSIGN_OR_RETURN(v.num_heads, f.Int("num_heads", 16, 1, 65536));
  WARDEN_ASSIGN_OR_RETURN(v.in_channels, f.Int("in_channels", 3, 1, 16));
  WARDEN_ASSIGN_OR_RETURN(v.patch_size, f.Int("patch_size", 16, 1, 1024));
  WARDEN_ASSIGN_OR_RETURN(v.spatial_merge_size, f.Int("spatial_merge_size", 2, 1, 16));
  WARDEN_ASSIGN_OR_RETURN(v.temporal_patch_size, f.Int("temporal_patch_size", 2, 1, 16));
  WARDEN_ASSIGN_OR_RETURN(v.out_hidden_size, f.Int("out_hidden_size", 3584));
  WARDEN_ASSIGN_OR_RETURN(v.num_position_embeddings, f.Int("num_position_embeddings", 2304));
  if (const nlohmann::json* rp = f.Get("rope_parameters"); rp != nullptr && rp->is_object()) {
    JsonFields r(rp, file, "vision_config.rope_parameters.");
    WARDEN_ASSIGN_OR_RETURN(v.rope_theta, r.Double("rope_theta", 10000.0));
  }
  if (const nlohmann::json* ds = f.Get("deepstack_visual_indexes")) {
    if (!ds->is_array()) return f.Error("deepstack_visual_indexes", "expected a list");
    if (!ds->empty())
      return f.Error("deepstack_visual_indexes", "DeepStack is not part of Qwen3.5/3.6 and is not supported");
  }
  if (v.hidden_act != "gelu_pytorch_tanh")
    return f.Error("hidden_act", "\"" + v.hidden_act + "\" is not supported (expected \"gelu_pytorch_tanh\")");
  if (v.hidden_size % v.num_heads != 0)
    return f.Error("hidden_size", std::to_string(v.hidden_size) + " is not divisible by num_heads " +
                                      std::to_string(v.num_heads));
  if (v.head_dim() % 4 != 0)
    return f.Error("num_heads", "head dim " + std::to_string(v.head_dim()) +
                                    " must be a multiple of 4 for the 2-D rotary embedding");
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(v.num_position_embeddings))));
  if (side * side != v.num_position_embeddings)
    return f.Error("num_position_embeddings", std::to_string(v.num_position_embeddings) +
                                                  " is not a square (the learned grid is side × side)");
  return v;
}

}  // namespace

Result<ModelConfig> ModelConfig::FromFile(const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return FromJson(text, path.string());
}

Result<ModelConfig> ModelConfig::FromJson(const std::string& text, const std::string& file) {
  WARDEN_ASSIGN_OR_RETURN(nlohmann::json j, detail::ParseJsonObject(text, file));
  try {
    JsonFields f(&j, file, "");
    ModelConfig c;
    c.source = file;
    WARDEN_ASSIGN_OR_RETURN(c.model_type, f.String("model_type", std::nullopt));
    if (c.model_type != "qwen3_5" && c.model_type != "qwen3_5_text") {
      return f.Error("model_type", "\"" + c.model_type +
                                       "\" is not supported; Warden runs \"qwen3_5\" (Qwen3.5/3.6 with vision) and "
                                       "\"qwen3_5_text\" (text only)");
    }
    if (const nlohmann::json* a = f.Get("architectures")) {
      if (!a->is_array() || a->empty()) return f.Error("architectures", "expected a non-empty list of class names");
      for (const auto& e : *a) {
        if (!e.is_string()) return f.Error("architectures", "expected strings, got " + JsonFields::Short(e));
        c.architectures.push_back(e.get<std::string>());
      }
      c.architecture = c.architectures[0];
      const bool ok = (c.model_type == "qwen3_5" && c.architecture == "Qwen3_5ForConditionalGeneration") ||
                      (c.model_type == "qwen3_5_text" && c.architecture == "Qwen3_5ForCausalLM");
      if (!ok) {
        return f.Error("architectures", "\"" + c.architecture + "\" is not supported with model_type \"" +
                                            c.model_type +
                                            "\" (expected Qwen3_5ForConditionalGeneration for qwen3_5, "
                                            "Qwen3_5ForCausalLM for qwen3_5_text)");
      }
    } else {
      c.architecture = c.model_type == "qwen3_5" ? "Qwen3_5ForConditionalGeneration" : "Qwen3_5ForCausalLM";
    }
    std::string dtype_key = f.Has("dtype") ? "dtype" : "torch_dtype";
    WARDEN_ASSIGN_OR_RETURN(c.dtype, f.String(dtype_key, std::string("bfloat16")));
    if (c.dtype != "bfloat16" && c.dtype != "float16" && c.dtype != "float32")
      return f.Error(dtype_key, "expected bfloat16, float16 or float32, got \"" + c.dtype + "\"");
    c.has_quantization_config = f.Has("quantization_config");

    if (c.model_type == "qwen3_5") {
      const nlohmann::json* tc = f.Get("text_config");
      if (tc == nullptr || !tc->is_object()) return f.Error("text_config", "required object is missing");
      WARDEN_ASSIGN_OR_RETURN(c.text, ReadText(*tc, file, "text_config."));
      const nlohmann::json* vc = f.Get("vision_config");
      if (vc == nullptr || !vc->is_object()) return f.Error("vision_config", "required object is missing");
      WARDEN_ASSIGN_OR_RETURN(auto vision, ReadVision(*vc, file));
      if (vision.out_hidden_size != c.text.hidden_size) {
        return Status::InvalidArgument(file + ": field vision_config.out_hidden_size: " +
                                       std::to_string(vision.out_hidden_size) + " differs from text_config.hidden_size " +
                                       std::to_string(c.text.hidden_size));
      }
      c.vision = vision;
      WARDEN_ASSIGN_OR_RETURN(c.language_model_only, f.Bool("language_model_only", false));
      WARDEN_ASSIGN_OR_RETURN(c.tie_word_embeddings, f.Bool("tie_word_embeddings", c.text.tie_word_embeddings));
      WARDEN_ASSIGN_OR_RETURN(c.image_token_id, f.OptInt("image_token_id"));
      WARDEN_ASSIGN_OR_RETURN(c.video_token_id, f.OptInt("video_token_id"));
      WARDEN_ASSIGN_OR_RETURN(c.vision_start_token_id, f.OptInt("vision_start_token_id"));
      WARDEN_ASSIGN_OR_RETURN(c.vision_end_token_id, f.OptInt("vision_end_token_id"));
      // transformers' defaults for the 248k-vocab release; a small vocab must name its own.
      if (!c.image_token_id) c.image_token_id = 248056;
      if (!c.video_token_id) c.video_token_id = 248057;
      if (!c.vision_start_token_id) c.vision_start_token_id = 248053;
      if (!c.vision_end_token_id) c.vision_end_token_id = 248054;
      for (auto [key, id] : {std::pair{"image_token_id", c.image_token_id}, {"video_token_id", c.video_token_id},
                             {"vision_start_token_id", c.vision_start_token_id},
                             {"vision_end_token_id", c.vision_end_token_id}}) {
        if (*id >= c.text.vocab_size)
          return f.Error(key, std::to_string(*id) + " is not below text_config.vocab_size " +
                                  std::to_string(c.text.vocab_size));
      }
    } else {
      WARDEN_ASSIGN_OR_RETURN(c.text, ReadText(j, file, ""));
      c.tie_word_embeddings = c.text.tie_word_embeddings;
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(file + ": " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------------------------

Result<GenerationConfig> GenerationConfig::FromFile(const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return FromJson(text, path.string());
}

Result<GenerationConfig> GenerationConfig::FromJson(const std::string& text, const std::string& file) {
  WARDEN_ASSIGN_OR_RETURN(nlohmann::json j, detail::ParseJsonObject(text, file));
  JsonFields f(&j, file, "");
  GenerationConfig g;
  WARDEN_ASSIGN_OR_RETURN(g.eos_token_id, f.IntOrIntList("eos_token_id"));
  WARDEN_ASSIGN_OR_RETURN(g.bos_token_id, f.OptInt("bos_token_id"));
  WARDEN_ASSIGN_OR_RETURN(g.pad_token_id, f.OptInt("pad_token_id"));
  if (f.Has("do_sample")) {
    WARDEN_ASSIGN_OR_RETURN(bool b, f.Bool("do_sample", false));
    g.do_sample = b;
  }
  auto opt_double = [&](const char* key, std::optional<double>* out, double lo, double hi) -> Status {
    if (!f.Has(key)) return Status::Ok();
    WARDEN_ASSIGN_OR_RETURN(double v, f.Double(key, std::nullopt));
    if (!(v >= lo && v <= hi))
      return f.Error(key, "expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                              std::to_string(v));
    *out = v;
    return Status::Ok();
  };
  WARDEN_RETURN_IF_ERROR(opt_double("temperature", &g.temperature, 0.0, 1e6));
  WARDEN_RETURN_IF_ERROR(opt_double("top_p", &g.top_p, 0.0, 1.0));
  WARDEN_RETURN_IF_ERROR(opt_double("min_p", &g.min_p, 0.0, 1.0));
  WARDEN_RETURN_IF_ERROR(opt_double("repetition_penalty", &g.repetition_penalty, 0.0, 1e6));
  WARDEN_RETURN_IF_ERROR(opt_double("presence_penalty", &g.presence_penalty, -1e6, 1e6));
  WARDEN_ASSIGN_OR_RETURN(g.top_k, f.OptInt("top_k"));
  WARDEN_ASSIGN_OR_RETURN(g.max_new_tokens, f.OptInt("max_new_tokens"));
  WARDEN_ASSIGN_OR_RETURN(g.max_length, f.OptInt("max_length"));
  return g;
}

Result<PreprocessorConfig> PreprocessorConfig::FromFile(const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return FromJson(text, path.string());
}

Result<PreprocessorConfig> PreprocessorConfig::FromJson(const std::string& text, const std::string& file) {
  WARDEN_ASSIGN_OR_RETURN(nlohmann::json j, detail::ParseJsonObject(text, file));
  JsonFields f(&j, file, "");
  PreprocessorConfig p;
  WARDEN_ASSIGN_OR_RETURN(p.patch_size, f.Int("patch_size", 16));
  WARDEN_ASSIGN_OR_RETURN(p.temporal_patch_size, f.Int("temporal_patch_size", 2));
  WARDEN_ASSIGN_OR_RETURN(p.merge_size, f.Int("merge_size", 2));
  WARDEN_ASSIGN_OR_RETURN(p.image_processor_type, f.String("image_processor_type", std::string()));
  for (auto [key, out] : {std::pair{"image_mean", &p.image_mean}, {"image_std", &p.image_std}}) {
    if (!f.Has(key)) continue;
    WARDEN_ASSIGN_OR_RETURN(*out, f.DoubleList(key));
    if (out->size() != 3) return f.Error(key, "expected 3 numbers (R, G, B), got " + std::to_string(out->size()));
  }
  for (double s : p.image_std)
    if (!(s > 0.0)) return f.Error("image_std", "entries must be positive");
  // transformers ≥4.5x writes size {shortest_edge, longest_edge} (= min/max pixels); older files min/max_pixels.
  if (const nlohmann::json* size = f.Get("size")) {
    if (!size->is_object()) return f.Error("size", "expected an object {shortest_edge, longest_edge}");
    JsonFields sf(size, file, "size.");
    WARDEN_ASSIGN_OR_RETURN(p.min_pixels, sf.Int("shortest_edge", p.min_pixels));
    WARDEN_ASSIGN_OR_RETURN(p.max_pixels, sf.Int("longest_edge", p.max_pixels));
  }
  WARDEN_ASSIGN_OR_RETURN(p.min_pixels, f.Int("min_pixels", p.min_pixels));
  WARDEN_ASSIGN_OR_RETURN(p.max_pixels, f.Int("max_pixels", p.max_pixels));
  if (p.min_pixels > p.max_pixels)
    return f.Error("min_pixels", std::to_string(p.min_pixels) + " exceeds max_pixels " + std::to_string(p.max_pixels));
  WARDEN_ASSIGN_OR_RETURN(p.rescale_factor, f.Double("rescale_factor", p.rescale_factor));
  if (!(p.rescale_factor > 0.0)) return f.Error("rescale_factor", "must be positive");
  WARDEN_ASSIGN_OR_RETURN(p.do_rescale, f.Bool("do_rescale", true));
  WARDEN_ASSIGN_OR_RETURN(p.do_normalize, f.Bool("do_normalize", true));
  WARDEN_ASSIGN_OR_RETURN(p.do_convert_rgb, f.Bool("do_convert_rgb", true));
  WARDEN_ASSIGN_OR_RETURN(p.resample, f.Int("resample", 3, 0));
  return p;
}

}  // namespace warden::engine
