// Norm family on the GPU: one block per row, a block-wide sum of squares in fp32, then the scaled write
// (cpu/norm.cpp is the reference; model.md §2.1 and the L2 norm of §2.4). Rows may be any length: each thread
// strides over the row, so odd dims need no special case.
#include "runtime/engine/cuda/device_math.cuh"
#include "runtime/engine/cuda/norm.cuh"

namespace warden::engine::cuda {
namespace {

using detail::BlockSum;

constexpr int kThreads = 256;

__device__ float RowSumSquares(const float* row, size_t dim, float* scratch) {
  float ss = 0.f;
  for (size_t i = threadIdx.x; i < dim; i += blockDim.x) ss += row[i] * row[i];
  return BlockSum(ss, scratch);
}

__global__ void ZeroCenteredRmsNormKernel(const float* x, const float* w, float* y, size_t dim, float eps) {
  __shared__ float scratch[32];
  const float* xr = x + blockIdx.x * dim;
  float* yr = y + blockIdx.x * dim;
  const float ss = RowSumSquares(xr, dim, scratch);
  const float inv = 1.f / sqrtf(ss / static_cast<float>(dim) + eps);
  // Every thread has read its elements of xr before the barrier inside BlockSum, so y may alias x.
  for (size_t i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i] * inv * (1.f + w[i]);
}

__global__ void GatedRmsNormKernel(const float* o, const float* z, const float* w, float* y, size_t dim, float eps) {
  __shared__ float scratch[32];
  const float* orow = o + blockIdx.x * dim;
  const float* zr = z + blockIdx.x * dim;
  float* yr = y + blockIdx.x * dim;
  const float ss = RowSumSquares(orow, dim, scratch);
  const float inv = 1.f / sqrtf(ss / static_cast<float>(dim) + eps);
  // Normalise first, then gate (§2.1), as the reference does.
  for (size_t i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = w[i] * (orow[i] * inv) * detail::Silu(zr[i]);
}

__global__ void L2NormalizeRowsKernel(float* x, size_t dim, float eps, float scale) {
  __shared__ float scratch[32];
  float* xr = x + blockIdx.x * dim;
  const float ss = RowSumSquares(xr, dim, scratch);
  const float f = scale / sqrtf(ss + eps);
  for (size_t i = threadIdx.x; i < dim; i += blockDim.x) xr[i] *= f;
}

// Rows beyond the grid limit are not expected (2^31 − 1 rows); the backend checks shapes before launching.
int Threads(size_t dim) { return dim >= kThreads ? kThreads : static_cast<int>((dim + 31) / 32 * 32); }

}  // namespace

cudaError_t LaunchZeroCenteredRmsNorm(const float* x, const float* w, float* y, size_t rows, size_t dim, float eps,
                                      cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  ZeroCenteredRmsNormKernel<<<static_cast<unsigned>(rows), Threads(dim), 0, stream>>>(x, w, y, dim, eps);
  return cudaGetLastError();
}

cudaError_t LaunchGatedRmsNorm(const float* o, const float* z, const float* w, float* y, size_t rows, size_t dim,
                               float eps, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  GatedRmsNormKernel<<<static_cast<unsigned>(rows), Threads(dim), 0, stream>>>(o, z, w, y, dim, eps);
  return cudaGetLastError();
}

cudaError_t LaunchL2NormalizeRows(float* x, size_t rows, size_t dim, float eps, float scale, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  L2NormalizeRowsKernel<<<static_cast<unsigned>(rows), Threads(dim), 0, stream>>>(x, dim, eps, scale);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
