#include "runtime/engine/cpu/matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/engine/cpu/thread_pool.h"
#include "runtime/engine/numeric.h"

// No helper below passes or returns a 32-byte vector by value: Clang rejects that (as an ABI change) in functions
// compiled without AVX, and the helpers are compiled for the default target. Vectors travel through pointers.

namespace warden::engine::cpu {
namespace {

// GCC/Clang vector of 8 floats: one AVX register, or two SSE registers in the portable clone.
typedef float V8 __attribute__((vector_size(32)));

// An unaligned, aliasing view of eight floats: `Load(p)` reads x[i .. i+8) as one vector without a call.
typedef float V8Unaligned __attribute__((vector_size(32), aligned(4), may_alias));
inline const V8Unaligned& Load(const float* p) { return *reinterpret_cast<const V8Unaligned*>(p); }

__attribute__((always_inline)) inline float Sum(const V8* v) {
  const V8& a = *v;
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

constexpr size_t kRowBlock = 4;  // output rows per kernel pass

// y[j] = x · w_j for the four rows w0..w3 (each n long).
__attribute__((target_clones("arch=x86-64-v3", "default")))
void Dot4(const float* x, const float* w0, const float* w1, const float* w2, const float* w3, size_t n, float* y) {
  V8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const V8 xv = Load(x + i);
    a0 += xv * Load(w0 + i);
    a1 += xv * Load(w1 + i);
    a2 += xv * Load(w2 + i);
    a3 += xv * Load(w3 + i);
  }
  float t0 = Sum(&a0), t1 = Sum(&a1), t2 = Sum(&a2), t3 = Sum(&a3);
  for (; i < n; ++i) {
    t0 += x[i] * w0[i];
    t1 += x[i] * w1[i];
    t2 += x[i] * w2[i];
    t3 += x[i] * w3[i];
  }
  y[0] = t0;
  y[1] = t1;
  y[2] = t2;
  y[3] = t3;
}

__attribute__((target_clones("arch=x86-64-v3", "default")))
float Dot1(const float* a, const float* b, size_t n) {
  V8 acc = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) acc += Load(a + i) * Load(b + i);
  float t = Sum(&acc);
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}


// ---------------------------------------------------------------------------------------------------------
// Fused decode-and-dot for few input rows. At decode (T = 1) every weight byte is used once, so the Linear is
// bound by how fast packed weights stream through; decoding a row to fp32 in memory first and reading it back
// costs more than the dot itself. These kernels widen the packed values in registers and multiply at once.

typedef uint16_t U16x8 __attribute__((vector_size(16)));
typedef uint32_t U32x8 __attribute__((vector_size(32)));

// Eight BF16 values (unaligned) widened to fp32: the BF16 bits are the high half of the fp32 bits.
__attribute__((always_inline)) inline void LoadBf16(V8* f, const std::byte* p) {
  U16x8 h;
  std::memcpy(&h, p, sizeof h);
  const U32x8 w = __builtin_convertvector(h, U32x8) << 16;
  std::memcpy(f, &w, sizeof *f);
}

// y[j] = x · w_j for four BF16 rows.
__attribute__((target_clones("arch=x86-64-v3", "default")))
void Bf16Dot4(const float* x, const std::byte* w0, const std::byte* w1, const std::byte* w2, const std::byte* w3,
              size_t n, float* y) {
  V8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const V8 xv = Load(x + i);
    V8 b0, b1, b2, b3;
    LoadBf16(&b0, w0 + 2 * i);
    LoadBf16(&b1, w1 + 2 * i);
    LoadBf16(&b2, w2 + 2 * i);
    LoadBf16(&b3, w3 + 2 * i);
    a0 += xv * b0;
    a1 += xv * b1;
    a2 += xv * b2;
    a3 += xv * b3;
  }
  float t[4] = {Sum(&a0), Sum(&a1), Sum(&a2), Sum(&a3)};
  const std::byte* w[4] = {w0, w1, w2, w3};
  for (; i < n; ++i) {
    for (int r = 0; r < 4; ++r) {
      uint16_t b;
      std::memcpy(&b, w[r] + 2 * i, 2);
      t[r] += x[i] * Bf16ToFloat(b);
    }
  }
  std::memcpy(y, t, sizeof t);
}

const float* E4M3Lut() {
  static const auto* lut = [] {
    static float t[256];
    for (int i = 0; i < 256; ++i) t[i] = F8E4M3ToFloat(static_cast<uint8_t>(i));
    return t;
  }();
  return lut;
}

// Both E2M1 values of a packed NVFP4 byte (low nibble first), for every byte value.
const float* Nvfp4PairLut() {
  static const auto* lut = [] {
    static float t[512];
    constexpr float kE2M1[8] = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};
    auto dec = [&](unsigned c) { return (c & 8u) ? -kE2M1[c & 7u] : kE2M1[c & 7u]; };
    for (unsigned b = 0; b < 256; ++b) {
      t[2 * b] = dec(b & 0xFu);
      t[2 * b + 1] = dec(b >> 4);
    }
    return t;
  }();
  return lut;
}

