// CPU reference for the deltanet family: the Gated DeltaNet short convolution and gated delta rule
// (model.md §2.4), in a recurrent form (decode) and a chunked form (prefill) that agree in exact arithmetic.
//
// Shapes use the spec's names: Hk key/query heads of Dk, Hv value heads of Dv; value head j reads key head
// j / (Hv / Hk) (HF repeat_interleave order). All state is fp32.
#pragma once

#include <cstddef>

namespace warden::engine::cpu {

struct DeltaNetShape {
  size_t num_k_heads;  // linear_num_key_heads (Hk)
  size_t num_v_heads;  // linear_num_value_heads (Hv), a multiple of Hk
  size_t k_dim;        // linear_key_head_dim (Dk)
  size_t v_dim;        // linear_value_head_dim (Dv)
};

// Causal depthwise conv over `T` new rows with a kernel of K taps, then SiLU.
// m: [T, channels] raw in_proj_qkv outputs; history: [K-1, channels] raw rows before m (zeros at the start of a
// sequence), updated to the last K-1 raw rows of [history ‖ m]; w: [channels, K] (tap K-1 multiplies the
// current row); out: [T, channels].
void CausalConv1dSilu(const float* m, size_t T, size_t channels, const float* w, size_t K, float* history,
                      float* out);

// The gated delta rule over T tokens, one token at a time.
// q, k: [T, Hk, Dk] already L2-normalised (q also scaled by 1/sqrt(Dk)); v: [T, Hv, Dv]; g (log decay ≤ 0),
// beta: [T, Hv]; state: [Hv, Dk, Dv] in/out; out: [T, Hv, Dv].
void GatedDeltaRuleRecurrent(const DeltaNetShape& s, size_t T, const float* q, const float* k, const float* v,
                             const float* g, const float* beta, float* state, float* out);

// The same computation in chunks of `chunk` tokens (64 in HF/FLA), counted from the first of these T tokens.
// Cheaper for long prefills: most work becomes small matrix products.
void GatedDeltaRuleChunked(const DeltaNetShape& s, size_t T, const float* q, const float* k, const float* v,
                           const float* g, const float* beta, float* state, float* out, size_t chunk = 64);

}  // namespace warden::engine::cpu
