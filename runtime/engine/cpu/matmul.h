// CPU reference for the matmul family: y = x · Wᵀ for a Linear stored [out, in] in any weight format.
//
// The weight is read through a row decoder (BF16, FP8 and NVFP4 rows decode to fp32 on the fly), so quantised
// checkpoints never need a full fp32 copy in memory. Rows are decoded in small blocks and each block is reused for
// every input row, which amortises decoding over the tokens of a prefill; the inner kernel computes four output
// rows per pass over an input row (four times fewer loads of x) and is compiled for AVX2+FMA with a portable
// fallback picked at run time.
#pragma once

#include <cstddef>
#include <functional>

namespace warden::engine::cpu {

// Writes rows [row_begin, row_end) of the weight ([rows, in] values, row-major) as fp32 into dst.
using RowDecoder = std::function<void(size_t row_begin, size_t row_end, float* dst)>;

// x: [T, in]; y: [T, out]. Parallel over blocks of output rows.
void Linear(const float* x, size_t T, size_t in, size_t out, const RowDecoder& decode_rows, float* y);

// Convenience for fp32 weights w: [out, in].
void LinearF32(const float* x, size_t T, size_t in, size_t out, const float* w, float* y);

// Dot product of two fp32 vectors (vectorised, fp32 accumulation in several partial sums).
float Dot(const float* a, const float* b, size_t n);

}  // namespace warden::engine::cpu
