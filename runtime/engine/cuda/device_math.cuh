// Device-side scalar conversions and activations, the CUDA twins of runtime/engine/numeric.h,
// runtime/engine/weights/dequant.h (E2M1) and cpu/elementwise.h. They are written to give the same bits as the
// host functions (same formulas, same rounding), so a kernel that decodes a stored value agrees with the CPU
// reference exactly; only summation order differs between the backends. Included by .cu files only.
#pragma once

#include <cstdint>

namespace warden::engine::cuda::detail {

__device__ __forceinline__ float Bf16ToFloat(uint16_t v) { return __uint_as_float(static_cast<uint32_t>(v) << 16); }

// Round-to-nearest-even, quiet NaN kept (numeric.h FloatToBf16).
__device__ __forceinline__ uint16_t FloatToBf16(float f) {
  const uint32_t bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

// IEEE half (numeric.h F16ToFloat).
__device__ __forceinline__ float F16ToFloat(uint16_t bits) {
  const uint32_t sign = (bits >> 15) & 1u, exp = (bits >> 10) & 0x1Fu, mant = bits & 0x3FFu;
  float v;
  if (exp == 0) v = ldexpf(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? __uint_as_float(0x7fc00000u) : __uint_as_float(0x7f800000u);
  else v = ldexpf(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

// E4M3FN: bias 7, subnormals m/8·2^-6, S.1111.111 NaN (numeric.h F8E4M3ToFloat).
__device__ __forceinline__ float F8E4M3ToFloat(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xf, man = v & 0x7;
  if (exp == 0xf && man == 0x7) return __uint_as_float(0x7fc00000u);
  const float mag = exp == 0 ? ldexpf(static_cast<float>(man) / 8.f, -6)
                             : ldexpf(1.f + static_cast<float>(man) / 8.f, exp - 7);
  return sign ? -mag : mag;
}

// fp32 → E4M3FN saturating to ±448, ties to even (numeric.h FloatToF8E4M3, step for step).
__device__ __forceinline__ uint8_t FloatToF8E4M3(float f) {
  if (isnan(f)) return 0x7f;
  const uint8_t sign = signbit(f) ? 0x80 : 0x00;
  const float a = fabsf(f);
  if (a >= 448.f) return sign | 0x7e;
  int exp;
  frexpf(a, &exp);
  int e = exp - 1;
  if (e < -6) e = -6;
  const float step = ldexpf(1.f, e - 3);
  const float q = rintf(a / step) * step;
  if (q >= 448.f) return sign | 0x7e;
  if (q == 0.f) return sign;
  int qe;
  frexpf(q, &qe);
  const int biased = qe - 1 + 7;
  if (biased <= 0) return sign | static_cast<uint8_t>(lroundf(q / ldexpf(1.f, -9)));
  const int man = static_cast<int>(lroundf((q / ldexpf(1.f, qe - 1) - 1.f) * 8.f));
  return sign | static_cast<uint8_t>((biased << 3) | man);
}

// E2M1 nibble (bit 3 sign, bits 0-2 index the magnitudes) to float; code 8 is -0 (dequant.h E2M1ToFloat).
__device__ __forceinline__ float E2M1ToFloat(uint32_t code) {
  // Magnitudes ×2 are the integers 0 1 2 3 4 6 8 12, packed as nibbles of one constant: no table in memory.
  const uint32_t twice = (0xC8643210u >> ((code & 7u) * 4u)) & 0xFu;
  const float m = static_cast<float>(twice) * 0.5f;
  return (code & 8u) ? -m : m;
}

__device__ __forceinline__ float Sigmoid(float x) { return 1.f / (1.f + expf(-x)); }
__device__ __forceinline__ float Silu(float x) { return x / (1.f + expf(-x)); }
__device__ __forceinline__ float Softplus(float x) { return x > 20.f ? x : log1pf(expf(x)); }

// Sum over a warp; every lane gets the result.
__device__ __forceinline__ float WarpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float WarpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over a block of blockDim.x threads (a multiple of 32, ≤ 1024); every thread gets the result. `scratch`
// holds 32 floats of shared memory; each call starts with a barrier, so consecutive calls may share it.
__device__ __forceinline__ float BlockSum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = WarpSum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = lane < warps ? scratch[lane] : 0.f;
  total = WarpSum(total);
  return total;
}
__device__ __forceinline__ float BlockMax(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = WarpMax(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float m = lane < warps ? scratch[lane] : -INFINITY;
  return WarpMax(m);
}

}  // namespace warden::engine::cuda::detail
