// A model folder loaded as the engine sees it: config.json (+ generation_config.json, preprocessor_config.json when
// present), the quantisation declaration, every safetensors shard mapped, each Linear's format resolved and every
// tensor checked against the config. Plus the summary `warden model info` prints: layer pattern, per-Linear
// formats, parameter count, bytes per storage format and estimated memory for a context length (docs/model.md §1.4,
// §1.5, §5). Nothing is dequantised or copied; the forward pass reads the views in `linears` and `checkpoint`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/weights/model_config.h"
#include "runtime/engine/weights/model_tensors.h"
#include "runtime/engine/weights/quant_config.h"
#include "runtime/engine/weights/safetensors.h"

namespace warden::engine {

class ModelFiles {
 public:
  // Loads `dir`. Errors: NotFound (no config.json / weights), InvalidArgument (a config field, naming file and
  // field), Corruption (a safetensors file, a tensor/config mismatch, a quantisation disagreement; naming the
  // tensor). `on_shard` reports progress while shards are mapped.
  static Result<ModelFiles> Load(const std::filesystem::path& dir, Checkpoint::ProgressFn on_shard = {});

  ModelFiles(ModelFiles&&) noexcept = default;
  ModelFiles& operator=(ModelFiles&&) noexcept = default;

  const std::filesystem::path& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const QuantConfig& quant() const { return quant_; }
  const Checkpoint& checkpoint() const { return checkpoint_; }
  const ModelTensors& expected() const { return expected_; }
  // Every Linear in model order (text layers, lm_head, vision, MTP) with its format and tensor views.
  const std::vector<ResolvedLinear>& linears() const { return linears_; }
  const ResolvedLinear* FindLinear(const std::string& module) const;
  const std::optional<GenerationConfig>& generation_config() const { return generation_; }
  const std::optional<PreprocessorConfig>& preprocessor_config() const { return preprocessor_; }

 private:
  ModelFiles() = default;
  std::filesystem::path dir_;
  ModelConfig config_;
  QuantConfig quant_;
  Checkpoint checkpoint_;
  ModelTensors expected_;
  std::vector<ResolvedLinear> linears_;
  std::map<std::string, size_t> linear_index_;
  std::optional<GenerationConfig> generation_;
  std::optional<PreprocessorConfig> preprocessor_;
};

// Per storage format: how many Linears, their logical parameters and stored bytes (weights + scales + biases).
struct FormatStats {
  int64_t linears = 0;
  int64_t parameters = 0;
  uint64_t bytes = 0;
};

struct MemoryEstimate {
  int64_t context_tokens = 0;
  uint64_t weight_bytes = 0;          // every tensor in the checkpoint as stored
  std::string kv_dtype;               // "fp8" when kv_cache_quant_algo is FP8, else the model dtype
  uint64_t kv_bytes_per_token = 0;    // full-attention layers × {K,V} × kv heads × head_dim × dtype size
  uint64_t kv_cache_bytes = 0;        // × context_tokens
  uint64_t deltanet_state_bytes = 0;  // per sequence: conv state (kernel-1 rows × conv_dim, model dtype) +
                                      // recurrent state (v heads × k dim × v dim, mamba_ssm_dtype) per linear layer
  uint64_t total_bytes = 0;
};

struct ModelInfo {
  std::string dir;
  std::string architecture, model_type, dtype;
  int64_t num_hidden_layers = 0, num_full_attention_layers = 0, num_linear_attention_layers = 0;
  std::string layer_pattern;          // "LLLF×16" style summary, e.g. "[L L L F] × 2"
  std::vector<std::string> layer_types;
  std::string quant_algo;             // "" when unquantised
  std::string quant_source;
  std::string kv_cache_quant_algo;    // "" when unset
  bool has_vision = false, has_mtp = false;
  int64_t parameters = 0;             // logical (unpacked) parameters in the checkpoint
  std::map<std::string, int64_t> parameters_by_part;   // "text", "vision", "mtp"
  std::map<std::string, FormatStats> formats;          // by LinearFormatName; "other" = non-Linear tensors
  std::vector<std::pair<std::string, std::string>> linear_formats;  // (module, format) in model order
  int64_t num_tensors = 0, num_shards = 0;
  uint64_t checkpoint_bytes = 0;
  MemoryEstimate memory;
};

// Bytes of one element of a config dtype name ("bfloat16" → 2, "float32" → 4, "fp8" → 1).
uint64_t ConfigDTypeBytes(const std::string& dtype);

// Memory for `context_tokens` tokens of one sequence (docs/model.md §1.5), from the config alone.
MemoryEstimate EstimateMemory(const ModelConfig& config, const QuantConfig& quant, uint64_t weight_bytes,
                              int64_t context_tokens);

ModelInfo Summarize(const ModelFiles& model, int64_t context_tokens);

}  // namespace warden::engine
