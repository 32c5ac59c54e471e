// Scalar conversions between the storage formats the engine meets (BF16, FP16, FP8 E4M3) and fp32.
// Exact: every BF16/FP16/E4M3 value is representable in fp32. Rounding to BF16 is round-to-nearest-even, as
// PyTorch's .to(torch.bfloat16) does.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace warden::engine::cpu {

inline float Bf16ToFloat(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

// E4M3 "fn" (no infinities; S.1111.111 is NaN): bias 7, subnormals 2^-6 · m/8.
inline float Fp8E4M3ToFloat(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xf, man = v & 0x7;
  float mag;
  if (exp == 0xf && man == 0x7) return std::nanf("");
  if (exp == 0) mag = std::ldexp(static_cast<float>(man) / 8.f, -6);
  else mag = std::ldexp(1.f + static_cast<float>(man) / 8.f, exp - 7);
  return sign ? -mag : mag;
}

}  // namespace warden::engine::cpu