typedef uint8_t U8x16 __attribute__((vector_size(16)));
typedef uint8_t U8x32 __attribute__((vector_size(32)));
typedef int32_t I32x8 __attribute__((vector_size(32)));

// E4M3 codes (one per 32-bit lane, high bits zero) to fp32 with integer ops instead of table loads. Normal codes
// map by moving exponent and mantissa into place and rebiasing (7 → 127); subnormal codes (exponent 0) are
// m · 2^-9, exact in fp32. NaN codes do not occur in weights and decode as a large finite value here.
__attribute__((always_inline)) inline void Fp8Lanes(V8* f, const U32x8* code) {
  const U32x8 u = *code;
  const U32x8 mag = u & 0x7fu;
  const U32x8 normal = (mag << 20) + (120u << 23);
  // Signed lanes: AVX2 converts and compares only signed 32-bit integers (the codes are < 128 anyway).
  const I32x8 smag = reinterpret_cast<I32x8>(mag);
  const V8 sub = __builtin_convertvector(smag, V8) * 0x1p-9f;
  U32x8 sub_bits;
  std::memcpy(&sub_bits, &sub, sizeof sub_bits);
  const U32x8 is_sub = reinterpret_cast<U32x8>(smag < 8);
  const U32x8 bits = ((is_sub & sub_bits) | (~is_sub & normal)) | ((u & 0x80u) << 24);
  std::memcpy(f, &bits, sizeof *f);
}

// Sixteen codes: each byte is spread to a 32-bit lane with one byte shuffle (GCC does not turn a widening
// conversion of an 8-byte vector into vpmovzxbd).
__attribute__((always_inline)) inline void LoadFp8x16(const uint8_t* p, V8* lo, V8* hi) {
  U8x16 b;
  std::memcpy(&b, p, sizeof b);
  const U8x32 l = __builtin_shufflevector(b, b, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5,
                                          5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
  const U8x32 h = __builtin_shufflevector(b, b, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12,
                                          12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15);
  U32x8 ul, uh;
  std::memcpy(&ul, &l, sizeof ul);
  std::memcpy(&uh, &h, sizeof uh);
  ul &= 0xffu;
  uh &= 0xffu;
  Fp8Lanes(lo, &ul);
  Fp8Lanes(hi, &uh);
}

// x · w for one FP8 E4M3 row (unscaled).
__attribute__((target_clones("arch=x86-64-v3", "default")))
float Fp8Dot(const float* x, const uint8_t* w, size_t n, const float* lut) {
  V8 acc = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V8 lo, hi;
    LoadFp8x16(w + i, &lo, &hi);
    acc += Load(x + i) * lo + Load(x + i + 8) * hi;
  }
  float t = Sum(&acc);
  for (; i < n; ++i) t += x[i] * lut[w[i]];
  return t;
}

// Eight E2M1 codes (one per lane, low 4 bits) to fp32: the magnitude picked from a register-resident table
// (one vpermps), the sign bit moved to bit 31.
__attribute__((always_inline)) inline void E2M1Lanes(V8* f, const U32x8* code_in) {
  const U32x8 code = *code_in;
  const V8 kMag = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};
#if defined(__clang__)
  // Clang has no variable-index vector shuffle builtin; it still vectorises this gather from a register.
  V8 mag;
  for (int j = 0; j < 8; ++j) mag[j] = kMag[code[j] & 7u];
#else
  const V8 mag = __builtin_shuffle(kMag, reinterpret_cast<I32x8>(code & 7u));
#endif
  U32x8 bits;
  std::memcpy(&bits, &mag, sizeof bits);
  bits |= (code & 8u) << 28;
  std::memcpy(f, &bits, sizeof *f);
}

// The eight codes of packed bytes p[first .. first + 3] (element 2j in the low nibble of byte j).
__attribute__((always_inline)) inline void Nvfp4x8(V8* f, const U8x16& b, int quarter) {
  U8x32 spread;
  switch (quarter) {
    case 0: spread = __builtin_shufflevector(b, b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                             2, 2, 3, 3, 3, 3, 3, 3, 3, 3); break;
    case 1: spread = __builtin_shufflevector(b, b, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6,
                                             6, 6, 7, 7, 7, 7, 7, 7, 7, 7); break;
    case 2: spread = __builtin_shufflevector(b, b, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10,
                                             10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11); break;
    default: spread = __builtin_shufflevector(b, b, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
                                              14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15);
  }
  U32x8 u;
  std::memcpy(&u, &spread, sizeof u);
  const U32x8 shift = {0, 4, 0, 4, 0, 4, 0, 4};
  const U32x8 codes = (u >> shift) & 0xfu;
  E2M1Lanes(f, &codes);
}

