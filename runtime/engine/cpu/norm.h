// CPU reference for the norm family (model.md §2.1). fp32 in, fp32 out, fp32 statistics.
#pragma once

#include <cstddef>

namespace warden::engine::cpu {

// Zero-centred RMSNorm: y[r] = x[r] / sqrt(mean(x[r]²) + eps) · (1 + w), rows of `dim` values.
// x, y: [rows, dim] (may alias); w: [dim].
void ZeroCenteredRmsNorm(const float* x, const float* w, float* y, size_t rows, size_t dim, float eps);

// Gated RMSNorm of the GDN output: y = w · (o / sqrt(mean(o²) + eps)) · silu(z), per row of `dim` (one value
// head). o, z, y: [rows, dim] (y may alias o); w: [dim], used as is (not 1 + w).
void GatedRmsNorm(const float* o, const float* z, const float* w, float* y, size_t rows, size_t dim, float eps);

// L2 normalisation of each row: x / sqrt(Σx² + eps), then times `scale`. x: [rows, dim], in place.
void L2NormalizeRows(float* x, size_t rows, size_t dim, float eps, float scale);

}  // namespace warden::engine::cpu
