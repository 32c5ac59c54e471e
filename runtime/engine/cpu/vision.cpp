// CPU reference for the vision op family (model.md §4.2, §4.4); see vision.h for shapes.
#include "runtime/engine/cpu/vision.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/engine/cpu/thread_pool.h"

namespace warden::engine::cpu {

void LayerNorm(const float* x, const float* w, const float* b, float* y, size_t rows, size_t dim, float eps) {
  ThreadPool::Default().ParallelFor(rows, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const float* xr = x + r * dim;
      float* yr = y + r * dim;
      double sum = 0;
      for (size_t i = 0; i < dim; ++i) sum += xr[i];
      const double mean = sum / static_cast<double>(dim);
      double var = 0;
      for (size_t i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(dim) + eps));
      const float m = static_cast<float>(mean);
      for (size_t i = 0; i < dim; ++i) yr[i] = (xr[i] - m) * inv * w[i] + b[i];
    }
  }, 16);
}

void GeluTanhInPlace(float* x, size_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void GeluErfInPlace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.70710678118654752f));
}

void ApplyRope2d(float* x, size_t N, size_t heads, size_t head_dim, const int64_t* positions, double theta) {
  const size_t half = head_dim / 2, quarter = head_dim / 4;
  // HF builds the frequency table in fp32: inv_freq = 1 / θ^(arange(0, half, 2) / half).
  std::vector<float> inv_freq(quarter);
  for (size_t i = 0; i < quarter; ++i) {
    inv_freq[i] = static_cast<float>(1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(half)));
  }
  ThreadPool::Default().ParallelFor(N, [&](size_t begin, size_t end) {
    std::vector<float> cos_t(half), sin_t(half);
    for (size_t n = begin; n < end; ++n) {
      const float row = static_cast<float>(positions[n]), col = static_cast<float>(positions[N + n]);
      for (size_t i = 0; i < quarter; ++i) {
        const float a_r = row * inv_freq[i], a_c = col * inv_freq[i];
        cos_t[i] = std::cos(a_r);
        sin_t[i] = std::sin(a_r);
        cos_t[quarter + i] = std::cos(a_c);
        sin_t[quarter + i] = std::sin(a_c);
      }
      for (size_t h = 0; h < heads; ++h) {
        float* v = x + (n * heads + h) * head_dim;
        // Angles repeat over both halves, so dims i and i + half share cos_t[i] / sin_t[i].
        for (size_t i = 0; i < half; ++i) {
          const float a = v[i], b = v[i + half];
          v[i] = a * cos_t[i] - b * sin_t[i];
          v[i + half] = b * cos_t[i] + a * sin_t[i];
        }
      }
    }
  });
}

void SegmentAttention(const float* qs, const float* ks, const float* vs, size_t N, size_t heads, size_t head_dim, const int64_t* segment_ends,
                      size_t num_segments, float* out) {
  const size_t width = heads * head_dim;
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
  // Each query's segment, so the pool can split over (token, head) pairs without knowing the segments.
  std::vector<size_t> seg_begin(N), seg_end(N);
  size_t start = 0;
  for (size_t s = 0; s < num_segments; ++s) {
    const size_t e = std::min(static_cast<size_t>(segment_ends[s]), N);
    for (size_t n = start; n < e; ++n) {
      seg_begin[n] = start;
      seg_end[n] = e;
    }
    start = e;
  }
  ThreadPool::Default().ParallelFor(N * heads, [&](size_t begin, size_t end) {
    std::vector<float> scores;
    std::vector<float> acc(head_dim);
    for (size_t job = begin; job < end; ++job) {
      const size_t n = job / heads, h = job % heads;
      const float* q = qs + n * width + h * head_dim;
      const size_t b = seg_begin[n], e = seg_end[n];
      scores.resize(e - b);
      float mx = -INFINITY;
      for (size_t m = b; m < e; ++m) {
        const float* k = ks + m * width + h * head_dim;
        float dot = 0;
        for (size_t d = 0; d < head_dim; ++d) dot += q[d] * k[d];
        scores[m - b] = dot * scale;
        mx = std::max(mx, scores[m - b]);
      }
      float denom = 0;
      for (float& s : scores) {
        s = std::exp(s - mx);
        denom += s;
      }
      std::fill(acc.begin(), acc.end(), 0.f);
      for (size_t m = b; m < e; ++m) {
        const float* v = vs + m * width + h * head_dim;
        const float p = scores[m - b];
        for (size_t d = 0; d < head_dim; ++d) acc[d] += p * v[d];
      }
      float* o = out + n * width + h * head_dim;
      const float inv = denom > 0 ? 1.f / denom : 0.f;
      for (size_t d = 0; d < head_dim; ++d) o[d] = acc[d] * inv;
    }
  });
}

void ScatterRows(float* dst, size_t width, const int32_t* rows, size_t n, const float* src) {
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<size_t>(rows[i]) * width, src + i * width, width * sizeof(float));
  }
}

}  // namespace warden::engine::cpu
