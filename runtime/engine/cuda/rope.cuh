// Launcher of the rope family on the GPU (twin of cpu/rope.h; model.md §3 M-RoPE).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace warden::engine::cuda {

// x: [T, heads, head_dim] in place; positions: I64 [3, T] (t, h, w); rotates the first rotary_dim dims of each
// head as halves (f, f + rotary_dim/2). Frequency f takes its position from the axis cpu::MropeAxis names.
struct MropeArgs {
  size_t rotary_dim;
  double theta;
  int section[3];
  bool interleaved;
};
cudaError_t LaunchApplyMrope(float* x, size_t T, size_t heads, size_t head_dim, const int64_t* positions,
                             const MropeArgs& p, cudaStream_t stream);

}  // namespace warden::engine::cuda
