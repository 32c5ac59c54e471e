// test-backend-ops: one table of op cases, each run on a backend and on the CPU reference functions (cpu/<family>.h)
// with the same random inputs at odd sizes (ragged pages, chunk boundaries, row blocks that do not divide), judged
// by normalised error max|Δ| / max|ref| against the case's tolerance. The table runs against every backend this
// build has: "cpu" always, "cuda" in the [gpu] test (which checks the factory's refusal where CUDA is absent).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "runtime/engine/backend.h"
#include "runtime/engine/cpu/attention.h"
#include "runtime/engine/cpu/deltanet.h"
#include "runtime/engine/cpu/elementwise.h"
#include "runtime/engine/cpu/matmul.h"
#include "runtime/engine/cpu/norm.h"
#include "runtime/engine/cpu/rope.h"
#include "runtime/engine/cpu/sample.h"
#include "runtime/engine/cpu/vision.h"
#include "runtime/engine/numeric.h"
#include "runtime/engine/weights/dequant.h"

using namespace warden;
using namespace warden::engine;

namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// One comparison inside a case: what, got, reference.
struct Compared {
  std::string what;
  std::vector<float> got, ref;
};

double NormalisedError(const Compared& c) {
  if (c.got.size() != c.ref.size()) return INFINITY;
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < c.ref.size(); ++i) {
    if (std::isnan(c.got[i]) != std::isnan(c.ref[i])) return INFINITY;
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(c.got[i] - c.ref[i])));
    max_ref = std::max(max_ref, static_cast<double>(std::fabs(c.ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

// Uploads host floats, failing the test on error.
Tensor Up(Backend& b, const std::vector<float>& v, std::vector<size_t> shape) {
  auto t = b.UploadF32(v, std::move(shape));
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return std::move(t).value();
}
Tensor Zeros(Backend& b, std::vector<size_t> shape) {
  auto t = b.Alloc(DType::kF32, std::move(shape));
  REQUIRE(t.ok());
  return std::move(t).value();
}
std::vector<float> Down(Backend& b, const Tensor& t) {
  auto v = b.DownloadF32(t);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return std::move(v).value();
}
#define OK(expr)                          \
  do {                                    \
    Status s_ = (expr);                   \
    INFO(s_.ToString());                  \
    REQUIRE(s_.ok());                     \
  } while (0)

// A Linear over owned bytes, as ResolveLinears would hand it from a checkpoint.
struct OwnedLinear {
  std::vector<std::byte> w, scale, scale2, input_scale;
  TensorView wv, sv, s2v, isv;
  ResolvedLinear linear;
};

std::unique_ptr<OwnedLinear> MakeLinear(LinearFormat format, size_t out, size_t in, uint32_t seed) {
  auto L = std::make_unique<OwnedLinear>();
  L->linear.spec.module = "test.linear";
  L->linear.spec.out_features = static_cast<int64_t>(out);
  L->linear.spec.in_features = static_cast<int64_t>(in);
  L->linear.format = format;
  std::mt19937 rng(seed);
  auto f32_scalar = [](std::vector<std::byte>& bytes, TensorView& v, float value) {
    bytes.resize(4);
    std::memcpy(bytes.data(), &value, 4);
    v.dtype = DType::kF32;
    v.data = bytes.data();
    v.size_bytes = 4;
  };
  const std::vector<float> vals = Random(out * in, seed);
  switch (format) {
    case LinearFormat::kBF16:
      L->w.resize(out * in * 2);
      for (size_t i = 0; i < out * in; ++i) {
        const uint16_t b = FloatToBf16(vals[i]);
        std::memcpy(&L->w[2 * i], &b, 2);
      }
      L->wv.dtype = DType::kBF16;
      L->wv.shape = {static_cast<int64_t>(out), static_cast<int64_t>(in)};
      break;
    case LinearFormat::kFP8:
      L->w.resize(out * in);
      for (size_t i = 0; i < out * in; ++i) L->w[i] = std::byte{FloatToF8E4M3(vals[i] * 300.f)};
      L->wv.dtype = DType::kF8E4M3;
      L->wv.shape = {static_cast<int64_t>(out), static_cast<int64_t>(in)};
      f32_scalar(L->scale, L->sv, 1.f / 300.f);
      f32_scalar(L->input_scale, L->isv, 0.01f);
      L->linear.weight_scale = &L->sv;
      L->linear.input_scale = &L->isv;
      break;
    case LinearFormat::kNVFP4:
    case LinearFormat::kW4A16NVFP4: {
      L->w.resize(out * in / 2);
      for (auto& b : L->w) b = std::byte{static_cast<uint8_t>(rng() & 0xff)};
      L->wv.dtype = DType::kU8;
      L->wv.shape = {static_cast<int64_t>(out), static_cast<int64_t>(in / 2)};
      L->scale.resize(out * in / 16);
      for (auto& b : L->scale) b = std::byte{FloatToF8E4M3(0.01f + 0.2f * static_cast<float>(rng() % 100) / 100.f)};
      L->sv.dtype = DType::kF8E4M3;
      L->sv.shape = {static_cast<int64_t>(out), static_cast<int64_t>(in / 16)};
      L->sv.data = L->scale.data();
      L->sv.size_bytes = L->scale.size();
      f32_scalar(L->scale2, L->s2v, 0.5f);
      L->linear.weight_scale = &L->sv;
      L->linear.weight_scale_2 = &L->s2v;
      break;
    }
  }
  L->wv.name = "test.linear.weight";
  L->wv.data = L->w.data();
  L->wv.size_bytes = L->w.size();
  L->linear.weight = &L->wv;
  return L;
}

// The reference Linear: the whole weight decoded, then the reference matmul.
std::vector<float> RefLinear(const ResolvedLinear& L, const std::vector<float>& x, size_t T) {
  auto w = DequantizeWeight(L);
  REQUIRE(w.ok());
  std::vector<float> y(T * static_cast<size_t>(L.spec.out_features));
  cpu::LinearF32(x.data(), T, static_cast<size_t>(L.spec.in_features), static_cast<size_t>(L.spec.out_features),
                 w->data(), y.data());
  return y;
}

// Reference paged-KV attention: fp32 pages holding the values the backend's storage dtype can represent.
std::vector<float> RefAttention(const std::vector<float>& q, size_t T, size_t Hq, const std::vector<float>& k,
                                const std::vector<float>& v, size_t length, size_t Hkv, size_t D, size_t page,
                                DType dtype, float ks, float vs) {
  auto round = [&](float x, float s) {
    if (dtype == DType::kBF16) return Bf16ToFloat(FloatToBf16(x));
    if (dtype == DType::kF8E4M3) return F8E4M3ToFloat(FloatToF8E4M3(x / s)) * s;
    return x;
  };
  const size_t W = Hkv * D, pages = (length + page - 1) / page;
  std::vector<std::vector<float>> kp(pages, std::vector<float>(page * W)), vp(pages, std::vector<float>(page * W));
  for (size_t p = 0; p < length; ++p) {
    for (size_t i = 0; i < W; ++i) {
      kp[p / page][(p % page) * W + i] = round(k[p * W + i], ks);
      vp[p / page][(p % page) * W + i] = round(v[p * W + i], vs);
    }
  }
  std::vector<const void*> kptr, vptr;
  for (size_t i = 0; i < pages; ++i) {
    kptr.push_back(kp[i].data());
    vptr.push_back(vp[i].data());
  }
  cpu::KvLayerView view;
  view.k_pages = kptr.data();
  view.v_pages = vptr.data();
  view.page_size = page;
  view.length = length;
  view.num_kv_heads = Hkv;
  view.head_dim = D;
  view.dtype = cpu::KvDtype::kF32;
  std::vector<float> out(T * Hq * D);
  cpu::CausalAttention(q.data(), T, Hq, view, out.data());
  return out;
}

struct OpCase {
  const char* name;
  Op op;
  DType dtype;  // what Supports() is asked
  double tolerance;
  std::function<std::vector<Compared>(Backend&)> run;
};

std::vector<OpCase> Cases() {
  std::vector<OpCase> cases;
  cases.push_back({"rms_norm 7x67", Op::kRmsNorm, DType::kF32, 1e-5, [](Backend& b) {
    const size_t rows = 7, dim = 67;
    auto x = Random(rows * dim, 1, -3, 3), w = Random(dim, 2);
    std::vector<float> ref(rows * dim);
    cpu::ZeroCenteredRmsNorm(x.data(), w.data(), ref.data(), rows, dim, 1e-6f);
    Tensor tx = Up(b, x, {rows, dim}), tw = Up(b, w, {dim}), ty = Zeros(b, {rows, dim});
    OK(b.ZeroCenteredRmsNorm(tx, tw, ty, 1e-6f));
    return std::vector<Compared>{{"y", Down(b, ty), ref}};
  }});
  cases.push_back({"gated_rms_norm 5x33 in place", Op::kGatedRmsNorm, DType::kF32, 1e-5, [](Backend& b) {
    const size_t rows = 5, dim = 33;
    auto o = Random(rows * dim, 3), z = Random(rows * dim, 4, -4, 4), w = Random(dim, 5);
    std::vector<float> ref(rows * dim);
    cpu::GatedRmsNorm(o.data(), z.data(), w.data(), ref.data(), rows, dim, 1e-6f);
    Tensor to = Up(b, o, {rows, dim}), tz = Up(b, z, {rows, dim}), tw = Up(b, w, {dim});
    OK(b.GatedRmsNorm(to, tz, tw, to, 1e-6f));
    return std::vector<Compared>{{"y", Down(b, to), ref}};
  }});
  cases.push_back({"l2_norm 9x31 scaled", Op::kL2Norm, DType::kF32, 1e-5, [](Backend& b) {
    auto x = Random(9 * 31, 6), ref = x;
    cpu::L2NormalizeRows(ref.data(), 9, 31, 1e-6f, 0.3f);
    Tensor t = Up(b, x, {9, 31});
    OK(b.L2NormalizeRows(t, 31, 1e-6f, 0.3f));
    return std::vector<Compared>{{"x", Down(b, t), ref}};
  }});
  cases.push_back({"mrope T=5 heads=3 D=46 rotary 24", Op::kRope, DType::kF32, 1e-5, [](Backend& b) {
    const size_t T = 5, heads = 3, D = 46;
    auto x = Random(T * heads * D, 7), ref = x;
    std::vector<int64_t> pos(3 * T);
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int64_t>(100 + 7 * i % 23);
    RopeParams p;
    p.rotary_dim = 24;
    p.theta = 1e6;
    p.mrope_section = {5, 4, 3};
    cpu::RopeParams rp{p.rotary_dim, p.theta, p.mrope_section, p.mrope_interleaved};
    cpu::ApplyMrope(ref.data(), T, heads, D, pos.data(), rp);
    Tensor t = Up(b, x, {T, heads * D});
    auto tp = b.UploadI64(pos, {3, T});
    REQUIRE(tp.ok());
    OK(b.ApplyMrope(t, heads, *tp, p));
    return std::vector<Compared>{{"x", Down(b, t), ref}};
  }});
  for (DType kv : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
    cases.push_back({"attention GQA 6/2 D=20, pages of 3, appended 10 then 3", Op::kAttention, kv, 1e-5,
                     [kv](Backend& b) {
      const size_t Hq = 6, Hkv = 2, D = 20, page = 3, past = 10, T = 3, len = past + T, W = Hkv * D;
      auto k = Random(len * W, 8, -2, 2), v = Random(len * W, 9, -2, 2), q = Random(T * Hq * D, 10);
      const float ks = 0.01f, vs = 0.02f;
      auto ref = RefAttention(q, T, Hq, k, v, len, Hkv, D, page, kv, ks, vs);
      auto cache = b.NewKvCache({.dtype = kv, .page_size = page, .k_scale = ks, .v_scale = vs}, 2, Hkv, D);
      REQUIRE(cache.ok());
      // Layer 1 so that a mix-up of layers shows; the first call also covers the prefill of `past` positions.
      auto part = [&](const std::vector<float>& a, size_t from, size_t n) {
        return std::vector<float>(a.begin() + static_cast<ptrdiff_t>(from * W),
                                  a.begin() + static_cast<ptrdiff_t>((from + n) * W));
      };
      OK(b.AppendKv(**cache, 1, 0, Up(b, part(k, 0, past), {past, W}), Up(b, part(v, 0, past), {past, W})));
      OK(b.AppendKv(**cache, 1, past, Up(b, part(k, past, T), {T, W}), Up(b, part(v, past, T), {T, W})));
      Tensor tq = Up(b, q, {T, Hq * D}), out = Zeros(b, {T, Hq * D});
      OK(b.CausalAttention(tq, Hq, **cache, 1, len, out));
      CHECK((*cache)->memory_bytes() == 2 * ((len + page - 1) / page) * page * W * DTypeSize(kv));
      return std::vector<Compared>{{"out", Down(b, out), ref}};
    }});
  }
  // Sizes of the real model's heads: several 128-key tiles of the online softmax, D = 256 (two dims per thread).
  for (size_t T : {size_t{1}, size_t{37}}) {
    cases.push_back({T == 1 ? "attention GQA 8/2 D=256 over 300 positions, decode"
                            : "attention GQA 8/2 D=256 over 300 positions, 37 new",
                     Op::kAttention, DType::kBF16, 1e-5, [T](Backend& b) {
      const size_t Hq = 8, Hkv = 2, D = 256, page = 16, len = 300, W = Hkv * D;
      auto k = Random(len * W, 40, -2, 2), v = Random(len * W, 41, -2, 2), q = Random(T * Hq * D, 42, -0.3f, 0.3f);
      auto ref = RefAttention(q, T, Hq, k, v, len, Hkv, D, page, DType::kBF16, 1.f, 1.f);
      auto cache = b.NewKvCache({.dtype = DType::kBF16, .page_size = page}, 1, Hkv, D);
      REQUIRE(cache.ok());
      OK(b.AppendKv(**cache, 0, 0, Up(b, k, {len, W}), Up(b, v, {len, W})));
      Tensor tq = Up(b, q, {T, Hq * D}), out = Zeros(b, {T, Hq * D});
      OK(b.CausalAttention(tq, Hq, **cache, 0, len, out));
      return std::vector<Compared>{{"out", Down(b, out), ref}};
    }});
  }
  cases.push_back({"rms_norm 3x5120 and l2_norm rows of 128", Op::kRmsNorm, DType::kF32, 1e-5, [](Backend& b) {
    const size_t rows = 3, dim = 5120;
    auto x = Random(rows * dim, 43, -3, 3), w = Random(dim, 44);
    std::vector<float> ref(rows * dim), l2 = x;
    cpu::ZeroCenteredRmsNorm(x.data(), w.data(), ref.data(), rows, dim, 1e-6f);
    cpu::L2NormalizeRows(l2.data(), rows * dim / 128, 128, 1e-6f, 1.f);
    Tensor tx = Up(b, x, {rows, dim}), tw = Up(b, w, {dim}), t2 = Up(b, x, {rows, dim});
    OK(b.ZeroCenteredRmsNorm(tx, tw, tx, 1e-6f));
    OK(b.L2NormalizeRows(t2, 128, 1e-6f, 1.f));
    return std::vector<Compared>{{"rms in place", Down(b, tx), ref}, {"l2", Down(b, t2), l2}};
  }});
  cases.push_back({"conv1d T=5 C=37 K=4 with history", Op::kConv1d, DType::kF32, 1e-5, [](Backend& b) {
    const size_t T = 5, C = 37, K = 4;
    auto m = Random(T * C, 11), w = Random(C * K, 12), hist = Random((K - 1) * C, 13);
    std::vector<float> ref(T * C), ref_hist = hist;
    cpu::CausalConv1dSilu(m.data(), T, C, w.data(), K, ref_hist.data(), ref.data());
    Tensor tm = Up(b, m, {T, C}), tw = Up(b, w, {C, K}), th = Up(b, hist, {K - 1, C}), out = Zeros(b, {T, C});
    OK(b.CausalConv1dSilu(tm, tw, th, out));
    return std::vector<Compared>{{"out", Down(b, out), ref}, {"history", Down(b, th), ref_hist}};
  }});
  cases.push_back({"deltanet gates T=3 Hv=5", Op::kElementwise, DType::kF32, 1e-5, [](Backend& b) {
    const size_t T = 3, Hv = 5;
    auto bb = Random(T * Hv, 14, -5, 5), a = Random(T * Hv, 15, -30, 30), al = Random(Hv, 16), dt = Random(Hv, 17);
    std::vector<float> beta(T * Hv), g(T * Hv);
    for (size_t i = 0; i < T * Hv; ++i) {
      beta[i] = cpu::Sigmoid(bb[i]);
      g[i] = -std::exp(al[i % Hv]) * cpu::Softplus(a[i] + dt[i % Hv]);
    }
    Tensor tb = Up(b, bb, {T, Hv}), ta = Up(b, a, {T, Hv}), tal = Up(b, al, {Hv}), tdt = Up(b, dt, {Hv});
    Tensor obeta = Zeros(b, {T, Hv}), og = Zeros(b, {T, Hv});
    OK(b.DeltaNetGates(tb, ta, tal, tdt, obeta, og));
    return std::vector<Compared>{{"beta", Down(b, obeta), beta}, {"g", Down(b, og), g}};
  }});
  for (DeltaRuleForm form : {DeltaRuleForm::kRecurrent, DeltaRuleForm::kChunked}) {
    cases.push_back({form == DeltaRuleForm::kChunked ? "delta rule chunked T=70 Hk=2 Hv=4 Dk=9 Dv=7"
                                                     : "delta rule recurrent T=70 Hk=2 Hv=4 Dk=9 Dv=7",
                     Op::kDeltaRule, DType::kF32, 1e-4, [form](Backend& b) {
      const size_t T = 70, Hk = 2, Hv = 4, Dk = 9, Dv = 7;
      auto q = Random(T * Hk * Dk, 18), k = Random(T * Hk * Dk, 19), v = Random(T * Hv * Dv, 20);
      auto g = Random(T * Hv, 21, -1.f, 0.f), beta = Random(T * Hv, 22, 0.f, 1.f);
      auto state = Random(Hv * Dk * Dv, 23, -0.1f, 0.1f);
      cpu::L2NormalizeRows(q.data(), T * Hk, Dk, 1e-6f, 1.f / 3.f);
      cpu::L2NormalizeRows(k.data(), T * Hk, Dk, 1e-6f, 1.f);
      std::vector<float> out(T * Hv * Dv), ref_state = state;
      const cpu::DeltaNetShape s{Hk, Hv, Dk, Dv};
      if (form == DeltaRuleForm::kChunked) {
        cpu::GatedDeltaRuleChunked(s, T, q.data(), k.data(), v.data(), g.data(), beta.data(), ref_state.data(),
                                   out.data());
      } else {
        cpu::GatedDeltaRuleRecurrent(s, T, q.data(), k.data(), v.data(), g.data(), beta.data(), ref_state.data(),
                                     out.data());
      }
      Tensor tq = Up(b, q, {T, Hk * Dk}), tk = Up(b, k, {T, Hk * Dk}), tv = Up(b, v, {T, Hv * Dv});
      Tensor tg = Up(b, g, {T, Hv}), tb = Up(b, beta, {T, Hv}), ts = Up(b, state, {Hv, Dk, Dv});
      Tensor to = Zeros(b, {T, Hv * Dv});
      OK(b.GatedDeltaRule({Hk, Hv, Dk, Dv}, form, tq, tk, tv, tg, tb, ts, to));
      return std::vector<Compared>{{"out", Down(b, to), out}, {"state", Down(b, ts), ref_state}};
    }});
  }
  // Real head dims (Dk = Dv = 128) and two full chunks plus a ragged one, from a non-zero state.
  cases.push_back({"delta rule chunked T=150 Hk=1 Hv=2 Dk=Dv=128", Op::kDeltaRule, DType::kF32, 1e-4, [](Backend& b) {
    const size_t T = 150, Hk = 1, Hv = 2, Dk = 128, Dv = 128;
    auto q = Random(T * Hk * Dk, 45), k = Random(T * Hk * Dk, 46), v = Random(T * Hv * Dv, 47);
    auto g = Random(T * Hv, 48, -0.5f, 0.f), beta = Random(T * Hv, 49, 0.f, 1.f);
    auto state = Random(Hv * Dk * Dv, 50, -0.1f, 0.1f);
    cpu::L2NormalizeRows(q.data(), T * Hk, Dk, 1e-6f, 1.f / std::sqrt(128.f));
    cpu::L2NormalizeRows(k.data(), T * Hk, Dk, 1e-6f, 1.f);
    std::vector<float> out(T * Hv * Dv), ref_state = state;
    cpu::GatedDeltaRuleChunked({Hk, Hv, Dk, Dv}, T, q.data(), k.data(), v.data(), g.data(), beta.data(),
                               ref_state.data(), out.data());
    Tensor tq = Up(b, q, {T, Hk * Dk}), tk = Up(b, k, {T, Hk * Dk}), tv = Up(b, v, {T, Hv * Dv});
    Tensor tg = Up(b, g, {T, Hv}), tb = Up(b, beta, {T, Hv}), ts = Up(b, state, {Hv, Dk, Dv});
    Tensor to = Zeros(b, {T, Hv * Dv});
    OK(b.GatedDeltaRule({Hk, Hv, Dk, Dv}, DeltaRuleForm::kChunked, tq, tk, tv, tg, tb, ts, to));
    return std::vector<Compared>{{"out", Down(b, to), out}, {"state", Down(b, ts), ref_state}};
  }});
  struct LinearCase {
    const char* name;
    LinearFormat format;
    size_t out, in, T;
    bool fp8_act;
  };
  for (LinearCase lc : {LinearCase{"linear BF16 37x53 T=3", LinearFormat::kBF16, 37, 53, 3, false},
                        LinearCase{"linear BF16 11x29 T=1", LinearFormat::kBF16, 11, 29, 1, false},
                        LinearCase{"linear FP8 19x45 T=2", LinearFormat::kFP8, 19, 45, 2, false},
                        LinearCase{"linear FP8 W8A8 19x45 T=2", LinearFormat::kFP8, 19, 45, 2, true},
                        LinearCase{"linear NVFP4 13x48 T=1", LinearFormat::kW4A16NVFP4, 13, 48, 1, false},
                        LinearCase{"linear NVFP4 21x80 T=5", LinearFormat::kNVFP4, 21, 80, 5, false},
                        // Past the fused decode kernels' row limit: the block-decoding (prefill) path.
                        LinearCase{"linear BF16 37x53 T=9", LinearFormat::kBF16, 37, 53, 9, false},
                        LinearCase{"linear FP8 W8A8 19x45 T=9", LinearFormat::kFP8, 19, 45, 9, true},
                        LinearCase{"linear NVFP4 21x80 T=9", LinearFormat::kNVFP4, 21, 80, 9, false},
                        // Several 64×64 output tiles with ragged edges on both sides of the GEMM.
                        LinearCase{"linear NVFP4 131x272 T=70", LinearFormat::kW4A16NVFP4, 131, 272, 70, false},
                        LinearCase{"linear BF16 130x65 T=67", LinearFormat::kBF16, 130, 65, 67, false}}) {
    const DType wdtype = lc.format == LinearFormat::kBF16  ? DType::kBF16
                         : lc.format == LinearFormat::kFP8 ? DType::kF8E4M3
                                                           : DType::kU8;
    cases.push_back({lc.name, Op::kLinear, wdtype, 1e-5, [lc](Backend& b) {
      auto L = MakeLinear(lc.format, lc.out, lc.in, 24);
      auto x = Random(lc.T * lc.in, 25, -2, 2);
      std::vector<float> xr = x;
      if (lc.fp8_act) {
        for (float& v : xr) v = FakeQuantFp8(v, 0.01f);
      }
      auto ref = RefLinear(L->linear, xr, lc.T);
      auto w = b.PrepareLinear(L->linear);
      REQUIRE(w.ok());
      Tensor tx = Up(b, x, {lc.T, lc.in}), ty = Zeros(b, {lc.T, lc.out});
      OK(b.Linear(*w, tx, ty, {.fp8_activations = lc.fp8_act}));
      return std::vector<Compared>{{"y", Down(b, ty), ref}};
    }});
  }
  cases.push_back({"embedding BF16 29x17", Op::kEmbedding, DType::kBF16, 0, [](Backend& b) {
    auto L = MakeLinear(LinearFormat::kBF16, 29, 17, 26);
    const std::vector<int32_t> ids = {28, 0, 5, 5, 13};
    auto table = DequantizeWeight(L->linear);
    REQUIRE(table.ok());
    std::vector<float> ref;
    for (int32_t id : ids) ref.insert(ref.end(), table->begin() + id * 17, table->begin() + (id + 1) * 17);
    auto w = b.PrepareLinear(L->linear);
    REQUIRE(w.ok());
    auto tid = b.UploadI32(ids, {ids.size()});
    REQUIRE(tid.ok());
    Tensor out = Zeros(b, {ids.size(), 17});
    OK(b.Embedding(*w, *tid, out));
    // Out-of-range ids are refused, not read.
    auto bad = b.UploadI32(std::vector<int32_t>{29}, {1});
    Tensor one = Zeros(b, {1, 17});
    CHECK_FALSE(b.Embedding(*w, *bad, one).ok());
    return std::vector<Compared>{{"rows", Down(b, out), ref}};
  }});
  cases.push_back({"silu_mul, mul_sigmoid, add over 101", Op::kElementwise, DType::kF32, 1e-6, [](Backend& b) {
    const size_t n = 101;
    auto g = Random(n, 27, -6, 6), u = Random(n, 28), x = Random(n, 29);
    std::vector<float> r1(n), r2 = x, r3 = x;
    cpu::SiluMul(g.data(), u.data(), r1.data(), n);
    cpu::MulSigmoid(r2.data(), g.data(), n);
    cpu::AddInPlace(r3.data(), u.data(), n);
    Tensor tg = Up(b, g, {n}), tu = Up(b, u, {n}), t1 = Zeros(b, {n}), t2 = Up(b, x, {n}), t3 = Up(b, x, {n});
    OK(b.SiluMul(tg, tu, t1));
    OK(b.MulSigmoid(t2, tg));
    OK(b.Add(t3, tu));
    return std::vector<Compared>{{"silu_mul", Down(b, t1), r1}, {"mul_sigmoid", Down(b, t2), r2},
                                 {"add", Down(b, t3), r3}};
  }});
  cases.push_back({"split_columns 3 rows into 5 | 2 | 6", Op::kElementwise, DType::kF32, 0, [](Backend& b) {
    const size_t rows = 3, W = 13;
    auto src = Random(rows * W, 30);
    std::vector<float> r0, r1, r2;
    for (size_t r = 0; r < rows; ++r) {
      r0.insert(r0.end(), src.begin() + r * W, src.begin() + r * W + 5);
      r1.insert(r1.end(), src.begin() + r * W + 5, src.begin() + r * W + 7);
      r2.insert(r2.end(), src.begin() + r * W + 7, src.begin() + (r + 1) * W);
    }
    Tensor ts = Up(b, src, {rows, W}), a = Zeros(b, {rows, 5}), c = Zeros(b, {rows, 2}), d = Zeros(b, {rows, 6});
    Tensor* parts[] = {&a, &c, &d};
    OK(b.SplitColumns(ts, parts));
    return std::vector<Compared>{{"part 0", Down(b, a), r0}, {"part 1", Down(b, c), r1}, {"part 2", Down(b, d), r2}};
  }});
  cases.push_back({"sample greedy and seeded over rows of 1001", Op::kSample, DType::kF32, 0, [](Backend& b) {
    const size_t V = 1001;
    auto logits = Random(2 * V, 31, -5, 5);
    Tensor t = Up(b, logits, {2, V});
    std::vector<Compared> res;
    for (float temperature : {0.f, 0.8f}) {
      cpu::SamplingParams p;
      p.temperature = temperature;
      p.top_k = 50;
      p.seed = 7;
      cpu::Sampler mine(p), ref(p);
      const std::vector<int32_t> seen = {3, 4};
      auto got = b.Sample(t, 1, mine, seen);
      REQUIRE(got.ok());
      const int32_t want = ref.Sample(std::span<const float>(logits.data() + V, V), seen);
      res.push_back({"token at T=" + std::to_string(temperature), {static_cast<float>(*got)},
                     {static_cast<float>(want)}});
    }
    return res;
  }});
  cases.push_back({"greedy sample over 151937 logits with a tie", Op::kSample, DType::kF32, 0, [](Backend& b) {
    const size_t V = 151937;
    auto logits = Random(V, 51, -5, 5);
    logits[90001] = 9.f;
    logits[150001] = 9.f;  // the tie goes to the lower id
    Tensor t = Up(b, logits, {1, V});
    cpu::SamplingParams p;
    p.temperature = 0.f;
    cpu::Sampler mine(p);
    auto got = b.Sample(t, 0, mine, {});
    REQUIRE(got.ok());
    return std::vector<Compared>{{"token", {static_cast<float>(*got)}, {90001.f}}};
  }});
  // Vision family (model.md §4.2, §4.4): odd widths, heads of 12 (rotary quarter 3), three uneven segments.
  cases.push_back({"layer_norm 6x37 in place", Op::kVision, DType::kF32, 1e-5, [](Backend& b) {
    const size_t rows = 6, dim = 37;
    auto x = Random(rows * dim, 41, -3, 3), w = Random(dim, 42), bias = Random(dim, 43);
    std::vector<float> ref(rows * dim);
    cpu::LayerNorm(x.data(), w.data(), bias.data(), ref.data(), rows, dim, 1e-6f);
    Tensor tx = Up(b, x, {rows, dim}), tw = Up(b, w, {dim}), tb = Up(b, bias, {dim});
    OK(b.LayerNorm(tx, tw, tb, tx, 1e-6f));
    return std::vector<Compared>{{"y", Down(b, tx), ref}};
  }});
  cases.push_back({"gelu tanh and erf 101", Op::kVision, DType::kF32, 1e-6, [](Backend& b) {
    auto x = Random(101, 44, -6, 6), rt = x, re = x;
    cpu::GeluTanhInPlace(rt.data(), rt.size());
    cpu::GeluErfInPlace(re.data(), re.size());
    Tensor tt = Up(b, x, {101}), te = Up(b, x, {101});
    OK(b.Gelu(tt, GeluForm::kTanh));
    OK(b.Gelu(te, GeluForm::kErf));
    return std::vector<Compared>{{"tanh", Down(b, tt), rt}, {"erf", Down(b, te), re}};
  }});
  cases.push_back({"rope_2d N=7 heads=3 D=12", Op::kVision, DType::kF32, 1e-5, [](Backend& b) {
    const size_t N = 7, heads = 3, D = 12;
    auto x = Random(N * heads * D, 45), ref = x;
    std::vector<int64_t> pos(2 * N);
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int64_t>(3 * i % 11);
    cpu::ApplyRope2d(ref.data(), N, heads, D, pos.data(), 10000.0);
    Tensor t = Up(b, x, {N, heads * D});
    auto tp = b.UploadI64(pos, {2, N});
    REQUIRE(tp.ok());
    OK(b.ApplyRope2d(t, heads, *tp, 10000.0));
    return std::vector<Compared>{{"x", Down(b, t), ref}};
  }});
  cases.push_back({"segment_attention N=13 heads=2 D=10, segments 4/8/1", Op::kVision, DType::kF32, 1e-5,
                   [](Backend& b) {
    const size_t N = 13, heads = 2, D = 10;
    auto q = Random(N * heads * D, 46), k = Random(N * heads * D, 47), v = Random(N * heads * D, 48);
    const std::vector<int64_t> ends = {4, 12, 13};
    std::vector<float> ref(N * heads * D);
    cpu::SegmentAttention(q.data(), k.data(), v.data(), N, heads, D, ends.data(), ends.size(), ref.data());
    Tensor tq = Up(b, q, {N, heads * D}), tk = Up(b, k, {N, heads * D}), tv = Up(b, v, {N, heads * D}),
           to = Zeros(b, {N, heads * D});
    OK(b.SegmentAttention(tq, tk, tv, heads, ends, to));
    return std::vector<Compared>{{"out", Down(b, to), ref}};
  }});
  cases.push_back({"scatter_rows 3 of 9 rows x 5", Op::kVision, DType::kF32, 0, [](Backend& b) {
    auto dst = Random(9 * 5, 49), src = Random(3 * 5, 50), ref = dst;
    const std::vector<int32_t> rows = {7, 0, 4};
    cpu::ScatterRows(ref.data(), 5, rows.data(), rows.size(), src.data());
    Tensor td = Up(b, dst, {9, 5}), ts = Up(b, src, {3, 5});
    auto tr = b.UploadI32(rows, {3});
    REQUIRE(tr.ok());
    OK(b.ScatterRows(td, *tr, ts));
    return std::vector<Compared>{{"dst", Down(b, td), ref}};
  }});
  return cases;
}

void RunTable(Backend& backend) {
  for (const OpCase& c : Cases()) {
    if (!backend.Supports(c.op, c.dtype)) {
      WARN(backend.name() << " does not support " << c.name << " (" << OpName(c.op) << ", "
                          << DTypeName(c.dtype) << ")");
      continue;
    }
    for (const Compared& cmp : c.run(backend)) {
      const double err = NormalisedError(cmp);
      INFO(backend.name() << ": " << c.name << " / " << cmp.what << ": normalised error " << err << " (tolerance "
                          << c.tolerance << ")");
      CHECK(err <= c.tolerance);
      // scripts/gpu-check.sh collects one row per comparison.
      if (const char* path = std::getenv("WARDEN_GPU_CHECK_REPORT"); path != nullptr && *path != '\0') {
        std::ofstream(path, std::ios::app) << "op " << backend.name() << ": " << c.name << " / " << cmp.what << "|"
                                           << err << "|" << c.tolerance << "|"
                                           << (err <= c.tolerance ? "pass" : "FAIL") << "\n";
      }
    }
  }
}

// Synthetic weights (RandomLinear): reproducible per (seed, module), different across seeds, finite and of the
// scale the model expects (|y| ~ |x| for x·Wᵀ with W ~ 1/sqrt(in)).
void CheckRandomLinear(Backend& b) {
  for (LinearFormat f : {LinearFormat::kBF16, LinearFormat::kFP8, LinearFormat::kW4A16NVFP4}) {
    INFO(b.name() << " RandomLinear " << LinearFormatName(f));
    LinearSpec spec;
    spec.module = "model.layers.0.mlp.up_proj";
    spec.out_features = 70;
    spec.in_features = 96;
    auto w1 = b.RandomLinear(spec, f, 1), w1b = b.RandomLinear(spec, f, 1), w2 = b.RandomLinear(spec, f, 2);
    REQUIRE((w1.ok() && w1b.ok() && w2.ok()));
    CHECK(w1->out_features() == 70);
    CHECK(w1->in_features() == 96);
    CHECK(w1->linear().format == f);
    auto x = Random(3 * 96, 60);
    Tensor tx = Up(b, x, {3, 96}), y1 = Zeros(b, {3, 70}), y1b = Zeros(b, {3, 70}), y2 = Zeros(b, {3, 70});
    OK(b.Linear(*w1, tx, y1));
    OK(b.Linear(*w1b, tx, y1b));
    OK(b.Linear(*w2, tx, y2));
    auto a = Down(b, y1), a2 = Down(b, y1b), c = Down(b, y2);
    CHECK(a == a2);
    CHECK(a != c);
    double max_abs = 0;
    for (float v : a) {
      REQUIRE(std::isfinite(v));
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(v)));
    }
    CHECK(max_abs > 0.05);
    CHECK(max_abs < 10);
    spec.in_features = 40;  // NVFP4 needs blocks of 16
    if (f == LinearFormat::kW4A16NVFP4) CHECK_FALSE(b.RandomLinear(spec, f, 1).ok());
  }
}

}  // namespace

