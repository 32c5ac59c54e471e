// Greedy sampling on the GPU: one block scans the row (each thread a strided slice keeping its first maximum),
// then a shared-memory tree picks the largest value, the lower id on ties. A row of 248k logits is one
// launch and four bytes back to the host.
#include "runtime/engine/cuda/sample.cuh"

namespace warden::engine::cuda {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ bool Better(float v, int32_t i, float bv, int32_t bi) {
  return v > bv || (v == bv && i < bi);
}

__global__ void __launch_bounds__(kThreads) ArgmaxKernel(const float* logits, size_t V, int32_t* result) {
  __shared__ float vals[kThreads];
  __shared__ int32_t ids[kThreads];
  float best = -INFINITY;
  int32_t best_id = V > 0 ? 0 : -1;
  for (size_t i = threadIdx.x; i < V; i += kThreads) {
    const float v = logits[i];
    if (Better(v, static_cast<int32_t>(i), best, best_id)) {
      best = v;
      best_id = static_cast<int32_t>(i);
    }
  }
  vals[threadIdx.x] = best;
  ids[threadIdx.x] = best_id;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      const int other = threadIdx.x + stride;
      if (Better(vals[other], ids[other], vals[threadIdx.x], ids[threadIdx.x])) {
        vals[threadIdx.x] = vals[other];
        ids[threadIdx.x] = ids[other];
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) *result = ids[0];
}

}  // namespace

cudaError_t LaunchArgmax(const float* logits, size_t V, int32_t* result, cudaStream_t stream) {
  ArgmaxKernel<<<1, kThreads, 0, stream>>>(logits, V, result);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
