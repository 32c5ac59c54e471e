// Launchers of the norm family on the GPU (twins of cpu/norm.h; model.md §2.1, §2.4). Each takes the stream and
// returns the launch error. Pointers are device addresses; shapes as in cpu/norm.h.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace warden::engine::cuda {

// y[r] = x[r] / rms(x[r]) · (1 + w), rows of dim. y may be x.
cudaError_t LaunchZeroCenteredRmsNorm(const float* x, const float* w, float* y, size_t rows, size_t dim, float eps,
                                      cudaStream_t stream);
// y[r] = w · o[r] / rms(o[r]) · silu(z[r]). y may be o.
cudaError_t LaunchGatedRmsNorm(const float* o, const float* z, const float* w, float* y, size_t rows, size_t dim,
                               float eps, cudaStream_t stream);
// x[r] *= scale / sqrt(Σ x[r]² + eps), in place.
cudaError_t LaunchL2NormalizeRows(float* x, size_t rows, size_t dim, float eps, float scale, cudaStream_t stream);

}  // namespace warden::engine::cuda
