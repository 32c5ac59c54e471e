// The Qwen3.5 / Qwen3.6 text decoder (model.md §2–3), written once against backend.h.
//
// Everything is read from the config: layer pattern, head counts, head and DeltaNet dims, GQA ratios, rotary
// fraction and M-RoPE sections. Linear weights are handed to the backend as ResolvedLinears over the checkpoint's
// packed bytes (BF16, FP8, NVFP4; the CPU backend decodes rows as each Linear runs); norms and DeltaNet vectors
// are converted to fp32 and uploaded once at load. Every intermediate has a stable name (`layer.7.attn_out`,
// listed in qwen3_5_text.cpp) that a debug hook can observe.
//
// Thread safety: a loaded model is immutable; Forward may run concurrently on different SequenceStates.
// Ownership: the model keeps pointers into the ModelFiles it was loaded from, which must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/backend.h"
#include "runtime/engine/models/sequence_state.h"
#include "runtime/engine/weights/model_info.h"

namespace warden::engine {

struct TextModelOptions {
  // FP8 layers quantise their input with the static input_scale (W8A8, as ModelOpt calibrated it) instead of
  // running weight-only. NVFP4 layers always run weight-only (W4A16), as on Hopper.
  bool fp8_activations = false;
  // Where the model runs; null = the CPU backend.
  std::shared_ptr<Backend> backend;
};

// Observes a named intermediate (fp32 values downloaded from the backend, row-major with `shape`). Set only when
// debugging or testing: each call costs a device-to-host copy.
using DebugHook =
    std::function<void(const std::string& name, std::span<const size_t> shape, std::span<const float> values)>;

struct ForwardRequest {
  std::span<const int32_t> ids;           // T new tokens
  std::span<const int64_t> positions;     // [3, T] (t, h, w) M-RoPE ids; empty = text positions after the sequence
  // Vision features (model.md §4.4): row i of `media_embeds` ([n, hidden] on the model's backend) replaces the
  // token embedding of new token media_rows[i] (indices into `ids`; the image/video pad tokens, in order).
  const Tensor* media_embeds = nullptr;
  std::span<const int32_t> media_rows;
  bool want_hidden_states = false;        // keep the embeddings and every layer's output (last after the final norm)
  bool all_logits = true;                 // logits for every new token, else only the last
  DebugHook debug_hook;                   // called with every named intermediate when set
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

  // A model of `config` whose weights are random, made directly on options.backend (device memory on CUDA) in
  // the formats `quant` declares per Linear (BF16 when unquantised), reproducible for a seed. For measuring
  // speed and memory of any config (e.g. the full Qwen3.6-27B with the NVIDIA mixed layout) without a
  // checkpoint; its outputs mean nothing. Only the language model is built (no vision tower, no MTP).
  static Result<std::unique_ptr<Qwen35TextModel>> Synthetic(const ModelConfig& config, const QuantConfig& quant,
                                                            const TextModelOptions& options = {}, uint64_t seed = 0);

  // A fresh sequence (no tokens seen).
  std::unique_ptr<SequenceState> NewSequence(const KvCacheOptions& kv = {}) const;

  // Runs `request.ids` through the model after what `seq` has seen, extending it.
  Result<ForwardResult> Forward(SequenceState& seq, const ForwardRequest& request) const;

  const TextConfig& config() const { return config_; }
  Backend& backend() const { return *backend_; }

 private:
  // One decoder layer's weights as backend handles.
  struct LayerWeights {
    bool is_full_attention = false;
    Tensor input_layernorm, post_attention_layernorm;
    LinearWeight gate_proj, up_proj, down_proj;
    // Full attention.
    LinearWeight q_proj, k_proj, v_proj, o_proj;
    Tensor q_norm, k_norm;
    // Gated DeltaNet.
    LinearWeight in_proj_qkv, in_proj_z, in_proj_b, in_proj_a, out_proj;
    Tensor conv1d, a_log, dt_bias, gdn_norm;  // conv1d: [conv_dim, K]
  };
  class Pass;  // one Forward call's scratch and debug plumbing
  Qwen35TextModel() = default;

  // Where the weights come from: the checkpoint (Load) or the backend's random generator (Synthetic).
  struct WeightSource {
    std::function<Result<LinearWeight>(const std::string& module)> linear;
    std::function<Result<Tensor>(const std::string& name, std::vector<size_t> shape)> vector;
    std::function<Result<LinearWeight>()> embedding;  // the table as a Linear [vocab, hidden]
  };
  // Checks the config and builds every layer's weights from `source` (config_, options_ and backend_ are set).
  Status Assemble(const std::string& source_name, const std::string& prefix, bool tie_word_embeddings,
                  const WeightSource& source);

  Status FullAttention(Pass& pass, const LayerWeights& w, size_t layer, SequenceState& seq, const Tensor& h,
                       const Tensor& positions, Tensor& out) const;
  Status GatedDeltaNet(Pass& pass, const LayerWeights& w, size_t layer, SequenceState& seq, const Tensor& h,
                       Tensor& out) const;

  TextConfig config_;
  TextModelOptions options_;
  std::shared_ptr<Backend> backend_;
  LinearOptions linear_options_;
  ResolvedLinear embed_linear_;  // the embedding table read as a Linear [vocab, hidden]
  LinearWeight embed_;
  Tensor final_norm_;
  LinearWeight lm_head_;  // the embedding when tied
  RopeParams rope_;
  std::vector<LayerWeights> layers_;
};

}  // namespace warden::engine
