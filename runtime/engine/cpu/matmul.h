// CPU reference for the matmul family: y = x · Wᵀ for a Linear stored [out, in] in any weight format.
//
// The weight is read through a row decoder (BF16, FP8 and NVFP4 rows decode to fp32 on the fly), so quantised
// checkpoints never need a full fp32 copy in memory. Each decoded row is reused for every input row, which
// amortises decoding over the tokens of a prefill.
#pragma once

#include <cstddef>
#include <functional>

namespace warden::engine::cpu {

// Writes row `row` of the weight ([in] values) as fp32 into dst.
using RowDecoder = std::function<void(size_t row, float* dst)>;

// x: [T, in]; y: [T, out]. Parallel over output rows.
void Linear(const float* x, size_t T, size_t in, size_t out, const RowDecoder& decode_row, float* y);

// Convenience for fp32 weights w: [out, in].
void LinearF32(const float* x, size_t T, size_t in, size_t out, const float* w, float* y);

// Dot product with several partial sums so the compiler can vectorise it without -ffast-math.
float Dot(const float* a, const float* b, size_t n);

}  // namespace warden::engine::cpu
