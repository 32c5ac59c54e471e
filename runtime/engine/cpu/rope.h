// CPU reference for the rope family: partial, interleaved M-RoPE (model.md §3).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace warden::engine::cpu {

struct RopeParams {
  size_t rotary_dim = 64;                       // leading dims of each head that rotate (head_dim · partial factor)
  double theta = 1e7;                           // rope_theta
  std::array<int, 3> mrope_section{11, 11, 10};  // frequencies taken from the t, h, w axes
  bool mrope_interleaved = true;                // Qwen3.5/3.6 layout; false = Qwen2-VL contiguous sections
};

// Which position axis (0 = t, 1 = h, 2 = w) frequency `f` (0 ≤ f < rotary_dim/2) takes its angle from.
int MropeAxis(const RopeParams& p, size_t f);

// Rotates the first rotary_dim dims of every head in place, NeoX "rotate half" form.
// x: [T, heads, head_dim]; positions: [3, T] (t, h, w ids; equal for text).
void ApplyMrope(float* x, size_t T, size_t heads, size_t head_dim, const int64_t* positions, const RopeParams& p);

}  // namespace warden::engine::cpu
