// Gated DeltaNet kernels. The chunked form follows model.md §2.4 "Chunked (prefill) form": within a chunk,
// Γ_i = Σ_{j≤i} g_j, A_ij = β_i (k_i·k_j) e^{Γ_i−Γ_j} (j < i), (I + A)U = diag(β)V, (I + A)W = diag(β e^Γ)K,
// Ṽ = U − W·S, o_i = e^{Γ_i} q_iᵀS + Σ_{j≤i} (q_i·k_j) e^{Γ_i−Γ_j} ṽ_j, S ← e^{Γ_L} S + Σ_j e^{Γ_L−Γ_j} k_j ṽ_jᵀ.
// A final chunk shorter than `chunk` is exact: HF's zero padding (k = v = β = g = 0) changes neither the
// outputs of real tokens nor the state.
#include "runtime/engine/cpu/deltanet.h"

#include <cmath>
#include <vector>

#include "runtime/engine/cpu/elementwise.h"
#include "runtime/engine/cpu/thread_pool.h"

namespace warden::engine::cpu {

void CausalConv1dSilu(const float* m, size_t T, size_t channels, const float* w, size_t K, float* history,
                      float* out) {
  const size_t H = K - 1;
  // Row r of the virtual sequence [history ‖ m]: r < H comes from history.
  auto row = [&](size_t r) { return r < H ? history + r * channels : m + (r - H) * channels; };
  for (size_t t = 0; t < T; ++t) {
    float* o = out + t * channels;
    for (size_t c = 0; c < channels; ++c) {
      float acc = 0.f;
      for (size_t j = 0; j < K; ++j) acc += w[c * K + j] * row(t + j)[c];
      o[c] = Silu(acc);
    }
  }
  // New history: the last H raw rows of [history ‖ m].
  std::vector<float> next(H * channels);
  for (size_t r = 0; r < H; ++r) {
    const float* src = row(T + r);
    for (size_t c = 0; c < channels; ++c) next[r * channels + c] = src[c];
  }
  for (size_t i = 0; i < next.size(); ++i) history[i] = next[i];
}

void GatedDeltaRuleRecurrent(const DeltaNetShape& s, size_t T, const float* q, const float* k, const float* v,
                             const float* g, const float* beta, float* state, float* out) {
  const size_t Dk = s.k_dim, Dv = s.v_dim, group = s.num_v_heads / s.num_k_heads;
  ThreadPool::Default().ParallelFor(s.num_v_heads, [&](size_t h0, size_t h1) {
    std::vector<float> u(Dv);
    for (size_t h = h0; h < h1; ++h) {
      float* S = state + h * Dk * Dv;
      const size_t kh = h / group;
      for (size_t t = 0; t < T; ++t) {
        const float* kt = k + (t * s.num_k_heads + kh) * Dk;
        const float* qt = q + (t * s.num_k_heads + kh) * Dk;
        const float* vt = v + (t * s.num_v_heads + h) * Dv;
        const float decay = std::exp(g[t * s.num_v_heads + h]);
        const float b = beta[t * s.num_v_heads + h];
        for (size_t i = 0; i < Dk * Dv; ++i) S[i] *= decay;
        for (size_t e = 0; e < Dv; ++e) u[e] = 0.f;
        for (size_t d = 0; d < Dk; ++d) {
          const float kd = kt[d];
          const float* Sd = S + d * Dv;
          for (size_t e = 0; e < Dv; ++e) u[e] += kd * Sd[e];
        }
        for (size_t e = 0; e < Dv; ++e) u[e] = b * (vt[e] - u[e]);  // δ
        for (size_t d = 0; d < Dk; ++d) {
          const float kd = kt[d];
          float* Sd = S + d * Dv;
          for (size_t e = 0; e < Dv; ++e) Sd[e] += kd * u[e];
        }
        float* ot = out + (t * s.num_v_heads + h) * Dv;
        for (size_t e = 0; e < Dv; ++e) ot[e] = 0.f;
        for (size_t d = 0; d < Dk; ++d) {
          const float qd = qt[d];
          const float* Sd = S + d * Dv;
          for (size_t e = 0; e < Dv; ++e) ot[e] += qd * Sd[e];
        }
      }
    }
  });
}

void GatedDeltaRuleChunked(const DeltaNetShape& s, size_t T, const float* q, const float* k, const float* v,
                           const float* g, const float* beta, float* state, float* out, size_t chunk) {
  const size_t Dk = s.k_dim, Dv = s.v_dim, Hk = s.num_k_heads, Hv = s.num_v_heads, group = Hv / Hk;
  ThreadPool::Default().ParallelFor(Hv, [&](size_t h0, size_t h1) {
    std::vector<float> gamma(chunk), A(chunk * chunk), U(chunk * Dv), W(chunk * Dk), QK(chunk * chunk);
    for (size_t h = h0; h < h1; ++h) {
      float* S = state + h * Dk * Dv;
      const size_t kh = h / group;
      auto K = [&](size_t t) { return k + (t * Hk + kh) * Dk; };
      auto Q = [&](size_t t) { return q + (t * Hk + kh) * Dk; };
      auto V = [&](size_t t) { return v + (t * Hv + h) * Dv; };
      for (size_t c0 = 0; c0 < T; c0 += chunk) {
        const size_t L = std::min(chunk, T - c0);
        float acc = 0.f;
        for (size_t i = 0; i < L; ++i) gamma[i] = (acc += g[(c0 + i) * Hv + h]);
        for (size_t i = 0; i < L; ++i) {
          for (size_t j = 0; j <= i; ++j) {
            float kk = 0.f, qk = 0.f;
            const float *ki = K(c0 + i), *kj = K(c0 + j), *qi = Q(c0 + i);
            for (size_t d = 0; d < Dk; ++d) {
              kk += ki[d] * kj[d];
              qk += qi[d] * kj[d];
            }
            const float decay = std::exp(gamma[i] - gamma[j]);
            QK[i * chunk + j] = qk * decay;
            A[i * chunk + j] = j < i ? beta[(c0 + i) * Hv + h] * kk * decay : 0.f;
          }
        }
        // Forward substitution for U and W (unit lower-triangular I + A).
        for (size_t i = 0; i < L; ++i) {
          const float b = beta[(c0 + i) * Hv + h];
          const float eg = std::exp(gamma[i]);
          float* Ui = &U[i * Dv];
          float* Wi = &W[i * Dk];
          const float* vi = V(c0 + i);
          const float* ki = K(c0 + i);
          for (size_t e = 0; e < Dv; ++e) Ui[e] = b * vi[e];
          for (size_t d = 0; d < Dk; ++d) Wi[d] = b * eg * ki[d];
          for (size_t j = 0; j < i; ++j) {
            const float a = A[i * chunk + j];
            if (a == 0.f) continue;
            const float* Uj = &U[j * Dv];
            const float* Wj = &W[j * Dk];
            for (size_t e = 0; e < Dv; ++e) Ui[e] -= a * Uj[e];
            for (size_t d = 0; d < Dk; ++d) Wi[d] -= a * Wj[d];
          }
        }
        // Ṽ = U − W·S (stored over U).
        for (size_t i = 0; i < L; ++i) {
          float* Ui = &U[i * Dv];
          const float* Wi = &W[i * Dk];
          for (size_t d = 0; d < Dk; ++d) {
            const float wd = Wi[d];
            const float* Sd = S + d * Dv;
            for (size_t e = 0; e < Dv; ++e) Ui[e] -= wd * Sd[e];
          }
        }
        // Outputs: inter-chunk part from the entering state, intra-chunk part from the corrected values.
        for (size_t i = 0; i < L; ++i) {
          float* oi = out + ((c0 + i) * Hv + h) * Dv;
          const float* qi = Q(c0 + i);
          const float eg = std::exp(gamma[i]);
          for (size_t e = 0; e < Dv; ++e) oi[e] = 0.f;
          for (size_t d = 0; d < Dk; ++d) {
            const float qd = qi[d] * eg;
            const float* Sd = S + d * Dv;
            for (size_t e = 0; e < Dv; ++e) oi[e] += qd * Sd[e];
          }
          for (size_t j = 0; j <= i; ++j) {
            const float w = QK[i * chunk + j];
            const float* Uj = &U[j * Dv];
            for (size_t e = 0; e < Dv; ++e) oi[e] += w * Uj[e];
          }
        }
        // State update.
        const float eL = std::exp(gamma[L - 1]);
        for (size_t i = 0; i < Dk * Dv; ++i) S[i] *= eL;
        for (size_t j = 0; j < L; ++j) {
          const float f = std::exp(gamma[L - 1] - gamma[j]);
          const float* kj = K(c0 + j);
          const float* Uj = &U[j * Dv];
          for (size_t d = 0; d < Dk; ++d) {
            const float kd = kj[d] * f;
            float* Sd = S + d * Dv;
            for (size_t e = 0; e < Dv; ++e) Sd[e] += kd * Uj[e];
          }
        }
      }
    }
  });
}

}  // namespace warden::engine::cpu
