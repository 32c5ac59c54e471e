// CPU reference for the matmul family: y = x · Wᵀ for a Linear stored [out, in] in any weight format.
//
// The weight is read through a row decoder (BF16, FP8 and NVFP4 rows decode to fp32 on the fly), so quantised
// checkpoints never need a full fp32 copy in memory. Rows are decoded in small blocks and each block is reused for
// every input row, which amortises decoding over the tokens of a prefill; the inner kernel computes four output
// rows per pass over an input row (four times fewer loads of x) and is compiled for AVX2+FMA with a portable
// fallback picked at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace warden::engine::cpu {

// Writes rows [row_begin, row_end) of the weight ([rows, in] values, row-major) as fp32 into dst.
using RowDecoder = std::function<void(size_t row_begin, size_t row_end, float* dst)>;

// x: [T, in]; y: [T, out]. Parallel over blocks of output rows.
void Linear(const float* x, size_t T, size_t in, size_t out, const RowDecoder& decode_rows, float* y);

// Convenience for fp32 weights w: [out, in].
void LinearF32(const float* x, size_t T, size_t in, size_t out, const float* w, float* y);

// Fused decode-and-dot over packed weights, for few input rows (decode): each weight is widened in registers and
// used at once instead of being written out as fp32 first. The same products as Linear over the decoded rows,
// summed in another order. Weights need no alignment.
// BF16 w: [out, in].
void LinearBf16Direct(const float* x, size_t T, size_t in, size_t out, const std::byte* w, float* y);
// FP8 E4M3 w: [out, in]; W = e4m3 · scale.
void LinearFp8Direct(const float* x, size_t T, size_t in, size_t out, const uint8_t* w, float scale, float* y);
// NVFP4 w: [out, in/2] (element 2j in the low nibble of byte j), scales: E4M3 [out, in/16], in % 16 == 0;
// W = e2m1 · block scale · global (dequant.h).
void LinearNvfp4Direct(const float* x, size_t T, size_t in, size_t out, const uint8_t* w, const uint8_t* scales,
                       float global, float* y);

// Dot product of two fp32 vectors (vectorised, fp32 accumulation in several partial sums).
float Dot(const float* a, const float* b, size_t n);

}  // namespace warden::engine::cpu
