// The state one sequence keeps between forward calls (model.md §1.5, §2.4 "Cache semantics"): paged KV for
// every full-attention layer, and for every Gated DeltaNet layer the last K−1 raw in_proj_qkv rows (conv
// history) and the fp32 recurrent state. Extending a sequence (prefill continuation, decode, an agent's next
// turn) reuses all of it; nothing already seen is recomputed.
//
// Thread-compatible: one forward call at a time per sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/engine/cpu/attention.h"

namespace warden::engine {

struct KvCacheOptions {
  cpu::KvDtype dtype = cpu::KvDtype::kF32;  // F32 (reference), BF16, or FP8 E4M3 with the scales below
  size_t page_size = 16;                     // positions per page
  float k_scale = 1.f;                       // FP8 only: stored = k / k_scale
  float v_scale = 1.f;
};

class SequenceState {
 public:
  // kv_width = num_key_value_heads × head_dim; conv_* and state_* size the DeltaNet layers.
  SequenceState(const std::vector<bool>& is_full_attention, size_t kv_width, size_t conv_history_floats,
                size_t recurrent_state_floats, const KvCacheOptions& kv);

  size_t length() const { return length_; }  // tokens this sequence has seen
  const KvCacheOptions& kv_options() const { return kv_; }
  // Offset added to text positions after a multimodal prompt (model.md §3 rope_delta).
  int64_t rope_delta = 0;

  // Stores positions [length(), length() + T) of layer `layer`'s K and V (each [T, kv_width] fp32).
  void AppendKv(size_t layer, size_t T, const float* k, const float* v);
  // A view of layer `layer`'s cache for the attention kernel, covering `length` positions.
  cpu::KvLayerView KvView(size_t layer, size_t length, size_t num_kv_heads, size_t head_dim) const;

  std::vector<float>& conv_history(size_t layer) { return layers_[layer].conv_history; }
  std::vector<float>& recurrent_state(size_t layer) { return layers_[layer].recurrent_state; }

  // Called by the model once every layer has consumed T new tokens.
  void Advance(size_t T) { length_ += T; }

  // Bytes held by caches now.
  size_t memory_bytes() const;

 private:
  struct Layer {
    bool is_full_attention = false;
    std::vector<std::vector<uint8_t>> k_pages, v_pages;  // full attention: page_size × kv_width elements each
    std::vector<const void*> k_ptrs, v_ptrs;             // page pointers handed to the kernel
    std::vector<float> conv_history;                     // DeltaNet: [K−1, conv_dim] raw rows
    std::vector<float> recurrent_state;                  // DeltaNet: [Hv, Dk, Dv]
  };

  size_t ElementBytes() const;

  std::vector<Layer> layers_;
  size_t kv_width_;
  KvCacheOptions kv_;
  size_t length_ = 0;
};

}  // namespace warden::engine