TEST_CASE("synthetic weights are reproducible and well scaled: cpu", "[engine][backend]") {
  auto backend = MakeBackend("cpu");
  REQUIRE(backend.ok());
  CheckRandomLinear(**backend);
}

TEST_CASE("backend ops match the CPU reference functions: cpu", "[engine][backend]") {
  auto backend = MakeBackend("cpu");
  REQUIRE(backend.ok());
  CHECK((*backend)->device() == Device::kCpu);
  RunTable(**backend);
}

TEST_CASE("backend ops match the CPU reference functions: cuda", "[engine][backend][gpu]") {
  auto backend = MakeBackend("cuda");
  if (!backend.ok()) {
    // Without a GPU (or in a build without CUDA) the factory refuses by name, not silently: the test is skipped.
    CHECK(backend.status().code() == Status::Code::kUnavailable);
    const std::string why = backend.status().message();
    CHECK((why.find("no CUDA device found") != std::string::npos || why.find("built without CUDA") != std::string::npos ||
           why.find("compute capability") != std::string::npos));
    WARN("SKIPPED: cuda backend unavailable: " << backend.status().ToString());
    return;
  }
  CHECK((*backend)->device() == Device::kCuda);
  RunTable(**backend);
  CheckRandomLinear(**backend);
  // The memory plan: a budget was taken and every live tensor is charged to it.
  const MemoryUsage before = (*backend)->memory_usage();
  CHECK(before.budget_bytes > 0);
  CHECK(before.budget_bytes <= before.device_total_bytes);
  {
    auto t = (*backend)->Alloc(DType::kF32, {1024, 1024});
    REQUIRE(t.ok());
    CHECK((*backend)->memory_usage().used_bytes == before.used_bytes + (4u << 20));
  }
  CHECK((*backend)->memory_usage().used_bytes == before.used_bytes);
  // Asking for more than the budget is a clear ResourceExhausted, not a crash.
  auto huge = (*backend)->Alloc(DType::kF32, {before.budget_bytes / 4 + 1024});
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().code() == Status::Code::kResourceExhausted);
  CHECK(huge.status().message().find("--gpu-memory-utilization") != std::string::npos);
}

TEST_CASE("backend factory and tensor handles", "[engine][backend]") {
  CHECK_FALSE(MakeBackend("tpu").ok());
  auto b = MakeBackend("cpu");
  REQUIRE(b.ok());
  auto t = (*b)->Alloc(DType::kBF16, {3, 5});
  REQUIRE(t.ok());
  CHECK(t->bytes() == 30);
  CHECK(t->Describe() == "BF16[3, 5]");
  CHECK(t->Reshape({15}).ok());
  CHECK_FALSE(t->Reshape({4, 4}).ok());
  CHECK_FALSE((*b)->Alloc(DType::kBool, {2}).ok());
  // Shape mismatches are refused with the op's name rather than read out of bounds.
  auto x = (*b)->Alloc(DType::kF32, {2, 7});
  auto w = (*b)->Alloc(DType::kF32, {6});
  auto y = (*b)->Alloc(DType::kF32, {2, 7});
  REQUIRE((x.ok() && w.ok() && y.ok()));
  Status s = (*b)->ZeroCenteredRmsNorm(*x, *w, *y, 1e-6f);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("rms_norm") != std::string::npos);
  CHECK_FALSE((*b)->NewKvCache({.dtype = DType::kI32}, 1, 1, 4).ok());
}
