// Scalar conversions between the storage formats the engine meets (BF16, FP16, FP8 E4M3) and fp32.
// Exact: every BF16/FP16/E4M3 value is representable in fp32. Rounding to BF16 is round-to-nearest-even, as
// PyTorch's .to(torch.bfloat16) does.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace warden::engine {

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

// IEEE half: subnormals m · 2^-24, exponent 31 is inf/NaN.
inline float F16ToFloat(uint16_t bits) {
  const uint32_t sign = (bits >> 15) & 1u, exp = (bits >> 10) & 0x1Fu, mant = bits & 0x3FFu;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::nanf("") : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

// E4M3 "fn" (no infinities; S.1111.111 is NaN): bias 7, subnormals 2^-6 · m/8.
inline float F8E4M3ToFloat(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xf, man = v & 0x7;
  float mag;
  if (exp == 0xf && man == 0x7) return std::nanf("");
  if (exp == 0) mag = std::ldexp(static_cast<float>(man) / 8.f, -6);
  else mag = std::ldexp(1.f + static_cast<float>(man) / 8.f, exp - 7);
  return sign ? -mag : mag;
}


// fp32 → E4M3FN, saturating to ±448 (as ModelOpt clamps before casting), round-to-nearest-even; NaN stays NaN.
inline uint8_t FloatToF8E4M3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  float a = std::fabs(f);
  if (a >= 448.f) return sign | 0x7e;
  // Smallest normal is 2^-6; below it the grid is uniform with step 2^-9.
  int exp;
  std::frexp(a, &exp);  // a = m · 2^exp, m in [0.5, 1)
  int e = exp - 1;      // a = 1.xxx · 2^e
  if (e < -6) e = -6;
  const float step = std::ldexp(1.f, e - 3);  // 3 mantissa bits
  float q = std::nearbyint(a / step) * step;  // ties to even under the default rounding mode
  if (q >= 448.f) return sign | 0x7e;
  if (q == 0.f) return sign;
  int qe;
  std::frexp(q, &qe);
  int biased = qe - 1 + 7;
  if (biased <= 0) {  // subnormal: value = m/8 · 2^-6
    return sign | static_cast<uint8_t>(std::lround(q / std::ldexp(1.f, -9)));
  }
  const int man = static_cast<int>(std::lround((q / std::ldexp(1.f, qe - 1) - 1.f) * 8.f));
  return sign | static_cast<uint8_t>((biased << 3) | man);
}

// ModelOpt's static activation quantisation for W8A8 layers: sat_e4m3(x / scale) · scale, in fp32.
inline float FakeQuantFp8(float x, float scale) { return F8E4M3ToFloat(FloatToF8E4M3(x / scale)) * scale; }

}  // namespace warden::engine
