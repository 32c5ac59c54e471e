// Launchers of the deltanet family on the GPU (twins of cpu/deltanet.h; model.md §2.4): the causal short conv
// with its history, and the gated delta rule in its recurrent (decode) and chunked (prefill) forms.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace warden::engine::cuda {

struct DeltaNetArgs {
  size_t num_k_heads, num_v_heads, k_dim, v_dim;
};

// Largest conv kernel the conv launcher keeps in registers (Qwen3.5/3.6 use 4).
constexpr size_t kMaxConvTaps = 16;
// Chunk length of the chunked form (HF/FLA and cpu::GatedDeltaRuleChunked use 64).
constexpr size_t kDeltaChunk = 64;

// m: [T, C]; w: [C, K]; history: [K−1, C] in/out; out: [T, C] = silu(conv). One thread per channel.
cudaError_t LaunchCausalConv1dSilu(const float* m, size_t T, size_t C, const float* w, size_t K, float* history,
                                   float* out, cudaStream_t stream);
// q, k: [T, Hk, Dk]; v, out: [T, Hv, Dv]; g, beta: [T, Hv]; state: [Hv, Dk, Dv] in/out.
cudaError_t LaunchGatedDeltaRuleRecurrent(const DeltaNetArgs& s, size_t T, const float* q, const float* k,
                                          const float* v, const float* g, const float* beta, float* state, float* out,
                                          cudaStream_t stream);
// Same inputs; chunks of kDeltaChunk tokens staged in shared memory. Falls back to the recurrent kernel (equal in
// exact arithmetic) when a chunk's working set exceeds the device's shared memory.
cudaError_t LaunchGatedDeltaRuleChunked(const DeltaNetArgs& s, size_t T, const float* q, const float* k,
                                        const float* v, const float* g, const float* beta, float* state, float* out,
                                        cudaStream_t stream);

}  // namespace warden::engine::cuda
