#include "runtime/engine/cpu/matmul.h"

#include <cstring>
#include <vector>

#include "runtime/engine/cpu/thread_pool.h"

namespace warden::engine::cpu {

float Dot(const float* a, const float* b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

void Linear(const float* x, size_t T, size_t in, size_t out, const RowDecoder& decode_row, float* y) {
  ThreadPool::Default().ParallelFor(out, [&](size_t r0, size_t r1) {
    std::vector<float> w(in);
    for (size_t r = r0; r < r1; ++r) {
      decode_row(r, w.data());
      for (size_t t = 0; t < T; ++t) y[t * out + r] = Dot(x + t * in, w.data(), in);
    }
  }, 8);
}

void LinearF32(const float* x, size_t T, size_t in, size_t out, const float* w, float* y) {
  Linear(x, T, in, out, [&](size_t r, float* dst) { std::memcpy(dst, w + r * in, in * sizeof(float)); }, y);
}

}  // namespace warden::engine::cpu
