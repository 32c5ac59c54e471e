// Matmul family on the GPU, written for correctness first (the next issue makes it fast): every weight element
// is decoded in registers from its checkpoint format with the same arithmetic as weights/dequant.cpp, then
// multiplied in fp32 with fp32 accumulation.
//   GEMV (T ≤ kGemvMaxRows): one warp per output row; lanes stride over `in`, each lane keeps T partial sums; a
//     warp reduction finishes each. Weight bytes are read once per call, as decode should be (memory bound).
//   GEMM (longer T): 64×64 output tiles, K steps of 16, x and the decoded W tile staged in shared memory,
//     4×4 outputs per thread. Edges are zero-padded, so odd sizes need no special case.
// One kernel pair per weight format: five formats × two kernels, kept small for nvcc time on CI.
#include "runtime/engine/cuda/device_math.cuh"
#include "runtime/engine/cuda/matmul.cuh"

namespace warden::engine::cuda {
namespace {

using namespace detail;

constexpr size_t kGemvMaxRows = 8;

// W[o, i] in fp32 (dequant.h layouts).
template <WeightFormat F>
__device__ __forceinline__ float Decode(const WeightArgs& w, size_t o, size_t i) {
  if constexpr (F == WeightFormat::kF32) {
    return static_cast<const float*>(w.data)[o * w.in + i];
  } else if constexpr (F == WeightFormat::kBF16) {
    return Bf16ToFloat(static_cast<const uint16_t*>(w.data)[o * w.in + i]);
  } else if constexpr (F == WeightFormat::kF16) {
    return F16ToFloat(static_cast<const uint16_t*>(w.data)[o * w.in + i]);
  } else if constexpr (F == WeightFormat::kFP8) {
    return F8E4M3ToFloat(static_cast<const uint8_t*>(w.data)[o * w.in + i]) * w.scale;
  } else {
    const uint8_t byte = static_cast<const uint8_t*>(w.data)[o * (w.in / 2) + i / 2];
    const uint32_t code = (i & 1) ? (byte >> 4) : (byte & 0x0Fu);
    const float block = F8E4M3ToFloat(w.block_scales[o * (w.in / 16) + i / 16]);
    return (E2M1ToFloat(code) * block) * w.scale;  // dequant.cpp: (e2m1 × block_scale) × global
  }
}

template <WeightFormat F>
__global__ void GemvKernel(WeightArgs w, const float* __restrict__ x, size_t T, float* __restrict__ y,
                           const float* __restrict__ bias) {
  const size_t warps_per_block = blockDim.x / 32;
  const size_t o = static_cast<size_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  const unsigned lane = threadIdx.x & 31u;
  if (o >= w.out) return;  // whole warps leave together: o is uniform across a warp
  float acc[kGemvMaxRows];
#pragma unroll
  for (size_t t = 0; t < kGemvMaxRows; ++t) acc[t] = 0.f;
  for (size_t i = lane; i < w.in; i += 32) {
    const float wv = Decode<F>(w, o, i);
#pragma unroll
    for (size_t t = 0; t < kGemvMaxRows; ++t) {
      if (t < T) acc[t] += wv * x[t * w.in + i];
    }
  }
#pragma unroll
  for (size_t t = 0; t < kGemvMaxRows; ++t) {
    if (t < T) {
      const float s = WarpSum(acc[t]);
      if (lane == 0) y[t * w.out + o] = s + (bias ? bias[o] : 0.f);
    }
  }
}

constexpr int kTile = 64, kStepK = 16, kGemmThreads = 256;

template <WeightFormat F>
__global__ void __launch_bounds__(kGemmThreads) GemmKernel(WeightArgs w, const float* __restrict__ x, size_t T,
                                                           float* __restrict__ y, const float* __restrict__ bias) {
  // Both tiles indexed [k][m]; +1 column breaks shared-memory bank conflicts of the transposed stores.
  __shared__ float xs[kStepK][kTile + 1];
  __shared__ float ws[kStepK][kTile + 1];
  const size_t row0 = static_cast<size_t>(blockIdx.y) * kTile, col0 = static_cast<size_t>(blockIdx.x) * kTile;
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  float acc[4][4] = {};
  for (size_t k0 = 0; k0 < w.in; k0 += kStepK) {
    // 64 × 16 elements per tile, 4 per thread: element e = tid + 256·j → (m = e / 16, k = e % 16).
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int e = tid + kGemmThreads * j, m = e / kStepK, k = e % kStepK;
      const size_t r = row0 + m, c = col0 + m, kk = k0 + k;
      xs[k][m] = (r < T && kk < w.in) ? x[r * w.in + kk] : 0.f;
      ws[k][m] = (c < w.out && kk < w.in) ? Decode<F>(w, c, kk) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kStepK; ++k) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = xs[k][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = ws[k][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const size_t r = row0 + ty + 16 * i;
    if (r >= T) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const size_t c = col0 + tx + 16 * j;
      if (c < w.out) y[r * w.out + c] = acc[i][j] + (bias ? bias[c] : 0.f);
    }
  }
}

template <WeightFormat F>
__global__ void EmbeddingKernel(WeightArgs w, const int32_t* ids, size_t T, float* out) {
  const size_t n = T * w.in;
  for (size_t e = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t t = e / w.in, i = e % w.in;
    out[e] = Decode<F>(w, static_cast<size_t>(ids[t]), i);
  }
}

__global__ void FakeQuantFp8Kernel(const float* x, float* xq, size_t n, float scale) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    xq[i] = F8E4M3ToFloat(FloatToF8E4M3(x[i] / scale)) * scale;
  }
}

