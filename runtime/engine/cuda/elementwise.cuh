// Launchers of the elementwise family on the GPU (twins of cpu/elementwise.h and the DeltaNet gates of
// CpuBackend::DeltaNetGates; model.md §2.2, §2.3 step 7, §2.4). Also the random fill used by synthetic weights.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace warden::engine::cuda {

// out = silu(gate) · up; out may alias gate or up.
cudaError_t LaunchSiluMul(const float* gate, const float* up, float* out, size_t n, cudaStream_t stream);
// x *= σ(gate).
cudaError_t LaunchMulSigmoid(float* x, const float* gate, size_t n, cudaStream_t stream);
// acc += x.
cudaError_t LaunchAdd(float* acc, const float* x, size_t n, cudaStream_t stream);
// beta = σ(b); g = −exp(a_log[j]) · softplus(a + dt_bias[j]) with j = i mod Hv; n elements.
cudaError_t LaunchDeltaNetGates(const float* b, const float* a, const float* a_log, const float* dt_bias, float* beta,
                                float* g, size_t n, size_t Hv, cudaStream_t stream);
// Fills `bytes` bytes with a counter-based hash of (seed, index): reproducible, no state, any size.
cudaError_t LaunchRandomBytes(uint8_t* dst, size_t bytes, uint64_t seed, cudaStream_t stream);
// Fills n BF16 values uniform in [-amplitude, amplitude) from (seed, index).
cudaError_t LaunchRandomBf16(uint16_t* dst, size_t n, float amplitude, uint64_t seed, cudaStream_t stream);
// Fills n E4M3 codes whose values are uniform-ish in [lo, hi] (used for NVFP4 block scales); never NaN.
cudaError_t LaunchRandomE4M3(uint8_t* dst, size_t n, float lo, float hi, uint64_t seed, cudaStream_t stream);

}  // namespace warden::engine::cuda
