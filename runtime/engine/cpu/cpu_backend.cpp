// CpuBackend: checks shapes at the backend boundary, then calls the reference functions of each family.
#include "runtime/engine/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>
#include <random>

#include "runtime/engine/cpu/attention.h"
#include "runtime/engine/cpu/deltanet.h"
#include "runtime/engine/cpu/elementwise.h"
#include "runtime/engine/cpu/matmul.h"
#include "runtime/engine/cpu/norm.h"
#include "runtime/engine/cpu/rope.h"
#include "runtime/engine/cpu/sample.h"
#include "runtime/engine/cpu/vision.h"
#include "runtime/engine/backend_checks.h"
#include "runtime/engine/numeric.h"
#include "runtime/engine/weights/dequant.h"

namespace warden::engine::cpu {
namespace {

// Host memory in 64-byte-aligned units so vector loads never straddle an allocation's start.
class HostStorage final : public TensorStorage {
 public:
  explicit HostStorage(size_t bytes) : bytes_(bytes), words_((bytes + 63) / 64) {}
  void* data() override { return words_.data(); }
  size_t bytes() const override { return bytes_; }

 private:
  struct alignas(64) Block {
    std::byte b[64] = {};
  };
  size_t bytes_;
  std::vector<Block> words_;
};

float* F(Tensor& t) { return static_cast<float*>(t.raw()); }
const float* F(const Tensor& t) { return static_cast<const float*>(t.raw()); }

// Builds the message only on failure: these checks run for every op of every layer.
#define WARDEN_CPU_EXPECT(ok, op, what)                                                  \
  do {                                                                                   \
    if (!(ok)) return Status::InvalidArgument("cpu backend " + std::string(op) + ": " + (what)); \
  } while (0)

Status ExpectF32(std::string_view op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) {
    if (t->empty() || t->dtype() != DType::kF32) {
      return Status::InvalidArgument("cpu backend " + std::string(op) + ": expected an F32 tensor, got " +
                                     (t->empty() ? std::string("an empty handle") : t->Describe()));
    }
  }
  return Status::Ok();
}

KvDtype ToKvDtype(DType d) {
  return d == DType::kBF16 ? KvDtype::kBF16 : d == DType::kF8E4M3 ? KvDtype::kFP8E4M3 : KvDtype::kF32;
}

// Pages of K and V per attention layer, in host memory.
class CpuKvCache final : public KvCache {
 public:
  CpuKvCache(const KvCacheOptions& o, size_t layers, size_t kv_heads, size_t head_dim)
      : options_(o), layers_(layers), kv_heads_(kv_heads), head_dim_(head_dim) {}
  const KvCacheOptions& options() const override { return options_; }
  size_t memory_bytes() const override {
    size_t total = 0;
    for (const auto& L : layers_) total += (L.k_pages.size() + L.v_pages.size()) * PageBytes();
    return total;
  }

  size_t width() const { return kv_heads_ * head_dim_; }
  size_t PageBytes() const { return options_.page_size * width() * DTypeSize(options_.dtype); }

  struct Layer {
    std::vector<std::vector<uint8_t>> k_pages, v_pages;
    std::vector<const void*> k_ptrs, v_ptrs;  // handed to the kernel
  };
  KvCacheOptions options_;
  std::vector<Layer> layers_;
  size_t kv_heads_, head_dim_;
};

void StoreKv(const KvCacheOptions& o, const float* src, size_t n, float scale, uint8_t* dst) {
  switch (o.dtype) {
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t b = FloatToBf16(src[i]);
        std::memcpy(dst + 2 * i, &b, 2);
      }
      break;
    case DType::kF8E4M3:
      for (size_t i = 0; i < n; ++i) dst[i] = FloatToF8E4M3(src[i] / scale);
      break;
    default:
      std::memcpy(dst, src, n * sizeof(float));
  }
}

// Up to this many input rows the fused decode-and-dot kernels win: they re-widen each weight per row, which is
// cheap while a few rows share one pass over the weights. Longer (prefill) inputs decode each block of rows
// to fp32 once and reuse it for every input row.
constexpr size_t kDirectMaxRows = 8;

