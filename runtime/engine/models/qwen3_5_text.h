// The Qwen3.5 / Qwen3.6 text decoder (model.md §2–3), computed with the CPU op families.
//
// Everything is read from the config: layer pattern, head counts, head and DeltaNet dims, GQA ratios, rotary
// fraction and M-RoPE sections. Weights stay in the checkpoint's mapped storage (BF16, FP8, NVFP4) and are decoded
// row by row as each Linear runs; norms and DeltaNet vectors are converted to fp32 once at load.
//
// Thread safety: a loaded model is immutable; Forward may run concurrently on different SequenceStates.
// Ownership: the model keeps pointers into the ModelFiles it was loaded from, which must outlive it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/models/sequence_state.h"
#include "runtime/engine/weights/model_info.h"

namespace warden::engine {

struct TextModelOptions {
  // FP8 layers quantise their input with the static input_scale (W8A8, as ModelOpt calibrated it) instead of
  // running weight-only. NVFP4 layers always run weight-only (W4A16), as on Hopper.
  bool fp8_activations = false;
};

struct ForwardRequest {
  std::span<const int32_t> ids;           // T new tokens
  std::span<const int64_t> positions;     // [3, T] (t, h, w) M-RoPE ids; empty = text positions after the sequence
  bool want_hidden_states = false;        // keep the embeddings and every layer's output (last after the final norm)
  bool all_logits = true;                 // logits for every new token, else only the last
};

struct ForwardResult {
  size_t rows = 0;                                 // logits rows (T or 1)
  size_t vocab_size = 0;
  std::vector<float> logits;                       // [rows, vocab_size]
  std::vector<std::vector<float>> hidden_states;   // num_layers + 1 entries of [T, hidden_size]
};

class Qwen35TextModel {
 public:
  // Checks the architecture and takes views of every tensor. InvalidArgument for an unsupported config.
  static Result<std::unique_ptr<Qwen35TextModel>> Load(const ModelFiles& files, const TextModelOptions& options = {});

  // A fresh sequence (no tokens seen).
  std::unique_ptr<SequenceState> NewSequence(const KvCacheOptions& kv = {}) const;

  // Runs `request.ids` through the model after what `seq` has seen, extending it.
  Result<ForwardResult> Forward(SequenceState& seq, const ForwardRequest& request) const;

  const TextConfig& config() const { return config_; }

 private:
  // One decoder layer's weights: Linears by pointer into ModelFiles, small vectors converted to fp32.
  struct LayerWeights {
    bool is_full_attention = false;
    std::vector<float> input_layernorm, post_attention_layernorm;
    const ResolvedLinear *gate_proj = nullptr, *up_proj = nullptr, *down_proj = nullptr;
    // Full attention.
    const ResolvedLinear *q_proj = nullptr, *k_proj = nullptr, *v_proj = nullptr, *o_proj = nullptr;
    std::vector<float> q_norm, k_norm;
    // Gated DeltaNet.
    const ResolvedLinear *in_proj_qkv = nullptr, *in_proj_z = nullptr, *in_proj_b = nullptr, *in_proj_a = nullptr,
                         *out_proj = nullptr;
    std::vector<float> conv1d, a_log, dt_bias, gdn_norm;  // conv1d: [conv_dim, K]
  };
  Qwen35TextModel() = default;

  void Embed(std::span<const int32_t> ids, float* x) const;
  void RunLinear(const ResolvedLinear& linear, const float* x, size_t T, float* y) const;
  void FullAttention(const LayerWeights& w, size_t layer, SequenceState& seq, const float* h, size_t T,
                     const int64_t* positions, float* out) const;
  void GatedDeltaNet(const LayerWeights& w, size_t layer, SequenceState& seq, const float* h, size_t T,
                     float* out) const;

  TextConfig config_;
  TextModelOptions options_;
  const TensorView* embed_ = nullptr;
  std::vector<float> final_norm_;
  const ResolvedLinear* lm_head_ = nullptr;  // nullptr when tied to the embedding
  std::vector<LayerWeights> layers_;
};

}  // namespace warden::engine
