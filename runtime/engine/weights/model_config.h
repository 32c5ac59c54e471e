// The model's configuration files: config.json (qwen3_5 with text_config + vision_config, or qwen3_5_text alone),
// generation_config.json and preprocessor_config.json (docs/model.md §1, §4.1).
//
// Field names are the Hugging Face names, so grep finds the same word here and in the spec. Absent optional fields
// take the defaults transformers 5.17 uses for Qwen3.5 (noted per field). Every error is InvalidArgument naming the
// file and the dotted field (`config.json: field text_config.num_key_value_heads: ...`). Loading only reads JSON;
// checking the tensors against the config is model_tensors.h. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine {

enum class LayerType { kLinearAttention, kFullAttention };
std::string_view LayerTypeName(LayerType t);  // "linear_attention" / "full_attention"

// Text rotary embedding (text_config.rope_parameters in transformers ≥5; older files keep rope_theta,
// partial_rotary_factor and rope_scaling{mrope_section, mrope_interleaved} beside the other fields).
struct RopeParameters {
  std::string rope_type = "default";         // only "default" is supported
  double rope_theta = 10000.0;               // θ; Qwen3.6-27B: 1e7
  double partial_rotary_factor = 0.25;       // rotary dims = head_dim × factor
  std::vector<int64_t> mrope_section{11, 11, 10};  // frequencies per axis (t, h, w); sums to rotary dims / 2
  bool mrope_interleaved = true;             // HF Qwen3.5 always interleaves
};

struct TextConfig {
  std::string model_type = "qwen3_5_text";
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 256;
  std::string hidden_act = "silu";
  double rms_norm_eps = 1e-6;
  bool attention_bias = false;
  bool attn_output_gate = true;  // HF always gates; the flag is informational
  int64_t max_position_embeddings = 32768;
  bool tie_word_embeddings = false;
  std::vector<LayerType> layer_types;  // length num_hidden_layers (from full_attention_interval when absent)
  int64_t full_attention_interval = 4;
  int64_t linear_num_key_heads = 16;
  int64_t linear_num_value_heads = 32;
  int64_t linear_key_head_dim = 128;
  int64_t linear_value_head_dim = 128;
  int64_t linear_conv_kernel_dim = 4;
  std::string mamba_ssm_dtype = "float32";  // DeltaNet recurrent state dtype
  RopeParameters rope_parameters;
  int64_t mtp_num_hidden_layers = 0;
  bool mtp_use_dedicated_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;

  // Derived sizes (docs/model.md §1.2).
  int64_t rotary_dim() const;             // head_dim × partial_rotary_factor
  int64_t linear_key_dim() const { return linear_num_key_heads * linear_key_head_dim; }
  int64_t linear_value_dim() const { return linear_num_value_heads * linear_value_head_dim; }
  int64_t linear_conv_dim() const { return 2 * linear_key_dim() + linear_value_dim(); }
  int64_t num_layers_of(LayerType t) const;
};

struct VisionConfig {
  std::string model_type = "qwen3_5_vision";
  int64_t depth = 27;
  int64_t hidden_size = 1152;
  std::string hidden_act = "gelu_pytorch_tanh";
  int64_t intermediate_size = 4304;
  int64_t num_heads = 16;
  int64_t in_channels = 3;
  int64_t patch_size = 16;
  int64_t spatial_merge_size = 2;
  int64_t temporal_patch_size = 2;
  int64_t out_hidden_size = 3584;
  int64_t num_position_embeddings = 2304;
  double rope_theta = 10000.0;  // axial 2-D rotary
  std::vector<int64_t> deepstack_visual_indexes;  // must be empty: no DeepStack in Qwen3.5/3.6

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t patch_input_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
  int64_t merger_hidden() const { return hidden_size * spatial_merge_size * spatial_merge_size; }
};

struct ModelConfig {
  std::string source;                   // the file it was read from
  std::vector<std::string> architectures;
  std::string architecture;             // architectures[0], or implied by model_type when absent
  std::string model_type;               // "qwen3_5" or "qwen3_5_text"
  std::string dtype = "bfloat16";       // checkpoint dtype as declared ("dtype" or "torch_dtype")
  TextConfig text;
  std::optional<VisionConfig> vision;   // present for qwen3_5
  bool language_model_only = false;     // qwen3_5 with the vision tower left out (no model.visual.* tensors)
  bool tie_word_embeddings = false;     // top level for qwen3_5 (falls back to text_config's)
  std::optional<int64_t> image_token_id, video_token_id, vision_start_token_id, vision_end_token_id;
  bool has_quantization_config = false; // config.json carries "quantization_config" (read by quant_config.h)

  // Reads and validates `path` (a config.json). Errors name the file and field.
  static Result<ModelConfig> FromFile(const std::filesystem::path& path);
  // Same from text; `file` names it in errors.
  static Result<ModelConfig> FromJson(const std::string& text, const std::string& file);
};

// generation_config.json: stop ids and sampling defaults. Absent fields stay unset.
struct GenerationConfig {
  std::vector<int64_t> eos_token_id;
  std::optional<int64_t> bos_token_id, pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, repetition_penalty, presence_penalty, min_p;
  std::optional<int64_t> top_k, max_new_tokens, max_length;

  static Result<GenerationConfig> FromFile(const std::filesystem::path& path);
  static Result<GenerationConfig> FromJson(const std::string& text, const std::string& file);
};

// preprocessor_config.json of the image processor (Qwen2VLImageProcessor; docs/model.md §4.1).
struct PreprocessorConfig {
  int64_t patch_size = 16;
  int64_t temporal_patch_size = 2;
  int64_t merge_size = 2;
  std::vector<double> image_mean{0.5, 0.5, 0.5};
  std::vector<double> image_std{0.5, 0.5, 0.5};
  int64_t min_pixels = 65536;      // size.shortest_edge (or min_pixels in older files)
  int64_t max_pixels = 16777216;   // size.longest_edge (or max_pixels)
  double rescale_factor = 1.0 / 255.0;
  bool do_rescale = true, do_normalize = true, do_convert_rgb = true;
  int64_t resample = 3;            // PIL BICUBIC
  std::string image_processor_type;

  static Result<PreprocessorConfig> FromFile(const std::filesystem::path& path);
  static Result<PreprocessorConfig> FromJson(const std::string& text, const std::string& file);
};

}  // namespace warden::engine