void LinearDecoded(const ResolvedLinear& L, const float* x, size_t T, size_t in, size_t out, float* y) {
  cpu::Linear(x, T, in, out, [&](size_t r0, size_t r1, float* dst) {
    thread_local std::vector<float> buf;
    // The row range is valid by construction (r1 ≤ out_features), so the status is always OK here.
    (void)DequantizeRows(L, static_cast<int64_t>(r0), static_cast<int64_t>(r1), &buf);
    std::memcpy(dst, buf.data(), (r1 - r0) * in * sizeof(float));
  }, y);
}

}  // namespace

std::shared_ptr<CpuBackend> CpuBackend::Default() {
  static const std::shared_ptr<CpuBackend> backend = std::make_shared<CpuBackend>();
  return backend;
}

bool CpuBackend::Supports(Op op, DType dtype) const {
  return engine::detail::SupportsDtype(op, dtype);
}

// ----- memory -----

Result<Tensor> CpuBackend::Alloc(DType dtype, std::vector<size_t> shape) {
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckAllocDtype("cpu", dtype));
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return Tensor(dtype, std::move(shape), Device::kCpu, std::make_unique<HostStorage>(n * DTypeSize(dtype)));
}

Status CpuBackend::Upload(Tensor& dst, const void* host, size_t bytes) {
  WARDEN_CPU_EXPECT(!dst.empty() && bytes == dst.bytes(), "upload",
                                std::to_string(bytes) + " bytes into " + dst.Describe());
  if (bytes) std::memcpy(dst.raw(), host, bytes);
  return Status::Ok();
}

Status CpuBackend::Download(const Tensor& src, void* host, size_t bytes) {
  WARDEN_CPU_EXPECT(!src.empty() && bytes == src.bytes(), "download",
                                src.Describe() + " into " + std::to_string(bytes) + " bytes");
  if (bytes) std::memcpy(host, src.raw(), bytes);
  return Status::Ok();
}

// ----- matmul -----

Result<LinearWeight> CpuBackend::PrepareLinear(const ResolvedLinear& linear) {
  if (linear.weight == nullptr) {
    return Status::InvalidArgument("Linear \"" + linear.spec.module + "\" has no weight tensor");
  }
  if (!Supports(Op::kLinear, linear.weight->dtype)) {
    return Status::InvalidArgument("Linear \"" + linear.spec.module + "\": the cpu backend cannot read " +
                                   std::string(DTypeName(linear.weight->dtype)) + " weights");
  }
  // Nothing to prepare: the rows are decoded from the mapped checkpoint as each Linear runs.
  return LinearWeight(&linear, nullptr);
}

namespace {

// A synthetic Linear: host bytes in the checkpoint layouts and the ResolvedLinear describing them.
struct RandomLinearImpl final : LinearWeightImpl {
  std::vector<std::byte> weight, scale, scale2;
  TensorView weight_view, scale_view, scale2_view;
  ResolvedLinear resolved;
};

TensorView ViewOf(std::vector<std::byte>& bytes, DType dtype, std::vector<int64_t> shape, const std::string& name) {
  TensorView v;
  v.name = name;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.data = bytes.data();
  v.size_bytes = bytes.size();
  return v;
}

}  // namespace

