// Launchers of the matmul family on the GPU (twins of cpu/matmul.h and the weight decoding of
// weights/dequant.h; model.md §5.1 byte layouts, §5.5 NVFP4 on Hopper). Weights stay in their checkpoint formats
// in device memory and are decoded element by element inside the kernels; nothing is dequantised ahead of time.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace warden::engine::cuda {

enum class WeightFormat { kF32, kBF16, kF16, kFP8, kNVFP4 };

// A weight [out, in] on the device.
//   kF32/kBF16/kF16  data: [out, in] values.
//   kFP8             data: [out, in] E4M3 codes; W = e4m3 × scale (weight_scale).
//   kNVFP4           data: [out, in/2] bytes, element 2j in the low nibble of byte j; block_scales: [out, in/16]
//                    E4M3; W = (e2m1 × block_scale) × scale (weight_scale_2). in must be a multiple of 16.
struct WeightArgs {
  WeightFormat format = WeightFormat::kBF16;
  const void* data = nullptr;
  const uint8_t* block_scales = nullptr;
  float scale = 1.f;
  size_t out = 0, in = 0;
};

// y[T, out] = x[T, in] · Wᵀ (+ bias[out] when not null). A GEMV (one warp per output row, all T ≤ 8 rows at
// once) for decode, a tiled GEMM with fp32 accumulation for longer inputs.
cudaError_t LaunchLinear(const WeightArgs& w, const float* x, size_t T, float* y, const float* bias,
                         cudaStream_t stream);
// xq = sat_e4m3(x / scale) · scale (ModelOpt's static FP8 activation quantisation, numeric.h FakeQuantFp8).
cudaError_t LaunchFakeQuantFp8(const float* x, float* xq, size_t n, float scale, cudaStream_t stream);
// out[t] = row ids[t] of W, decoded to fp32 (ids already range-checked). out: [T, in].
cudaError_t LaunchEmbedding(const WeightArgs& w, const int32_t* ids, size_t T, float* out, cudaStream_t stream);

}  // namespace warden::engine::cuda
