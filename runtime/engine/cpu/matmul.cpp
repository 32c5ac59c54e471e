#include "runtime/engine/cpu/matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/engine/cpu/thread_pool.h"

// Load/Sum take and return 32-byte vectors; they are always inlined into the target clones below, so the
// psabi note about passing AVX vectors without AVX never describes a real call.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace warden::engine::cpu {
namespace {

// GCC/Clang vector of 8 floats: one AVX register, or two SSE registers in the portable clone.
typedef float V8 __attribute__((vector_size(32)));

__attribute__((always_inline)) inline V8 Load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__attribute__((always_inline)) inline float Sum(V8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
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
  float t0 = Sum(a0), t1 = Sum(a1), t2 = Sum(a2), t3 = Sum(a3);
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
  float t = Sum(acc);
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
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

}  // namespace warden::engine::cpu