Result<LinearWeight> CpuBackend::RandomLinear(const LinearSpec& spec, LinearFormat format, uint64_t seed) {
  const size_t out = static_cast<size_t>(spec.out_features), in = static_cast<size_t>(spec.in_features);
  if (out == 0 || in == 0) return Status::InvalidArgument("RandomLinear \"" + spec.module + "\" has an empty shape");
  if ((format == LinearFormat::kNVFP4 || format == LinearFormat::kW4A16NVFP4) && in % 16 != 0) {
    return Status::InvalidArgument("RandomLinear \"" + spec.module + "\": NVFP4 needs in_features divisible by 16");
  }
  auto impl = std::make_unique<RandomLinearImpl>();
  ResolvedLinear& L = impl->resolved;
  L.spec = spec;
  L.spec.has_bias = false;
  L.format = format;
  uint64_t s = seed ^ 0xcbf29ce484222325ull;  // FNV-1a of the module name: each Linear gets its own stream
  for (unsigned char c : spec.module) s = (s ^ c) * 0x100000001b3ull;
  std::mt19937_64 rng(s);
  auto unit = [&] { return static_cast<float>(rng() >> 40) * 0x1.0p-24f; };
  const float amplitude = 1.f / std::sqrt(static_cast<float>(in));
  const int64_t o64 = spec.out_features, i64 = spec.in_features;
  auto scalar = [](std::vector<std::byte>& bytes, float v) {
    bytes.resize(4);
    std::memcpy(bytes.data(), &v, 4);
  };
  switch (format) {
    case LinearFormat::kBF16: {
      impl->weight.resize(out * in * 2);
      for (size_t i = 0; i < out * in; ++i) {
        const uint16_t b = FloatToBf16((2.f * unit() - 1.f) * amplitude);
        std::memcpy(&impl->weight[2 * i], &b, 2);
      }
      impl->weight_view = ViewOf(impl->weight, DType::kBF16, {o64, i64}, spec.module + ".weight");
      break;
    }
    case LinearFormat::kFP8: {
      impl->weight.resize(out * in);
      for (auto& b : impl->weight) b = std::byte{FloatToF8E4M3(-448.f + 896.f * unit())};
      impl->weight_view = ViewOf(impl->weight, DType::kF8E4M3, {o64, i64}, spec.module + ".weight");
      scalar(impl->scale, amplitude / 448.f);
      impl->scale_view = ViewOf(impl->scale, DType::kF32, {}, spec.module + ".weight_scale");
      L.weight_scale = &impl->scale_view;
      break;
    }
    case LinearFormat::kNVFP4:
    case LinearFormat::kW4A16NVFP4: {
      impl->weight.resize(out * in / 2);
      for (auto& b : impl->weight) b = std::byte{static_cast<uint8_t>(rng() >> 56)};
      impl->weight_view = ViewOf(impl->weight, DType::kU8, {o64, i64 / 2}, spec.module + ".weight");
      impl->scale.resize(out * in / 16);
      for (auto& b : impl->scale) b = std::byte{FloatToF8E4M3(0.5f + 0.5f * unit())};
      impl->scale_view = ViewOf(impl->scale, DType::kF8E4M3, {o64, i64 / 16}, spec.module + ".weight_scale");
      scalar(impl->scale2, amplitude / 6.f);
      impl->scale2_view = ViewOf(impl->scale2, DType::kF32, {}, spec.module + ".weight_scale_2");
      L.weight_scale = &impl->scale_view;
      L.weight_scale_2 = &impl->scale2_view;
      break;
    }
  }
  L.weight = &impl->weight_view;
  const ResolvedLinear* resolved = &impl->resolved;
  return LinearWeight(resolved, std::move(impl));
}

Status CpuBackend::Linear(const LinearWeight& w, const Tensor& x, Tensor& y, const LinearOptions& options) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("linear", {&x, &y}));
  WARDEN_CPU_EXPECT(!w.empty(), "linear", "empty weight handle");
  const ResolvedLinear& L = w.linear();
  const size_t in = w.in_features(), out = w.out_features();
  const size_t T = x.rank() ? x.dim(0) : 0;
  WARDEN_CPU_EXPECT(x.numel() == T * in && y.numel() == T * out && y.dim(0) == T, "linear",
                                L.spec.module + " [" + std::to_string(out) + ", " + std::to_string(in) +
                                    "] with x " + x.Describe() + ", y " + y.Describe());
  const float* xp = F(x);
  std::vector<float> xq;
  if (options.fp8_activations && L.format == LinearFormat::kFP8 && L.input_scale != nullptr) {
    // W8A8: the layer sees its input rounded through FP8 with the calibrated static scale.
    const float scale = static_cast<float>(ElementAsDouble(*L.input_scale, 0));
    xq.assign(xp, xp + T * in);
    for (float& v : xq) v = FakeQuantFp8(v, scale);
    xp = xq.data();
  }
  const TensorView& wv = *L.weight;
  const auto* wb = reinterpret_cast<const uint8_t*>(wv.data);
  if (T <= kDirectMaxRows && L.format == LinearFormat::kBF16 && wv.dtype == DType::kBF16) {
    LinearBf16Direct(xp, T, in, out, wv.data, F(y));
  } else if (T <= kDirectMaxRows && L.format == LinearFormat::kFP8 && L.weight_scale != nullptr) {
    LinearFp8Direct(xp, T, in, out, wb, static_cast<float>(ElementAsDouble(*L.weight_scale, 0)), F(y));
  } else if (T <= kDirectMaxRows &&
             (L.format == LinearFormat::kNVFP4 || L.format == LinearFormat::kW4A16NVFP4) && in % 16 == 0 &&
             L.weight_scale != nullptr && L.weight_scale_2 != nullptr) {
    LinearNvfp4Direct(xp, T, in, out, wb, reinterpret_cast<const uint8_t*>(L.weight_scale->data),
                      static_cast<float>(ElementAsDouble(*L.weight_scale_2, 0)), F(y));
  } else {
    LinearDecoded(L, xp, T, in, out, F(y));
  }
  if (L.bias != nullptr) {
    const std::vector<float> bias = ToFloat(*L.bias);
    float* yp = F(y);
    for (size_t t = 0; t < T; ++t) AddInPlace(yp + t * out, bias.data(), out);
  }
  return Status::Ok();
}

