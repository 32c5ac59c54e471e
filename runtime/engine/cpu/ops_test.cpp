// CPU op families against straightforward definitions: norms, M-RoPE, attention over pages, Linear, threads.
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "runtime/engine/cpu/attention.h"
#include "runtime/engine/cpu/matmul.h"
#include "runtime/engine/cpu/norm.h"
#include "runtime/engine/numeric.h"
#include "runtime/engine/cpu/rope.h"
#include "runtime/engine/cpu/thread_pool.h"

using namespace warden::engine;
using namespace warden::engine::cpu;

TEST_CASE("zero-centred RMSNorm uses 1 + w, gated norm uses w and silu(z)", "[engine][cpu][norm]") {
  const float x[4] = {1, 2, 3, 4};
  const float w[4] = {0, 1, -1, 0.5f};
  float y[4];
  ZeroCenteredRmsNorm(x, w, y, 1, 4, 0.f);
  const float rms = std::sqrt((1 + 4 + 9 + 16) / 4.f);
  CHECK(y[0] == Approx(1 / rms));
  CHECK(y[1] == Approx(2 * 2 / rms));
  CHECK(y[2] == Approx(0).margin(1e-7));
  CHECK(y[3] == Approx(4 * 1.5f / rms));
  const float z[4] = {0, 1, -1, 100};
  const float gw[4] = {1, 1, 2, 1};
  GatedRmsNorm(x, z, gw, y, 1, 4, 0.f);
  CHECK(y[0] == Approx(0).margin(1e-7));  // silu(0) = 0
  CHECK(y[1] == Approx(2 / rms * (1 / (1 + std::exp(-1.f)))));
  CHECK(y[2] == Approx(2 * 3 / rms * (-1 / (1 + std::exp(1.f)))));
  CHECK(y[3] == Approx(4 / rms * 100));
}

TEST_CASE("interleaved M-RoPE axis assignment matches the spec", "[engine][cpu][rope]") {
  RopeParams p;  // 64 rotary dims, sections 11/11/10, interleaved
  int count[3] = {0, 0, 0};
  for (size_t f = 0; f < 32; ++f) count[MropeAxis(p, f)]++;
  CHECK(count[0] == 11);
  CHECK(count[1] == 11);
  CHECK(count[2] == 10);
  CHECK(MropeAxis(p, 1) == 1);
  CHECK(MropeAxis(p, 2) == 2);
  CHECK(MropeAxis(p, 30) == 0);
  CHECK(MropeAxis(p, 31) == 1);
  p.mrope_interleaved = false;
  CHECK(MropeAxis(p, 10) == 0);
  CHECK(MropeAxis(p, 11) == 1);
  CHECK(MropeAxis(p, 22) == 2);
}

TEST_CASE("M-RoPE with equal axes is 1-D rotary on the leading dims", "[engine][cpu][rope]") {
  RopeParams p;
  p.rotary_dim = 8;
  p.theta = 10000;
  p.mrope_section = {2, 1, 1};
  const size_t T = 3, H = 2, D = 12;
  std::vector<float> x(T * H * D);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  auto orig = x;
  std::vector<int64_t> pos = {5, 6, 7, 5, 6, 7, 5, 6, 7};
  ApplyMrope(x.data(), T, H, D, pos.data(), p);
  for (size_t t = 0; t < T; ++t) {
    for (size_t h = 0; h < H; ++h) {
      const float* a = &orig[(t * H + h) * D];
      const float* b = &x[(t * H + h) * D];
      for (size_t f = 0; f < 4; ++f) {
        const double angle = static_cast<double>(pos[t]) * std::pow(10000.0, -2.0 * f / 8);
        CHECK(b[f] == Approx(a[f] * std::cos(angle) - a[f + 4] * std::sin(angle)).margin(1e-5));
        CHECK(b[f + 4] == Approx(a[f + 4] * std::cos(angle) + a[f] * std::sin(angle)).margin(1e-5));
      }
      for (size_t d = 8; d < D; ++d) CHECK(b[d] == a[d]);  // partial rotary: the rest passes through
    }
  }
}

