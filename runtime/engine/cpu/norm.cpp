#include "runtime/engine/cpu/norm.h"

#include <cmath>

#include "runtime/engine/cpu/elementwise.h"

namespace warden::engine::cpu {

void ZeroCenteredRmsNorm(const float* x, const float* w, float* y, size_t rows, size_t dim, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float ss = 0.f;
    for (size_t i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float inv = 1.f / std::sqrt(ss / static_cast<float>(dim) + eps);
    for (size_t i = 0; i < dim; ++i) yr[i] = xr[i] * inv * (1.f + w[i]);
  }
}

void GatedRmsNorm(const float* o, const float* z, const float* w, float* y, size_t rows, size_t dim, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    const float* orow = o + r * dim;
    const float* zr = z + r * dim;
    float* yr = y + r * dim;
    float ss = 0.f;
    for (size_t i = 0; i < dim; ++i) ss += orow[i] * orow[i];
    const float inv = 1.f / std::sqrt(ss / static_cast<float>(dim) + eps);
    // Normalise first, then gate (§2.1): the order matters when the row's RMS is tiny.
    for (size_t i = 0; i < dim; ++i) yr[i] = w[i] * (orow[i] * inv) * Silu(zr[i]);
  }
}

void L2NormalizeRows(float* x, size_t rows, size_t dim, float eps, float scale) {
  for (size_t r = 0; r < rows; ++r) {
    float* xr = x + r * dim;
    float ss = 0.f;
    for (size_t i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float f = scale / std::sqrt(ss + eps);
    for (size_t i = 0; i < dim; ++i) xr[i] *= f;
  }
}

}  // namespace warden::engine::cpu