Status CpuBackend::Embedding(const LinearWeight& table, const Tensor& ids, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("embedding", {&out}));
  WARDEN_CPU_EXPECT(!table.empty() && ids.dtype() == DType::kI32, "embedding",
                                "needs a table and I32 ids, got " + ids.Describe());
  const size_t T = ids.numel(), H = table.in_features(), V = table.out_features();
  WARDEN_CPU_EXPECT(out.numel() == T * H, "embedding", "out " + out.Describe() + " for " + std::to_string(T) + " ids");
  const int32_t* id = static_cast<const int32_t*>(ids.raw());
  std::vector<float> row;
  for (size_t t = 0; t < T; ++t) {
    if (id[t] < 0 || static_cast<size_t>(id[t]) >= V) {
      return Status::InvalidArgument("token id " + std::to_string(id[t]) + " is outside the vocabulary [0, " +
                                     std::to_string(V) + ")");
    }
    WARDEN_RETURN_IF_ERROR(DequantizeRows(table.linear(), id[t], id[t] + 1, &row));
    std::memcpy(F(out) + t * H, row.data(), H * sizeof(float));
  }
  return Status::Ok();
}

// ----- norm -----

Status CpuBackend::ZeroCenteredRmsNorm(const Tensor& x, const Tensor& w, Tensor& y, float eps) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("rms_norm", {&x, &w, &y}));
  const size_t dim = w.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckZeroCenteredRmsNorm("cpu", x, w, y));
  cpu::ZeroCenteredRmsNorm(F(x), F(w), F(y), x.numel() / dim, dim, eps);
  return Status::Ok();
}

Status CpuBackend::GatedRmsNorm(const Tensor& o, const Tensor& z, const Tensor& w, Tensor& y, float eps) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("gated_rms_norm", {&o, &z, &w, &y}));
  const size_t dim = w.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckGatedRmsNorm("cpu", o, z, w, y));
  cpu::GatedRmsNorm(F(o), F(z), F(w), F(y), o.numel() / dim, dim, eps);
  return Status::Ok();
}

Status CpuBackend::L2NormalizeRows(Tensor& x, size_t dim, float eps, float scale) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("l2_norm", {&x}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckL2NormalizeRows("cpu", x, dim));
  cpu::L2NormalizeRows(F(x), x.numel() / dim, dim, eps, scale);
  return Status::Ok();
}

// ----- rope -----

Status CpuBackend::ApplyMrope(Tensor& x, size_t heads, const Tensor& positions, const engine::RopeParams& p) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("rope", {&x}));
  const size_t T = x.rank() ? x.dim(0) : 0;
  WARDEN_ASSIGN_OR_RETURN(const size_t D, engine::detail::CheckMrope("cpu", x, heads, positions, p, true));
  cpu::RopeParams rp;
  rp.rotary_dim = p.rotary_dim;
  rp.theta = p.theta;
  rp.mrope_section = p.mrope_section;
  rp.mrope_interleaved = p.mrope_interleaved;
  cpu::ApplyMrope(F(x), T, heads, D, static_cast<const int64_t*>(positions.raw()), rp);
  return Status::Ok();
}