// x · w for one NVFP4 row of n (a multiple of 16) values, block scales applied, global scale not. Two blocks
// (16 packed bytes) per pass; an odd last block goes through the pair table.
__attribute__((target_clones("arch=x86-64-v3", "default")))
float Nvfp4Dot(const float* x, const uint8_t* w, const uint8_t* scales, size_t n, const float* pair_lut,
               const float* e4m3) {
  V8 acc = {};
  const size_t blocks = n / 16;
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    U8x16 bytes;
    std::memcpy(&bytes, w + 8 * b, sizeof bytes);
    const float* xb = x + 16 * b;
    V8 q0, q1, q2, q3;
    Nvfp4x8(&q0, bytes, 0);
    Nvfp4x8(&q1, bytes, 1);
    Nvfp4x8(&q2, bytes, 2);
    Nvfp4x8(&q3, bytes, 3);
    acc += (Load(xb) * q0 + Load(xb + 8) * q1) * e4m3[scales[b]];
    acc += (Load(xb + 16) * q2 + Load(xb + 24) * q3) * e4m3[scales[b + 1]];
  }
  for (; b < blocks; ++b) {
    V8 lo, hi;
    const uint8_t* wb = w + 8 * b;
    for (int j = 0; j < 4; ++j) {
      lo[2 * j] = pair_lut[2 * wb[j]];
      lo[2 * j + 1] = pair_lut[2 * wb[j] + 1];
      hi[2 * j] = pair_lut[2 * wb[4 + j]];
      hi[2 * j + 1] = pair_lut[2 * wb[4 + j] + 1];
    }
    const float* xb = x + 16 * b;
    acc += (Load(xb) * lo + Load(xb + 8) * hi) * e4m3[scales[b]];
  }
  return Sum(&acc);
}

}  // namespace

float Dot(const float* a, const float* b, size_t n) { return Dot1(a, b, n); }

void Linear(const float* x, size_t T, size_t in, size_t out, const RowDecoder& decode_rows, float* y) {
  const size_t blocks = (out + kRowBlock - 1) / kRowBlock;
  ThreadPool::Default().ParallelFor(blocks, [&](size_t b0, size_t b1) {
    std::vector<float> w(kRowBlock * in);
    float r4[kRowBlock];
    for (size_t b = b0; b < b1; ++b) {
      const size_t r0 = b * kRowBlock, rows = std::min(kRowBlock, out - r0);
      decode_rows(r0, r0 + rows, w.data());
      if (rows == kRowBlock) {
        for (size_t t = 0; t < T; ++t) {
          Dot4(x + t * in, &w[0], &w[in], &w[2 * in], &w[3 * in], in, r4);
          std::memcpy(y + t * out + r0, r4, sizeof r4);
        }
      } else {
        for (size_t t = 0; t < T; ++t) {
          for (size_t r = 0; r < rows; ++r) y[t * out + r0 + r] = Dot1(x + t * in, &w[r * in], in);
        }
      }
    }
  }, 2);
}

void LinearF32(const float* x, size_t T, size_t in, size_t out, const float* w, float* y) {
  Linear(x, T, in, out, [&](size_t r0, size_t r1, float* dst) {
    std::memcpy(dst, w + r0 * in, (r1 - r0) * in * sizeof(float));
  }, y);
}

void LinearBf16Direct(const float* x, size_t T, size_t in, size_t out, const std::byte* w, float* y) {
  const size_t blocks = (out + kRowBlock - 1) / kRowBlock, stride = 2 * in;
  ThreadPool::Default().ParallelFor(blocks, [&](size_t b0, size_t b1) {
    float r4[kRowBlock];
    for (size_t b = b0; b < b1; ++b) {
      const size_t r0 = b * kRowBlock, rows = std::min(kRowBlock, out - r0);
      // A ragged last block reuses its last row for the missing ones and drops their results.
      const std::byte* wr[kRowBlock];
      for (size_t r = 0; r < kRowBlock; ++r) wr[r] = w + (r0 + std::min(r, rows - 1)) * stride;
      for (size_t t = 0; t < T; ++t) {
        Bf16Dot4(x + t * in, wr[0], wr[1], wr[2], wr[3], in, r4);
        std::memcpy(y + t * out + r0, r4, rows * sizeof(float));
      }
    }
  }, 2);
}

void LinearFp8Direct(const float* x, size_t T, size_t in, size_t out, const uint8_t* w, float scale, float* y) {
  const float* lut = E4M3Lut();
  ThreadPool::Default().ParallelFor(out, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      for (size_t t = 0; t < T; ++t) y[t * out + r] = Fp8Dot(x + t * in, w + r * in, in, lut) * scale;
    }
  }, 8);
}

void LinearNvfp4Direct(const float* x, size_t T, size_t in, size_t out, const uint8_t* w, const uint8_t* scales,
                       float global, float* y) {
  const float *pairs = Nvfp4PairLut(), *e4m3 = E4M3Lut();
  ThreadPool::Default().ParallelFor(out, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      for (size_t t = 0; t < T; ++t) {
        y[t * out + r] = Nvfp4Dot(x + t * in, w + r * in / 2, scales + r * in / 16, in, pairs, e4m3) * global;
      }
    }
  }, 8);
}

}  // namespace warden::engine::cpu
