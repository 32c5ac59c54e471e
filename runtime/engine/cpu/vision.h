// CPU reference for the vision op family (model.md §4.2): LayerNorm with bias, the two GELU forms, the vision
// tower's 2-D rotary, bidirectional attention restricted to segments (one image or one video frame each), and the
// row scatter that puts merger outputs into the placeholder rows of the text embeddings (§4.4).
// Plain loops with fp32 accumulation; the outer loops run on the process-wide thread pool.
#pragma once

#include <cstddef>
#include <cstdint>

namespace warden::engine::cpu {

// y[r] = (x[r] − mean) / sqrt(var + eps) · w + b over rows of `dim` (biased variance, as torch). x, y: [rows, dim];
// y may be x.
void LayerNorm(const float* x, const float* w, const float* b, float* y, size_t rows, size_t dim, float eps);

// x[i] = gelu(x[i]) with the tanh approximation (gelu_pytorch_tanh, the vision blocks' MLP).
void GeluTanhInPlace(float* x, size_t n);
// x[i] = x[i] · Φ(x[i]) with the exact erf (the merger's nn.GELU()).
void GeluErfInPlace(float* x, size_t n);

// 2-D rotary over whole heads (§4.2 step 3). x: [N, heads, head_dim], in place; positions: [2, N] (row ids then
// column ids). With h = head_dim/2 and q = head_dim/4: inv_freq[i] = θ^(−2i/h) for i < q; angles =
// [row·inv_freq (q), col·inv_freq (q)] duplicated to head_dim; NeoX rotate-half over all head_dim dims.
void ApplyRope2d(float* x, size_t N, size_t heads, size_t head_dim, const int64_t* positions, double theta);

// Bidirectional softmax attention inside segments. q, k, v, out: [N, heads, head_dim]. segment_ends: ascending exclusive ends, the last equal to N; a token attends to
// every token of its own segment. Scale 1/sqrt(head_dim), softmax in fp32.
void SegmentAttention(const float* q, const float* k, const float* v, size_t N, size_t heads, size_t head_dim, const int64_t* segment_ends,
                      size_t num_segments, float* out);

// dst[rows[i]] = src[i] for rows of `width` floats. dst: [T, width]; src: [n, width]; rows: n indices < T.
void ScatterRows(float* dst, size_t width, const int32_t* rows, size_t n, const float* src);

}  // namespace warden::engine::cpu
