// M-RoPE on the GPU: one thread per (token, head, frequency) rotates one pair (f, f + half). Angles are built as
// the reference builds them (cpu/rope.cpp): inv_freq in double rounded to fp32, angle = fp32(position) · inv_freq
// in fp32, then fp32 cos/sin (no fast-math, so cosf/sinf stay within 2 ulp of the host's).
#include "runtime/engine/cuda/rope.cuh"

namespace warden::engine::cuda {
namespace {

// cpu::MropeAxis: which position axis (0 t, 1 h, 2 w) frequency f reads.
__device__ int MropeAxis(const MropeArgs& p, size_t f) {
  const size_t s_h = static_cast<size_t>(p.section[1]), s_w = static_cast<size_t>(p.section[2]);
  if (p.interleaved) {
    if (f % 3 == 1 && f < 3 * s_h) return 1;
    if (f % 3 == 2 && f < 3 * s_w) return 2;
    return 0;
  }
  const size_t s_t = static_cast<size_t>(p.section[0]);
  if (f < s_t) return 0;
  if (f < s_t + s_h) return 1;
  return 2;
}

__global__ void MropeKernel(float* x, size_t T, size_t heads, size_t head_dim, const int64_t* positions,
                            MropeArgs p) {
  const size_t half = p.rotary_dim / 2;
  const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T * heads * half) return;
  const size_t f = i % half, th = i / half, t = th / heads;
  const float inv_freq = static_cast<float>(1.0 / pow(p.theta, static_cast<double>(2 * f) / p.rotary_dim));
  const float angle = static_cast<float>(positions[static_cast<size_t>(MropeAxis(p, f)) * T + t]) * inv_freq;
  const float c = cosf(angle), s = sinf(angle);
  float* v = x + th * head_dim;
  const float a = v[f], b = v[f + half];
  v[f] = a * c - b * s;
  v[f + half] = b * c + a * s;
}

}  // namespace

cudaError_t LaunchApplyMrope(float* x, size_t T, size_t heads, size_t head_dim, const int64_t* positions,
                             const MropeArgs& p, cudaStream_t stream) {
  const size_t n = T * heads * (p.rotary_dim / 2);
  if (n == 0) return cudaSuccess;
  constexpr unsigned kThreads = 256;
  MropeKernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(x, T, heads, head_dim,
                                                                                              positions, p);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