// ----- attention -----

Result<std::unique_ptr<KvCache>> CpuBackend::NewKvCache(const KvCacheOptions& options, size_t num_layers,
                                                        size_t num_kv_heads, size_t head_dim) {
  WARDEN_RETURN_IF_ERROR(
      engine::detail::CheckKvCacheOptions("cpu", options, Supports(Op::kAttention, options.dtype)));
  return std::unique_ptr<KvCache>(std::make_unique<CpuKvCache>(options, num_layers, num_kv_heads, head_dim));
}

Status CpuBackend::AppendKv(KvCache& cache_base, size_t layer, size_t start, const Tensor& k, const Tensor& v) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("append_kv", {&k, &v}));
  auto& cache = static_cast<CpuKvCache&>(cache_base);
  const size_t W = cache.width(), T = k.numel() / (W ? W : 1);
  WARDEN_CPU_EXPECT(layer < cache.layers_.size() && k.numel() == T * W && v.numel() == k.numel(),
                                "append_kv", "layer " + std::to_string(layer) + ", k " + k.Describe() + ", v " +
                                                 v.Describe() + ", width " + std::to_string(W));
  auto& L = cache.layers_[layer];
  const KvCacheOptions& o = cache.options_;
  WARDEN_CPU_EXPECT(start <= L.k_pages.size() * o.page_size, "append_kv",
                                "start " + std::to_string(start) + " leaves a gap in layer " + std::to_string(layer));
  const size_t eb = DTypeSize(o.dtype);
  for (size_t t = 0; t < T; ++t) {
    const size_t pos = start + t, page = pos / o.page_size, slot = pos % o.page_size;
    while (L.k_pages.size() <= page) {
      L.k_pages.emplace_back(cache.PageBytes());
      L.v_pages.emplace_back(cache.PageBytes());
      L.k_ptrs.push_back(L.k_pages.back().data());
      L.v_ptrs.push_back(L.v_pages.back().data());
    }
    StoreKv(o, F(k) + t * W, W, o.k_scale, L.k_pages[page].data() + slot * W * eb);
    StoreKv(o, F(v) + t * W, W, o.v_scale, L.v_pages[page].data() + slot * W * eb);
  }
  return Status::Ok();
}

Status CpuBackend::CausalAttention(const Tensor& q, size_t num_heads, const KvCache& cache_base, size_t layer,
                                   size_t length, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("attention", {&q, &out}));
  const auto& cache = static_cast<const CpuKvCache&>(cache_base);
  const size_t D = cache.head_dim_, T = num_heads * D > 0 ? q.numel() / (num_heads * D) : 0;
  WARDEN_CPU_EXPECT(
      layer < cache.layers_.size() && num_heads % cache.kv_heads_ == 0 && q.numel() == T * num_heads * D &&
          out.numel() == q.numel() && T <= length && length <= cache.layers_[layer].k_pages.size() * cache.options_.page_size,
      "attention", "layer " + std::to_string(layer) + ", q " + q.Describe() + " with " + std::to_string(num_heads) +
                       " heads over " + std::to_string(length) + " cached positions");
  const auto& L = cache.layers_[layer];
  KvLayerView view;
  view.k_pages = L.k_ptrs.data();
  view.v_pages = L.v_ptrs.data();
  view.page_size = cache.options_.page_size;
  view.length = length;
  view.num_kv_heads = cache.kv_heads_;
  view.head_dim = D;
  view.dtype = ToKvDtype(cache.options_.dtype);
  view.k_scale = cache.options_.k_scale;
  view.v_scale = cache.options_.v_scale;
  cpu::CausalAttention(F(q), T, num_heads, view, F(out));
  return Status::Ok();
}

// ----- deltanet -----

