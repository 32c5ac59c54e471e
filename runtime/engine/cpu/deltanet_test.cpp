// The chunked gated delta rule must equal the token recurrence (model.md §2.4), across chunk boundaries, with
// an initial state, and when a sequence is fed in several calls (the session's prefill continuation).
#include "runtime/engine/cpu/deltanet.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "runtime/engine/cpu/norm.h"

using namespace warden::engine::cpu;

namespace {

struct GdnInputs {
  std::vector<float> q, k, v, g, beta;
};

GdnInputs Random(const DeltaNetShape& s, size_t T, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  GdnInputs in;
  in.q.resize(T * s.num_k_heads * s.k_dim);
  in.k.resize(in.q.size());
  in.v.resize(T * s.num_v_heads * s.v_dim);
  in.g.resize(T * s.num_v_heads);
  in.beta.resize(in.g.size());
  for (auto& x : in.q) x = n(rng);
  for (auto& x : in.k) x = n(rng);
  for (auto& x : in.v) x = n(rng);
  for (auto& x : in.g) x = -0.3f * u(rng);  // log decays in (-0.3, 0]: long memory, as a trained model has
  for (auto& x : in.beta) x = u(rng);
  L2NormalizeRows(in.q.data(), T * s.num_k_heads, s.k_dim, 1e-6f, 1.f / std::sqrt(static_cast<float>(s.k_dim)));
  L2NormalizeRows(in.k.data(), T * s.num_k_heads, s.k_dim, 1e-6f, 1.f);
  return in;
}

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double mx = 0, ref = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    mx = std::max(mx, static_cast<double>(std::fabs(a[i] - b[i])));
    ref = std::max(ref, static_cast<double>(std::fabs(b[i])));
  }
  return mx / std::max(ref, 1e-30);
}

}  // namespace

TEST_CASE("chunked gated delta rule equals the recurrence", "[engine][cpu][deltanet]") {
  const DeltaNetShape s{2, 6, 16, 8};  // 3 value heads per key head, Dk != Dv
  for (size_t T : {1u, 5u, 63u, 64u, 65u, 130u}) {
    for (size_t chunk : {64u, 16u}) {
      auto in = Random(s, T, static_cast<uint32_t>(T * 7 + chunk));
      std::vector<float> state0(s.num_v_heads * s.k_dim * s.v_dim);
      std::mt19937 rng(3);
      std::normal_distribution<float> n(0.f, 0.1f);
      for (auto& x : state0) x = n(rng);
      auto s_rec = state0, s_chk = state0;
      std::vector<float> o_rec(T * s.num_v_heads * s.v_dim), o_chk(o_rec.size());
      GatedDeltaRuleRecurrent(s, T, in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(),
                              s_rec.data(), o_rec.data());
      GatedDeltaRuleChunked(s, T, in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(),
                            s_chk.data(), o_chk.data(), chunk);
      INFO("T=" << T << " chunk=" << chunk);
      CHECK(MaxRelDiff(o_chk, o_rec) < 1e-4);
      CHECK(MaxRelDiff(s_chk, s_rec) < 1e-4);
    }
  }
}

TEST_CASE("delta rule state carries across calls", "[engine][cpu][deltanet]") {
  const DeltaNetShape s{1, 2, 8, 8};
  const size_t T = 100, split = 37;
  auto in = Random(s, T, 11);
  std::vector<float> whole_state(s.num_v_heads * s.k_dim * s.v_dim, 0.f), split_state = whole_state;
  std::vector<float> whole(T * s.num_v_heads * s.v_dim), parts(whole.size());
  GatedDeltaRuleChunked(s, T, in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(),
                        whole_state.data(), whole.data());
  const size_t qk = s.num_k_heads * s.k_dim, vv = s.num_v_heads * s.v_dim, hv = s.num_v_heads;
  GatedDeltaRuleChunked(s, split, in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(),
                        split_state.data(), parts.data());
  // The rest one token at a time, as decode does.
  for (size_t t = split; t < T; ++t) {
    GatedDeltaRuleRecurrent(s, 1, &in.q[t * qk], &in.k[t * qk], &in.v[t * vv], &in.g[t * hv], &in.beta[t * hv],
                            split_state.data(), &parts[t * vv]);
  }
  CHECK(MaxRelDiff(parts, whole) < 1e-4);
  CHECK(MaxRelDiff(split_state, whole_state) < 1e-4);
}

TEST_CASE("delta rule with zero decay and beta leaves the state untouched", "[engine][cpu][deltanet]") {
  const DeltaNetShape s{1, 1, 4, 4};
  auto in = Random(s, 3, 5);
  std::fill(in.beta.begin(), in.beta.end(), 0.f);
  std::fill(in.g.begin(), in.g.end(), 0.f);
  std::vector<float> state(16);
  for (size_t i = 0; i < state.size(); ++i) state[i] = static_cast<float>(i);
  auto before = state;
  std::vector<float> out(3 * 4);
  GatedDeltaRuleChunked(s, 3, in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(), state.data(),
                        out.data());
  CHECK(state == before);
  // With β = 0 the output is just the read Sᵀq.
  for (size_t e = 0; e < 4; ++e) {
    float expect = 0;
    for (size_t d = 0; d < 4; ++d) expect += in.q[d] * before[d * 4 + e];
    CHECK(out[e] == Approx(expect).epsilon(1e-5));
  }
}

TEST_CASE("causal conv1d matches the definition and carries history", "[engine][cpu][deltanet]") {
  const size_t T = 7, C = 3, K = 4;
  std::vector<float> m(T * C), w(C * K);
  for (size_t i = 0; i < m.size(); ++i) m[i] = 0.1f * static_cast<float>(i) - 0.5f;
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * static_cast<float>(i + 1);
  std::vector<float> hist((K - 1) * C, 0.f), out(T * C);
  CausalConv1dSilu(m.data(), T, C, w.data(), K, hist.data(), out.data());
  for (size_t t = 0; t < T; ++t) {
    for (size_t c = 0; c < C; ++c) {
      float acc = 0;
      for (size_t j = 0; j < K; ++j) {
        const long src = static_cast<long>(t) - 3 + static_cast<long>(j);
        if (src >= 0) acc += w[c * K + j] * m[static_cast<size_t>(src) * C + c];
      }
      CHECK(out[t * C + c] == Approx(acc / (1 + std::exp(-acc))).epsilon(1e-6));
    }
  }
  // History = the last K-1 raw rows.
  for (size_t i = 0; i < hist.size(); ++i) CHECK(hist[i] == m[(T - (K - 1)) * C + i]);
  // Feeding 4 then 3 rows gives the same outputs as 7 at once.
  std::vector<float> h2((K - 1) * C, 0.f), o2(T * C);
  CausalConv1dSilu(m.data(), 4, C, w.data(), K, h2.data(), o2.data());
  CausalConv1dSilu(m.data() + 4 * C, 3, C, w.data(), K, h2.data(), o2.data() + 4 * C);
  CHECK(o2 == out);
  CHECK(h2 == hist);
}