unsigned GridFor(size_t n, unsigned threads) {
  const size_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < (1u << 20) ? b : (1u << 20));
}

template <WeightFormat F>
cudaError_t LinearAs(const WeightArgs& w, const float* x, size_t T, float* y, const float* bias, cudaStream_t s) {
  if (T <= kGemvMaxRows) {
    constexpr unsigned kThreads = 256, kRowsPerBlock = kThreads / 32;
    GemvKernel<F><<<static_cast<unsigned>((w.out + kRowsPerBlock - 1) / kRowsPerBlock), kThreads, 0, s>>>(w, x, T, y,
                                                                                                         bias);
  } else {
    const dim3 grid(static_cast<unsigned>((w.out + kTile - 1) / kTile), static_cast<unsigned>((T + kTile - 1) / kTile));
    GemmKernel<F><<<grid, kGemmThreads, 0, s>>>(w, x, T, y, bias);
  }
  return cudaGetLastError();
}

template <WeightFormat F>
cudaError_t EmbeddingAs(const WeightArgs& w, const int32_t* ids, size_t T, float* out, cudaStream_t s) {
  EmbeddingKernel<F><<<GridFor(T * w.in, 256), 256, 0, s>>>(w, ids, T, out);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchLinear(const WeightArgs& w, const float* x, size_t T, float* y, const float* bias,
                         cudaStream_t stream) {
  if (T == 0 || w.out == 0) return cudaSuccess;
  switch (w.format) {
    case WeightFormat::kF32: return LinearAs<WeightFormat::kF32>(w, x, T, y, bias, stream);
    case WeightFormat::kBF16: return LinearAs<WeightFormat::kBF16>(w, x, T, y, bias, stream);
    case WeightFormat::kF16: return LinearAs<WeightFormat::kF16>(w, x, T, y, bias, stream);
    case WeightFormat::kFP8: return LinearAs<WeightFormat::kFP8>(w, x, T, y, bias, stream);
    case WeightFormat::kNVFP4: return LinearAs<WeightFormat::kNVFP4>(w, x, T, y, bias, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchFakeQuantFp8(const float* x, float* xq, size_t n, float scale, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FakeQuantFp8Kernel<<<GridFor(n, 256), 256, 0, stream>>>(x, xq, n, scale);
  return cudaGetLastError();
}

cudaError_t LaunchEmbedding(const WeightArgs& w, const int32_t* ids, size_t T, float* out, cudaStream_t stream) {
  if (T == 0 || w.in == 0) return cudaSuccess;
  switch (w.format) {
    case WeightFormat::kF32: return EmbeddingAs<WeightFormat::kF32>(w, ids, T, out, stream);
    case WeightFormat::kBF16: return EmbeddingAs<WeightFormat::kBF16>(w, ids, T, out, stream);
    case WeightFormat::kF16: return EmbeddingAs<WeightFormat::kF16>(w, ids, T, out, stream);
    case WeightFormat::kFP8: return EmbeddingAs<WeightFormat::kFP8>(w, ids, T, out, stream);
    case WeightFormat::kNVFP4: return EmbeddingAs<WeightFormat::kNVFP4>(w, ids, T, out, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace warden::engine::cuda
