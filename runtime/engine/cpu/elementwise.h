// CPU reference for the elementwise family: activations, gating, residual adds.
#pragma once

#include <cmath>
#include <cstddef>

namespace warden::engine::cpu {

inline float Sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }
inline float Silu(float x) { return x / (1.f + std::exp(-x)); }
// softplus with PyTorch's threshold (x > 20 → x) so large inputs do not overflow exp.
inline float Softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }

// out[i] = silu(gate[i]) · up[i]  (SwiGLU MLP). out may alias gate or up.
void SiluMul(const float* gate, const float* up, float* out, size_t n);
// x[i] = silu(x[i]).
void SiluInPlace(float* x, size_t n);
// x[i] *= sigmoid(gate[i]).
void MulSigmoid(float* x, const float* gate, size_t n);
// acc[i] += x[i].
void AddInPlace(float* acc, const float* x, size_t n);

}  // namespace warden::engine::cpu
