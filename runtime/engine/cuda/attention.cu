// Attention family on the GPU, correct first. AppendKv: one thread per stored element. CausalAttention: one block
// of 128 threads per (query head, token); keys are visited in tiles of 128 (one key per thread, a full dot
// product over D), with an online softmax (running max and sum, rescaled accumulators) so any context length fits
// in fixed shared memory; each thread owns up to 4 output dims. Equal in exact arithmetic to cpu/attention.cpp,
// which normalises after a full pass over the scores.
#include <cfloat>

#include "runtime/engine/cuda/attention.cuh"
#include "runtime/engine/cuda/device_math.cuh"

namespace warden::engine::cuda {
namespace {

using namespace detail;

constexpr int kThreads = 128;
constexpr int kDimsPerThread = static_cast<int>(kMaxAttentionHeadDim / kThreads);

// Element `i` (kv head · D + d) of position p, in fp32.
__device__ __forceinline__ float LoadKv(void* const* pages, const KvLayerArgs& kv, size_t p, size_t i, float scale) {
  const size_t offset = (p % kv.page_size) * kv.num_kv_heads * kv.head_dim + i;
  const void* page = pages[p / kv.page_size];
  switch (kv.storage) {
    case KvStorage::kBF16: return Bf16ToFloat(static_cast<const uint16_t*>(page)[offset]);
    case KvStorage::kFP8E4M3: return F8E4M3ToFloat(static_cast<const uint8_t*>(page)[offset]) * scale;
    default: return static_cast<const float*>(page)[offset];
  }
}

__device__ __forceinline__ void StoreKv(void* const* pages, const KvLayerArgs& kv, size_t p, size_t i, float value,
                                        float scale) {
  const size_t offset = (p % kv.page_size) * kv.num_kv_heads * kv.head_dim + i;
  void* page = pages[p / kv.page_size];
  switch (kv.storage) {
    case KvStorage::kBF16: static_cast<uint16_t*>(page)[offset] = FloatToBf16(value); break;
    case KvStorage::kFP8E4M3: static_cast<uint8_t*>(page)[offset] = FloatToF8E4M3(value / scale); break;
    default: static_cast<float*>(page)[offset] = value;
  }
}

__global__ void AppendKvKernel(KvLayerArgs kv, size_t start, const float* k, const float* v, size_t T) {
  const size_t W = kv.num_kv_heads * kv.head_dim, n = T * W;
  for (size_t e = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t t = e / W, i = e % W;
    StoreKv(kv.k_pages, kv, start + t, i, k[e], kv.k_scale);
    StoreKv(kv.v_pages, kv, start + t, i, v[e], kv.v_scale);
  }
}

__global__ void __launch_bounds__(kThreads) AttentionKernel(const float* __restrict__ q, size_t T, size_t num_heads,
                                                            KvLayerArgs kv, size_t length, float* __restrict__ out) {
  extern __shared__ float smem[];  // q row [D], then scores [kThreads]
  __shared__ float scratch[32];
  const size_t D = kv.head_dim, h = blockIdx.x, t = blockIdx.y;
  const size_t group = num_heads / kv.num_kv_heads, kh = h / group;
  const size_t n = length - T + t + 1;  // keys visible to this query (causal)
  float* qs = smem;
  float* scores = smem + D;
  const float* qrow = q + (t * num_heads + h) * D;
  for (size_t d = threadIdx.x; d < D; d += kThreads) qs[d] = qrow[d];
  __syncthreads();
  const float scale = 1.f / sqrtf(static_cast<float>(D));
  float running_max = -INFINITY, running_sum = 0.f;
  float acc[kDimsPerThread];
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j) acc[j] = 0.f;
  for (size_t p0 = 0; p0 < n; p0 += kThreads) {
    const size_t p = p0 + threadIdx.x;
    const size_t count = n - p0 < kThreads ? n - p0 : kThreads;
    float s = -INFINITY;
    if (p < n) {
      float dot = 0.f;
      for (size_t d = 0; d < D; ++d) dot += qs[d] * LoadKv(kv.k_pages, kv, p, kh * D + d, kv.k_scale);
      s = dot * scale;
    }
    const float new_max = fmaxf(running_max, BlockMax(s, scratch));
    // The first tile has running_max = −inf: alpha is 0 and the (zero) accumulators stay zero.
    const float alpha = expf(running_max - new_max);
    const float e = p < n ? expf(s - new_max) : 0.f;
    scores[threadIdx.x] = e;
    running_sum = running_sum * alpha + BlockSum(e, scratch);  // its barriers publish scores[]
    running_max = new_max;
#pragma unroll
    for (int j = 0; j < kDimsPerThread; ++j) {
      const size_t d = threadIdx.x + static_cast<size_t>(kThreads) * j;
      if (d >= D) break;
      float a = acc[j] * alpha;
      for (size_t i = 0; i < count; ++i) a += scores[i] * LoadKv(kv.v_pages, kv, p0 + i, kh * D + d, kv.v_scale);
      acc[j] = a;
    }
    __syncthreads();  // scores[] is rewritten by the next tile
  }
  float* orow = out + (t * num_heads + h) * D;
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j) {
    const size_t d = threadIdx.x + static_cast<size_t>(kThreads) * j;
    if (d < D) orow[d] = acc[j] / running_sum;
  }
}

}  // namespace

cudaError_t LaunchAppendKv(const KvLayerArgs& kv, size_t start, const float* k, const float* v, size_t T,
                           cudaStream_t stream) {
  const size_t n = T * kv.num_kv_heads * kv.head_dim;
  if (n == 0) return cudaSuccess;
  const size_t blocks = (n + 255) / 256;
  AppendKvKernel<<<static_cast<unsigned>(blocks < (1u << 20) ? blocks : (1u << 20)), 256, 0, stream>>>(kv, start, k,
                                                                                                       v, T);
  return cudaGetLastError();
}

cudaError_t LaunchCausalAttention(const float* q, size_t T, size_t num_heads, const KvLayerArgs& kv, size_t length,
                                  float* out, cudaStream_t stream) {
  if (T == 0 || num_heads == 0) return cudaSuccess;
  if (kv.head_dim > kMaxAttentionHeadDim || T > 65535) return cudaErrorInvalidValue;
  const size_t smem = (kv.head_dim + kThreads) * sizeof(float);
  const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(T));
  AttentionKernel<<<grid, kThreads, smem, stream>>>(q, T, num_heads, kv, length, out);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
