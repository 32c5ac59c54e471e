// CPU reference for the attention family: causal softmax attention with GQA over one layer's paged KV cache
// (model.md §2.3 steps 5–6, before the output gate).
#pragma once

#include <cstddef>
#include <cstdint>

namespace warden::engine::cpu {

enum class KvDtype { kF32, kBF16, kFP8E4M3 };

// One layer's keys and values for positions [0, length). Position p lives in page p / page_size at slot
// p % page_size; a slot holds num_kv_heads × head_dim values. FP8 values are multiplied by k_scale / v_scale.
struct KvLayerView {
  const void* const* k_pages = nullptr;
  const void* const* v_pages = nullptr;
  size_t page_size = 0;
  size_t length = 0;
  size_t num_kv_heads = 0;
  size_t head_dim = 0;
  KvDtype dtype = KvDtype::kBF16;
  float k_scale = 1.f;
  float v_scale = 1.f;
};

// q: [T, Hq, D] for the T newest positions (absolute positions kv.length − T … kv.length − 1, already in the
// cache); out: [T, Hq, D]. Query head j reads KV head j / (Hq / Hkv). Scale 1/sqrt(D); softmax in fp32.
void CausalAttention(const float* q, size_t T, size_t num_heads, const KvLayerView& kv, float* out);

}  // namespace warden::engine::cpu