TEST_CASE("paged causal attention with GQA equals a dense reference", "[engine][cpu][attention]") {
  const size_t N = 10, T = 4, Hq = 6, Hkv = 2, D = 8, page = 3;
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> q(T * Hq * D), k(N * Hkv * D), v(N * Hkv * D);
  for (auto& a : q) a = n(rng);
  for (auto& a : k) a = n(rng);
  for (auto& a : v) a = n(rng);
  // Pages of 3 positions; the last page is partly used.
  const size_t pages = (N + page - 1) / page;
  std::vector<std::vector<float>> kp(pages, std::vector<float>(page * Hkv * D)), vp = kp;
  std::vector<std::vector<uint16_t>> kb(pages, std::vector<uint16_t>(page * Hkv * D)), vb = kb;
  for (size_t p = 0; p < N; ++p) {
    for (size_t i = 0; i < Hkv * D; ++i) {
      kp[p / page][(p % page) * Hkv * D + i] = k[p * Hkv * D + i];
      vp[p / page][(p % page) * Hkv * D + i] = v[p * Hkv * D + i];
      kb[p / page][(p % page) * Hkv * D + i] = FloatToBf16(k[p * Hkv * D + i]);
      vb[p / page][(p % page) * Hkv * D + i] = FloatToBf16(v[p * Hkv * D + i]);
    }
  }
  std::vector<const void*> kptr, vptr, kbptr, vbptr;
  for (size_t i = 0; i < pages; ++i) {
    kptr.push_back(kp[i].data());
    vptr.push_back(vp[i].data());
    kbptr.push_back(kb[i].data());
    vbptr.push_back(vb[i].data());
  }
  KvLayerView view{kptr.data(), vptr.data(), page, N, Hkv, D, KvDtype::kF32};
  std::vector<float> out(T * Hq * D), out_bf16(out.size());
  CausalAttention(q.data(), T, Hq, view, out.data());
  KvLayerView bview{kbptr.data(), vbptr.data(), page, N, Hkv, D, KvDtype::kBF16};
  CausalAttention(q.data(), T, Hq, bview, out_bf16.data());
  for (size_t t = 0; t < T; ++t) {
    const size_t visible = N - T + t + 1;
    for (size_t h = 0; h < Hq; ++h) {
      const size_t kh = h / (Hq / Hkv);
      std::vector<double> s(visible);
      double mx = -1e30, sum = 0;
      for (size_t p = 0; p < visible; ++p) {
        double dot = 0;
        for (size_t d = 0; d < D; ++d) dot += q[(t * Hq + h) * D + d] * k[(p * Hkv + kh) * D + d];
        s[p] = dot / std::sqrt(static_cast<double>(D));
        mx = std::max(mx, s[p]);
      }
      for (auto& e : s) sum += (e = std::exp(e - mx));
      for (size_t d = 0; d < D; ++d) {
        double o = 0;
        for (size_t p = 0; p < visible; ++p) o += s[p] / sum * v[(p * Hkv + kh) * D + d];
        CHECK(out[(t * Hq + h) * D + d] == Approx(o).margin(1e-5));
        CHECK(out_bf16[(t * Hq + h) * D + d] == Approx(o).margin(3e-2));  // BF16 keeps 8 bits of mantissa
      }
    }
  }
}

TEST_CASE("Linear equals a naive matrix product at odd sizes", "[engine][cpu][matmul]") {
  const size_t T = 3, in = 37, out = 29;
  std::vector<float> x(T * in), w(out * in), y(T * out);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(static_cast<float>(i));
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i) * 0.7f);
  LinearF32(x.data(), T, in, out, w.data(), y.data());
  for (size_t t = 0; t < T; ++t) {
    for (size_t o = 0; o < out; ++o) {
      double acc = 0;
      for (size_t i = 0; i < in; ++i) acc += static_cast<double>(x[t * in + i]) * w[o * in + i];
      CHECK(y[t * out + o] == Approx(acc).margin(1e-4));
    }
  }
}