Status CpuBackend::CausalConv1dSilu(const Tensor& m, const Tensor& w, Tensor& history, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("conv1d", {&m, &w, &history, &out}));
  const size_t C = m.rank() == 2 ? m.dim(1) : 0, T = m.rank() == 2 ? m.dim(0) : 0;
  const size_t K = C ? w.numel() / C : 0;
  WARDEN_CPU_EXPECT(C > 0 && K > 0 && w.numel() == C * K && history.numel() == (K - 1) * C &&
                                    out.numel() == T * C,
                                "conv1d", "m " + m.Describe() + ", w " + w.Describe() + ", history " +
                                              history.Describe() + ", out " + out.Describe());
  cpu::CausalConv1dSilu(F(m), T, C, F(w), K, F(history), F(out));
  return Status::Ok();
}

Status CpuBackend::DeltaNetGates(const Tensor& b, const Tensor& a, const Tensor& a_log, const Tensor& dt_bias,
                                 Tensor& beta, Tensor& g) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("deltanet_gates", {&b, &a, &a_log, &dt_bias, &beta, &g}));
  const size_t Hv = a_log.numel(), n = b.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckDeltaNetGates("cpu", b, a, a_log, dt_bias, beta, g));
  const float *bp = F(b), *ap = F(a), *al = F(a_log), *dt = F(dt_bias);
  float *bt = F(beta), *gp = F(g);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i % Hv;
    bt[i] = Sigmoid(bp[i]);
    gp[i] = -std::exp(al[j]) * Softplus(ap[i] + dt[j]);
  }
  return Status::Ok();
}

Status CpuBackend::GatedDeltaRule(const DeltaNetDims& d, DeltaRuleForm form, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const Tensor& g, const Tensor& beta, Tensor& state, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("delta_rule", {&q, &k, &v, &g, &beta, &state, &out}));
  WARDEN_ASSIGN_OR_RETURN(const size_t T,
                          engine::detail::CheckGatedDeltaRule("cpu", d, q, k, v, g, beta, state, out));
  const DeltaNetShape s{d.num_k_heads, d.num_v_heads, d.k_dim, d.v_dim};
  if (form == DeltaRuleForm::kRecurrent) {
    GatedDeltaRuleRecurrent(s, T, F(q), F(k), F(v), F(g), F(beta), F(state), F(out));
  } else {
    GatedDeltaRuleChunked(s, T, F(q), F(k), F(v), F(g), F(beta), F(state), F(out));
  }
  return Status::Ok();
}

// ----- elementwise -----

Status CpuBackend::SiluMul(const Tensor& gate, const Tensor& up, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("silu_mul", {&gate, &up, &out}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckSiluMul("cpu", gate, up, out));
  cpu::SiluMul(F(gate), F(up), F(out), gate.numel());
  return Status::Ok();
}

Status CpuBackend::MulSigmoid(Tensor& x, const Tensor& gate) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("mul_sigmoid", {&x, &gate}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckMulSigmoid("cpu", x, gate));
  cpu::MulSigmoid(F(x), F(gate), x.numel());
  return Status::Ok();
}

Status CpuBackend::Add(Tensor& acc, const Tensor& x) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("add", {&acc, &x}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckAdd("cpu", acc, x));
  cpu::AddInPlace(F(acc), F(x), acc.numel());
  return Status::Ok();
}

Status CpuBackend::SplitColumns(const Tensor& src, std::span<Tensor* const> dst) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("split_columns", {&src}));
  for (Tensor* t : dst) WARDEN_RETURN_IF_ERROR(ExpectF32("split_columns", {t}));
  WARDEN_ASSIGN_OR_RETURN(const engine::detail::ColumnSplit split, engine::detail::CheckSplitColumns("cpu", src, dst));
  const size_t rows = split.rows;
  const std::vector<size_t>& widths = split.widths;
  const float* s = F(src);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < dst.size(); ++i) {
      std::memcpy(F(*dst[i]) + r * widths[i], s, widths[i] * sizeof(float));
      s += widths[i];
    }
  }
  return Status::Ok();
}

// ----- vision -----

Status CpuBackend::LayerNorm(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, float eps) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("layer_norm", {&x, &w, &b, &y}));
  const size_t dim = w.numel();
  WARDEN_CPU_EXPECT(dim > 0 && b.numel() == dim && x.numel() % dim == 0 && y.numel() == x.numel(), "layer_norm",
                    "x " + x.Describe() + ", w " + w.Describe() + ", b " + b.Describe() + ", y " + y.Describe());
  cpu::LayerNorm(F(x), F(w), F(b), F(y), x.numel() / dim, dim, eps);
  return Status::Ok();
}

