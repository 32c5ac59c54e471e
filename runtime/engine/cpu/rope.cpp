#include "runtime/engine/cpu/rope.h"

#include <cmath>
#include <vector>

namespace warden::engine::cpu {

int MropeAxis(const RopeParams& p, size_t f) {
  const size_t s_h = static_cast<size_t>(p.mrope_section[1]), s_w = static_cast<size_t>(p.mrope_section[2]);
  if (p.mrope_interleaved) {
    if (f % 3 == 1 && f < 3 * s_h) return 1;
    if (f % 3 == 2 && f < 3 * s_w) return 2;
    return 0;
  }
  const size_t s_t = static_cast<size_t>(p.mrope_section[0]);
  if (f < s_t) return 0;
  if (f < s_t + s_h) return 1;
  return 2;
}

void ApplyMrope(float* x, size_t T, size_t heads, size_t head_dim, const int64_t* positions, const RopeParams& p) {
  const size_t half = p.rotary_dim / 2;
  // inv_freq and angles in fp32, as transformers builds its rotary tables.
  std::vector<float> inv_freq(half);
  std::vector<int> axis(half);
  for (size_t f = 0; f < half; ++f) {
    inv_freq[f] = static_cast<float>(1.0 / std::pow(p.theta, static_cast<double>(2 * f) / p.rotary_dim));
    axis[f] = MropeAxis(p, f);
  }
  std::vector<float> cos_t(half), sin_t(half);
  for (size_t t = 0; t < T; ++t) {
    for (size_t f = 0; f < half; ++f) {
      const float angle = static_cast<float>(positions[static_cast<size_t>(axis[f]) * T + t]) * inv_freq[f];
      cos_t[f] = std::cos(angle);
      sin_t[f] = std::sin(angle);
    }
    for (size_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * head_dim;
      for (size_t f = 0; f < half; ++f) {
        const float a = v[f], b = v[f + half];
        v[f] = a * cos_t[f] - b * sin_t[f];
        v[f + half] = b * cos_t[f] + a * sin_t[f];
      }
    }
  }
}

}  // namespace warden::engine::cpu