TEST_CASE("numeric conversions are exact where they must be", "[engine][cpu][quant]") {
  CHECK(Bf16ToFloat(0x3f80) == 1.0f);
  CHECK(Bf16ToFloat(0xc000) == -2.0f);
  CHECK(FloatToBf16(1.0f) == 0x3f80);
  CHECK(FloatToBf16(1.00390625f) == 0x3f80);  // exactly halfway: ties to even (down)
  CHECK(FloatToBf16(1.01171875f) == 0x3f82);  // halfway between 0x3f81 and 0x3f82: to even (up)
  CHECK(F8E4M3ToFloat(0x7e) == 448.0f);      // the largest E4M3 value
  CHECK(F8E4M3ToFloat(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
  CHECK(F8E4M3ToFloat(0x38) == 1.0f);
  CHECK(F8E4M3ToFloat(0xb8) == -1.0f);
  CHECK(std::isnan(F8E4M3ToFloat(0x7f)));
  // Encoding: every finite E4M3 code survives a round trip; out-of-range values saturate to ±448.
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7f) == 0x7f) continue;  // NaN codes
    INFO("code " << c);
    CHECK(FloatToF8E4M3(F8E4M3ToFloat(static_cast<uint8_t>(c))) == c);
  }
  CHECK(FloatToF8E4M3(1e6f) == 0x7e);
  CHECK(FloatToF8E4M3(-1e6f) == 0xfe);
  CHECK(FloatToF8E4M3(1.0625f) == 0x38);  // halfway between 1 and 1.125: ties to even (1.0)
  CHECK(FakeQuantFp8(0.3f, 1.0f) == 0.3125f);
  CHECK(F16ToFloat(0x3c00) == 1.0f);
  CHECK(F16ToFloat(0x0001) == std::ldexp(1.0f, -24));
}

TEST_CASE("thread pool covers every index exactly once", "[engine][cpu][threads]") {
  ThreadPool pool(3);
  for (size_t n : {1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) hits[i]++;
    });
    for (size_t i = 0; i < n; ++i) CHECK(hits[i] == 1);
  }
}

TEST_CASE("fused FP8 and BF16 decode-and-dot decode every code exactly", "[engine][cpu][matmul]") {
  // Row r holds code r in every column; x weighs columns 0..15 by 1, so y[r] = 16 · value(code r) exactly.
  const size_t in = 16 + 3;  // one 16-code vector pass plus a scalar tail
  std::vector<uint8_t> w(256 * in);
  std::vector<float> x(in, 0.f);
  for (size_t i = 0; i < 16; ++i) x[i] = 1.f;
  x[17] = 0.5f;  // the tail counts too: y = 16.5 · value
  for (size_t r = 0; r < 256; ++r)
    for (size_t c = 0; c < in; ++c) w[r * in + c] = static_cast<uint8_t>(r);
  std::vector<float> y(256);
  LinearFp8Direct(x.data(), 1, in, 256, w.data(), 2.f, y.data());
  for (size_t r = 0; r < 256; ++r) {
    if ((r & 0x7f) == 0x7f) continue;  // NaN codes never occur in weights
    INFO("code " << r);
    CHECK(y[r] == 16.5f * F8E4M3ToFloat(static_cast<uint8_t>(r)) * 2.f);
  }
  // BF16: a spread of magnitudes including subnormals and negative zero, 13 rows (a ragged 4-row block).
  std::vector<uint16_t> wb(13 * in);
  std::vector<float> ref(13);
  const float vals[13] = {0.f, -0.f, 1.f, -2.5f, 1e-40f, 1e30f, -7.f, 0.15625f, 1e-3f, 65504.f, -1e-20f, 42.f, 3.f};
  for (size_t r = 0; r < 13; ++r) {
    for (size_t c = 0; c < in; ++c) wb[r * in + c] = FloatToBf16(vals[r]);
    ref[r] = Bf16ToFloat(FloatToBf16(vals[r])) * 16.5f;
  }
  std::vector<float> yb(13);
  LinearBf16Direct(x.data(), 1, in, 13, reinterpret_cast<const std::byte*>(wb.data()), yb.data());
  for (size_t r = 0; r < 13; ++r) {
    INFO("row " << r);
    CHECK(yb[r] == Approx(ref[r]).epsilon(1e-6).margin(1e-45));
  }
}
