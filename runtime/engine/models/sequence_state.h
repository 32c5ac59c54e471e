// The state one sequence keeps between forward calls (model.md §1.5, §2.4 "Cache semantics"): paged KV for
// every full-attention layer, and for every Gated DeltaNet layer the last K−1 raw in_proj_qkv rows (conv
// history) and the fp32 recurrent state. Extending a sequence (prefill continuation, decode, an agent's next
// turn) reuses all of it; nothing already seen is recomputed.
//
// The storage belongs to the backend (device memory on CUDA) and is allocated on the first forward call, so an
// allocation failure surfaces as that call's Status. Thread-compatible: one forward call at a time per sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/engine/backend.h"

namespace warden::engine {

// Sizes of the per-layer state, from the model config.
struct SequenceLayout {
  std::vector<bool> is_full_attention;  // per decoder layer
  size_t num_kv_heads = 0, head_dim = 0;
  std::vector<size_t> conv_history_shape;     // DeltaNet: [K−1, conv_dim]
  std::vector<size_t> recurrent_state_shape;  // DeltaNet: [Hv, Dk, Dv]
};

class SequenceState {
 public:
  SequenceState(std::shared_ptr<Backend> backend, SequenceLayout layout, const KvCacheOptions& kv);

  size_t length() const { return length_; }  // tokens this sequence has seen
  const KvCacheOptions& kv_options() const { return kv_; }
  // Offset added to text positions after a multimodal prompt (model.md §3 rope_delta).
  int64_t rope_delta = 0;

  // Allocates the backend storage if not done yet (zero states, an empty KV cache).
  Status EnsureAllocated();

  // Valid after EnsureAllocated. KV layers are numbered among the full-attention layers only.
  KvCache& kv_cache() { return *kv_cache_; }
  size_t kv_layer(size_t layer) const { return kv_index_[layer]; }
  Tensor& conv_history(size_t layer) { return conv_history_[layer]; }
  Tensor& recurrent_state(size_t layer) { return recurrent_state_[layer]; }

  // Called by the model once every layer has consumed T new tokens.
  void Advance(size_t T) { length_ += T; }

  // Bytes held by caches now.
  size_t memory_bytes() const;

 private:
  std::shared_ptr<Backend> backend_;
  SequenceLayout layout_;
  KvCacheOptions kv_;
  std::vector<size_t> kv_index_;
  std::unique_ptr<KvCache> kv_cache_;
  std::vector<Tensor> conv_history_, recurrent_state_;  // empty handles for attention layers
  bool allocated_ = false;
  size_t length_ = 0;
};

}  // namespace warden::engine