Status CpuBackend::Gelu(Tensor& x, GeluForm form) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("gelu", {&x}));
  if (form == GeluForm::kTanh) cpu::GeluTanhInPlace(F(x), x.numel());
  else cpu::GeluErfInPlace(F(x), x.numel());
  return Status::Ok();
}

Status CpuBackend::ApplyRope2d(Tensor& x, size_t heads, const Tensor& positions, double theta) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("rope_2d", {&x}));
  const size_t N = x.rank() ? x.dim(0) : 0;
  WARDEN_CPU_EXPECT(heads > 0 && N > 0 && x.numel() % (N * heads) == 0 && positions.dtype() == DType::kI64 &&
                        positions.numel() == 2 * N && (x.numel() / (N * heads)) % 4 == 0,
                    "rope_2d", "x " + x.Describe() + " with " + std::to_string(heads) + " heads, positions " +
                                   positions.Describe() + " (head_dim must be a multiple of 4)");
  cpu::ApplyRope2d(F(x), N, heads, x.numel() / (N * heads), static_cast<const int64_t*>(positions.raw()), theta);
  return Status::Ok();
}

Status CpuBackend::SegmentAttention(const Tensor& q, const Tensor& k, const Tensor& v, size_t heads,
                                    std::span<const int64_t> segment_ends, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("segment_attention", {&q, &k, &v, &out}));
  const size_t N = q.rank() ? q.dim(0) : 0;
  bool ascending = !segment_ends.empty() && segment_ends.back() == static_cast<int64_t>(N);
  for (size_t i = 0; ascending && i < segment_ends.size(); ++i) {
    ascending = segment_ends[i] > (i ? segment_ends[i - 1] : 0);
  }
  WARDEN_CPU_EXPECT(heads > 0 && N > 0 && q.numel() % (N * heads) == 0 && k.numel() == q.numel() &&
                        v.numel() == q.numel() && out.numel() == q.numel() && ascending,
                    "segment_attention", "q " + q.Describe() + ", k " + k.Describe() + ", v " + v.Describe() +
                                             ", out " + out.Describe() + ", " + std::to_string(heads) + " heads, " +
                                             std::to_string(segment_ends.size()) +
                                             " segments (ends must ascend and end at N)");
  cpu::SegmentAttention(F(q), F(k), F(v), N, heads, q.numel() / (N * heads), segment_ends.data(),
                        segment_ends.size(), F(out));
  return Status::Ok();
}

Status CpuBackend::ScatterRows(Tensor& dst, const Tensor& rows, const Tensor& src) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("scatter_rows", {&dst, &src}));
  const size_t T = dst.rank() ? dst.dim(0) : 0, n = rows.numel();
  const size_t W = T ? dst.numel() / T : 0;
  WARDEN_CPU_EXPECT(rows.dtype() == DType::kI32 && W > 0 && src.numel() == n * W, "scatter_rows",
                    "dst " + dst.Describe() + ", rows " + rows.Describe() + ", src " + src.Describe());
  const auto* r = static_cast<const int32_t*>(rows.raw());
  for (size_t i = 0; i < n; ++i) {
    WARDEN_CPU_EXPECT(r[i] >= 0 && static_cast<size_t>(r[i]) < T, "scatter_rows",
                      "row " + std::to_string(r[i]) + " outside [0, " + std::to_string(T) + ")");
  }
  cpu::ScatterRows(F(dst), W, r, n, F(src));
  return Status::Ok();
}

// ----- sample -----

Result<int32_t> CpuBackend::Sample(const Tensor& logits, size_t row, Sampler& sampler, std::span<const int32_t> seen) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("sample", {&logits}));
  const size_t V = logits.rank() ? logits.shape().back() : 0;
  WARDEN_CPU_EXPECT(V > 0 && (row + 1) * V <= logits.numel(), "sample",
                                "row " + std::to_string(row) + " of " + logits.Describe());
  return sampler.Sample(std::span<const float>(F(logits) + row * V, V), seen);
}

}  // namespace warden::engine::cpu
