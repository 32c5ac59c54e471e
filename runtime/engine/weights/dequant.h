// Dequantisation of ModelOpt NVFP4 and FP8 Linear weights to float (docs/model.md §5.1). Reference code for the
// CPU backend and for tests; the CUDA backend uploads the packed bytes instead.
//
// Byte layouts (proved by fixtures/qwen3_5-tiny-c/model-nvfp4 and model-mixed against model/, and by
// fixtures/qwen3_5-tiny-a/model-nvfp4; see dequant_test.cpp — the swapped nibble order misses by ~100 %):
//   NVFP4 weight   U8 [out, in/2], row-major. Byte j of a row holds element 2j in the LOW nibble and element 2j+1
//                  in the HIGH nibble. A nibble is E2M1: bit 3 sign, bits 0-2 index {0, .5, 1, 1.5, 2, 3, 4, 6};
//                  code 8 is -0.
//   weight_scale   F8_E4M3 [out, in/16]: one block scale per 16 consecutive input elements of a row. E4M3FN:
//                  bias 7, subnormals m/8·2^-6, 0x7F/0xFF NaN, max 448. ModelOpt clamps block scales to
//                  [2^-9, 448] before the cast, so zero only appears in non-ModelOpt files (then the block is 0).
//   weight_scale_2 F32 [] global scale (ModelOpt equalises it over q/k/v, gate/up and in_proj_qkv/z).
//   value          W[n, k] = e2m1(code[n, k]) × float(weight_scale[n, k/16]) × weight_scale_2, computed in float
//                  as (e2m1 × block_scale) × global: the first product is exact (2 + 4 significant bits), so
//                  the result is the float nearest the exact value (one rounding).
//   FP8 weight     F8_E4M3 [out, in] with F32 [] weight_scale: W = e4m3 × weight_scale. input_scale (F32 [])
//                  is the static activation scale of W8A8 and does not enter the weight.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/weights/quant_config.h"

namespace warden::engine {

// E2M1 code (low 4 bits of `code`) to float; code 8 decodes to -0.0f.
float E2M1ToFloat(uint8_t code);

// Rows [row_begin, row_end) of the Linear's weight as floats, row-major [rows, in_features], into `out`
// (resized). Works for every format (BF16/F16/F32 are converted). InvalidArgument for a bad row range.
Status DequantizeRows(const ResolvedLinear& linear, int64_t row_begin, int64_t row_end, std::vector<float>* out);

// The whole weight [out_features, in_features] as floats.
Result<std::vector<float>> DequantizeWeight(const ResolvedLinear& linear);

}  // namespace warden::engine
