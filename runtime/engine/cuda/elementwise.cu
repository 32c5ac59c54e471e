// Elementwise family on the GPU: one thread per element with a grid-stride loop (cpu/elementwise.cpp is the
// reference), the DeltaNet gates (model.md §2.4), and stateless random fills for synthetic weights.
#include "runtime/engine/cuda/device_math.cuh"
#include "runtime/engine/cuda/elementwise.cuh"

namespace warden::engine::cuda {
namespace {

constexpr unsigned kThreads = 256;

unsigned Blocks(size_t n) {
  const size_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 16 ? b : 65535 * 16);  // the grid-stride loop covers the rest
}

#define WARDEN_GRID_STRIDE(i, n) \
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += static_cast<size_t>(gridDim.x) * blockDim.x)

__global__ void SiluMulKernel(const float* gate, const float* up, float* out, size_t n) {
  WARDEN_GRID_STRIDE(i, n) out[i] = detail::Silu(gate[i]) * up[i];
}
__global__ void MulSigmoidKernel(float* x, const float* gate, size_t n) {
  WARDEN_GRID_STRIDE(i, n) x[i] *= detail::Sigmoid(gate[i]);
}
__global__ void AddKernel(float* acc, const float* x, size_t n) {
  WARDEN_GRID_STRIDE(i, n) acc[i] += x[i];
}
__global__ void DeltaNetGatesKernel(const float* b, const float* a, const float* a_log, const float* dt_bias,
                                    float* beta, float* g, size_t n, size_t Hv) {
  WARDEN_GRID_STRIDE(i, n) {
    const size_t j = i % Hv;
    beta[i] = detail::Sigmoid(b[i]);
    g[i] = -expf(a_log[j]) * detail::Softplus(a[i] + dt_bias[j]);
  }
}

// splitmix64 of (seed, index): independent values per index, so any grid shape gives the same bytes.
__device__ uint64_t Mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (i + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
__device__ float Unit(uint64_t seed, uint64_t i) {  // [0, 1)
  return static_cast<float>(Mix(seed, i) >> 40) * 0x1.0p-24f;
}

__global__ void RandomBytesKernel(uint8_t* dst, size_t bytes, uint64_t seed) {
  WARDEN_GRID_STRIDE(i, bytes) dst[i] = static_cast<uint8_t>(Mix(seed, i) >> 56);
}
__global__ void RandomBf16Kernel(uint16_t* dst, size_t n, float amplitude, uint64_t seed) {
  WARDEN_GRID_STRIDE(i, n) dst[i] = detail::FloatToBf16((2.f * Unit(seed, i) - 1.f) * amplitude);
}
__global__ void RandomE4M3Kernel(uint8_t* dst, size_t n, float lo, float hi, uint64_t seed) {
  WARDEN_GRID_STRIDE(i, n) dst[i] = detail::FloatToF8E4M3(lo + (hi - lo) * Unit(seed, i));
}

#undef WARDEN_GRID_STRIDE

}  // namespace

cudaError_t LaunchSiluMul(const float* gate, const float* up, float* out, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  SiluMulKernel<<<Blocks(n), kThreads, 0, stream>>>(gate, up, out, n);
  return cudaGetLastError();
}
cudaError_t LaunchMulSigmoid(float* x, const float* gate, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  MulSigmoidKernel<<<Blocks(n), kThreads, 0, stream>>>(x, gate, n);
  return cudaGetLastError();
}
cudaError_t LaunchAdd(float* acc, const float* x, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  AddKernel<<<Blocks(n), kThreads, 0, stream>>>(acc, x, n);
  return cudaGetLastError();
}
cudaError_t LaunchDeltaNetGates(const float* b, const float* a, const float* a_log, const float* dt_bias, float* beta,
                                float* g, size_t n, size_t Hv, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  DeltaNetGatesKernel<<<Blocks(n), kThreads, 0, stream>>>(b, a, a_log, dt_bias, beta, g, n, Hv);
  return cudaGetLastError();
}
cudaError_t LaunchRandomBytes(uint8_t* dst, size_t bytes, uint64_t seed, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  RandomBytesKernel<<<Blocks(bytes), kThreads, 0, stream>>>(dst, bytes, seed);
  return cudaGetLastError();
}
cudaError_t LaunchRandomBf16(uint16_t* dst, size_t n, float amplitude, uint64_t seed, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  RandomBf16Kernel<<<Blocks(n), kThreads, 0, stream>>>(dst, n, amplitude, seed);
  return cudaGetLastError();
}
cudaError_t LaunchRandomE4M3(uint8_t* dst, size_t n, float lo, float hi, uint64_t seed, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  RandomE4M3Kernel<<<Blocks(n), kThreads, 0, stream>>>(dst, n, lo, hi, seed);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
