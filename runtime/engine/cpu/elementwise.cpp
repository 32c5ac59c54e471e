#include "runtime/engine/cpu/elementwise.h"

namespace warden::engine::cpu {

void SiluMul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = Silu(gate[i]) * up[i];
}

void SiluInPlace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = Silu(x[i]);
}

void MulSigmoid(float* x, const float* gate, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] *= Sigmoid(gate[i]);
}

void AddInPlace(float* acc, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) acc[i] += x[i];
}

}  // namespace warden::engine::cpu
