// Launchers of the attention family on the GPU (twin of cpu/attention.h; model.md §1.5 paged KV, §2.3 steps 5–6).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace warden::engine::cuda {

enum class KvStorage { kF32, kBF16, kFP8E4M3 };

// One layer's pages on the device. Position p lives in page p / page_size at slot p % page_size; a slot holds
// num_kv_heads × head_dim values. FP8 values are stored divided by k_scale / v_scale.
struct KvLayerArgs {
  void* const* k_pages = nullptr;  // device array of device page addresses
  void* const* v_pages = nullptr;
  size_t page_size = 0, num_kv_heads = 0, head_dim = 0;
  KvStorage storage = KvStorage::kF32;
  float k_scale = 1.f, v_scale = 1.f;
};

// Largest head_dim the attention kernel holds in registers (4 dims per thread × 128 threads).
constexpr size_t kMaxAttentionHeadDim = 512;

// Stores k, v ([T, num_kv_heads·head_dim], fp32) at positions [start, start + T), rounding to the storage type
// as numeric.h does (BF16 nearest-even, E4M3 saturating).
cudaError_t LaunchAppendKv(const KvLayerArgs& kv, size_t start, const float* k, const float* v, size_t T,
                           cudaStream_t stream);
// q: [T, Hq, D] for positions length − T … length − 1; out: [T, Hq, D]. Causal GQA softmax attention with scale
// 1/sqrt(D), fp32 softmax (online, one block per query head and token).
cudaError_t LaunchCausalAttention(const float* q, size_t T, size_t num_heads, const KvLayerArgs& kv, size_t length,
                                  float* out, cudaStream_t stream);

}  // namespace warden::engine::cuda
